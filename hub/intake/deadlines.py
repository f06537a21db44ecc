"""Deadline alerts (Art. 14): the scheduled sweep that flags running cases about to miss, or past, the
time limit the agency committed to, and the lists an agency and the platform's supervisors read.

The sweep reads each lead agency's running cases due by the next working day from the sorted set
intake keeps in step with every case (:mod:`hub.intake.due`), so its cost follows the cases near
their deadline, not all cases. A case gets one alert per level and deadline: ``due-soon`` (due today
or on the next working day) and ``overdue`` (its deadline has passed). Raising an alert writes it to
the agency's alert hash and chains an ``application.due-soon`` or ``application.overdue`` audit entry
about the case, in one transaction that re-reads the case, so an alert never outlives a decision made
in the meantime. A case that leaves the window (concluded, suspended, postponed) loses its alert at the
next sweep; the audit keeps the history.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from hub.context import Context, rfc3339
from hub.intake.applications import audit_case
from hub.intake.due import EPOCH, RUNNING, score
from hub.registry import agencies
from hub.store import keys
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
    """The agency's running cases whose deadline is on or before ``last_day``: case id -> deadline."""
    found: dict[str, date] = {}
    offset = 0
    while True:
        rows = state.store.scored_up_to(keys.application_due(agency), score(last_day), offset, _PAGE)
        found.update({member: date.fromordinal(int(days) + EPOCH) for member, days in rows})
        if len(rows) < _PAGE:
            return found
        offset += _PAGE


def level_of(deadline: date, today: date) -> str:
    """``overdue`` once the deadline has passed, else ``due-soon``."""
    return OVERDUE if deadline < today else DUE_SOON


def _raise(state: HubState, ctx: Context, agency: str, case: str, deadline: date, level: str) -> bool:
    def work(tx: Tx) -> bool:
        record = tx.get_json(keys.application(agency, case))
        if record is None or record["status"] != RUNNING or record["deadline"] != deadline.isoformat():
            return False  # decided, suspended or postponed since the sweep read the due set
        alert = {
            "application": case,
            "level": level,
            "deadline": deadline.isoformat(),
            "raised_at": rfc3339(state.clock.now()),
        }
        tx.hash_set(keys.deadline_alerts(agency), case, json.dumps(alert))
        detail = {"deadline": alert["deadline"], "service_item": record["service_item"]}
        audit_case(tx, agency, ctx, f"application.{level}", case, detail)
        return True

    return state.store.atomic(work)


def _drop(state: HubState, agency: str, cases: list[str]) -> None:
    def work(tx: Tx) -> None:
        for case in cases:
            tx.hash_delete(keys.deadline_alerts(agency), case)

    state.store.atomic(work)


def sweep_agency(state: HubState, ctx: Context, agency: str, today: date) -> dict[str, int]:
    """Raise the alerts of one lead agency that are due and drop those whose case left the window."""
    window = _due_by(state, agency, state.calendars.deadline(today, WARN_WORKING_DAYS))
    raised = {case: json.loads(text) for case, text in state.store.hash_get_all(keys.deadline_alerts(agency)).items()}
    counts = {DUE_SOON: 0, OVERDUE: 0, "dropped": 0}
    for case, deadline in sorted(window.items(), key=lambda item: item[1]):
        level = level_of(deadline, today)
        known = raised.get(case)
        if known and known["level"] == level and known["deadline"] == deadline.isoformat():
            continue
        if _raise(state, ctx, agency, case, deadline, level):
            counts[level] += 1
    gone = [case for case, alert in raised.items() if date.fromisoformat(alert["deadline"]) != window.get(case)]
    if gone:
        _drop(state, agency, gone)
        counts["dropped"] = len(gone)
    return counts


def sweep(state: HubState, ctx: Context) -> dict[str, Any]:
    """Run the sweep over every agency; what it raised and dropped, by agency (only those with changes)."""
    today = state.today()
    changes = {}
    for agency in lead_agencies(state):
        counts = sweep_agency(state, ctx, agency, today)
        if any(counts.values()):
            changes[agency] = counts
    return {"day": today.isoformat(), "agencies": changes}


def alerts(state: HubState, agency: str, level: str | None = None) -> list[dict[str, Any]]:
    """The agency's standing alerts, soonest deadline first; ``level`` keeps one level only."""
    rows = [json.loads(text) for text in state.store.hash_get_all(keys.deadline_alerts(agency)).values()]
    rows = [row | {"agency": agency} for row in rows if level is None or row["level"] == level]
    return sorted(rows, key=lambda row: (row["deadline"], row["application"]))
