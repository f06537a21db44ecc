"""Processing an application: the lead agency's events, the co-agencies' tasks, and the clock.

``accept`` starts the committed time limit in working days (:mod:`hub.intake.workdays`); ``suspend`` stops
it keeping the days left, ``resume`` restarts it with them, ``postpone`` adds days. Each change is a
timeline line the applicant sees and a notification a front-end can deliver; running cases sit in
the lead agency's due set (:mod:`hub.intake.due`).
Approval needs every co-agency task approved; an item that produces a licence issues it. A concluded
case is archived (:mod:`hub.archives`).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from hub.context import Context, rfc3339
from hub.errors import Conflict, Forbidden, Invalid, NotFound
from hub.intake import due
from hub.intake.applications import PENDING_MATERIALS, SUBMITTED, audit_case, get
from hub.intake.cases import agency_of
from hub.licences import register as licences
from hub.resolution.notice import notice_for
from hub.store import keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)

ACCEPTED, SUSPENDED, APPROVED, REJECTED = "accepted", "suspended", "approved", "rejected"
# event -> the statuses it may follow
ALLOWED_FROM = {
    "accept": {SUBMITTED},
    "request_materials": {SUBMITTED, ACCEPTED},
    "suspend": {ACCEPTED},
    "resume": {SUSPENDED},
    "postpone": {ACCEPTED},
    "approve": {ACCEPTED},
    "reject": {SUBMITTED, ACCEPTED, SUSPENDED},
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
    if record["status"] in {APPROVED, REJECTED}:
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
    record = tx.get_json(keys.application(lead, application_id))
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
    at = rfc3339(state.clock.now())
    line = {"at": at, "type": kind, "by": ctx.actor, "reason": event.get("reason"), "deadline": record["deadline"]}
    record["timeline"].append(line)
    record["notifications"].append({**line, "remaining_days": record["remaining_days"], "status": record["status"]})
    tx.set_json(keys.application(lead, application_id), record)
    due.track(tx, lead, record)
    if record["status"] in {APPROVED, REJECTED}:
        due.record_outcome(tx, lead, record)
        due.mark_for_filing(tx, record)
    detail = {"reason": event.get("reason"), "deadline": record["deadline"], "status": record["status"]}
    audit_case(tx, lead, ctx, f"application.{kind}", application_id, detail)
    return record


def _change(state: HubState, record: dict[str, Any], kind: str, event: dict[str, Any]) -> None:
    today = state.today()
    calendars = state.calendars
    if kind == "accept":
        record["status"] = ACCEPTED
        record["deadline"] = calendars.deadline(today, record["committed_days"]).isoformat()
        record["tasks"] = [
            {"agency": code, "status": "pending", "opinion": None, "at": None, "by": None}
            for code in record["co_agencies"]
        ]
    elif kind == "suspend":
        record["status"] = SUSPENDED
        record["remaining_days"] = max(calendars.remaining(today, date.fromisoformat(record["deadline"])), 0)
        record["deadline"] = None
    elif kind == "resume":
        record["status"] = ACCEPTED
        record["deadline"] = calendars.deadline(today, record["remaining_days"]).isoformat()
        record["remaining_days"] = None
    elif kind == "postpone":
        record["deadline"] = calendars.deadline(date.fromisoformat(record["deadline"]), int(event["days"])).isoformat()
    elif kind == "request_materials":
        _request_materials(state, record, event["materials"])
    else:  # approve or reject: the case is concluded
        record["status"] = APPROVED if kind == "approve" else REJECTED
        record["deadline"] = None
        record["remaining_days"] = None


def _request_materials(state: HubState, record: dict[str, Any], requested: list[dict[str, Any]]) -> None:
    """Ask once for everything still needed; a running clock stops until the uploads are in."""
    if record["status"] == ACCEPTED:
        record["remaining_days"] = max(
            state.calendars.remaining(state.today(), date.fromisoformat(record["deadline"])), 0
        )
        record["deadline"] = None
        record["resume_to"] = ACCEPTED
    by_code = {m["code"]: m for m in record["materials"]}
    for wanted in requested:
        material = by_code.get(wanted["code"])
        if material is None:
            material = {"code": wanted["code"], "name": wanted.get("name") or wanted["code"], "required": True}
            material |= {"evidence_type": None, "source": None, "data": None}
            record["materials"].append(material)
        material.update(status="missing", file=None, required=True)
    record["notice"] = notice_for(record["materials"], "zh")
    record["status"] = PENDING_MATERIALS


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
    issued = licences.issue_for_subject(
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
        record = tx.get_json(keys.application(lead, application_id))
        if record is None:
            raise NotFound(f"No application {application_id!r}.")
        task = next((t for t in record["tasks"] if t["agency"] == task_agency), None)
        if task is None:
            raise NotFound(f"Application {application_id} has no task for {task_agency!r}.")
        if record["status"] not in {ACCEPTED, SUSPENDED} or task["status"] != "pending":
            raise Conflict(f"The task of {task_agency!r} is {task['status']} and the application {record['status']}.")
        at = rfc3339(state.clock.now())
        task.update(status="approved" if body["outcome"] == "approve" else "rejected", opinion=body.get("opinion"))
        task.update(at=at, by=ctx.actor)
        line = {"at": at, "type": f"task.{body['outcome']}", "by": ctx.actor, "reason": body.get("opinion")}
        record["timeline"].append({**line, "deadline": record["deadline"]})
        tx.set_json(keys.application(lead, application_id), record)
        outcome = {"agency": task_agency, "outcome": body["outcome"]}
        audit_case(tx, lead, ctx, "application.task", application_id, outcome)
        return record

    return state.store.atomic(work)
