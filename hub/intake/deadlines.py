"""Deadline alerts (Art. 14): the scheduled sweep that flags open cases about to miss, or past, the end of
their running clock, restarts the clocks of suspensions that have ended, and the lists an agency and
the platform's supervisors read.

Every clock counts (:mod:`hub.intake.clocks`): acceptance, the applicant's materials, the decision. The
sweep reads each lead agency's cases whose clock ends by the next working day from the sorted sets
intake keeps in step with every case (:mod:`hub.intake.queues`), so its cost follows the cases near
their deadline, not all cases. A case gets an alert per level and deadline: ``due-soon`` (due today
or on the next working day) and ``overdue`` (its deadline has passed). Raising an alert writes it to
the agency's alert hash and chains an ``application.due-soon`` or ``application.overdue`` audit entry
about the case, in one transaction that re-reads the case. An alert stands until the case is decided:
postponing, suspending or asking for materials never clears it, and an overdue case postponed is
still overdue on the record (an alert never goes down a level).
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from hub.context import Context, rfc3339
from hub.intake import clocks, decision_documents, processing, refetch
from hub.intake.applications import audit_case
from hub.intake.due import EPOCH, through
from hub.registry import agencies
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

DUE_SOON, OVERDUE = "due-soon", "overdue"
WARN_WORKING_DAYS = 1  # due-soon: the deadline is today or on the next working day
_PAGE = 500


def lead_agencies(state: HubState) -> list[str]:
    """Every registered agency's code (any of them may lead a case)."""
    codes: list[str] = []
    cursor = None
    while True:
        listing = agencies.list_agencies(state.store, _PAGE, cursor)
        codes += [record["code"] for record in listing["items"]]
        cursor = listing.get("next")
        if not cursor:
            return codes


def _due_by(state: HubState, agency: str, last_day: date) -> dict[str, date]:
    """The agency's open cases whose clock ends on or before ``last_day``: case id -> that day."""
    found: dict[str, date] = {}
    for clock_set in (
        case_keys.application_inbox(agency),
        case_keys.application_waiting(agency),
        case_keys.application_due(agency),
    ):
        offset = 0
        while True:
            rows = state.store.scored_up_to(clock_set, through(last_day), offset, _PAGE)
            found.update({member: date.fromordinal(int(days) + EPOCH) for member, days in rows})
            if len(rows) < _PAGE:
                break
            offset += _PAGE
    return found


def level_of(deadline: date, today: date) -> str:
    """``overdue`` once the deadline has passed, else ``due-soon``."""
    return OVERDUE if deadline < today else DUE_SOON


def _raise(state: HubState, ctx: Context, agency: str, case: str, deadline: date, level: str) -> bool:
    def work(tx: Tx) -> bool:
        record = tx.get_json(case_keys.application(agency, case))
        clock = None if record is None else clocks.running(record)
        if clock is None or clock[1] != deadline:
            return False  # decided, suspended or postponed since the sweep read the sets
        alert = {
            "application": case,
            "clock": clock[0],
            "level": level,
            "deadline": deadline.isoformat(),
            "raised_at": rfc3339(state.clock.now()),
        }
        tx.hash_set(case_keys.deadline_alerts(agency), case, json.dumps(alert))
        detail = {"deadline": alert["deadline"], "service_item": record["service_item"]}
        audit_case(tx, agency, ctx, f"application.{level}", case, detail)
        return True

    return state.store.atomic(work)


def sweep_agency(state: HubState, ctx: Context, agency: str, today: date) -> dict[str, int]:
    """Restart the clocks of ended suspensions and raise the alerts of one lead agency that are due."""
    counts = {"resumed": len(processing.end_suspensions(state, ctx, agency)), DUE_SOON: 0, OVERDUE: 0}
    counts["fetched"] = refetch.retry_unavailable(state, ctx, agency)
    counts["documents"] = decision_documents.issue_all_pending(state, ctx, agency)
    window = _due_by(state, agency, state.calendars.deadline(today, WARN_WORKING_DAYS))
    raised = {
        case: json.loads(text) for case, text in state.store.hash_get_all(case_keys.deadline_alerts(agency)).items()
    }
    for case, deadline in sorted(window.items(), key=lambda item: item[1]):
        level = level_of(deadline, today)
        known = raised.get(case)
        same = known is not None and known["level"] == level and known["deadline"] == deadline.isoformat()
        if same or (known is not None and known["level"] == OVERDUE):
            continue  # raised already, or overdue on the record: an alert never goes down a level
        if _raise(state, ctx, agency, case, deadline, level):
            counts[level] += 1
    return counts


def sweep(state: HubState, ctx: Context) -> dict[str, Any]:
    """Run the sweep over every agency; what it resumed and raised, by agency (only those with changes)."""
    today = state.today()
    changes = {}
    for agency in lead_agencies(state):
        counts = sweep_agency(state, ctx, agency, today)
        if any(counts.values()):
            changes[agency] = counts
    return {"day": today.isoformat(), "agencies": changes}


def alerts(state: HubState, agency: str, level: str | None = None) -> list[dict[str, Any]]:
    """The agency's standing alerts, soonest deadline first; ``level`` keeps one level only."""
    rows = [json.loads(text) for text in state.store.hash_get_all(case_keys.deadline_alerts(agency)).values()]
    rows = [row | {"agency": agency} for row in rows if level is None or row["level"] == level]
    return sorted(rows, key=lambda row: (row["deadline"], row["application"]))
