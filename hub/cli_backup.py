"""``hub backup``: consistent, compressed, checksummed backups of the whole hub, and restoring one."""

from __future__ import annotations

import click


@click.group()
def backup() -> None:
    """Back up the hub's data (Redis and blobs), check a backup, restore one into an empty data directory."""
