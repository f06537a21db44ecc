"""``hub archive``: check an archive package offline, and dispose of archives whose retention has ended."""

from __future__ import annotations

import click


@click.group()
def archive() -> None:
    """Case archives (Art. 13): verify a package, list and dispose of archives past their retention."""
