"""``hub backup``: consistent, compressed, checksummed backups of the whole hub, and restoring one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hub.cli.common import open_state, settings_or_fail
from hub.errors import HubError
from hub.ops import backup as backups
from hub.ops import restore as restoring

EXISTING_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
MARKS = {True: "ok  ", False: "FAIL", None: "--  "}


@click.group()
def backup() -> None:
    """Back up the hub's data (Redis and blobs), check a backup, restore one into an empty data directory."""


@backup.command("create")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help="default HUB_BACKUP_DIR")
def backup_create(directory: Path | None) -> None:
    """Write a sealed backup of the whole hub while it serves; print its path."""
    with open_state() as state:
        path = backups.create(state, directory)
    manifest = backups.read_manifest(path) or {}
    click.echo(str(path))
    counts = ", ".join(f"{name} {value:,}" for name, value in manifest.get("counts", {}).items())
    click.echo(f"snapshot of {manifest.get('snapshot_started_at')}: {counts}", err=True)
    for problem in manifest.get("problems", []):
        click.echo(f"warning: the hub's data has a problem: {problem}", err=True)


@backup.command("verify")
@click.argument("file", type=EXISTING_FILE)
@click.option("--require-seal", is_flag=True, help="fail unless the seal is checked against this hub's PKI")
def backup_verify(file: Path, require_seal: bool) -> None:
    """Check a backup: checksums, decompression, seal, and the snapshot loaded into a scratch Redis."""
    with open_state() as state:
        result = backups.verify(file, backups.hub_pki(state), state.settings)
    _print_checks(result.checks)
    unsealed = require_seal and any(check.name == "seal" and check.ok is None for check in result.checks)
    if not result.ok or unsealed:
        sys.exit(1)


@backup.command("restore")
@click.argument("file", type=EXISTING_FILE)
@click.option(
    "--data-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="a new or empty directory for the restored hub (then serve it with HUB_DATA_DIR set to it)",
)
@click.option(
    "--secret-key-file",
    type=EXISTING_FILE,
    help="the old hub's secret.key, copied into the new directory (not needed with HUB_SECRET_KEY set)",
)
def backup_restore(file: Path, data_dir: Path, secret_key_file: Path | None) -> None:
    """Restore FILE into an empty data directory, then check every record, document and audit chain."""
    settings = settings_or_fail()
    try:
        restored = restoring.restore(file, data_dir, settings, secret_key_file)
    except HubError as error:
        raise click.ClickException(error.detail) from None
    _print_checks(restored.verification.checks)
    if not restored.ok:
        sys.exit(1)
    click.echo(f"restored into {restored.data_dir}; start the hub with HUB_DATA_DIR={restored.data_dir}")


@backup.command("list")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), help="default HUB_BACKUP_DIR")
def backup_list(directory: Path | None) -> None:
    """List the backups, oldest first: file, kind, when, size, licences."""
    for path, manifest in backups.list_backups(directory or settings_or_fail().backups):
        if manifest is None:
            click.echo(f"{path.name}  (unreadable)")
            continue
        licences = manifest.get("counts", {}).get("licences")
        size = path.stat().st_size
        click.echo(
            f"{path.name}  {manifest.get('kind'):<9} {manifest.get('created_at')}  {size:>14,} B  {licences} licences"
        )


def _print_checks(checks: list[backups.Check]) -> None:
    for check in checks:
        click.echo(f"{MARKS[check.ok]} {check.name}: {check.detail}")
