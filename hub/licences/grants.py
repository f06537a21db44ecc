"""Holder-authorised use of a licence: the holder lets a named relying party use one licence, for a stated
purpose, for at most :data:`MAX_DAYS` days, optionally only some of its fields.

A grant yields a one-time code (shown once; only its SHA-256 is kept). The relying party, a registered
agency or third-party platform named by its unified social credit code, redeems the code with its own
token and receives the licence: its credential disclosing only the granted fields, and the sealed PDF
too when the grant is for the whole licence (a PDF cannot hide a field). A grant that expired, was used
or was revoked answers 410 (:class:`hub.errors.Gone`). Making, using and revoking a grant are audited,
and each use is a line in the holder's access log naming the relying party and the fields it received.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from connectors.api import Subject
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Gone, Invalid, NotFound, UnknownReference
from hub.licences import access, credentials, register
from hub.registry import agencies, types
from hub.store import grant_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

MAX_DAYS = 30
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud or typed from a screen
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4  # 80 bits
HOLDER_LISTING_LIMIT = 200


def _digest(code: str) -> str:
    return hashlib.sha256(normalised_code(code).encode()).hexdigest()


def normalised_code(code: str) -> str:
    """A code as typed: spaces and dashes dropped, upper-cased."""
    return "".join(character for character in code.upper() if character.isalnum())


def _new_code() -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS)]
    return "-".join(groups)


def relying_party_named(state: HubState, credit_code: str) -> dict[str, Any]:
    """The registered agency or third-party platform with this credit code; UnknownReference otherwise."""
    wanted = normalised_code(credit_code)
    cursor = None
    while True:
        page = agencies.list_agencies(state.store, 500, cursor)
        for agency in page["items"]:
            if agency.get("credit_code") == wanted:
                return agency
        cursor = page.get("next")
        if not cursor:
            raise UnknownReference(
                f"No registered agency or platform has the credit code {credit_code!r}.",
                errors={"relying_party": ["Name a registered agency or third-party platform by its credit code."]},
            )


def create(state: HubState, ctx: Context, holder: Subject, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new grant of licence ``number`` by its ``holder``; the answer alone carries the one-time ``code``."""
    record = _held(state, holder, number)
    if record["status"] in ("revoked", "expired"):
        raise Conflict(f"Licence {record['number']} is {record['status']}: it cannot be shared.")
    relying = relying_party_named(state, body["relying_party"])
    licence_fields = types.get_licence_type(state.store, record["type"])["fields"]
    chosen = body.get("fields")
    if chosen is not None:
        unknown = sorted(set(chosen) - set(licence_fields))
        if unknown or not chosen:
            raise Invalid(
                f"A {record['type']} licence has no field {', '.join(unknown)}." if unknown else "Name some fields.",
                errors={"fields": [f"Choose among {', '.join(sorted(licence_fields))}."]},
            )
        chosen = sorted(set(chosen))
    now = state.clock.now()
    days = int(body.get("days") or 7)
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"A grant lasts 1 to {MAX_DAYS} days.", errors={"days": [f"1 to {MAX_DAYS}."]})
    code = _new_code()
    subject_hash = record["holder"]["subject_hash"]
    grant = {
        "id": "g-" + secrets.token_hex(8),
        "licence": record["number"],
        "licence_type": record["type"],
        "relying_party": relying["credit_code"],
        "relying_party_agency": relying["code"],
        "relying_party_name": relying["name"],
        "purpose": body["purpose"],
        "fields": chosen,
        "created_at": rfc3339(now),
        "expires_at": rfc3339(now + timedelta(days=days)),
        "status": "active",
        "used_at": None,
        "revoked_at": None,
    }
    # The code's pointer first: a crash before the grant leaves a code that opens nothing (404), never a
    # grant whose code cannot be found.
    state.store.set_json(grant_keys.grant_code(_digest(code)), {"holder": subject_hash, "id": grant["id"]})

    def work(tx: Tx) -> None:
        tx.set_json(grant_keys.grant(subject_hash, grant["id"]), grant)
        tx.scored_add(grant_keys.grants_of(subject_hash), grant["id"], now.timestamp())
        detail = {"licence": record["number"], "relying_party": relying["code"], "fields": chosen, "days": days}
        audit.append(tx, grant_keys.grant_partition(subject_hash), ctx, "licence.grant", f"grant:{grant['id']}", detail)

    state.store.atomic(work)
    return {**grant, "code": code}


