"""Sorted sets over applications: the lead agency's running cases by deadline (kept in step by
:mod:`hub.intake.queues`), so listing the overdue and nearly-due ones is a range read whatever the
number of cases; and each item's concluded cases by decision time, the public list of outcomes."""

from __future__ import annotations

import time
from datetime import date
from typing import TYPE_CHECKING, Any

from hub.errors import NotFound
from hub.licences.register import mask_name
from hub.registry import service_items
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

RUNNING = "accepted"
EPOCH = date(1970, 1, 1).toordinal()


def score(day: date) -> int:
    """A deadline as a sorted-set score: days since 1970-01-01. (A queue adds a fraction of a day, which
    orders the cases due on one day by when they were filed: see :func:`before` and :func:`through`.)"""
    return day.toordinal() - EPOCH


def before(day: date) -> float:
    """The highest score of the days before ``day``."""
    return score(day) - 1e-6


def through(day: date) -> float:
    """The highest score of ``day`` itself."""
    return score(day) + 0.999999


def mark_for_filing(tx: Tx, record: dict[str, Any]) -> None:
    """Queue a case that has just concluded for its archive (inside the transaction that concludes it);
    :mod:`hub.archives.filing` takes it from there."""
    tx.scored_add(case_keys.archives_pending(record["agency"]), record["id"], time.time() * 1000)


def record_outcome(tx: Tx, agency: str, record: dict[str, Any]) -> None:
    """A concluded case joins its item's public list of outcomes, newest first."""
    tx.scored_add(case_keys.application_outcomes(agency, record["service_item"]), record["id"], time.time() * 1000)


def outcomes(state: HubState, service_item: str, before: float | None, limit: int) -> dict[str, Any]:
    """The public outcomes of an item, newest first: no ids, the applicant's name masked."""
    agencies = sorted({version["agency"] for version in service_items.list_versions(state.store, service_item)})
    if not agencies:
        raise NotFound(f"No service item {service_item!r}.")
    rows: list[tuple[str, float, str]] = []
    for agency in agencies:
        rows += [
            (member, at, agency)
            for member, at in state.store.scored_newest(
                case_keys.application_outcomes(agency, service_item), before, limit
            )
        ]
    rows = sorted(rows, key=lambda row: row[1], reverse=True)[:limit]
    records = state.store.get_many_json([case_keys.application(agency, member) for member, _, agency in rows])
    items = [
        {
            "decided_at": record["timeline"][-1]["at"],
            "outcome": record["status"],
            "applicant_name_masked": mask_name(record["applicant"]["name"]),
            "version": record["version"],
            "licence": record["licence"],
        }
        for record in records
        if record is not None
    ]
    return {"items": items, "next": repr(rows[-1][1]) if len(rows) == limit else None}


def due_before(state: HubState, agency: str, day: date, offset: int, limit: int) -> dict[str, Any]:
    """The agency's running cases due before ``day`` (deadline < day), soonest first, a page at a time."""
    rows = state.store.scored_up_to(case_keys.application_due(agency), before(day), offset, limit + 1)
    ids = [member for member, _ in rows[:limit]]
    records = state.store.get_many_json([case_keys.application(agency, application_id) for application_id in ids])
    items = [record for record in records if record is not None]
    return {"items": items, "next": str(offset + limit) if len(rows) > limit else None}
