"""Processing an application: the lead agency's events, the co-agencies' tasks, and the clocks.

``accept`` starts the committed time limit in working days (:mod:`hub.intake.clocks`); ``suspend`` stops
it until the end it names, keeping the days left, and the clock restarts by itself at that end (or at
``resume``); ``postpone`` adds days, never past the statutory limit. Each change is a timeline line the
applicant sees and a notification a front-end can deliver; open cases sit in the lead agency's
queues (:mod:`hub.intake.queues`). A co-agency may change its opinion until the lead decides;
approval needs every co-agency task approved; an item that produces a licence issues it. A concluded
case loses its deadline alerts and is archived (:mod:`hub.archives`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.intake import clocks, decision_documents, due, queues, refetch, uploads
from hub.intake.applications import PENDING_MATERIALS, SUBMITTED, audit_case, get
from hub.intake.cases import agency_of, publish
from hub.licences import issuance
from hub.licences import register as licences
from hub.resolution.notice import notice_for
from hub.store import case_keys, keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)

ACCEPTED, SUSPENDED, APPROVED, REJECTED, WITHDRAWN = "accepted", "suspended", "approved", "rejected", "withdrawn"
CONCLUDED = {APPROVED, REJECTED, WITHDRAWN}
# event -> the statuses it may follow
ALLOWED_FROM = {
    "accept": {SUBMITTED},
    "request_materials": {SUBMITTED, ACCEPTED},
    "suspend": {ACCEPTED},
    "resume": {SUSPENDED},
    "postpone": {ACCEPTED},
    "approve": {ACCEPTED},
    "reject": {SUBMITTED, ACCEPTED, SUSPENDED},
    "withdraw": {PENDING_MATERIALS, SUBMITTED, ACCEPTED, SUSPENDED},  # the applicant's, through its portal
}
# the events subscribers hear of (issue 19): what each event of the lead (or the applicant) is called
PUBLISHED = {
    "accept": "accepted",
    "request_materials": "materials_requested",
    "suspend": "suspended",
    "resume": "resumed",
    "postpone": "postponed",
    "approve": "approved",
    "reject": "rejected",
    "withdraw": "withdrawn",
}
DOCUMENT_OF = {
    "accept": decision_documents.ACCEPTANCE,
    "request_materials": decision_documents.MATERIALS,
    "reject": decision_documents.LICENCE_REFUSAL,  # or the refusal to accept, when it was never accepted
}
NEEDS_REASON = {"suspend", "postpone", "reject", "request_materials"}


def apply_event(
    state: HubState, ctx: Context, agency: str, application_id: str, event: dict[str, Any]
) -> dict[str, Any]:
    """Apply one of the lead agency's events; Conflict when it does not fit the current status."""
    kind = event["type"]
    if kind in NEEDS_REASON and not (event.get("reason") or "").strip():
        raise Invalid(f"'{kind}' needs a reason.", errors={"reason": [f"Required for {kind}."]})
    if kind == "postpone" and not event.get("days"):
        raise Invalid("'postpone' needs days.", errors={"days": ["Give the working days to add (1 or more)."]})
    if kind == "request_materials" and not event.get("materials"):
        raise Invalid("Name every material needed, at once.", errors={"materials": ["Give at least one."]})
    lead = agency_of(application_id)
    if agency != lead:
        raise Forbidden(f"Only the lead agency {lead!r} processes application {application_id}.")
    if kind == "refetch":  # not a change of status: the materials whose sources failed, asked again
        codes = [m["code"] for m in event["materials"]] if event.get("materials") else None
        return refetch.refetch(state, ctx, application_id, codes, event.get("reason"))
    if kind == "accept":
        queues.note_task_leads(state, lead, get(state, application_id)["co_agencies"])
    licence_number = _licence_if_approving(state, ctx, application_id, kind)
    try:
        record = state.store.atomic(
            lambda tx: _apply(tx, state, ctx, lead, application_id, kind, event, licence_number)
        )
    except Exception:
        if licence_number:  # the approval did not commit: the licence issued for it must not stay in force
            reason = {"status": "revoked", "reason": "the approval it was issued for did not complete"}
            licences.change_status(state, ctx, None, licence_number, reason)
        raise
    if record.get("pending_documents"):
        record = decision_documents.issue_pending(state, ctx, application_id)
    if record["status"] in CONCLUDED:
        _file_archive(state, ctx, record)
    return record


def withdraw(state: HubState, ctx: Context, portal: str, application_id: str, reason: str | None) -> dict[str, Any]:
    """The applicant withdraws the case, through the portal that filed it, before the decision."""
    lead = agency_of(application_id)

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(case_keys.application(lead, application_id))
        if record is None:
            raise NotFound(f"No application {application_id!r}.")
        if record["portal"] != portal:
            raise Forbidden(f"Application {application_id} was submitted through another portal.")
        if record["status"] not in ALLOWED_FROM["withdraw"]:
            raise Conflict(f"Application {application_id} is {record['status']}: it can no longer be withdrawn.")
        _change(state, record, "withdraw", {})
        _log_change(tx, ctx, state, lead, record, "withdraw", reason)
        return record

    record = state.store.atomic(work)
    _file_archive(state, ctx, record)
    return record


