"""E-licences on record: look-up by number or GB/T 36904 identifier, status changes and history, reads, and
look-up as proof. Issuing is :mod:`hub.licences.issuance`; later versions are :mod:`hub.licences.versions`.

A record describes the licence's current version; each earlier version (superseded by an amendment or a
renewal, or void after a re-issue) is a line in the licence's versions list, kept with its fields and
the digests of its PDF so that the PDF is recognised, and refused, when it is shown again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from certs import identifiers, numbering
from connectors.api import Subject
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, NotFound
from hub.licences import status_lists
from hub.store import keys, outbox, status_keys
from hub.store.client import Tx
from hub.store.request_counts import ReadAhead

if TYPE_CHECKING:
    from hub.state import HubState

IN_FORCE = "valid"
TRANSITIONS = {"valid": {"suspended", "revoked"}, "suspended": {"valid", "revoked"}, "revoked": set()}
PUBLIC_REASONS = {"suspended", "revoked"}  # a status change whose reason anyone may read
_TYPE_CODES: dict[str, list[str]] = {}  # this worker's copy: the codes of licence types, by their canonical form


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
    record = _record_in(state, _types_named(state, type_upper), number_key)
    if record is None:  # a type registered since this worker read the codes, whose form another shares
        record = _record_in(state, _types_named(state, type_upper, fresh=True), number_key)
    if record is None or not _names_a_version_of(number, record):
        raise NotFound(f"no licence {number!r}")
    return with_effective_status(state, record)


def _record_in(state: HubState, type_codes: list[str], number_key: str) -> dict[str, Any] | None:
    for type_code in type_codes:
        record = state.store.get_json(keys.licence(type_code, number_key))
        if record is not None:
            return record
    return None


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


def _types_named(state: HubState, type_upper: str, fresh: bool = False) -> list[str]:
    """The licence types whose code's letters and digits, upper-cased, are ``type_upper``: numbers carry the
    type code upper-cased (identifiers its letters and digits only) and codes are case-sensitive, so every
    match. Types are never removed, so the worker keeps the codes and reads them again only on a miss (as
    every look-up did before: a made-up number costs no more than it did)."""
    found = None if fresh else _TYPE_CODES.get(type_upper)
    if found is None:
        fresh: dict[str, list[str]] = {}
        for code in state.store.index_page(keys.licence_type_index(), None, 100_000):
            fresh.setdefault(numbering.canonical(code), []).append(code)
        _TYPE_CODES.clear()
        _TYPE_CODES.update(fresh)
        found = fresh.get(type_upper)
    return found or []


def with_effective_status(state: HubState, record: dict[str, Any]) -> dict[str, Any]:
    if record["status"] == IN_FORCE and date.fromisoformat(record["valid_until"]) < state.today():
        return {**record, "status": "expired"}
    return record


def public_status(state: HubState, number: str) -> dict[str, Any]:
    """What anyone holding the QR link may see: the licence now, since when it has had its status (with the
    reason for a suspension or revocation), and its history of versions and status changes."""
    record = get_record(state, number)
    return answer_of(record, history_of(state, record))


def answer_of(record: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The public status answer of ``record`` (its status as the caller has it) with its history ``lines``."""
    return {
        **public_view(record),
        "status_since": _status_since(record, lines),
        "status_reason": record.get("status_reason") if record["status"] in PUBLIC_REASONS else None,
        "history": [_public_line(line) for line in lines],
    }


def keep_answer(tx: Tx, record: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """Within the transaction that changes a licence: its public answer as it now stands, ready to be sent
    (:func:`kept_answer`), so a status look-up is one read and no JSON work."""
    body, etag = _as_sent(answer_of(record, lines))
    kept = {"status": record["status"], "valid_until": record["valid_until"], "etag": etag, "body": body}
    tx.hash_replace(status_keys.licence_answer(record["type"], numbering.canonical(record["number"])), kept)


def _as_sent(answer: dict[str, Any]) -> tuple[str, str]:
    """A public answer as JSON text, and its ETag (the first 80 bits of its SHA-256)."""
    body = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
    return body, hashlib.sha256(body.encode()).hexdigest()[:20]


def status_answer(
    state: HubState, number: str, already_read: Mapping[str, dict[str, str]] | None = None
) -> tuple[str, str]:
    """The public status answer of licence ``number`` as JSON text, and its ETag: the one kept by its last
    change, or, where none is kept or the licence has expired since, the one built from the record.
    ``already_read`` holds kept answers read ahead (:func:`answer_ahead`), by key."""
    return kept_answer(state, number, already_read or {}) or _as_sent(public_status(state, number))


def answer_ahead(state: HubState, number: str) -> ReadAhead | None:
    """Where the answer of licence ``number`` is kept, for reading it ahead: under the first type its number
    names, if this worker knows that type already (a made-up type costs no look-up here); else None."""
    if identifiers.looks_like(number):
        return None
    type_upper, number_key = _locate(number)
    codes = _TYPE_CODES.get(type_upper)
    return ReadAhead(status_keys.licence_answer(codes[0], number_key)) if codes else None


def kept_answer(
    state: HubState, number: str, already_read: Mapping[str, dict[str, str]] | None = None
) -> tuple[str, str] | None:
    """The public answer of licence ``number`` and its ETag, as kept by its last change; None when the slow
    path must answer (no answer kept, for a licence last changed before answers were kept; or one that
    has expired since). NotFound, with no look-up, for a number whose check character fails."""
    type_upper, number_key = _locate(number)
    if identifiers.looks_like(number):
        return None  # an identifier names a version: the slow path checks it against the record
    for type_code in _types_named(state, type_upper):
        key = status_keys.licence_answer(type_code, number_key)
        kept = (already_read or {}).get(key)
        if kept is None:
            kept = state.store.hash_get_all(key)
        if kept:
            if kept["status"] == IN_FORCE and date.fromisoformat(kept["valid_until"]) < state.today():
                return None
            return kept["body"], kept["etag"]
    return None


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
        history_key = keys.licence_history(type_code, number_key)
        tx.list_push_json(
            history_key,
            {"at": changed["status_changed_at"], "status": wanted, "reason": body["reason"], "by": ctx.actor},
        )
        keep_answer(tx, changed, history_in(tx, changed))
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
    return history_of(state, record)


def history_in(tx: Tx, record: dict[str, Any]) -> list[dict[str, Any]]:
    """A licence's history as a transaction that changes it sees it (with the lines it added)."""
    return _with_first_line(
        record, tx.list_all_json(keys.licence_history(record["type"], numbering.canonical(record["number"])))
    )


def history_of(state: HubState, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The history lines of a licence record already read (see :func:`history`)."""
    changes = state.store.list_all_json(keys.licence_history(record["type"], numbering.canonical(record["number"])))
    return _with_first_line(record, changes)


def _with_first_line(record: dict[str, Any], changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored history lines of a licence with its issue first (taken from the record, not stored)."""
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
