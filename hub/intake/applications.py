"""Applications: submitted by a front-end, resolved once-only, completed by uploads, read by those involved.

An application binds to the service item version in force on the day it is submitted. Its record,
its place among the lead agency's due cases and its audit entries share the lead agency's partition,
so every change commits at once. The platform's evidence is attached as the resolution found it;
what nobody holds is listed at once in the notice, and uploads tick the list off.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from connectors.api import Subject
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.intake import clocks, discrepancies, due, parties, queues, shape, signatures, uploads
from hub.intake.cases import add_to_timeline, agency_of, new_id, publish
from hub.registry import service_items
from hub.resolution.case import Case
from hub.resolution.notice import notice_for
from hub.store import case_keys, outcomes
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

PENDING_MATERIALS, SUBMITTED = "pending_materials", "submitted"
UPLOADED = "uploaded"


class ItemEnded(Invalid):
    """The item was withdrawn or abolished; the problem names its successor, if any."""

    slug, title = "item-ended", "No longer applied for"


class NotOnline(Invalid):
    """The item cannot be applied for online; the problem says where and how."""

    slug, title = "not-online", "Apply in person"


def in_force(state: HubState, code: str, today: date) -> dict[str, Any]:
    """The version of a service item in force on ``today`` (the newest whose effective date has come)."""
    versions = service_items.list_versions(state.store, code)
    current = [v for v in versions if date.fromisoformat(v["effective_from"]) <= today]
    if not current:
        raise NotFound(f"Service item {code!r} is not in force yet.")
    if service_items.ended(current[-1], today):
        item, successor = current[-1], current[-1].get("successor")
        raise ItemEnded(
            f"{item['name']} was {item['end_kind']} on {item['ends_on']} and takes no new applications"
            + (f"; apply for {successor} instead." if successor else "."),
            errors={"service_item": [f"{item['end_kind'].capitalize()} on {item['ends_on']}."]},
            successor=successor,
        )
    return current[-1]


def submit(state: HubState, ctx: Context, portal: str, body: dict[str, Any], language: str) -> dict[str, Any]:
    """Submit an application on behalf of an applicant the portal authenticated."""
    item = in_force(state, body["service_item"], state.today())
    submitted_before = outcomes.earlier(state.store, ctx, case_keys.application_partition(item["agency"]))
    if submitted_before is not None:  # a retry of a request whose case committed before its worker died
        return _with_discrepancies(state, ctx, get(state, submitted_before))
    if not item["online"] or item["in_person_required"]:
        where = item.get("where_to_apply") or "the implementing agency's service hall"
        raise NotOnline(
            f"{item['name']} cannot be applied for online"
            + (" (the law requires the applicant in person)" if item["in_person_required"] else "")
            + f"; apply at: {where}.",
            where_to_apply=where,
            in_person_required=item["in_person_required"],
        )
    shape.check_channel(state, body["channel"])
    shape.check(state, item, body.get("form") or {})
    applicant, representative = body["applicant"], body.get("representative")
    application_id = new_id(item["agency"])
    kept = {"applicant": parties.stored(state, applicant)}
    subjects = {kept["applicant"]["subject_hash"]: Subject(applicant["id_type"], applicant["id"])}
    if representative:
        kept["representative"] = parties.stored(state, representative)
        subjects[kept["representative"]["subject_hash"]] = Subject(representative["id_type"], representative["id"])
    # The case's own reads, as its lead agency, each party's materials under that party: the record keeps
    # what that agency may see.
    case = Case(
        application_id,
        item["code"],
        item["version"],
        item["agency"],
        frozenset(item["co_agencies"]),
        kept["applicant"]["subject_hash"],
        kept.get("representative", {}).get("subject_hash"),
        {m["code"]: parties.party_of(m) for m in item["materials"]},
    )
    parties.note_cases(state, application_id, list(subjects))
    results, made = parties.resolve(state, ctx, item["agency"], case, subjects, language)
    found = made[0]
    materials = [_material(m, results) for m in item["materials"]]
    notice = notice_for(materials, language)
    created_at = rfc3339(state.clock.now())
    record = {
        "id": application_id,
        "service_item": item["code"],
        "service_item_name": item["name"],
        "version": item["version"],
        "agency": item["agency"],
        "co_agencies": list(item["co_agencies"]),
        "produces": item["produces"],
        "committed_days": item["committed_days"],
        # The item's other time limits (Art. 14), as they were when the case was filed.
        "statutory_days": item["statutory_days"],
        "extension_days": item.get("extension_days", clocks.DEFAULT_EXTENSION_DAYS),
        "acceptance_days": item.get("acceptance_days", clocks.DEFAULT_ACCEPTANCE_DAYS),
        "materials_days": item.get("materials_days", clocks.DEFAULT_MATERIALS_DAYS),
        "task_days": clocks.task_days(item),
        "language": language,
        "applicant": kept["applicant"],
        "representative": kept.get("representative"),
        # Whom the platform's sources are asked about when a material is fetched again (a source that failed,
        # a correction of Art. 9); sealed at rest with the record, never shown or archived.
        "subject": {"id_type": applicant["id_type"], "id": applicant["id"]},
        "representative_subject": (
            {"id_type": representative["id_type"], "id": representative["id"]} if representative else None
        ),
        "channel": body["channel"],
        "portal": portal,
        "form": body.get("form") or {},
        "form_checks": item.get("form_checks") or [],
        "resolution": found["id"],
        "materials": materials,
        "notice": notice,
        "status": SUBMITTED if not notice["missing"] else PENDING_MATERIALS,
        "acceptance_deadline": None,
        "materials_deadline": None,
        "deadline": None,
        "latest_deadline": None,
        "remaining_days": None,
        "suspension": None,
        "tasks": [],
        "licence": None,
        "discrepancies": [],
        "created_at": created_at,
        "timeline": [{"at": created_at, "type": "submit", "by": ctx.actor, "reason": None, "deadline": None}],
        "notifications": [],
        # The resolution's signed envelope: the platform's proof of what it supplied, for the archive.
        "evidence_envelope": found["envelope"],
        "later_envelopes": [other["envelope"] for other in made[1:]],  # the representative's read
    }
    if record["status"] == SUBMITTED:
        clocks.start_acceptance(record, state.calendars, state.today())
    else:
        clocks.start_materials(record, state.calendars, state.today())

    def work(tx: Tx) -> str | None:
        submitted_before = outcomes.note(tx, ctx, case_keys.application_partition(item["agency"]), application_id)
        if submitted_before is not None:
            return submitted_before
        tx.set_json(case_keys.application(item["agency"], application_id), record)
        queues.track(tx, state, item["agency"], record)
        received_at = datetime.fromisoformat(created_at).timestamp() * 1000
        tx.scored_add(case_keys.application_received(item["agency"]), application_id, received_at)
        publish(tx, record, "submitted", created_at)
        detail = {"service_item": item["code"], "version": item["version"], "missing": notice["missing"]}
        audit_case(tx, item["agency"], ctx, "application.submit", application_id, detail)
        return None

    submitted_before = state.store.atomic(work)
    if submitted_before is not None:  # a concurrent try of the same request won
        record = get(state, submitted_before)
    return _with_discrepancies(state, ctx, record)


def _with_discrepancies(state: HubState, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    """File the discrepancies a new case shows (Art. 9), unless its timeline already has them: a retry
    after a worker died between the case's commit and this step finishes it."""
    found = discrepancies.find(record["form"], record["materials"], record.get("form_checks") or [])
    if found and not record["discrepancies"]:
        ids = discrepancies.record(state, ctx, record, found)
        line = {
            "at": rfc3339(state.clock.now()),
            "type": "discrepancy",
            "by": "hub",
            "reason": _fields_of(found),
            "deadline": None,
        }
        record = add_to_timeline(state, record["id"], line, discrepancies=ids)
    return record


