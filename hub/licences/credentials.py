"""A licence as an SD-JWT verifiable credential (IETF SD-JWT VC), beside its sealed PDF.

The issuer-signed JWT is made with the issuing agency's seal key (ES256, ``x5c``: the seal certificate and
the hub's issuing CA, which chain to the roots at ``/api/v1/pki/roots``). What identifies the licence (its
number, identifier, version, type, issuer and validity) is in clear; every holder detail and every field is
a separate disclosure, so the holder shows a relying party only what it needs. ``status.status_list``
points at the licence version's entry in its type's status list (:mod:`hub.licences.status_lists`).

A credential is made afresh, with fresh salts, each time it is asked for; all of a version's credentials
share its status entry, so a revocation or a new version invalidates every one of them at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from certs import jws
from hub.context import Context
from hub.errors import Conflict, NotFound
from hub.licences import register, status_lists
from hub.registry import agencies
from hub.store import grant_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

MEDIA_TYPE = "application/dc+sd-jwt"
PICKUP_SECONDS = 600
SALT_BYTES = 16
UNUSABLE = {"revoked", "expired"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Disclosures:
    """The disclosures of one credential, in the order they are made, and the digest of each."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def conceal(self, claims: dict[str, Any], keep: set[str] | None = None) -> dict[str, Any]:
        """An object whose every claim is disclosable: only the ``_sd`` digests, sorted (no order leaks).
        With ``keep``, only those claims' disclosures are attached (the others stay hidden for good)."""
        digests = []
        for name, value in claims.items():
            disclosure = [_b64url(secrets.token_bytes(SALT_BYTES)), name, value]
            encoded = _b64url(json.dumps(disclosure, ensure_ascii=False, separators=(",", ":")).encode())
            if keep is None or name in keep:
                self.encoded.append(encoded)
            digests.append(_b64url(hashlib.sha256(encoded.encode("ascii")).digest()))
        return {"_sd": sorted(digests)}


def credential(state: HubState, ctx: Context, record: dict[str, Any], fields: set[str] | None = None) -> str:
    """The licence ``record`` (its current version) as an SD-JWT VC, every disclosure attached
    (``<issuer-signed JWT>~<disclosure>~...~``), or of the licence's fields only those in ``fields``, as
    a holder presents it. Conflict for a revoked or expired licence."""
    if record["status"] in UNUSABLE:
        raise Conflict(f"Licence {record['number']} is {record['status']}: it has no credential.")
    base = state.settings.base_url
    zone = state.local_time(state.clock.now()).tzinfo
    disclosures = _Disclosures()
    holder = record["holder"]
    payload: dict[str, Any] = {
        "iss": f"{base}/api/v1/agencies/{record['issuer']}",
        "iat": int(state.clock.now().timestamp()),
        "nbf": _epoch(date.fromisoformat(record["valid_from"]), zone),
        "exp": _epoch(date.fromisoformat(record["valid_until"]) + timedelta(days=1), zone),
        "vct": f"{base}/api/v1/licence-types/{record['type']}",
        "_sd_alg": "sha-256",
        "licence_number": record["number"],
        "identifier": record.get("identifier"),
        "version": int(record.get("version", 1)),
        "licence_type": record["type"],
        "licence_type_name": record["type_name"],
        "issuer_name": record["issuer_name"],
        "valid_from": record["valid_from"],
        "valid_until": record["valid_until"],
        "holder": disclosures.conceal(
            {"name": holder["name"], "id_type": holder["id_type"], "id_masked": holder["id_masked"]}
        ),
        "fields": disclosures.conceal(record["fields"], keep=fields),
    }
    reference = record.get("status_index")
    if reference is not None:
        uri = status_lists.uri(state, record["type"], reference["list"])
        payload["status"] = {"status_list": {"idx": reference["idx"], "uri": uri}}
    key, chain = state.seals.agency_jws_key(agencies.get_agency(state.store, record["issuer"]), ctx)
    issuer_signed = jws.sign_compact(payload, key, chain, {"typ": "dc+sd-jwt"})
    return "~".join([issuer_signed, *disclosures.encoded, ""])


def _epoch(day: date, zone: Any) -> int:
    """The start of ``day`` in the province's time zone, in Unix seconds."""
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


def offer(state: HubState, record: dict[str, Any]) -> str:
    """A one-time code (good for :data:`PICKUP_SECONDS`) with which the holder's wallet picks up the
    credential of ``record``: what the QR code on the holder's page carries, as a URL."""
    if record["status"] in UNUSABLE:
        raise Conflict(f"Licence {record['number']} is {record['status']}: it has no credential.")
    code = secrets.token_urlsafe(18)
    pickup = {"licence": record["number"], "holder": record["holder"]["subject_hash"]}
    state.store.set_json(grant_keys.credential_pickup(_code_digest(code)), pickup, PICKUP_SECONDS)
    return code


def pick_up(state: HubState, ctx: Context, code: str) -> tuple[dict[str, Any], str]:
    """The licence record and its credential for a pick-up code, once; NotFound for a code used, expired or
    never made."""
    key = grant_keys.credential_pickup(_code_digest(code))

    def take(tx: Tx) -> dict[str, Any] | None:
        pickup = tx.get_json(key)
        if pickup is not None:
            tx.delete(key)
        return pickup

    pickup = state.store.atomic(take)
    if pickup is None:
        raise NotFound("This pick-up code was used already, has expired, or never existed.")
    record = register.get_record(state, pickup["licence"])
    return record, credential(state, ctx, record)


def _code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
