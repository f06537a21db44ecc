"""E-licences on record: look-up by number or GB/T 36904 identifier, status changes and history, reads, and
look-up as proof. Issuing is :mod:`hub.licences.issuance`; later versions are :mod:`hub.licences.versions`.

A record describes the licence's current version; each earlier version (superseded by an amendment or a
renewal, or void after a re-issue) is a line in the licence's versions list, kept with its fields and
the digests of its PDF so that the PDF is recognised, and refused, when it is shown again.
"""

from __future__ import annotations

import hmac
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from certs import identifiers, numbering
from connectors.api import Subject
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, NotFound
from hub.licences import status_lists
from hub.store import keys, outbox
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

IN_FORCE = "valid"
TRANSITIONS = {"valid": {"suspended", "revoked"}, "suspended": {"valid", "revoked"}, "revoked": set()}
PUBLIC_REASONS = {"suspended", "revoked"}  # a status change whose reason anyone may read


def mask_name(name: str) -> str:
    """A name with its middle hidden: 张三 -> 张*, 张三丰 -> 张*丰, 杭州西湖小吃店 -> 杭*****店."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(identifier: str) -> str:
    """An identifier showing its first and last four characters only."""
    if len(identifier) <= 8:
        return identifier[:2] + "*" * max(len(identifier) - 2, 1)
    return identifier[:4] + "*" * (len(identifier) - 8) + identifier[-4:]


def _locate(number: str) -> tuple[str, str]:
    """The type code (its letters and digits, upper-cased) and storage key of a well-formed number or
    identifier; NotFound (no lookup) when a check character fails."""
    if identifiers.looks_like(number):
        parsed = identifiers.parse(number)
        if parsed is None:
            raise NotFound(f"{number!r} is not a licence identifier (a check character does not match).")
        return parsed.type_code, identifiers.number_key(parsed)
    if not numbering.is_well_formed(number):
        raise NotFound(f"{number!r} is not a licence number (its check character does not match).")
    body = number.upper().rsplit("-", 4)[0] if number.count("-") >= 4 else ""
    if not body:
        raise NotFound(f"no licence {number!r}")
    return numbering.canonical(body), numbering.canonical(number)


def _type_key(type_code: str) -> str:
    return type_code.upper()


def get_record(state: HubState, number: str) -> dict[str, Any]:
    """The licence record, with ``status`` turned to ``expired`` once its validity has passed."""
    type_upper, number_key = _locate(number)
    record = None
    for type_code in _types_named(state, type_upper):
        record = state.store.get_json(keys.licence(type_code, number_key))
        if record is not None:
            break
    if record is None or not _names_a_version_of(number, record):
        raise NotFound(f"no licence {number!r}")
    return with_effective_status(state, record)


def _names_a_version_of(number: str, record: dict[str, Any]) -> bool:
    """True for a number, or for an identifier of this licence's issuer and one of its versions so far."""
    if not identifiers.looks_like(number):
        return True
    asked, current = identifiers.parse(number), identifiers.parse(record.get("identifier") or "")
    return (
        asked is not None
        and current is not None
        and asked.issuer_credit_code == current.issuer_credit_code
        and asked.version <= current.version
    )


def _types_named(state: HubState, type_upper: str) -> list[str]:
    # Numbers carry the type code upper-cased (identifiers its letters and digits only); codes are
    # case-sensitive, so collect every match.
    codes = state.store.index_page(keys.licence_type_index(), None, 100_000)
    return [code for code in codes if numbering.canonical(code) == type_upper]


def with_effective_status(state: HubState, record: dict[str, Any]) -> dict[str, Any]:
    if record["status"] == IN_FORCE and date.fromisoformat(record["valid_until"]) < state.today():
        return {**record, "status": "expired"}
    return record


def public_status(state: HubState, number: str) -> dict[str, Any]:
    """What anyone holding the QR link may see: the licence now, since when it has had its status (with the
    reason for a suspension or revocation), and its history of versions and status changes."""
    record = get_record(state, number)
    lines = history(state, None, record["number"])
    return {
        **public_view(record),
        "status_since": _status_since(record, lines),
        "status_reason": record.get("status_reason") if record["status"] in PUBLIC_REASONS else None,
        "history": [_public_line(line) for line in lines],
    }


def _status_since(record: dict[str, Any], lines: list[dict[str, Any]]) -> str:
    if record["status"] == "expired":
        return (date.fromisoformat(record["valid_until"]) + timedelta(days=1)).isoformat()
    changes = [line["at"] for line in lines if line.get("event", "status") == "status"]
    return changes[-1] if changes else record["issued_at"]


def _public_line(line: dict[str, Any]) -> dict[str, Any]:
    """A history line as anyone may read it: no reader, and a reason only for a suspension or revocation."""
    event = line.get("event", "status")
    public = {"at": line["at"], "event": event if event != "status" else line["status"]}
    if line.get("version") is not None:
        public["version"] = line["version"]
    if event == "status" and line["status"] in PUBLIC_REASONS:
        public["reason"] = line.get("reason")
    return public


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a licence record anyone may see: the holder's name masked, no ID."""
    return {
        "number": record["number"],
        "identifier": record.get("identifier"),
        "version": record.get("version", 1),
        "status": record["status"],
        "type": record["type"],
        "type_name": record["type_name"],
        "holder_name_masked": mask_name(record["holder"]["name"]),
        "valid_from": record["valid_from"],
        "valid_until": record["valid_until"],
        "issuer": record["issuer"],
        "issuer_name": record["issuer_name"],
    }


