"""``hub blobs``: documents in the blob store (``HUB_BLOB_URL`` or ``HUB_BLOB_DIR``), not in Redis."""

from __future__ import annotations

import click

from hub.cli.common import open_state


@click.group()
def blobs() -> None:
    """Documents (sealed PDFs, uploads, archive packages) in the blob store."""


@blobs.command("migrate")
def blobs_migrate() -> None:
    """Move every document still kept in Redis (by a hub before the blob store) into the blob store. Safe while
    the hub serves: each is written to the blob store durably before its Redis copy goes."""
    with open_state() as state:
        moved = state.store.migrate_documents()
        where = state.settings.blob_store_url
    click.echo(f"moved {moved} document(s) out of Redis into {where}")
