"""E-licences: issue (number, PDF, PAdES B-LT seal), status lifecycle, reads, and lookup as proof.

Issuing is three steps, each safe to crash after: a number is reserved (the type's sequence for the
region and year goes up by one; a crash leaves a gap, never a duplicate), the PDF is rendered and
sealed and stored by content, then the record, its indexes, its first history line and the audit
entry commit together in the licence type's partition.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from certs import numbering
from certs.pades import SealRequest, last_signed_digest, seal_pdf
from certs.render import LicenceDocument, render_licence
from connectors.api import Subject
from hub import metrics
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, NotFound, UnknownReference
from hub.registry import agencies, types
from hub.store import keys, outbox, outcomes
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

IN_FORCE = "valid"
TRANSITIONS = {"valid": {"suspended", "revoked"}, "suspended": {"valid", "revoked"}, "revoked": set()}
BILINGUAL_NAME = re.compile(r"^(?P<zh>.+?)\s*[（(](?P<en>[^()（）]+)[)）]\s*$")


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
    """The type code and storage key of a well-formed number; NotFound (no lookup) when the check fails."""
    if not numbering.is_well_formed(number):
        raise NotFound(f"{number!r} is not a licence number (its check character does not match).")
    body = number.upper().rsplit("-", 4)[0] if number.count("-") >= 4 else ""
    if not body:
        raise NotFound(f"no licence {number!r}")
    return body, numbering.canonical(number)


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
    if record is None:
        raise NotFound(f"no licence {number!r}")
    return _with_effective_status(state, record)


def _types_named(state: HubState, type_upper: str) -> list[str]:
    # Numbers carry the type code upper-cased; codes are case-sensitive, so collect every match.
    codes = state.store.index_page(keys.licence_type_index(), None, 100_000)
    return [code for code in codes if code.upper() == type_upper]


def _with_effective_status(state: HubState, record: dict[str, Any]) -> dict[str, Any]:
    if record["status"] == IN_FORCE and date.fromisoformat(record["valid_until"]) < state.today():
        return {**record, "status": "expired"}
    return record


def public_status(state: HubState, number: str) -> dict[str, Any]:
    """What anyone holding the QR link may see."""
    return public_view(get_record(state, number))


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    """The parts of a licence record anyone may see: the holder's name masked, no ID."""
    return {
        "number": record["number"],
        "status": record["status"],
        "type": record["type"],
        "type_name": record["type_name"],
        "holder_name_masked": mask_name(record["holder"]["name"]),
        "valid_until": record["valid_until"],
        "issuer": record["issuer"],
        "issuer_name": record["issuer_name"],
    }


def issue(state: HubState, ctx: Context, issuer_agency: str, body: dict[str, Any]) -> dict[str, Any]:
    """Issue a licence of ``body['type']`` as ``issuer_agency``."""
    holder = body["holder"]
    subject_hash = state.keyring.subject_hash(holder["id_type"], holder["id"])
    return issue_for_subject(state, ctx, issuer_agency, body, subject_hash, mask_id(holder["id"]))


def issue_for_subject(
    state: HubState, ctx: Context, issuer_agency: str, body: dict[str, Any], subject_hash: str, id_masked: str
) -> dict[str, Any]:
    """Issue a licence to a holder known by subject hash and masked ID (an applicant whose ID the hub
    does not keep)."""
    store = state.store
    try:
        licence_type = types.get_licence_type(store, body["type"])
    except NotFound:
        raise UnknownReference(
            f"no licence type {body['type']!r}", errors={"type": ["Unknown licence type."]}
        ) from None
    if licence_type["issuer"] != issuer_agency:
        raise Forbidden(f"{body['type']!r} licences are issued by {licence_type['issuer']!r}, not {issuer_agency!r}.")
    values = types.check_values(licence_type["fields"], body.get("fields") or {})
    partition = keys.licence_partition(licence_type["code"])
    issued_before = outcomes.earlier(store, ctx, partition)
    if issued_before is not None:  # a retry of a request whose licence committed before its worker died
        return get_record(state, issued_before)
    agency = agencies.get_agency(store, issuer_agency)
    issued_on = state.today()
    valid_until = issued_on + timedelta(days=int(licence_type["validity_days"]))
    number = _reserve_number(state, ctx, licence_type["code"], agency["region"], issued_on.year)
    holder = body["holder"]
    document = _document(
        state, licence_type, agency, number, {**holder, "id_masked": id_masked}, values, issued_on, valid_until
    )
    rendered = render_licence(document, state.settings.licence_font)
    material = state.seals.sealing_material(agency, ctx)
    sealed = seal_pdf(
        rendered.pdf,
        material.signer,
        material.timestamper,
        material.trust,
        SealRequest(field_name="Seal", box=rendered.seal_box, reason=f"电子证照 {number}", location=agency["name"]),
    )
    sha256 = hashlib.sha256(sealed).hexdigest()
    store.put_document(sha256, [sealed])
    record = {
        "number": number,
        "type": licence_type["code"],
        "type_name": licence_type["name"],
        "holder": {
            "id_type": holder["id_type"],
            "id_masked": id_masked,
            "name": holder["name"],
            "subject_hash": subject_hash,
        },
        "fields": values,
        "issuer": agency["code"],
        "issuer_name": agency["name"],
        "region": agency["region"],
        "issued_at": rfc3339(state.clock.now()),
        "issued_by": ctx.actor,
        "valid_from": issued_on.isoformat(),
        "valid_until": valid_until.isoformat(),
        "status": IN_FORCE,
        "status_reason": None,
        "sha256": sha256,
        "signed_digest": last_signed_digest(sealed),
        "seal_serial": format(material.certificate.serial_number, "x"),
    }
    issued_before = state.store.atomic(lambda tx: _write_new(tx, ctx, record))
    if issued_before is not None:  # a concurrent try of the same request won (its number is left unused)
        return get_record(state, issued_before)
    metrics.LICENCES_ISSUED.labels(type=record["type"]).inc()
    return record


