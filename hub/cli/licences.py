"""``hub licences``: upkeep of the licence register."""

from __future__ import annotations

import click

from hub.cli.common import open_state
from hub.licences import backfill as licence_backfill


@click.group()
def licences() -> None:
    """The licence register's upkeep."""


@licences.command("backfill")
def licences_backfill() -> None:
    """Give licences issued before status lists an index in their type's list (so their credentials carry a
    status) and their public answer kept ready. Run once after upgrading; safe while serving."""
    with open_state() as state:
        done = licence_backfill.backfill(state)
    click.echo(f"completed {done} licence(s)")