def audit_case(tx: Tx, agency: str, ctx: Context, action: str, application_id: str, detail: Any) -> None:
    """Chain an audit entry about a case in its lead agency's partition, and keep a copy in the case's
    own list (the audit extract its archive package carries), in the same transaction."""
    entry = audit.append(
        tx, case_keys.application_partition(agency), ctx, action, f"application:{application_id}", detail
    )
    tx.list_push_json(case_keys.application_audit(agency, application_id), entry)


def _fields_of(found: list[dict[str, Any]]) -> str:
    return "form differs from the platform's data: " + ", ".join(f"{d['material']}.{d['field']}" for d in found)


def _material(material: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    resolved = results[material["code"]]
    return {
        "code": material["code"],
        "name": material["name"],
        "required": material["required"],
        "party": parties.party_of(material),
        "evidence_type": material["evidence_type"],
        "status": resolved["status"],
        "source": resolved["source"],
        "data": resolved["data"],
        "file": None,
    }


def complete(state: HubState, record: dict[str, Any]) -> None:
    """Nothing is missing any more: submitted (the acceptance clock starts), or back to accepted with the
    decision clock restarted on the days it had left."""
    record["materials_deadline"] = None
    if record.pop("resume_to", None) == due.RUNNING:
        record["status"] = due.RUNNING
        clocks.restart(record, state.calendars, state.today())
    else:
        record["status"] = SUBMITTED
        clocks.start_acceptance(record, state.calendars, state.today())


def of_person(state: HubState, subject_hash: str, limit: int, before: float | None = None) -> list[dict[str, Any]]:
    """The cases a person is a party to, newest first, whatever channel filed them."""
    listed = parties.cases_of(state, subject_hash, before, limit)
    records = state.store.get_json_each([case_keys.application(agency_of(case), case) for case, _ in listed])
    return [record for record in records if record is not None]


def get(state: HubState, application_id: str) -> dict[str, Any]:
    """An application by id."""
    record = state.store.get_json(case_keys.application(agency_of(application_id), application_id))
    if record is None:
        raise NotFound(f"No application {application_id!r}.")
    return record


def check_reader(record: dict[str, Any], agency: str | None, roles: frozenset[str]) -> None:
    """Forbidden unless the caller is the operator, the portal that submitted, the lead or a co-agency."""
    if agency is None and "operator" in roles:
        return
    involved = {record["agency"], *record["co_agencies"]}
    if agency in involved and "agency" in roles:
        return
    if agency == record["portal"] and "portal" in roles:
        return
    raise Forbidden(f"Application {record['id']} is not yours to read.")


OPEN = {PENDING_MATERIALS, SUBMITTED, "accepted", "suspended"}


def _uploadable(record: dict[str, Any] | None, application_id: str, portal: str, code: str) -> dict[str, Any]:
    """The material of ``record`` that ``portal`` may upload ``code`` for now; a refusal says why. Required
    materials are uploaded while they are asked for; optional ones until the decision."""
    if record is None:
        raise NotFound(f"No application {application_id!r}.")
    if record["portal"] != portal:
        raise Forbidden(f"Application {application_id} was submitted through another portal.")
    material = next((m for m in record["materials"] if m["code"] == code), None)
    if material is None:
        raise Invalid(f"No material {code!r} in this application.", errors={"material": ["Unknown material."]})
    if material["status"] == "resolved":
        raise Conflict(f"The platform supplied {code!r} already: it is never asked for twice.")
    taking = OPEN if not material.get("required", True) else {PENDING_MATERIALS}
    if record["status"] not in taking:
        raise Conflict(f"Application {application_id} is {record['status']}: it takes no upload for {code!r} now.")
    return material


def _kept_already(record: dict[str, Any] | None, portal: str, code: str, sha256: str) -> bool:
    """Whether this very file is already the portal's upload for material ``code`` of the case."""
    if record is None or record["portal"] != portal:
        return False
    material = next((m for m in record["materials"] if m["code"] == code), None)
    return material is not None and (material.get("file") or {}).get("sha256") == sha256


def add_material(
    state: HubState, ctx: Context, portal: str, application_id: str, code: str, upload: BinaryIO, language: str
) -> dict[str, Any]:
    """Attach an uploaded file (a seekable stream, read in chunks) to one material; once nothing is missing the
    application is submitted."""
    examined = uploads.examine(upload)
    media_type, sha256 = examined.media_type, examined.sha256
    agency = agency_of(application_id)
    # Allowed first (the portal's case, taking uploads, a material the platform did not supply), so a
    # refused upload leaves no byte behind; then stored by content before the record names it, and the
    # same checks again inside the transaction, against the record as it is then.
    current = state.store.get_json(case_keys.application(agency, application_id))
    if _kept_already(current, portal, code, sha256):
        return current  # a retry of an upload that was kept before its answer was lost: nothing to do again
    _uploadable(current, application_id, portal, code)
    signed = signatures.of_upload(state, upload) if examined.signed else None
    state.store.put_document(sha256, uploads.chunks(upload))

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(case_keys.application(agency, application_id))
        material = _uploadable(record, application_id, portal, code)
        at = rfc3339(state.clock.now())
        stored = {"sha256": sha256, "media_type": media_type, "size": examined.size, "uploaded_at": at}
        uploads.set_aside(material, at, "sent again")
        material.update(status=UPLOADED, file=stored | ({"signatures": signed} if signed is not None else {}))
        record["notice"] = notice_for(record["materials"], language)
        if record["status"] == PENDING_MATERIALS and not record["notice"]["missing"]:
            complete(state, record)
            line = {"at": at, "type": "complete", "by": ctx.actor, "reason": None, "deadline": record["deadline"]}
            record["timeline"].append(line)
        tx.set_json(case_keys.application(agency, application_id), record)
        queues.track(tx, state, agency, record)
        detail = {"material": code, "sha256": sha256, "media_type": media_type}
        audit_case(tx, agency, ctx, "application.material", application_id, detail)
        return record

    return state.store.atomic(work)
