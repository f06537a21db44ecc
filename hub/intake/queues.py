"""The caseworker's queues: each agency's open cases, soonest deadline first, kept in step with every change.

Sorted sets in the lead agency's partition, written in the transaction that changes the case, each
scored by the day its clock ends (days since 1970-01-01, :mod:`hub.intake.clocks`): ``inbox``
(submitted, the acceptance clock), ``waiting`` (waiting for materials, the applicant's time),
``due`` (accepted, the decision deadline), ``suspended`` (the last day of the suspension), and one
set per co-agency of its open tasks (their own deadlines). A co-agency finds the leads to look in
through its ``task-leads`` index. ``due`` and ``overdue`` read the three clock sets at once; the
discrepancies about an agency's data come from its open discrepancies.
"""

from __future__ import annotations

import heapq
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.intake import clocks
from hub.intake.due import before, score, through
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

OPEN = ("pending_materials", "submitted", "accepted", "suspended")
QUEUES = ("to-accept", "materials", "tasks", "suspended", "due", "overdue", "discrepancies")
PAUSED = float(score(date(9999, 12, 31)))  # a task whose case is suspended: last in its queue
_SCAN = 1000  # members read per set for a merged queue
_CLOCK_SETS = (case_keys.application_inbox, case_keys.application_waiting, case_keys.application_due)


def track(tx: Tx, state: HubState, agency: str, record: dict[str, Any]) -> None:
    """Put a case in the sets its state calls for, and take it out of the others."""
    case = record["id"]
    filed = state.local_time(datetime.fromisoformat(record["created_at"]))
    midnight = filed.replace(hour=0, minute=0, second=0, microsecond=0)
    within_day = (filed - midnight) / timedelta(days=1)  # cases due on one day: the one filed first, first

    def _day(value: str | None) -> float | None:
        return None if not value else score(date.fromisoformat(value)) + within_day

    status = record["status"]
    placed = {
        case_keys.application_inbox(agency): _day(record.get("acceptance_deadline")) if status == "submitted" else None,
        case_keys.application_waiting(agency): _day(record.get("materials_deadline")),
        case_keys.application_due(agency): _day(record["deadline"]) if status == "accepted" else None,
        case_keys.application_suspended(agency): _day((record.get("suspension") or {}).get("until")),
    }
    for task in record["tasks"]:
        open_task = task["status"] == "pending" and record["status"] in ("accepted", "suspended", "pending_materials")
        placed[case_keys.application_tasks(agency, task["agency"])] = (
            (_day(task.get("deadline")) or PAUSED) if open_task else None
        )
    for key, day in placed.items():
        if day is None:
            tx.scored_remove(key, case)
        else:
            tx.scored_add(key, case, day)
    failed = status in OPEN and any(m["status"] == "unavailable" for m in record["materials"])
    (tx.index_add if failed else tx.index_remove)(case_keys.application_unavailable(agency), case)
    owed = bool(record.get("pending_documents"))
    (tx.index_add if owed else tx.index_remove)(case_keys.application_documents_owed(agency), case)


def note_task_leads(state: HubState, lead: str, co_agencies: list[str]) -> None:
    """Let each co-agency find the cases ``lead`` gives it tasks in (before the case commits: harmless if
    it does not)."""
    for co_agency in co_agencies:
        state.store.atomic(lambda tx, co_agency=co_agency: tx.index_add(case_keys.task_leads(co_agency), lead))


def queue(state: HubState, agency: str, name: str, offset: int, limit: int) -> dict[str, Any]:
    """One page of an agency's queue: its cases, soonest deadline first."""
    if name == "discrepancies":
        return _discrepancies(state, agency, offset, limit)
    sources, low, high = _where(state, agency, name)
    return _page(state, sources, low, high, offset, limit)


def counts(state: HubState, agency: str) -> dict[str, int]:
    """How many cases each of the agency's queues holds (the discrepancies: how many are open)."""
    found = {}
    for name in QUEUES:
        if name == "discrepancies":
            found[name] = len(state.store.index_page(case_keys.discrepancy_open(agency), None, 10_000))
            continue
        sources, low, high = _where(state, agency, name)
        found[name] = sum(state.store.scored_count(key, low, high) for _, key in sources)
    return found


def _where(state: HubState, agency: str, name: str) -> tuple[list[tuple[str, str]], float, float]:
    """The sets a queue reads (with the lead each belongs to) and the range of days it takes from them."""
    today = state.today()
    if name == "to-accept":
        sources = [(agency, case_keys.application_inbox(agency))]
    elif name == "materials":
        sources = [(agency, case_keys.application_waiting(agency))]
    elif name == "suspended":
        sources = [(agency, case_keys.application_suspended(agency))]
    elif name == "tasks":
        leads = state.store.index_page(case_keys.task_leads(agency), None, 10_000)
        sources = [(lead, case_keys.application_tasks(lead, agency)) for lead in leads]
    else:
        sources = [(agency, make(agency)) for make in _CLOCK_SETS]
    low, high = float("-inf"), float("inf")
    if name == "due":
        low, high = float(score(today)), through(state.calendars.deadline(today, 1))
    elif name == "overdue":
        high = before(today)
    return sources, low, high


def _page(
    state: HubState, sources: list[tuple[str, str]], low: float, high: float, offset: int, limit: int
) -> dict[str, Any]:
    wanted = offset + limit + 1
    rows = heapq.merge(
        *(
            [(day, case, lead) for case, day in state.store.scored_between(key, low, high, 0, min(wanted, _SCAN))]
            for lead, key in sources
        )
    )
    chosen = list(rows)[offset:wanted]
    records = state.store.get_json_each([case_keys.application(lead, case) for _, case, lead in chosen[:limit]])
    items = [_summary(record, day) for (day, _, _), record in zip(chosen, records, strict=False) if record is not None]
    return {"items": items, "next": str(offset + limit) if len(chosen) > limit else None}


def _summary(record: dict[str, Any], day: float) -> dict[str, Any]:
    clock = clocks.running(record)
    return record | {
        "clock": clock[0] if clock else None,
        "due_on": None if day >= PAUSED else date.fromordinal(int(day) + date(1970, 1, 1).toordinal()).isoformat(),
    }


def _discrepancies(state: HubState, agency: str, offset: int, limit: int) -> dict[str, Any]:
    """The cases with open discrepancies about ``agency``'s data, the applicant shown masked."""
    ids = state.store.index_page(case_keys.discrepancy_open(agency), None, 10_000)
    found = state.store.get_json_each([case_keys.discrepancy(agency, each) for each in ids])
    cases = sorted({d["application"] for d in found if d is not None})
    chosen = cases[offset : offset + limit + 1]
    records = state.store.get_json_each(
        [case_keys.application(case_keys.application_agency(c) or "", c) for c in chosen[:limit]]
    )
    items = [
        {k: record[k] for k in ("id", "status", "service_item", "service_item_name", "created_at")}
        | {"applicant": {"id_type": record["applicant"]["id_type"], "id_masked": record["applicant"]["id_masked"]}}
        for record in records
        if record is not None
    ]
    return {"items": items, "next": str(offset + limit) if len(chosen) > limit else None}
