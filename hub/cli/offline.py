"""``hub verify-offline``: check licence credentials with no call to the hub, against its roots and the status
lists fetched beforehand (:mod:`certs.credential_check`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from certs.credential_check import Anchors, CheckFailed, StatusList, check_credential, load_status_list

READABLE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("verify-offline")
@click.option("--roots", type=READABLE, required=True, help="PEM trust anchors (GET /api/v1/pki/roots)")
@click.option(
    "--list",
    "list_files",
    type=READABLE,
    multiple=True,
    help="a status list fetched from the hub (GET /api/v1/status-lists/<type>/<n>); repeat for several",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object per credential instead of a line of words")
@click.option("--at", "at_text", help="check as at this ISO 8601 time (default now)")
@click.argument("credentials", nargs=-1, type=READABLE, required=True)
def verify_offline(
    roots: Path, list_files: tuple[Path, ...], as_json: bool, at_text: str | None, credentials: tuple[Path, ...]
) -> None:
    """Check each CREDENTIALS file (an SD-JWT VC as the hub hands it out; one per line when a file holds
    several) against the roots and the status lists, offline. Exit status 1 when any is not valid."""
    at = _moment(at_text)
    try:
        anchors = Anchors.from_pem(roots.read_bytes())
    except (ValueError, CheckFailed) as error:
        raise click.ClickException(f"{roots}: not a PEM certificate bundle ({error})") from None
    lists: dict[str, StatusList] = {}
    for path in list_files:
        try:
            status_list = load_status_list(path.read_text(), anchors, at)
        except (CheckFailed, UnicodeDecodeError) as error:
            raise click.ClickException(f"{path}: {error}") from None
        lists[status_list.uri] = status_list
    all_valid = True
    for path in credentials:
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            raise click.ClickException(f"{path}: not a text file of credentials (one SD-JWT per line)") from None
        for line_number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            outcome = check_credential(text, anchors, lists, at)
            all_valid &= outcome.verdict == "valid"
            where = f"{path}:{line_number}"
            number = outcome.claims.get("licence_number")
            if as_json:
                line = {"file": where, "verdict": outcome.verdict, "reason": outcome.reason, "licence": number}
                click.echo(json.dumps(line | {"version": outcome.claims.get("version")}, ensure_ascii=False))
            else:
                shown = f" {number} version {outcome.claims.get('version')}" if number else ""
                click.echo(f"{where}: {outcome.verdict}{shown}" + (f" ({outcome.reason})" if outcome.reason else ""))
    if not all_valid:
        raise SystemExit(1)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.ClickException(f"--at {text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
