"""How each agency serves each item over a period (issue 19, item 5): cases received and decided, on time and
late, the working days a decision took, suspensions and postponements, and the channels cases came by.

A case counts as received in the period it was filed in, and as decided (with on time or late, and the days
taken) in the period its decision was made in, from two sorted sets every case change keeps in step
(:mod:`hub.store.case_keys`: ``received`` and ``decided``). A decision is on time when it was made on or
before the deadline that ran when it was made (the last one its timeline shows); one made before any
clock ran (a refusal to accept) is on time. Working days taken run from acceptance to the decision, the
days the clock stood still included, as the applicant waited through them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub.intake.deadlines import lead_agencies
from hub.store import case_keys

if TYPE_CHECKING:
    from hub.state import HubState

BATCH = 500
DECIDED = {"approve", "reject"}


def statistics(state: HubState, first: date, last: date, agency: str | None) -> dict[str, Any]:
    """Per agency and item, from ``first`` to ``last`` (whole days where the province is); one agency, or all."""
    low, high = _epoch_ms(state, first), _epoch_ms(state, last + timedelta(days=1)) - 1
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty)
    for lead in [agency] if agency else lead_agencies(state):
        for record in _records(state, lead, case_keys.application_received(lead), low, high):
            row = rows[(lead, record["service_item"])]
            row["received"] += 1
            row["channels"][record["channel"]] += 1
            row["suspensions"] += sum(line["type"] == "suspend" for line in record["timeline"])
            row["postponements"] += sum(line["type"] == "postpone" for line in record["timeline"])
        for record in _records(state, lead, case_keys.application_decided(lead), low, high):
            row = rows[(lead, record["service_item"])]
            on_time, days = _decision(state, record)
            row["concluded"] += 1
            row["on_time" if on_time else "late"] += 1
            if days is not None:
                row["_days"].append(days)
    items = [_finished(lead, item, row) for (lead, item), row in sorted(rows.items())]
    return {"from": first.isoformat(), "to": last.isoformat(), "items": items}


def _empty() -> dict[str, Any]:
    return {"received": 0, "concluded": 0, "on_time": 0, "late": 0, "suspensions": 0, "postponements": 0,
            "channels": Counter(), "_days": []}  # fmt: skip


def _finished(lead: str, item: str, row: dict[str, Any]) -> dict[str, Any]:
    days = row.pop("_days")
    average = round(sum(days) / len(days), 1) if days else None
    channels = dict(row.pop("channels"))
    return {"agency": lead, "service_item": item, **row, "channels": channels, "average_working_days": average}


def _epoch_ms(state: HubState, day: date) -> float:
    """The start of ``day`` where the province is, in epoch milliseconds."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(state.settings.timezone)).timestamp() * 1000


def _records(state: HubState, lead: str, index: str, low: float, high: float) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    offset = 0
    while True:
        rows = state.store.scored_between(index, low, high, offset, BATCH)
        records = state.store.get_json_each([case_keys.application(lead, case) for case, _ in rows])
        found += [record for record in records if record is not None]
        if len(rows) < BATCH:
            return found
        offset += BATCH


def _decision(state: HubState, record: dict[str, Any]) -> tuple[bool, int | None]:
    """Whether the decision met the deadline that ran when it was made, and the working days from acceptance."""
    decision = next(line for line in reversed(record["timeline"]) if line["type"] in DECIDED)
    decided_on = state.local_time(datetime.fromisoformat(decision["at"])).date()
    deadlines = [line["deadline"] for line in record["timeline"] if line.get("deadline") and line is not decision]
    on_time = not deadlines or decided_on <= date.fromisoformat(deadlines[-1])
    accepted = next((line for line in record["timeline"] if line["type"] == "accept"), None)
    if accepted is None:
        return on_time, None
    accepted_on = state.local_time(datetime.fromisoformat(accepted["at"])).date()
    return on_time, state.calendars.current().working_days_between(accepted_on, decided_on)
