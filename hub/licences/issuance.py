"""Issuing a licence, and sealing any version of one: number, GB/T 36904 identifier, PDF, PAdES B-LT seal.

Issuing is three steps, each safe to crash after: a number is reserved (the type's sequence for the
region and year goes up by one; a crash leaves a gap, never a duplicate), the PDF is rendered and
sealed and stored by content, then the record, its indexes and the audit entry commit together in the
licence type's partition. A later version (:mod:`hub.licences.versions`) is sealed the same way.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from certs import identifiers, numbering, ofd_seal
from certs.ofd_render import render_licence_ofd
from certs.pades import SealRequest, last_signed_digest, seal_pdf
from certs.render import LicenceDocument, render_licence
from hub import metrics
from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Conflict, Forbidden, NotFound, UnknownReference
from hub.licences import register, sm2_seals, status_lists
from hub.registry import agencies, types
from hub.store import keys, outcomes
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

BILINGUAL_NAME = re.compile(r"^(?P<zh>.+?)\s*[（(](?P<en>[^()（）]+)[)）]\s*$")


def issue(state: HubState, ctx: Context, issuer_agency: str, body: dict[str, Any]) -> dict[str, Any]:
    """Issue a licence of ``body['type']`` as ``issuer_agency``."""
    holder = body["holder"]
    subject_hash = state.keyring.subject_hash(holder["id_type"], holder["id"])
    return issue_for_subject(state, ctx, issuer_agency, body, subject_hash, register.mask_id(holder["id"]))


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
    check_sealable(state, licence_type)
    partition = keys.licence_partition(licence_type["code"])
    issued_before = outcomes.earlier(store, ctx, partition)
    if issued_before is not None:  # a retry of a request whose licence committed before its worker died
        return register.get_record(state, issued_before)
    agency = agencies.get_agency(store, issuer_agency)
    issued_on = state.today()
    number = _reserve_number(state, ctx, licence_type["code"], agency["region"], issued_on.year)
    holder = body["holder"]
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
        "valid_until": (issued_on + timedelta(days=int(licence_type["validity_days"]))).isoformat(),
        "status": register.IN_FORCE,
        "status_reason": None,
        "version": 1,
        "version_kind": "issued",
        "version_at": None,
    }
    record["version_at"] = record["issued_at"]
    record |= seal_version(state, ctx, licence_type, agency, record)
    issued_before = state.store.atomic(lambda tx: _write_new(tx, ctx, record))
    if issued_before is not None:  # a concurrent try of the same request won (its number is left unused)
        return register.get_record(state, issued_before)
    metrics.LICENCES_ISSUED.labels(type=record["type"]).inc()
    return record


def seal_version(
    state: HubState, ctx: Context, licence_type: dict[str, Any], agency: dict[str, Any], record: dict[str, Any]
) -> dict[str, Any]:
    """Render and seal the version of the licence that ``record`` describes (its ``version``, fields and
    validity), store the PDF by content, and return what the record keeps of it: ``identifier``,
    ``sha256``, ``signed_digest`` and ``seal_serial``."""
    identifier = identifier_of(agency, record["number"], record["version"])
    document = _document(state, licence_type, agency, record, identifier)
    rendered = render_licence(document, state.settings.licence_font)
    material = state.seals.sealing_material(agency, ctx)
    sealed = seal_pdf(
        rendered.pdf,
        material.signer,
        material.timestamper,
        material.trust,
        SealRequest(
            field_name="Seal",
            box=rendered.seal_box,
            reason=f"电子证照 {record['number']} 第 {record['version']} 版",
            location=agency["name"],
        ),
    )
    sha256 = hashlib.sha256(sealed).hexdigest()
    state.store.put_document(sha256, [sealed])
    kept = {
        "identifier": identifier,
        "sha256": sha256,
        "signed_digest": last_signed_digest(sealed),
        "seal_serial": format(material.certificate.serial_number, "x"),
    }
    if "ofd" in licence_type.get("formats", ["pdf"]):
        kept |= _sealed_ofd(state, ctx, agency, document)
    return kept


def check_sealable(state: HubState, licence_type: dict[str, Any]) -> None:
    """Conflict, before any number is taken or anything sealed, for a type that asks for OFD on a hub that may not
    make the SM2 seal keys that seal it (seal keys on a PKCS#11 token, software SM2 keys not allowed)."""
    if "ofd" in licence_type.get("formats", ["pdf"]) and not state.settings.sm2_keys_allowed:
        raise Conflict(sm2_seals.NO_SM2_KEYS_HERE)


def _sealed_ofd(state: HubState, ctx: Context, agency: dict[str, Any], document: LicenceDocument) -> dict[str, Any]:
    """The same version as OFD, sealed with the agency's SM2 seal (GB/T 38540) and stored by content."""
    rendered = render_licence_ofd(document, state.settings.licence_font)
    sealing = state.sm2_seals.sealing(agency, ctx)
    stamp = ofd_seal.Stamp(0, rendered.seal_box)
    # Signed at the PKI's time, as the PDF's seal and timestamp are, not at the cases' (settable) clock's.
    sealed = ofd_seal.seal_ofd(
        rendered.package, sealing.seal, sealing.key, sealing.certificate, stamp, now(), state.sm2_pki.time_stamp
    )
    ofd_sha256 = hashlib.sha256(sealed).hexdigest()
    state.store.put_document(ofd_sha256, [sealed])
    return {"ofd_sha256": ofd_sha256, "ofd_seal_serial": sealing.serial}


def identifier_of(agency: dict[str, Any], number: str, version: int) -> str | None:
    """The GB/T 36904 identifier of one version of licence ``number``; None while its issuer has no credit
    code on record."""
    credit_code = agency.get("credit_code")
    if not credit_code:
        return None
    type_code, region, year, sequence, _check = number.rsplit("-", 4)
    return identifiers.make(type_code, credit_code, region, int(year), int(sequence), version)


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
    record: dict[str, Any],
    identifier: str | None,
) -> LicenceDocument:
    match = BILINGUAL_NAME.match(licence_type["name"])  # a type name prints in both languages
    values = record["fields"]
    rows = [
        (spec.get("label") or name, _printable(values[name]))
        for name, spec in licence_type["fields"].items()
        if name in values
    ]
    return LicenceDocument(
        number=record["number"],
        title=match["zh"] if match else licence_type["name"],
        title_en=match["en"] if match else None,
        holder_name=record["holder"]["name"],
        holder_id=record["holder"]["id_masked"],
        fields=rows,
        issued_on=state.today(),
        valid_until=date.fromisoformat(record["valid_until"]),
        issuer_name=agencies.chinese_name(agency["name"]),
        issuer_region=agency["region"],
        verify_url=f"{state.settings.base_url}/verify/{record['number']}",
        version=record["version"],
        identifier=identifier,
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
    record["status_index"] = status_lists.claim(tx, type_code)
    write_record(tx, record)
    audit.append(
        tx,
        keys.licence_partition(type_code),
        ctx,
        "licence.issue",
        f"licence:{record['number']}",
        {"sha256": record["sha256"], "seal_serial": record["seal_serial"], "valid_until": record["valid_until"]},
    )
    register.keep_answer(tx, record, register.history_in(tx, record))
    register.publish(tx, record, "issued", record["issued_at"])
    return None


def write_record(tx: Tx, record: dict[str, Any]) -> None:
    """Queue a new licence's record and its number in the type's and the holder's indexes: what issuance
    writes beside its audit entry (the benchmarks seed licences with it). Its first history line is not
    stored: it is the record's own issuance (:func:`register.history`), a Redis key fewer per licence."""
    type_code, number_key = record["type"], numbering.canonical(record["number"])
    tx.set_json(keys.licence(type_code, number_key), record)
    tx.index_add(keys.licence_index(type_code), number_key)
    tx.index_add(keys.licence_holder_index(type_code, record["holder"]["subject_hash"]), number_key)
