"""The lead agency's running cases by deadline: a sorted set kept in step with every change, so listing
the overdue and nearly-due ones is a range read, whatever the number of cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import keys
from ..state import HubState
from ..store import Tx

RUNNING = "accepted"
EPOCH = date(1970, 1, 1).toordinal()


def score(day: date) -> int:
    """A deadline as a sorted-set score: days since 1970-01-01."""
    return day.toordinal() - EPOCH


def track(tx: Tx, agency: str, record: dict[str, Any]) -> None:
    """Put a running case at its deadline in the due set, or take a stopped or concluded one out."""
    if record["status"] == RUNNING and record["deadline"]:
        tx.scored_add(keys.application_due(agency), record["id"], score(date.fromisoformat(record["deadline"])))
    else:
        tx.index_remove(keys.application_due(agency), record["id"])


def due_before(state: HubState, agency: str, day: date, offset: int, limit: int) -> dict[str, Any]:
    """The agency's running cases due before ``day`` (deadline < day), soonest first, a page at a time."""
    rows = state.store.scored_up_to(keys.application_due(agency), score(day) - 1, offset, limit + 1)
    ids = [member for member, _ in rows[:limit]]
    records = state.store.get_many_json([keys.application(agency, application_id) for application_id in ids])
    items = [record for record in records if record is not None]
    return {"items": items, "next": str(offset + limit) if len(rows) > limit else None}
