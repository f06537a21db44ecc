"""Intake: applications submitted by portals, completed by uploads, processed by agencies."""

from __future__ import annotations

from typing import Any

from flask import Response, g, url_for

from hub.errors import Invalid
from hub.http import person_proof
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.hooks import MULTIPART, accepts
from hub.http.language import current_language
from hub.intake import applications, disclosure, due, processing, queues
from hub.intake.schemas import (
    ApplicationListArgsSchema,
    ApplicationPageSchema,
    ApplicationRequestSchema,
    ApplicationSchema,
    EventSchema,
    MaterialUploadSchema,
    TaskOutcomeSchema,
    WithdrawalSchema,
)
from hub.intake.uploads import EXTENSIONS

blp = HubBlueprint("applications", __name__, url_prefix="/api/v1/applications", description="Intake")


def as_seen(record: dict[str, Any]) -> dict[str, Any]:
    """The case as the caller may see it now (need-to-know per material and field; logged when it shows data)."""
    return disclosure.shown_to(hub_state(), record, g.principal.agency, g.principal.roles)


@blp.route("", methods=["POST"])
@blp.requires("portal")
@blp.idempotent()
@blp.arguments(ApplicationRequestSchema)
@blp.response(201, ApplicationSchema)
def submit(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Apply on behalf of an applicant the portal authenticated: resolved once-only, with a one-time notice."""
    record = applications.submit(hub_state(), context(), g.principal.agency, data, current_language())
    return as_seen(record), 201, {"Location": url_for("applications.get_application", application_id=record["id"])}


@blp.route("", methods=["GET"])
@blp.requires("agency", "portal")
@blp.arguments(ApplicationListArgsSchema, location="query")
@blp.response(200, ApplicationPageSchema)
def list_cases(args: dict[str, Any]) -> Any:
    """An agency's cases: ``?queue=`` one of its queues, soonest deadline first (to-accept, materials, tasks,
    suspended, due, overdue, discrepancies); ``?due_before=`` its running cases due before a day;
    ``?status=submitted`` those awaiting acceptance. A portal: ``?applicant_id_type=&applicant_id=`` every case
    of one person (any channel), with that person's proof (``Applicant-Token``: the identity service's ID token)."""
    if "agency" not in g.principal.roles:
        state = hub_state()
        person_proof.require_person(state.settings, args["applicant_id_type"] or "", args["applicant_id"] or "")
        subject_hash = state.keyring.subject_hash(args["applicant_id_type"], args["applicant_id"])
        return {"items": applications.of_person(state, subject_hash, args["limit"]), "next": None}
    offset = int(args["cursor"] or 0)
    if args["queue"] is not None:
        return queues.queue(hub_state(), g.principal.agency, args["queue"], offset, args["limit"])
    if args["due_before"] is not None:
        return due.due_before(hub_state(), g.principal.agency, args["due_before"], offset, args["limit"])
    if args["status"] is not None:
        return queues.queue(hub_state(), g.principal.agency, "to-accept", offset, args["limit"])
    raise Invalid("Give queue, due_before or status.", errors={"queue": ["Give queue, due_before or status."]})


@blp.route("/<application_id>", methods=["GET"])
@blp.requires("portal", "agency", "operator")
@blp.response(200, ApplicationSchema)
def get_application(application_id: str) -> Any:
    """One application: status, deadline, one timeline, the co-agencies' tasks, the licence issued."""
    record = applications.get(hub_state(), application_id)
    applications.check_reader(record, g.principal.agency, g.principal.roles)
    return as_seen(record)


@blp.route("/<application_id>/materials", methods=["POST"])
@blp.requires("portal")
@blp.arguments(MaterialUploadSchema, location="multipart")
@blp.response(201, ApplicationSchema)
@accepts(MULTIPART)
def upload_material(upload: dict[str, Any], application_id: str) -> Any:
    """Upload one material (PDF, JPEG or PNG); when nothing is missing any more, the case moves on."""
    state, language = hub_state(), current_language()
    record = applications.add_material(
        state, context(), g.principal.agency, application_id, upload["material"], upload["file"].stream, language
    )
    return as_seen(record), 201


@blp.route("/<application_id>/materials/<code>/file", methods=["GET"])
@blp.requires("agency")
@blp.response(200, description="The uploaded file, as uploaded (PDF, JPEG or PNG)")
def get_material_file(application_id: str, code: str) -> Response:
    """Open a file the applicant uploaded (the lead, or a co-agency the policies let see that material); each
    opening is in the applicant's access log."""
    state = hub_state()
    record = applications.get(state, application_id)
    stored, content = disclosure.uploaded_file(state, record, g.principal.agency, g.principal.roles, code)
    response = Response(content, mimetype=stored["media_type"])  # streamed from the blob store, checked
    response.headers["Content-Length"] = str(stored["size"])
    response.headers["Content-Disposition"] = f'inline; filename="{code}{EXTENSIONS.get(stored["media_type"], "")}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"  # a file, never a page that runs
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/<application_id>/documents/<reference>", methods=["GET"])
@blp.requires("portal", "agency", "operator")
@blp.response(200, description="The sealed decision document (application/pdf)")
def get_decision_document(application_id: str, reference: str) -> Response:
    """A sealed decision document of the case (acceptance, request for materials, refusal), for the portal that
    filed it, the agencies working on it and the operator."""
    state = hub_state()
    record = applications.get(state, application_id)
    applications.check_reader(record, g.principal.agency, g.principal.roles)
    document, content = disclosure.decision_document(state, record, g.principal.agency, g.principal.roles, reference)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{document["reference"]}.pdf"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/<application_id>/events", methods=["POST"])
@blp.requires("agency")
@blp.arguments(EventSchema)
@blp.response(200, ApplicationSchema)
def post_event(data: dict[str, Any], application_id: str) -> Any:
    """The lead agency accepts, requests materials, suspends, resumes, postpones, approves or rejects."""
    return as_seen(processing.apply_event(hub_state(), context(), g.principal.agency, application_id, data))


@blp.route("/<application_id>/withdrawal", methods=["POST"])
@blp.requires("portal")
@blp.arguments(WithdrawalSchema)
@blp.response(200, ApplicationSchema)
def withdraw(data: dict[str, Any], application_id: str) -> Any:
    """The applicant withdraws the case before the decision, through the portal that filed it."""
    record = processing.withdraw(hub_state(), context(), g.principal.agency, application_id, data["reason"])
    return as_seen(record)


@blp.route("/<application_id>/tasks/<agency>", methods=["POST"])
@blp.requires("agency")
@blp.arguments(TaskOutcomeSchema)
@blp.response(200, ApplicationSchema)
def post_task(data: dict[str, Any], application_id: str, agency: str) -> Any:
    """A co-agency's outcome and opinion on its part."""
    return as_seen(processing.record_task(hub_state(), context(), g.principal.agency, application_id, agency, data))