def _file_archive(state: HubState, ctx: Context, record: dict[str, Any]) -> None:
    """File the concluded case's archive now; if that fails the case stays pending and is filed later."""
    try:
        record["archive"] = state.file_archive(ctx, record["id"])
    except Exception as error:  # the decision stands; the pending set and the scheduled sweep finish the filing
        log.warning("archive filing deferred", extra={"case": record["id"], "error": str(error)})


def _apply(
    tx: Tx,
    state: HubState,
    ctx: Context,
    lead: str,
    application_id: str,
    kind: str,
    event: dict[str, Any],
    licence_number: str | None,
) -> dict[str, Any]:
    record = tx.get_json(case_keys.application(lead, application_id))
    if record is None:
        raise NotFound(f"No application {application_id!r}.")
    if record["status"] not in ALLOWED_FROM[kind]:
        raise Conflict(f"'{kind}' does not fit an application that is {record['status']}.")
    if kind == "approve" and any(task["status"] != "approved" for task in record["tasks"]):
        waiting = [task["agency"] for task in record["tasks"] if task["status"] != "approved"]
        raise Conflict(f"Co-agencies have not all approved: {', '.join(waiting)}.")
    _change(state, record, kind, event)
    if licence_number:
        record["licence"] = licence_number
    _log_change(tx, ctx, state, lead, record, kind, event.get("reason"))
    return record


def _log_change(
    tx: Tx, ctx: Context, state: HubState, lead: str, record: dict[str, Any], kind: str, reason: str | None
) -> None:
    """Write a changed case with its timeline line, notification, queues and audit entry; a concluded case
    also joins its item's outcomes and the archive's pending set, and loses its deadline alerts."""
    at = rfc3339(state.clock.now())
    line = {"at": at, "type": kind, "by": ctx.actor, "reason": reason, "deadline": record["deadline"]}
    if kind == "suspend":
        line["until"] = record["suspension"]["until"]
    record["timeline"].append(line)
    record["notifications"].append({**line, "remaining_days": record["remaining_days"], "status": record["status"]})
    if record["status"] in CONCLUDED:
        record.pop("subject", None)  # no source is asked about the parties for this case any more
        record.pop("representative_subject", None)
        if record["status"] != WITHDRAWN:  # a decision: in the item's public outcomes, and counted
            due.record_outcome(tx, lead, record)
            tx.scored_add(
                case_keys.application_decided(lead), record["id"], datetime.fromisoformat(at).timestamp() * 1000
            )
        due.mark_for_filing(tx, record)
        tx.hash_delete(case_keys.deadline_alerts(lead), record["id"])
    tx.set_json(case_keys.application(lead, record["id"]), record)
    queues.track(tx, state, lead, record)
    if kind in PUBLISHED:
        publish(tx, record, PUBLISHED[kind], at)
    detail = {"reason": reason, "deadline": record["deadline"], "status": record["status"]}
    if kind == "suspend":
        detail["until"] = record["suspension"]["until"]
    audit_case(tx, lead, ctx, f"application.{kind}", record["id"], detail)


def _change(state: HubState, record: dict[str, Any], kind: str, event: dict[str, Any]) -> None:
    today = state.today()
    calendars = state.calendars
    if kind in DOCUMENT_OF:  # the sealed notice the applicant is owed for this decision
        refused_at_once = kind == "reject" and record["status"] == SUBMITTED
        document = decision_documents.REFUSAL if refused_at_once else DOCUMENT_OF[kind]
        decision_documents.queue_for(record, document, event)
    if kind == "accept":
        record["status"] = ACCEPTED
        record["tasks"] = [
            {"agency": code, "status": "pending", "opinion": None, "at": None, "by": None}
            for code in record["co_agencies"]
        ]
        clocks.start_decision(record, calendars, today)
    elif kind == "suspend":
        until = clocks.suspension_end(event, calendars, today)
        clocks.stop(record, calendars, today)
        record["status"] = SUSPENDED
        record["suspension"] = {"reason": event["reason"], "since": today.isoformat(), "until": until.isoformat()}
    elif kind == "resume":
        _resume(record, calendars, today)
    elif kind == "postpone":
        record["deadline"] = clocks.postponed(record, calendars, int(event["days"]))
    elif kind == "request_materials":
        _request_materials(state, record, event["materials"])
    else:  # approve, reject or withdraw: the case is concluded
        record["status"] = {"approve": APPROVED, "reject": REJECTED}.get(kind, WITHDRAWN)
        record.update(deadline=None, remaining_days=None, acceptance_deadline=None, materials_deadline=None)
        record["latest_deadline"] = None


