"""The caseworker's desk (issue 18): an agency's queues, its case files, and every action as a form.

Staff sign in with an agency token, as operators do at the console (:mod:`hub.web.staff`). A case page
shows what this agency may see of the case now (:mod:`hub.intake.disclosure`: each read that shows a
value, each file opened, is in the applicant's access log), its clocks, tasks, documents and
timeline, and the actions its state allows; each form calls the same service as the API, so the
same rules hold, and a refusal is told in plain words on the page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from marshmallow import ValidationError

from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.http.current import hub_state
from hub.intake import applications, corrections, disclosure, discrepancies, processing, queues
from hub.intake.schemas import DiscrepancySettlementSchema, EventSchema, TaskOutcomeSchema
from hub.licences import access, register
from hub.web.i18n import current_language, translator
from hub.web.pages import render_page
from hub.web.staff import StaffArea, acting
from hub.web.words import Words, agency_names, plain_words

blp = Blueprint("desk", __name__, url_prefix="/desk")
AREA = StaffArea("desk", "agency", "desk_agency", "desk.overview", "desk_not_agency", identity_service=True)
AREA.install(blp)
PAGE = 50
# the lead's actions, by the state they fit (processing.ALLOWED_FROM), in the order the page offers them
ACTIONS = ("accept", "request_materials", "postpone", "suspend", "resume", "approve", "reject")
LICENCE_MEDIA_TYPES = {"pdf": "application/pdf", "ofd": "application/ofd"}


def _render(template: str, status: int = 200, **values: Any) -> Response:
    say = Words(current_language(), hub_state())
    response = render_page(template, csrf=AREA.csrf_token(), agency=g.principal.agency, say=say, **values)
    response.status_code = status
    return response


def _text(key: str) -> str:
    return translator(current_language())(key)


@blp.route("", methods=["GET"])
def overview() -> Response:
    """The agency's queues with their counts, and the chosen one's cases, soonest deadline first."""
    state, agency = hub_state(), g.principal.agency
    chosen = request.args.get("queue", "to-accept")
    if chosen not in queues.QUEUES:
        chosen = "to-accept"
    counts = queues.counts(state, agency)
    if chosen == "discrepancies":
        rows = discrepancies.open_summaries(state, agency, PAGE)
    else:
        rows = queues.queue(state, agency, chosen, 0, PAGE)["items"]
        rows = [row | {"applicant_masked": _masked(row["applicant"])} for row in rows]
    return _render("desk.html", queues=queues.QUEUES, counts=counts, chosen=chosen, rows=rows)


def _masked(applicant: dict[str, Any]) -> str:
    return f"{register.mask_name(applicant.get('name') or '')} · {applicant['id_masked']}"


@blp.route("/cases/<application_id>", methods=["GET"])
def case(application_id: str) -> Response:
    """One case as this agency may see it now, with the actions its state allows."""
    return _case_page(application_id, None, 200)


def _case_page(application_id: str, error: str | None, status: int) -> Response:
    state, agency = hub_state(), g.principal.agency
    try:
        record = applications.get(state, application_id)
        applications.check_reader(record, agency, g.principal.roles)
    except HubError:
        abort(404)  # another agency's case is not there for this one
    shown = disclosure.shown_to(state, record, agency, g.principal.roles)
    today = state.today()
    deadline = date.fromisoformat(shown["deadline"]) if shown.get("deadline") else None
    lead = agency == record["agency"]
    allowed = [a for a in ACTIONS if lead and record["status"] in processing.ALLOWED_FROM[a]]
    task = next((t for t in record["tasks"] if t["agency"] == agency), None)
    return _render(
        "desk_case.html",
        status,
        record=shown,
        applicant_masked=_masked(record["applicant"]),
        days_left=state.calendars.remaining(today, deadline) if deadline else None,
        lead=lead,
        actions=allowed,
        can_refetch=lead and any(m["status"] == "unavailable" for m in record["materials"]),
        task=task if record["status"] in ("accepted", "suspended", "pending_materials") else None,
        licence=_case_licence_view(state, record),
        error=error,
        agency_names=agency_names({record["agency"], *record["co_agencies"], *_sources(shown)}),
    )


def _sources(record: dict[str, Any]) -> set[str]:
    return {m["source"]["agency"] for m in record["materials"] if m.get("source")}


def _form_event() -> dict[str, Any]:
    """The action form as the API's event body (the same schema checks it)."""
    form = request.form
    body: dict[str, Any] = {"type": form.get("type", "")}
    for name in ("reason", "days", "until"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    codes = [line.split(maxsplit=1) for line in form.get("materials", "").splitlines() if line.strip()]
    if codes:
        body["materials"] = [{"code": c[0], **({"name": c[1]} if len(c) > 1 else {})} for c in codes]
    return body


@blp.route("/cases/<application_id>/events", methods=["POST"])
def post_event(application_id: str) -> Response:
    """Apply one of the lead's actions; the case page tells how it went."""
    try:
        event = EventSchema().load(_form_event())
        processing.apply_event(hub_state(), acting(), g.principal.agency, application_id, event)
    except ValidationError as error:
        return _case_page(application_id, plain_words(Invalid(_fields(error.messages))), 422)
    except HubError as error:
        return _case_page(application_id, plain_words(error), error.status)
    flash(_text("desk_done").format(action=Words(current_language(), hub_state()).apply("event", event["type"])), "ok")
    return redirect(url_for("desk.case", application_id=application_id), 303)


@blp.route("/cases/<application_id>/task", methods=["POST"])
def post_task(application_id: str) -> Response:
    """A co-agency's opinion on its part (which it may change until the lead decides)."""
    try:
        answers = {k: v for k, v in request.form.items() if k in ("outcome", "opinion") and v}
        body = TaskOutcomeSchema().load(answers)
        agency = g.principal.agency
        processing.record_task(hub_state(), acting(), agency, application_id, agency, body)
    except ValidationError as error:
        return _case_page(application_id, plain_words(Invalid(_fields(error.messages))), 422)
    except HubError as error:
        return _case_page(application_id, plain_words(error), error.status)
    flash(_text("desk_opinion_recorded"), "ok")
    return redirect(url_for("desk.case", application_id=application_id), 303)


def _fields(messages: Any) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, why))}" for name, why in dict(messages).items())