def versions(state: HubState, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The licence's earlier versions, oldest first (each with how it ended: ``superseded`` or ``void``)."""
    return state.store.list_all_json(keys.licence_versions(record["type"], numbering.canonical(record["number"])))


def publish(tx: Tx, record: dict[str, Any], kind: str, at: str) -> None:
    """The event ``licence.<kind>`` for subscribers of the issuer (:mod:`hub.store.outbox`); no holder's data."""
    body = {"channel": "licences", "licence": record["number"], "licence_type": record["type"]}
    audience = {"agencies": [record["issuer"]]}
    outbox.record(
        tx, keys.licence_partition(record["type"]), at, f"licence.{kind}", body | {"status": record["status"]}, audience
    )


def change_status(
    state: HubState, ctx: Context, agency: str | None, number: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Suspend, reinstate or revoke a licence (its issuer, or the operator when ``agency`` is None)."""
    current = get_record(state, number)
    if agency is not None and current["issuer"] != agency:
        raise Forbidden(f"Only {current['issuer']!r} may change licence {current['number']}.")
    wanted = body["status"]
    type_code, number_key = current["type"], numbering.canonical(current["number"])

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(keys.licence(type_code, number_key))
        if wanted not in TRANSITIONS[record["status"]]:
            raise Conflict(f"A {record['status']} licence cannot become {wanted}.")
        changed = {
            **record,
            "status": wanted,
            "status_reason": body["reason"],
            "status_changed_at": rfc3339(state.clock.now()),
        }
        tx.set_json(keys.licence(type_code, number_key), changed)
        status_lists.mark(tx, type_code, record.get("status_index"), wanted)
        tx.list_push_json(
            keys.licence_history(type_code, number_key),
            {"at": changed["status_changed_at"], "status": wanted, "reason": body["reason"], "by": ctx.actor},
        )
        audit.append(
            tx,
            keys.licence_partition(type_code),
            ctx,
            "licence.status",
            f"licence:{record['number']}",
            {"from": record["status"], "to": wanted, "reason": body["reason"]},
        )
        publish(tx, changed, "reinstated" if wanted == IN_FORCE else wanted, changed["status_changed_at"])
        return changed

    return with_effective_status(state, state.store.atomic(work))


def history(state: HubState, agency: str | None, number: str) -> list[dict[str, Any]]:
    """Every status change and new version of a licence, oldest first (its issuer or the operator): lines
    with ``event`` ``amended``, ``renewed`` or ``reissued`` are versions, the rest status changes."""
    record = get_record(state, number)
    if agency is not None and record["issuer"] != agency:
        raise Forbidden(f"Only {record['issuer']!r} may read the history of licence {record['number']}.")
    changes = state.store.list_all_json(keys.licence_history(record["type"], numbering.canonical(record["number"])))
    if changes and changes[0].get("reason") == "issued":
        return changes  # a licence issued before the first line came from the record
    issued = {
        "at": record["issued_at"],
        "event": "issued",
        "status": IN_FORCE,
        "reason": "issued",
        "by": record["issued_by"],
        "version": 1,
    }
    return [issued, *changes]


def held_by(state: HubState, record: dict[str, Any], id_type: str | None, subject_id: str | None) -> bool:
    """True when the licence's holder is the person or organisation named."""
    if not id_type or not subject_id:
        return False
    return hmac.compare_digest(state.keyring.subject_hash(id_type, subject_id), record["holder"]["subject_hash"])


def pdf(state: HubState, number: str) -> bytes:
    """The sealed PDF as issued."""
    record = get_record(state, number)
    content = state.store.document(record["sha256"])
    if content is None:
        raise NotFound(f"the document of licence {number} is missing")
    return content


def lookup_for_resolution(state: HubState, evidence_type: str, subject: Subject) -> dict[str, Any] | None:
    """The holder's newest licence of this type that is in force, as evidence fields (``licences`` kind)."""
    subject_hash = state.keyring.subject_hash(subject.id_type, subject.id)
    number_keys = state.store.index_page(keys.licence_holder_index(evidence_type, subject_hash), None, 1000)
    records = state.store.get_many_json([keys.licence(evidence_type, key) for key in number_keys])
    in_force = [
        with_effective_status(state, record)
        for record in records
        if record is not None and record["status"] == IN_FORCE
    ]
    in_force = [record for record in in_force if record["status"] == IN_FORCE]
    if not in_force:
        return None
    newest = max(in_force, key=lambda record: record["issued_at"])
    return {**newest["fields"], "licence_number": newest["number"], "valid_until": newest["valid_until"]}


def listing(
    state: HubState,
    agency: str | None,
    type_code: str | None,
    holder: Subject | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Licences, by type then number: an issuer sees its own types; with ``holder``, only theirs."""
    codes = state.store.index_page(keys.licence_type_index(), None, 100_000)
    if type_code is not None:
        codes = [code for code in codes if code == type_code]
    if agency is not None:
        records = state.store.get_many_json([keys.licence_type(code) for code in codes])
        codes = [code for code, record in zip(codes, records, strict=True) if record and record["issuer"] == agency]
    after_type, after_number = [*cursor.split("|", 1), ""][:2] if cursor else ("", "")
    items: list[dict[str, Any]] = []
    last = ""
    for code in codes:
        if code < after_type:
            continue
        start = after_number if code == after_type and after_number else None
        index = (
            keys.licence_holder_index(code, state.keyring.subject_hash(holder.id_type, holder.id))
            if holder is not None
            else keys.licence_index(code)
        )
        number_keys = state.store.index_page(index, start, limit - len(items) + 1)
        records = state.store.get_many_json([keys.licence(code, key) for key in number_keys])
        for key, record in zip(number_keys, records, strict=True):
            if record is None:
                continue
            if len(items) == limit:
                return {"items": items, "next": last}
            items.append(with_effective_status(state, record))
            last = f"{code}|{key}"
    return {"items": items, "next": None}
