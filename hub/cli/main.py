"""The ``hub`` command line: serve, tokens, audit, registry import/export, PKI seals.

Commands that need data attach to the running hub's embedded Redis (or ``REDIS_URL``); if no hub
is running they start the embedded server for themselves and stop it when done. Errors are one
plain sentence on stderr and a non-zero exit status.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from hub import demo as demo_data
from hub.audit import checkpoints, verification
from hub.cli.archive import archive
from hub.cli.backup import backup
from hub.cli.blobs import blobs
from hub.cli.common import open_state, settings_or_fail
from hub.cli.licences import licences
from hub.cli.offline import verify_offline
from hub.cli.pki import pki
from hub.cli.records import records
from hub.config import describe
from hub.context import Context
from hub.ops import queue
from hub.registry import catalogue, service_items
from hub.registry import tokens as auth


def _environment_help() -> str:
    rows = "\n".join(
        f"  {name:<22} {doc}" + (f" (default {default})" if default else "") for name, default, doc in describe()
    )
    return "Environment variables:\n\n\b\n" + rows


@click.group(epilog=_environment_help())
def main() -> None:
    """The hub: data sharing and e-licence exchange for online government services."""


@main.command()
@click.option("--workers", type=int, help="gunicorn workers (default HUB_WORKERS)")
@click.option("--port", type=int, help="port (default HUB_PORT)")
def serve(workers: int | None, port: int | None) -> None:
    """Serve the hub under gunicorn in the foreground until interrupted."""
    import os

    if workers is not None:
        os.environ["HUB_WORKERS"] = str(workers)
    if port is not None:
        os.environ["HUB_PORT"] = str(port)
    settings_or_fail()  # fail early, in plain words, on a malformed environment
    # A fresh interpreter: the commands' imports (prometheus_client among them) must not precede the
    # gunicorn config, which sets the metrics directory before anything reads it.
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", "python:hub.ops.gunicorn_conf"]
    os.execv(sys.executable, gunicorn)  # noqa: S606 - our own interpreter, fixed arguments


@main.command()
@click.option("--burst", is_flag=True, help="exit once the queue is empty")
def worker(burst: bool) -> None:
    """Run a job-queue worker: the periodic jobs (backups, checkpoints, archive filing) the hubs hand over.
    `hub serve` starts HUB_QUEUE_WORKERS of them; run more on any host that reaches the store."""
    try:
        queue.work(settings_or_fail(), burst=burst)
    except queue.QueueUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def tokens() -> None:
    """Bearer tokens."""


@tokens.command("create")
@click.option("--agency", help="agency code; omit with --operator")
@click.option("--operator", is_flag=True, help="an operator token")
@click.option("--role", "roles", multiple=True, type=click.Choice(auth.ROLES), help="repeatable")
def tokens_create(agency: str | None, operator: bool, roles: tuple[str, ...]) -> None:
    """Issue a token and print it (it is shown only this once)."""
    _owner(agency, operator)
    wanted = list(roles) or (["operator"] if operator else ["agency"])
    with open_state() as state:
        record = auth.create_token(state.store, Context.system("cli"), agency, wanted)
    click.echo(record["token"])
    click.echo(f"id {record['id']}, roles {', '.join(record['roles'])}", err=True)


def _owner(agency: str | None, operator: bool) -> str | None:
    if operator == bool(agency):
        raise click.UsageError("give exactly one of --agency CODE or --operator")
    return agency


@tokens.command("list")
@click.option("--agency", help="agency code; omit with --operator")
@click.option("--operator", is_flag=True, help="the operator's tokens")
def tokens_list(agency: str | None, operator: bool) -> None:
    """List tokens (ids, roles, when made; never secrets)."""
    owner = _owner(agency, operator)
    with open_state() as state:
        for record in auth.list_tokens(state.store, owner):
            click.echo(
                f"{record['id']}  {','.join(record['roles']):<14} {record['created_at']}  {record['created_by']}"
            )


@tokens.command("revoke")
@click.argument("token_id")
@click.option("--agency", help="agency code; omit with --operator")
@click.option("--operator", is_flag=True, help="an operator token")
def tokens_revoke(token_id: str, agency: str | None, operator: bool) -> None:
    """Revoke a token at once (a leaked HUB_ADMIN_TOKEN too: revoke it, then change the variable)."""
    owner = _owner(agency, operator)
    with open_state() as state:
        auth.revoke_token(state.store, Context.system("cli"), owner, token_id)
    click.echo(f"revoked {token_id}")


@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log and its sealed checkpoints."""


