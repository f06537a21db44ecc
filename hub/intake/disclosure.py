"""What of a case each reader sees: need-to-know decided at every read (API "Personal data").

A case record keeps the evidence its resolution returned to the lead agency. Whoever reads the case
afterwards sees only what the policies in force let that reader see, material by material and field
by field: a co-agency forbidden an evidence type sees its status and source but no data, and a
portal or the operator never sees data at all. Every answer that carries some of the applicant's
data adds a line to the applicant's access log naming the reader, the case and the fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hub.context import rfc3339
from hub.errors import Forbidden, NotFound
from hub.registry.service_items import get_service_item
from hub.resolution import access_log
from hub.resolution.case import APPLICANT, Case
from hub.store import keys
from policies import needed_by

if TYPE_CHECKING:
    from hub.state import HubState


def _without_data(record: dict[str, Any]) -> dict[str, Any]:
    return _timeline_for(record | {"materials": [m | {"data": None} for m in record["materials"]]})


def _timeline_for(shown: dict[str, Any]) -> dict[str, Any]:
    """A timeline line's value (a corrected field, Art. 9) only where the reader sees that material's field."""
    visible = {(m["code"], name) for m in shown["materials"] if m.get("data") for name in m["data"]}
    timeline = [
        line if "value" not in line or (line.get("material"), line.get("field")) in visible else line | {"value": None}
        for line in shown.get("timeline", [])
    ]
    return shown | {"timeline": timeline}


def uploaded_file(
    state: HubState, record: dict[str, Any], agency: str | None, roles: frozenset[str], code: str
) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The file uploaded for material ``code``, for the lead or a co-agency whom the policies let see that
    material; each opening is a line in the applicant's access log."""
    case = Case.from_record(record)
    if agency is None or "agency" not in roles or not case.takes_part(agency):
        raise Forbidden(f"Only the agencies working on {record['id']} open its files.")
    material = next((m for m in record.get("materials", []) if m["code"] == code), None)
    if material is None or not material.get("file"):
        raise NotFound(f"Application {record['id']} has no uploaded file for {code!r}.")
    if material["evidence_type"] and agency != record["agency"]:
        item = get_service_item(state.store, record["service_item"], record["version"])
        evidence_type = material["evidence_type"]
        found = {evidence_type: state.store.get_json(keys.evidence_type(evidence_type))}
        if not state.policies.decide(agency, item, found, record["applicant"]["id_type"])[evidence_type].allowed:
            raise Forbidden(f"The policies do not let {agency!r} see {material['evidence_type']!r}.")
    content = state.store.document_stream(material["file"]["sha256"])
    if content is None:
        raise NotFound(f"The file for {code!r} is missing from the store; restore it from a backup.")
    at, subject = rfc3339(state.clock.now()), case.subject_of(material.get("party") or APPLICANT)
    access_log.record_file_read(state.store, subject, at, agency, record["id"], record["service_item"], code)
    return material["file"], content


def decision_document(
    state: HubState, record: dict[str, Any], agency: str | None, roles: frozenset[str], reference: str
) -> tuple[dict[str, Any], Iterator[bytes]]:
    """A sealed decision document of the case, for whoever may read the case; an agency's or the operator's
    reading it is a line in the applicant's access log (the portal reads for the applicant)."""
    document = next((d for d in record.get("documents") or [] if d["reference"] == reference), None)
    if document is None:
        raise NotFound(f"Application {record['id']} has no document {reference!r}.")
    content = state.store.document_stream(document["sha256"])
    if content is None:
        raise NotFound(f"The document {reference} is missing from the store; restore it from a backup.")
    if "portal" not in roles:
        at, subject = rfc3339(state.clock.now()), record["applicant"]["subject_hash"]
        reader = agency or "operator"
        access_log.record_file_read(state.store, subject, at, reader, record["id"], record["service_item"], reference)
    return document, content


def shown_to(state: HubState, record: dict[str, Any], agency: str | None, roles: frozenset[str]) -> dict[str, Any]:
    """``record`` as this reader may see it now; a read that shows data is in the applicant's access log."""
    if "materials" not in record:  # disposed of after its retention: nothing personal is left
        return record
    if agency is None or "agency" not in roles or not Case.from_record(record).takes_part(agency):
        return _without_data(record)  # a portal, the operator: statuses and sources, never values
    item = get_service_item(state.store, record["service_item"], record["version"])
    evidence_types = sorted({m["evidence_type"] for m in item["materials"] if m["evidence_type"]})
    evidence_records = dict(
        zip(evidence_types, state.store.get_many_json([keys.evidence_type(c) for c in evidence_types]), strict=True)
    )
    fields_of = {code: list((found or {}).get("fields", {})) for code, found in evidence_records.items()}
    decisions = state.policies.decide(agency, item, evidence_records, record["applicant"]["id_type"])
    needs = {m["code"]: needed_by(m, fields_of) for m in item["materials"] if m["evidence_type"]}
    materials = []
    for material in record["materials"]:
        decision = decisions.get(material["evidence_type"] or "")
        if material.get("data") is None or decision is None or not decision.allowed:
            materials.append(material | {"data": None})
            continue
        shown = decision.fields & frozenset(needs.get(material["code"], ()))
        materials.append(material | {"data": {k: v for k, v in material["data"].items() if k in shown}})
    if any(m["data"] for m in materials):
        access_log.record_case_read(state.store, record, rfc3339(state.clock.now()), agency, materials)
    return _timeline_for(record | {"materials": materials})
