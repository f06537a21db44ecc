"""The README starts with the two commands and documents every setting."""

from __future__ import annotations

from testbed import REPO

from hub.config import describe


def test_readme_opens_with_run_and_test():
    text = (REPO / "README.md").read_text()
    block = text.split("```", 2)[1]
    assert "make run" in block and "make test" in block


def test_readme_lists_every_environment_variable():
    text = (REPO / "README.md").read_text()
    missing = [name for name, _, _ in describe() if f"`{name}`" not in text]
    assert missing == []
