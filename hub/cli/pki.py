"""``hub pki``: the operator's seal commands (show, renew, revoke, import) and the trust anchors."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certs.authority import RevocationReason
from hub.cli.common import open_state
from hub.context import Context
from hub.registry import agencies


@click.group()
def pki() -> None:
    """The PKI: agency seals and the hub's trust anchors."""


@pki.command("roots")
def pki_roots() -> None:
    """Print the PEM bundle of the trust anchors (made on first use)."""
    with open_state() as state:
        click.echo(state.pki.roots_pem(), nl=False)


SM2 = click.option("--sm2", is_flag=True, help="the agency's SM2 seal, which seals its OFD licences (GB/T 38540)")


@pki.command("seal")
@click.argument("agency")
@SM2
def pki_seal(agency: str, sm2: bool) -> None:
    """Show an agency's seal (made now if it has none)."""
    with open_state() as state:
        record, ctx = agencies.get_agency(state.store, agency), Context.system("cli")
        if sm2:
            state.sm2_seals.sealing(record, ctx)
            shown = state.sm2_seals.seal(agency) or {}
        else:
            shown = state.seals.ensure_seal(record, ctx).record()
        click.echo(json.dumps({k: v for k, v in shown.items() if k != "certificate"}, ensure_ascii=False))


@pki.command("renew-seal")
@click.argument("agency")
@SM2
def pki_renew(agency: str, sm2: bool) -> None:
    """Give an agency a new seal key and certificate; what the old one sealed stays valid."""
    with open_state() as state:
        record, ctx = agencies.get_agency(state.store, agency), Context.system("cli")
        seal = state.sm2_seals.renew(record, ctx) if sm2 else state.seals.renew_seal(record, ctx).record()
        kind = "SM2 seal" if sm2 else "seal"
        click.echo(f"new {kind} {seal['serial']} for {agency}, valid until {seal['not_after']}")


@pki.command("revoke-seal")
@click.argument("agency")
@click.option(
    "--reason",
    type=click.Choice([reason.value for reason in RevocationReason]),
    default=RevocationReason.KEY_COMPROMISE.value,
    show_default=True,
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    help="when the key was compromised (UTC if no offset; default now)",
)
@SM2
def pki_revoke(agency: str, reason: str, since: dt.datetime | None, sm2: bool) -> None:
    """Revoke an agency's seal; documents it sealed before then stay valid as of their timestamps."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    with open_state() as state:
        revoke = state.sm2_seals.revoke if sm2 else state.seals.revoke_seal
        revoked = revoke(agency, RevocationReason(reason), Context.system("cli"), since)
    kind = "SM2 seal" if sm2 else "seal"
    click.echo(f"revoked {kind} {revoked['serial']} of {agency} as of {revoked['revoked_at']} ({reason})")


@pki.command("import-seal")
@click.argument("agency")
@click.option("--pkcs12", "pkcs12_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--password-env", help="environment variable holding the PKCS#12 or key password")
@click.option(
    "--cert",
    "cert_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM: the seal certificate, then its CA chain up to the root",
)
@click.option("--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM")
def pki_import(
    agency: str, pkcs12_file: Path | None, password_env: str | None, cert_file: Path | None, key_file: Path | None
) -> None:
    """Adopt a seal issued by an outside CA, from PKCS#12 or PEM certificate and key."""
    password = os.environ.get(password_env, "").encode() if password_env else None
    if pkcs12_file is not None and (cert_file or key_file):
        raise click.UsageError("give --pkcs12, or --cert and --key, not both")
    try:
        if pkcs12_file is not None:
            key, certificate, chain = pkcs12.load_key_and_certificates(pkcs12_file.read_bytes(), password or None)
        elif cert_file and key_file:
            certificate, *chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password or None)
        else:
            raise click.UsageError("give --pkcs12 FILE, or --cert FILE and --key FILE")
    except (ValueError, TypeError) as error:
        raise click.ClickException(f"cannot read the seal: {error}") from None
    if key is None or certificate is None:
        raise click.ClickException("the file holds no key and certificate")
    with open_state() as state:
        record = agencies.get_agency(state.store, agency)
        seal = state.seals.import_seal(record, certificate, key, _ordered(certificate, chain), Context.system("cli"))
    click.echo(f"imported seal {seal.serial} for {agency} ({certificate.subject.rfc4514_string()})")


def _ordered(certificate: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The CA certificates from issuer up to root, whatever order the file had them in."""
    chain, current, pool = [], certificate, list(others)
    while current.subject != current.issuer:
        parent = next((c for c in pool if c.subject == current.issuer), None)
        if parent is None:
            raise click.ClickException(f"the file lacks the certificate of {current.issuer.rfc4514_string()}")
        chain.append(parent)
        pool.remove(parent)
        current = parent
    return chain