@audit_group.command("verify")
@click.option("--all-signatures", is_flag=True, help="verify every checkpoint's signature, not only the newest")
def audit_verify(all_signatures: bool) -> None:
    """Recompute every audit chain and check it against the checkpoints; exit 1 if anything is broken."""
    with open_state() as state:
        report = verification.verify(state, all_signatures=all_signatures)
    click.echo(json.dumps({"intact": report.intact, "entries": report.entries, "checkpoints": report.checkpoints}))
    for problem in report.problems:
        click.echo(problem, err=True)
    if not report.intact:
        sys.exit(1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal a checkpoint of every chain's head now."""
    with open_state() as state:
        sealed = checkpoints.seal_checkpoint(state)
    click.echo(json.dumps({name: sealed[name] for name in ("seq", "at", "sha256")}))


@audit_group.command("checkpoints")
@click.option(
    "--export",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="write <seq>.json, <seq>.json.p7s and roots.pem here (check them with openssl cms -verify)",
)
def audit_checkpoints(directory: Path | None) -> None:
    """List the sealed checkpoints (seq, time, SHA-256), or export them with --export DIR."""
    with open_state() as state:
        if directory is not None:
            count = checkpoints.export(state, directory)
            click.echo(f"{count} checkpoints written to {directory}")
            return
        for checkpoint in checkpoints.every(state.store):
            if isinstance(checkpoint, ValueError):
                click.echo(str(checkpoint), err=True)
            else:
                click.echo(f"{checkpoint.seq}\t{checkpoint.at}\t{checkpoint.sha256}")


@main.group()
def registry() -> None:
    """Import and export the catalogue (agencies, types, connectors, service items)."""


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="validate only; write nothing")
def registry_import(file: Path, dry_run: bool) -> None:
    """Validate FILE (YAML or JSON) completely, then apply it in one transaction."""
    with open_state() as state:
        document = catalogue.read_file(file)
        total = sum(len(v) for v in document.values() if isinstance(v, list))
        with click.progressbar(length=total, label="validating", file=sys.stderr) as bar:
            records = catalogue.validate(
                document,
                progress=bar.update,
                check_connector=state.sources.checked,
                sm2_keys_allowed=state.settings.sm2_keys_allowed,
            )
        if dry_run:
            click.echo(f"{file}: {total} records are valid; nothing written (--dry-run)")
            return
        with click.progressbar(length=total, label="applying  ", file=sys.stderr) as bar:
            report = catalogue.apply(state.store, Context.system("cli"), records, state.today(), progress=bar.update)
    for section, counts in report.counts.items():
        click.echo(f"{section:<15} " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@registry.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), help="default: from FILE's suffix, else yaml")
def registry_export(file: Path | None, fmt: str | None) -> None:
    """Write the registry as a catalogue file (to FILE, or standard output)."""
    with open_state() as state:
        document = catalogue.export(state.store)
    fmt = fmt or ("json" if file and file.suffix.lower() == ".json" else "yaml")
    if fmt == "json":
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    else:
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {sum(len(v) for v in document.values())} records to {file}", err=True)


@registry.command("backfill")
def registry_backfill() -> None:
    """Keep ready the answer of every service item last written before answers were kept (its reads then skip
    the schema). Run once after upgrading; safe while serving."""
    with open_state() as state:
        kept = service_items.keep_missing_answers(state.store)
    click.echo(f"kept the answers of {kept} service item(s)")


@main.group()
def demo() -> None:
    """The demo province."""


@demo.command("load")
def demo_load() -> None:
    """Load the demo province and print its tokens."""
    with open_state() as state:
        tokens = demo_data.load(state)
        click.echo(demo_data.banner(tokens, state.settings.base_url, demo_data.sample_licence(state)))


main.add_command(pki)
main.add_command(archive)
main.add_command(backup)
main.add_command(records)
main.add_command(blobs)
main.add_command(verify_offline)
main.add_command(licences)