def _held(state: HubState, holder: Subject, number: str) -> dict[str, Any]:
    """The holder's licence ``number``; NotFound when it is not theirs (no hint that it exists)."""
    try:
        record = register.get_record(state, number)
    except NotFound:
        record = None
    if record is None or not register.held_by(state, record, holder.id_type, holder.id):
        raise NotFound(f"You hold no licence {number!r}.")
    return record


def listing(state: HubState, holder: Subject) -> list[dict[str, Any]]:
    """The holder's grants, newest first, each with its effective status (``expired`` once past its end)."""
    subject_hash = state.keyring.subject_hash(holder.id_type, holder.id)
    ids = [
        grant_id
        for grant_id, _ in state.store.scored_newest(grant_keys.grants_of(subject_hash), None, HOLDER_LISTING_LIMIT)
    ]
    records = state.store.get_many_json([grant_keys.grant(subject_hash, grant_id) for grant_id in ids])
    return [_effective(state, grant) for grant in records if grant is not None]


def _effective(state: HubState, grant: dict[str, Any]) -> dict[str, Any]:
    if grant["status"] == "active" and datetime.fromisoformat(grant["expires_at"]) <= state.clock.now():
        return {**grant, "status": "expired"}
    return grant


def revoke(state: HubState, ctx: Context, holder: Subject, grant_id: str) -> dict[str, Any]:
    """End one of the holder's grants now; its code then answers 410."""
    subject_hash = state.keyring.subject_hash(holder.id_type, holder.id)

    def work(tx: Tx) -> dict[str, Any]:
        grant = tx.get_json(grant_keys.grant(subject_hash, grant_id))
        if grant is None:
            raise NotFound(f"You have no grant {grant_id!r}.")
        if grant["status"] != "active":
            return grant
        revoked = {**grant, "status": "revoked", "revoked_at": rfc3339(state.clock.now())}
        tx.set_json(grant_keys.grant(subject_hash, grant_id), revoked)
        audit.append(tx, grant_keys.grant_partition(subject_hash), ctx, "licence.grant.revoke", f"grant:{grant_id}")
        return revoked

    return _effective(state, state.store.atomic(work))


def redeem(state: HubState, ctx: Context, redeemer: str, code: str) -> dict[str, Any]:
    """Use a grant's code as agency ``redeemer``: the licence's credential with the granted fields, and its PDF
    when the whole licence was granted. Gone once used, expired or revoked."""
    pointer = state.store.get_json(grant_keys.grant_code(_digest(code)))
    grant = state.store.get_json(grant_keys.grant(pointer["holder"], pointer["id"])) if pointer else None
    if grant is None:
        raise NotFound("No grant has this code.")
    agency = agencies.get_agency(state.store, redeemer)
    if agency.get("credit_code") != grant["relying_party"]:
        raise Forbidden(f"This grant is not for {agency['name']}.")  # nor says whom it is for
    record = register.get_record(state, grant["licence"])
    if record["status"] in ("revoked", "expired"):
        raise Gone(f"Licence {record['number']} is {record['status']}: the grant can no longer be used.")
    now = state.clock.now()

    def work(tx: Tx) -> dict[str, Any]:
        current = _effective(state, tx.get_json(grant_keys.grant(pointer["holder"], pointer["id"])))
        if current["status"] != "active":
            raise Gone(f"This grant is {current['status']}.", grant_status=current["status"])
        used = {**current, "status": "used", "used_at": rfc3339(now), "used_by": redeemer}
        tx.set_json(grant_keys.grant(pointer["holder"], pointer["id"]), used)
        detail = {"licence": record["number"], "relying_party": redeemer, "fields": current["fields"]}
        audit.append(
            tx, grant_keys.grant_partition(pointer["holder"]), ctx, "licence.grant.use", f"grant:{used['id']}", detail
        )
        return used

    used = state.store.atomic(work)
    disclosed = set(used["fields"]) if used["fields"] is not None else None
    answer = {
        "grant": used,
        "licence": register.public_view(record),
        "credential": credentials.credential(state, ctx, record, fields=disclosed),
        "pdf": register.pdf(state, record["number"]) if disclosed is None else None,
        "ofd": state.store.document(record["ofd_sha256"]) if disclosed is None and record.get("ofd_sha256") else None,
    }
    access.log_reads(state, [record], redeemer, application=f"grant:{used['id']}", fields=disclosed)
    return answer