def _resume(record: dict[str, Any], calendars: Any, after: date) -> None:
    """The decision clock runs again with the days it had left, counted from the day after ``after``."""
    record["status"] = ACCEPTED
    record["suspension"] = None
    clocks.restart(record, calendars, after)


def _request_materials(state: HubState, record: dict[str, Any], requested: list[dict[str, Any]]) -> None:
    """Ask once for everything still needed; a running clock stops until the uploads are in, and the
    applicant's time to supply them runs."""
    if record["status"] == ACCEPTED:
        clocks.stop(record, state.calendars, state.today())
        record["resume_to"] = ACCEPTED
    by_code = {m["code"]: m for m in record["materials"]}
    at = rfc3339(state.clock.now())
    for wanted in requested:
        material = by_code.get(wanted["code"])
        if material is None:
            material = {"code": wanted["code"], "name": wanted.get("name") or wanted["code"], "required": True}
            material |= {"evidence_type": None, "source": None, "data": None}
            record["materials"].append(material)
        uploads.set_aside(material, at, "asked for again")
        material.update(status="missing", file=None, required=True)
    record["notice"] = notice_for(record["materials"], record.get("language", "zh"))
    record["status"] = PENDING_MATERIALS
    clocks.start_materials(record, state.calendars, state.today())


def end_suspensions(state: HubState, ctx: Context, agency: str) -> list[str]:
    """Restart the clock of every case of ``agency`` whose suspension ended before today (the scheduled
    sweep); the cases restarted."""
    today = state.today()
    ended = state.store.scored_up_to(case_keys.application_suspended(agency), due.before(today), 0, 10_000)

    def work(tx: Tx, case: str) -> bool:
        record = tx.get_json(case_keys.application(agency, case))
        if record is None or record["status"] != SUSPENDED or record["suspension"]["until"] >= today.isoformat():
            return False  # resumed, concluded or suspended again meanwhile
        until = record["suspension"]["until"]
        _resume(record, state.calendars, date.fromisoformat(until))
        _log_change(tx, ctx, state, agency, record, "resume", f"the suspension ended on {until}")
        return True

    return [case for case, _ in ended if state.store.atomic(lambda tx, case=case: work(tx, case))]


def _licence_if_approving(state: HubState, ctx: Context, application_id: str, kind: str) -> str | None:
    """Issue the licence an approved item produces, before the approval commits (checked again there)."""
    if kind != "approve":
        return None
    record = get(state, application_id)
    if record["status"] != ACCEPTED or record["licence"] or not record["produces"]:
        return record["licence"]
    if any(task["status"] != "approved" for task in record["tasks"]):
        return None  # the transaction refuses the approval
    licence_type = state.store.get_json(keys.licence_type(record["produces"]))
    if licence_type is None:
        raise Conflict(f"The licence type {record['produces']!r} the item produces no longer exists.")
    fields = {name: record["form"][name] for name in licence_type["fields"] if name in record["form"]}
    holder = {"id_type": record["applicant"]["id_type"], "name": record["applicant"]["name"]}
    body = {"type": record["produces"], "holder": holder, "fields": fields}
    applicant = record["applicant"]
    issued = issuance.issue_for_subject(
        state, ctx, licence_type["issuer"], body, applicant["subject_hash"], applicant["id_masked"]
    )
    return issued["number"]


def record_task(
    state: HubState, ctx: Context, agency: str, application_id: str, task_agency: str, body: dict[str, Any]
) -> dict[str, Any]:
    """A co-agency's outcome and opinion on its part of a joint application."""
    if agency != task_agency:
        raise Forbidden(f"Only {task_agency!r} records its own task.")
    lead = agency_of(application_id)

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(case_keys.application(lead, application_id))
        if record is None:
            raise NotFound(f"No application {application_id!r}.")
        task = next((t for t in record["tasks"] if t["agency"] == task_agency), None)
        if task is None:
            raise NotFound(f"Application {application_id} has no task for {task_agency!r}.")
        if record["status"] not in {ACCEPTED, SUSPENDED, PENDING_MATERIALS}:
            raise Conflict(f"The lead agency has decided: application {application_id} is {record['status']}.")
        changed = task["status"] != "pending"  # an opinion may change until the lead decides
        at = rfc3339(state.clock.now())
        task.update(status="approved" if body["outcome"] == "approve" else "rejected", opinion=body.get("opinion"))
        task.update(at=at, by=ctx.actor)
        kind = f"task.{body['outcome']}" + (".changed" if changed else "")
        line = {"at": at, "type": kind, "by": ctx.actor, "reason": body.get("opinion")}
        record["timeline"].append({**line, "deadline": record["deadline"]})
        tx.set_json(case_keys.application(lead, application_id), record)
        queues.track(tx, state, lead, record)
        outcome = {"agency": task_agency, "outcome": body["outcome"], "changed": changed}
        audit_case(tx, lead, ctx, "application.task", application_id, outcome)
        return record

    return state.store.atomic(work)
