"""The application form signed by the applicant (Art. 11): a party to the case whom the province's identity service
verified confirms the form, and the hub signs it on their behalf (:mod:`hub.licences.personal_signing`).

The form is printed as a document of the case (:mod:`certs.notices`, kind ``application_form``: the item, the
applicant, every answer and the declaration), signed under a certificate made for that one signature,
kept in the blob store, and named among the case's documents with a public record, so it is in the case
file, its archive and the applicant's pages, and anyone handed it can have it verified.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from certs.notices import TITLES
from certs.pades import SealRequest
from hub.context import Context
from hub.errors import Conflict, Forbidden
from hub.intake import decision_documents
from hub.intake.applications import audit_case, get
from hub.licences import personal_signing
from hub.registry import agencies
from hub.resolution.case import Case
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

KIND = "application_form"
OPEN = {"pending_materials", "submitted", "accepted", "suspended"}
DECLARATION = {
    "zh": "本人承诺，本申请所填写的内容和提交的材料真实、有效，并承担相应的法律责任。",
    "en": "I declare that what this application states and the materials submitted are true and valid, and I "
    "accept the legal responsibility for them.",
}


def sign(state: HubState, ctx: Context, application_id: str, person: dict[str, str]) -> dict[str, Any]:
    """Sign the case's form for ``person`` (``id_type``, ``id``, ``name``: verified by the identity service)."""
    record = get(state, application_id)
    subject_hash = state.keyring.subject_hash(person["id_type"], person["id"])
    if subject_hash not in Case.from_record(record).parties:
        raise Forbidden(f"Only a party to application {application_id} signs its form.")
    if record["status"] not in OPEN:
        raise Conflict(f"Application {application_id} is {record['status']}: its form is no longer signed.")
    if any(d["kind"] == KIND for d in record.get("documents") or []):
        raise Conflict(f"The form of application {application_id} is signed already.")
    language = record.get("language", "zh") if record.get("language") in DECLARATION else "zh"
    agency = agencies.get_agency(state.store, record["agency"])
    reference = decision_documents.reference_for(record, state.today(), "F1")
    answers = tuple(f"{name}: {value}" for name, value in sorted(record["form"].items())) or ("—",)
    declaration = (DECLARATION[language],)
    rendered = decision_documents.printed(state, record, agency, KIND, language, reference, declaration, answers)
    title = TITLES[(KIND, language)]
    request = SealRequest(field_name="Applicant", box=rendered.seal_box, page=rendered.page, reason=title)
    signer = {"name": person["name"], "id_type": person["id_type"], "subject_hash": subject_hash}
    signed = personal_signing.sign_for(state, ctx, signer, rendered.pdf, request)
    document = decision_documents.kept(state, signed, KIND, title, reference, language)
    return state.store.atomic(lambda tx: _attach(tx, ctx, record["agency"], application_id, document))


def _attach(tx: Tx, ctx: Context, agency: str, application_id: str, document: dict[str, Any]) -> dict[str, Any]:
    record = tx.get_json(case_keys.application(agency, application_id))
    if any(d["kind"] == KIND for d in record.get("documents") or []):
        raise Conflict(f"The form of application {application_id} is signed already.")
    record["documents"] = [*(record.get("documents") or []), document]
    line = {"at": document["at"], "type": "form.signed", "by": ctx.actor, "reason": None, "deadline": None}
    record["timeline"].append(line)
    tx.set_json(case_keys.application(agency, application_id), record)
    decision_documents.publish_record(tx, agency, document)
    audit_case(tx, agency, ctx, "application.form-signed", application_id, {"sha256": document["sha256"]})
    return record
