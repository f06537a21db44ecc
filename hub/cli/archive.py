"""``hub archive``: check an archive package, file pending cases, dispose of archives past their retention."""

from __future__ import annotations

from pathlib import Path

import click
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from certs import cms
from certs.pades import TrustMaterial
from hub.archives import catalogue, filing, package
from hub.cli.common import open_state
from hub.context import Context


@click.group()
def archive() -> None:
    """Case archives (Art. 13): verify a package, file pending cases, dispose of archives past retention."""


@archive.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--roots",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM trust anchors (GET /api/v1/pki/roots) to check offline; default: this hub's roots and CRLs",
)
def archive_verify(file: Path, roots: Path | None) -> None:
    """Check a package: the manifest's seal and timestamp, and every file against the manifest (naming
    any file changed, added or removed). Exit status 1 when it is not valid."""
    with file.open("rb") as content:  # read a member at a time: a package may hold uploads of 20 MB each
        if roots is not None:
            trust = TrustMaterial(roots=_load_roots(roots), revocation_mode="soft-fail")
            report = package.check(content, lambda data, sig: cms.verify_detached(data, sig, trust))
        else:
            with open_state() as state:
                report = package.check(content, state.pki.verify_detached)
    for line in report.lines():
        click.echo(line)
    if not report.valid:
        raise SystemExit(1)


def _load_roots(path: Path) -> list[asn1_x509.Certificate]:
    data = path.read_bytes()
    try:
        roots = [asn1_x509.Certificate.load(der) for _, _, der in asn1_pem.unarmor(data, multiple=True)]
    except ValueError as error:
        raise click.ClickException(f"{path}: not a PEM certificate bundle ({error})") from None
    if not roots:
        raise click.ClickException(f"{path}: no certificate in it")
    return roots


@archive.command("file")
def archive_file() -> None:
    """File every concluded case whose package is still pending (after a crash or a seal outage)."""
    with open_state() as state:
        outcome = filing.file_pending(state, Context.system("cli"))
    click.echo(f"filed {len(outcome['filed'])}, failed {len(outcome['failed'])}")
    for case in outcome["failed"]:
        click.echo(f"failed: {case}")
    if outcome["failed"]:
        raise SystemExit(1)


@archive.command("dispose")
@click.option("--reason", required=True, help="the disposal decision (recorded and audited)")
@click.option("--dry-run", is_flag=True, help="list what is due, dispose of nothing")
def archive_dispose(reason: str, dry_run: bool) -> None:
    """Dispose of every archive whose retention period has ended."""
    with open_state() as state:
        if dry_run:
            entries = catalogue.due_for_disposal(state, state.today(), 1000)
        else:
            entries = catalogue.dispose_due(state, Context.system("cli"), state.today(), reason)
    for entry in entries:
        click.echo(f"{entry['case']}  retention until {entry['retention']['until']}  {entry['package']['sha256']}")
    click.echo(f"{'due' if dry_run else 'disposed of'}: {len(entries)}")
