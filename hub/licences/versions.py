"""A licence's later versions under the same number: amendments, renewals and re-issues.

- an amendment changes fields: the new version is sealed, the old one is ``superseded``;
- a renewal gives a new validity period: likewise, the old version ``superseded``;
- a re-issue replaces a lost or damaged copy: the same content sealed again, the old copy ``void``.

Each new version is sealed as an issue is (:func:`hub.licences.issuance.seal_version`), gets its own
identifier (the version is part of it) and its own index in the status list; the old version's index
turns invalid in the same transaction, so its credential fails wherever the list is checked, and its
PDF is recognised by its digests and refused (:mod:`hub.licences.verification`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from certs import numbering
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Invalid
from hub.licences import issuance, register, status_lists
from hub.registry import agencies, types
from hub.store import keys, outcomes
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

KINDS = {"amended": "superseded", "renewed": "superseded", "reissued": "void"}  # what the old version becomes
AUDIT_ACTIONS = {"amended": "licence.amend", "renewed": "licence.renew", "reissued": "licence.reissue"}


def amend(state: HubState, ctx: Context, agency: str | None, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new version with ``body['fields']`` changed (the rest kept)."""

    def change(record: dict[str, Any], licence_type: dict[str, Any]) -> dict[str, Any]:
        merged = {**record["fields"], **body["fields"]}
        values = types.check_values(licence_type["fields"], merged)
        if values == record["fields"]:
            raise Invalid("The amendment changes no field.", errors={"fields": ["Give at least one changed value."]})
        return {"fields": values}

    return _new_version(state, ctx, agency, number, "amended", body["reason"], change)


def renew(state: HubState, ctx: Context, agency: str | None, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new version valid until ``body['valid_until']``: after the current end and today, and no further
    ahead than the type's validity period from today."""

    def change(record: dict[str, Any], licence_type: dict[str, Any]) -> dict[str, Any]:
        until: date = body["valid_until"]
        today = state.today()
        longest = today + timedelta(days=int(licence_type["validity_days"]))
        if until <= max(date.fromisoformat(record["valid_until"]), today):
            raise Invalid(
                f"A renewal must end after {max(date.fromisoformat(record['valid_until']), today).isoformat()}.",
                errors={"valid_until": ["Later than the licence's current end, and than today."]},
            )
        if until > longest:
            raise Invalid(
                f"A {licence_type['code']} licence is valid for at most {licence_type['validity_days']} days:"
                f" renew until {longest.isoformat()} at the latest.",
                errors={"valid_until": [f"At most {longest.isoformat()}."]},
            )
        return {"valid_until": until.isoformat()}

    return _new_version(state, ctx, agency, number, "renewed", body["reason"], change, renewal=True)


def reissue(state: HubState, ctx: Context, agency: str | None, number: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new copy of the current version's content; the old copy is void."""
    return _new_version(state, ctx, agency, number, "reissued", body["reason"], lambda record, licence_type: {})


def _new_version(
    state: HubState,
    ctx: Context,
    agency: str | None,
    number: str,
    kind: str,
    reason: str,
    change: Any,
    renewal: bool = False,
) -> dict[str, Any]:
    current = register.get_record(state, number)
    if agency is not None and current["issuer"] != agency:
        raise Forbidden(f"Only {current['issuer']!r} may change licence {current['number']}.")
    partition = keys.licence_partition(current["type"])
    if outcomes.earlier(state.store, ctx, partition) is not None:  # a retry whose version committed already
        return register.get_record(state, current["number"])
    if current["status"] == "revoked" or (current["status"] == "expired" and not renewal):
        raise Conflict(f"A {current['status']} licence cannot be {kind}; issue a new one.")
    licence_type = types.get_licence_type(state.store, current["type"])
    issuance.check_sealable(state, licence_type)
    issuer = agencies.get_agency(state.store, current["issuer"])
    now = rfc3339(state.clock.now())
    stored = state.store.get_json(keys.licence(current["type"], numbering.canonical(current["number"])))
    version = int(stored.get("version", 1))
    successor = {
        **stored,
        **change(stored, licence_type),
        "version": version + 1,
        "version_kind": kind,
        "version_at": now,
        "version_reason": reason,
    }
    successor |= issuance.seal_version(state, ctx, licence_type, issuer, successor)

    def work(tx: Tx) -> dict[str, Any]:
        record_key = keys.licence(stored["type"], numbering.canonical(stored["number"]))
        latest = tx.get_json(record_key)
        if int(latest.get("version", 1)) != version or latest["status"] != stored["status"]:
            raise Conflict(f"Licence {stored['number']} changed while this version was being sealed; try again.")
        if outcomes.note(tx, ctx, partition, stored["number"]) is not None:
            return latest
        ended = KINDS[kind]
        number_key = numbering.canonical(stored["number"])
        tx.list_push_json(keys.licence_versions(stored["type"], number_key), _ended(latest, ended, now))
        status_lists.mark(tx, stored["type"], latest.get("status_index"), ended)
        successor["status_index"] = status_lists.claim(tx, stored["type"])
        if latest["status"] != register.IN_FORCE:  # a suspended licence stays suspended in its new version
            status_lists.mark(tx, stored["type"], successor["status_index"], latest["status"])
        tx.set_json(record_key, successor)
        tx.list_push_json(
            keys.licence_history(stored["type"], number_key),
            {"at": now, "event": kind, "status": latest["status"], "reason": reason, "by": ctx.actor}
            | {"version": version + 1},
        )
        audit.append(
            tx,
            partition,
            ctx,
            AUDIT_ACTIONS[kind],
            f"licence:{stored['number']}",
            {"version": version + 1, "sha256": successor["sha256"], "reason": reason, "previous": latest["sha256"]},
        )
        register.keep_answer(tx, successor, register.history_in(tx, successor))
        register.publish(tx, successor, kind, now)
        return successor

    return register.with_effective_status(state, state.store.atomic(work))


def _ended(record: dict[str, Any], how: str, at: str) -> dict[str, Any]:
    """What the versions list keeps of a version that ended: enough to recognise its PDF and credential."""
    return {
        "version": int(record.get("version", 1)),
        "identifier": record.get("identifier"),
        "sha256": record["sha256"],
        "signed_digest": record.get("signed_digest"),
        "ofd_sha256": record.get("ofd_sha256"),
        "status_index": record.get("status_index"),
        "fields": record["fields"],
        "valid_from": record["valid_from"],
        "valid_until": record["valid_until"],
        "began_at": record.get("version_at") or record["issued_at"],
        "ended_at": at,
        "ended": how,
    }