@blp.route("/cases/<application_id>/files/<code>", methods=["GET"])
def material_file(application_id: str, code: str) -> Response:
    """An uploaded file, opened inline (each opening is in the applicant's access log)."""
    state = hub_state()
    try:
        record = applications.get(state, application_id)
        stored, content = disclosure.uploaded_file(state, record, g.principal.agency, g.principal.roles, code)
    except HubError:
        abort(404)
    response = Response(content, mimetype=stored["media_type"])
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@blp.route("/cases/<application_id>/documents/<reference>", methods=["GET"])
def decision_document(application_id: str, reference: str) -> Response:
    """A sealed decision document of the case."""
    state = hub_state()
    try:
        record = applications.get(state, application_id)
        applications.check_reader(record, g.principal.agency, g.principal.roles)
        _, content = disclosure.decision_document(state, record, g.principal.agency, g.principal.roles, reference)
    except HubError:
        abort(404)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = "inline"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@blp.route("/cases/<application_id>/licence.<any(pdf, ofd):form>", methods=["GET"])
def licence_file(application_id: str, form: str) -> Response:
    """The licence the case ended in, as issued (PDF, or OFD when its type issues one), for the agency that issued
    it: to print or hand over at the counter. Each download is in the holder's access log, naming the case."""
    state = hub_state()
    try:
        licence, content = _case_licence(state, application_id, form)
    except (NotFound, Forbidden):  # not this agency's to hand over, or not there
        abort(404)
    access.log_reads(state, [licence], g.principal.agency, application=application_id)
    response = Response(content, mimetype=LICENCE_MEDIA_TYPES[form])
    response.headers["Content-Disposition"] = f'attachment; filename="{licence["number"]}.{form}"'
    return response


def _case_licence(state: Any, application_id: str, form: str) -> tuple[dict[str, Any], bytes]:
    record = applications.get(state, application_id)
    applications.check_reader(record, g.principal.agency, g.principal.roles)
    if not record.get("licence"):
        raise NotFound(f"Application {application_id} has no licence.")
    read = access.ofd_for_reader if form == "ofd" else access.pdf_for_reader
    licence, content = read(state, record["licence"], g.principal.agency, g.principal.roles, None)
    if licence["status"] == "revoked":  # never handed over again, as on the applicant's pages
        raise NotFound(f"Licence {licence['number']} is revoked.")
    return licence, content


def _case_licence_view(state: Any, record: dict[str, Any]) -> dict[str, Any] | None:
    """The case's licence as its issuer sees it on the page: its state, and the forms it may download here (none
    once revoked); None for any other agency."""
    try:
        licence = register.get_record(state, record["licence"]) if record.get("licence") else None
    except NotFound:
        licence = None
    if licence is None or licence["issuer"] != g.principal.agency:
        return None
    licence = register.with_effective_status(state, licence)
    forms = ["pdf", "ofd"] if licence.get("ofd_sha256") else ["pdf"]
    return {"status": licence["status"], "forms": [] if licence["status"] == "revoked" else forms}


@blp.route("/discrepancies/<discrepancy_id>", methods=["GET"])
def discrepancy(discrepancy_id: str) -> Response:
    """For the data's owner: the material the discrepancy is about, and the form to settle it."""
    return _discrepancy_page(discrepancy_id, None, 200)


def _discrepancy_page(discrepancy_id: str, error: str | None, status: int) -> Response:
    try:
        found = discrepancies.material_of(hub_state(), g.principal.agency, discrepancy_id)
    except HubError:
        abort(404)
    return _render("desk_discrepancy.html", status, found=found, error=error)


@blp.route("/discrepancies/<discrepancy_id>", methods=["POST"])
def settle(discrepancy_id: str) -> Response:
    """Settle as corrected (the case's material is fetched again) or confirmed."""
    try:
        answers = {k: v for k, v in request.form.items() if k in ("outcome", "note") and v}
        body = DiscrepancySettlementSchema().load(answers)
        corrections.settle(hub_state(), acting(), g.principal.agency, discrepancy_id, body)
    except ValidationError as error:
        return _discrepancy_page(discrepancy_id, plain_words(Invalid(_fields(error.messages))), 422)
    except HubError as error:
        return _discrepancy_page(discrepancy_id, plain_words(error), error.status)
    flash(_text("desk_settled"), "ok")
    return redirect(url_for("desk.overview", queue="discrepancies"), 303)