def _reserve_number(state: HubState, ctx: Context, type_code: str, region: str, year: int) -> str:
    def work(tx: Tx) -> str:
        sequence_key = keys.licence_sequence(type_code, region, year)
        sequence = int(tx.get_json(sequence_key) or 0)
        while True:  # skip a number whose letters and digits another type's number already took
            sequence += 1
            number = numbering.make_number(type_code, region, year, sequence)
            if not tx.exists(keys.licence(type_code, numbering.canonical(number))):
                break
        tx.set_json(sequence_key, sequence)
        return number

    return state.store.atomic(work)


def _document(
    state: HubState,
    licence_type: dict[str, Any],
    agency: dict[str, Any],
    number: str,
    holder: dict[str, Any],
    values: dict[str, Any],
    issued_on: date,
    valid_until: date,
) -> LicenceDocument:
    match = BILINGUAL_NAME.match(licence_type["name"])  # a type name prints in both languages
    rows = [
        (spec.get("label") or name, _printable(values[name]))
        for name, spec in licence_type["fields"].items()
        if name in values
    ]
    return LicenceDocument(
        number=number,
        title=match["zh"] if match else licence_type["name"],
        title_en=match["en"] if match else None,
        holder_name=holder["name"],
        holder_id=holder["id_masked"],
        fields=rows,
        issued_on=issued_on,
        valid_until=valid_until,
        issuer_name=agencies.chinese_name(agency["name"]),
        issuer_region=agency["region"],
        verify_url=f"{state.settings.base_url}/verify/{number}",
    )


def _printable(value: Any) -> str:
    if isinstance(value, bool):
        return "是 Yes" if value else "否 No"
    return str(value)


def _write_new(tx: Tx, ctx: Context, record: dict[str, Any]) -> str | None:
    """Queue a new licence with its audit entry; or, if a try of the same request issued one first,
    nothing, and that licence's number."""
    type_code, number_key = record["type"], numbering.canonical(record["number"])
    if tx.exists(keys.licence(type_code, number_key)):
        raise Conflict(f"licence {record['number']} exists already")
    issued_before = outcomes.note(tx, ctx, keys.licence_partition(type_code), record["number"])
    if issued_before is not None:
        return issued_before
    write_record(tx, record)
    audit.append(
        tx,
        keys.licence_partition(type_code),
        ctx,
        "licence.issue",
        f"licence:{record['number']}",
        {"sha256": record["sha256"], "seal_serial": record["seal_serial"], "valid_until": record["valid_until"]},
    )
    _publish(tx, record, "issued", record["issued_at"])
    return None


def _publish(tx: Tx, record: dict[str, Any], kind: str, at: str) -> None:
    """The event ``licence.<kind>`` for subscribers of the issuer (:mod:`hub.store.outbox`); no holder's data."""
    body = {"channel": "licences", "licence": record["number"], "licence_type": record["type"]}
    audience = {"agencies": [record["issuer"]]}
    outbox.record(
        tx, keys.licence_partition(record["type"]), at, f"licence.{kind}", body | {"status": record["status"]}, audience
    )


def write_record(tx: Tx, record: dict[str, Any]) -> None:
    """Queue a new licence's record and its number in the type's and the holder's indexes: what issuance
    writes beside its audit entry (the benchmarks seed licences with it). Its first history line is not
    stored: it is the record's own issuance (:func:`history`), a Redis key fewer per licence."""
    type_code, number_key = record["type"], numbering.canonical(record["number"])
    tx.set_json(keys.licence(type_code, number_key), record)
    tx.index_add(keys.licence_index(type_code), number_key)
    tx.index_add(keys.licence_holder_index(type_code, record["holder"]["subject_hash"]), number_key)


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
        _publish(tx, changed, "reinstated" if wanted == IN_FORCE else wanted, changed["status_changed_at"])
        return changed

    return _with_effective_status(state, state.store.atomic(work))


def history(state: HubState, agency: str | None, number: str) -> list[dict[str, Any]]:
    """Every status change of a licence, oldest first (its issuer or the operator)."""
    record = get_record(state, number)
    if agency is not None and record["issuer"] != agency:
        raise Forbidden(f"Only {record['issuer']!r} may read the history of licence {record['number']}.")
    changes = state.store.list_all_json(keys.licence_history(record["type"], numbering.canonical(record["number"])))
    if changes and changes[0].get("reason") == "issued":
        return changes  # a licence issued before the first line came from the record
    issued = {"at": record["issued_at"], "status": IN_FORCE, "reason": "issued", "by": record["issued_by"]}
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
        _with_effective_status(state, record)
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
            items.append(_with_effective_status(state, record))
            last = f"{code}|{key}"
    return {"items": items, "next": None}
