"""Shipped modules stay small enough to read at a sitting (issue 15): none over 400 lines, and each says in its
first docstring line what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("hub", "connectors", "certs", "policies", "blobstores")
MAX_LINES = 400


def shipped_modules() -> list[Path]:
    return sorted(path for package in SHIPPED for path in (ROOT / package).rglob("*.py"))


def test_no_shipped_module_is_over_400_lines():
    assert len(shipped_modules()) > 100  # the walk found the packages
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in shipped_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_every_shipped_module_says_what_it_is_for():
    silent = [
        str(path.relative_to(ROOT))
        for path in shipped_modules()
        if path.stat().st_size and not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()
    ]
    assert silent == []
