"""``hub records``: personal data at rest (sealed with AES-256-GCM, :mod:`hub.store.sealing`)."""

from __future__ import annotations

import click

from hub.cli.common import open_state


@click.group()
def records() -> None:
    """Personal data at rest: sealed under a key derived from HUB_SECRET_KEY (HUB_RECORD_KEY_VERSION)."""


@records.command("reseal")
def records_reseal() -> None:
    """Seal again every personal record not sealed under the current key version (run after raising
    HUB_RECORD_KEY_VERSION, or once after upgrading a store written before sealing). Safe while serving."""
    with open_state() as state:
        rewritten = state.store.reseal_personal_data()
    click.echo(f"resealed {rewritten} value(s) under key version {state.settings.record_key_version}")
