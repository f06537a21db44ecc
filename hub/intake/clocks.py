"""The clocks of a case (Art. 14), in working days: which one runs, when it ends, and how it stops and restarts.

Every open case has one clock running, or none while it is suspended:

- ``acceptance``: a submitted case waits for the lead agency to accept or refuse it, for the item's
  ``acceptance_days`` (default 5) from the day it was submitted or completed;
- ``materials``: a case waiting for materials waits for the applicant, for the item's ``materials_days``
  (default 20) from the day they were asked for; past it, the lead decides what follows;
- ``decision``: an accepted case runs to its ``deadline``, ``committed_days`` from acceptance, which a
  postponement may move no further than ``latest_deadline``: ``statutory_days`` + ``extension_days``
  from acceptance, the days the clock stood still not counted. Each co-agency's task runs to a deadline
  of its own within the case's.

A suspension or a request for materials stops the decision clock, keeping the working days left of
the deadline, the latest deadline and every open task; a resumption (or the end of a suspension,
which the scheduled sweep applies by itself) restarts them from the day the stop ended.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.errors import Invalid
from hub.intake.workdays import Calendars

ACCEPTANCE, MATERIALS, DECISION = "acceptance", "materials", "decision"
DEFAULT_ACCEPTANCE_DAYS, DEFAULT_MATERIALS_DAYS, DEFAULT_EXTENSION_DAYS = 5, 20, 0


class PastTheLimit(Invalid):
    """A postponement would take the deadline past what the law allows."""

    slug, title = "past-the-time-limit", "Past the statutory time limit"


def task_days(item: dict[str, Any]) -> int:
    """A co-agency's working days for its part: the item's ``task_days``, or half the committed days."""
    return int(item.get("task_days") or max(item["committed_days"] // 2, 1))


def running(record: dict[str, Any]) -> tuple[str, date] | None:
    """The clock that runs now and the day it ends, or None (suspended, concluded, or a case from before)."""
    for kind, name in ((ACCEPTANCE, "acceptance_deadline"), (MATERIALS, "materials_deadline"), (DECISION, "deadline")):
        if record.get(name):
            return kind, date.fromisoformat(record[name])
    return None


def start_acceptance(record: dict[str, Any], calendars: Calendars, today: date) -> None:
    """The case waits for acceptance from ``today``."""
    days = record.get("acceptance_days", DEFAULT_ACCEPTANCE_DAYS)
    record["acceptance_deadline"] = calendars.deadline(today, days).isoformat()
    record["materials_deadline"] = None


def start_materials(record: dict[str, Any], calendars: Calendars, today: date) -> None:
    """The case waits for the applicant's materials from ``today``."""
    days = record.get("materials_days", DEFAULT_MATERIALS_DAYS)
    record["materials_deadline"] = calendars.deadline(today, days).isoformat()
    record["acceptance_deadline"] = None


def start_decision(record: dict[str, Any], calendars: Calendars, today: date) -> None:
    """Accepted ``today``: the committed deadline, the latest the law allows, and each co-agency task's."""
    record["acceptance_deadline"] = record["materials_deadline"] = None
    record["deadline"] = calendars.deadline(today, record["committed_days"]).isoformat()
    if record.get("statutory_days"):
        limit = record["statutory_days"] + record.get("extension_days", DEFAULT_EXTENSION_DAYS)
        record["latest_deadline"] = calendars.deadline(today, limit).isoformat()
    task_deadline = calendars.deadline(today, min(record.get("task_days") or 1, record["committed_days"]))
    for task in record["tasks"]:
        task["deadline"], task["remaining_days"] = task_deadline.isoformat(), None


def stop(record: dict[str, Any], calendars: Calendars, today: date) -> None:
    """The decision clock stops ``today``: the working days left of each deadline are kept."""

    def left(name: str, holder: dict[str, Any]) -> int | None:
        if not holder.get(name):
            return None
        return max(calendars.remaining(today, date.fromisoformat(holder[name])), 0)

    record["remaining_days"], record["deadline"] = left("deadline", record), None
    record["latest_remaining_days"], record["latest_deadline"] = left("latest_deadline", record), None
    for task in record["tasks"]:
        if task["status"] == "pending" or task.get("deadline"):
            task["remaining_days"], task["deadline"] = left("deadline", task), None


def restart(record: dict[str, Any], calendars: Calendars, day: date) -> None:
    """The decision clock runs again after ``day`` with the working days it had left."""

    def again(remaining: int | None) -> str | None:
        return None if remaining is None else calendars.deadline(day, remaining).isoformat()

    record["deadline"], record["remaining_days"] = again(record.get("remaining_days")), None
    record["latest_deadline"] = again(record.pop("latest_remaining_days", None))
    for task in record["tasks"]:
        if task.get("remaining_days") is not None:
            task["deadline"], task["remaining_days"] = again(task["remaining_days"]), None


def postponed(record: dict[str, Any], calendars: Calendars, days: int) -> str:
    """The deadline ``days`` working days later; PastTheLimit if that is past the latest the law allows."""
    moved = calendars.deadline(date.fromisoformat(record["deadline"]), days)
    latest = record.get("latest_deadline")
    if latest and moved > date.fromisoformat(latest):
        limit = record["statutory_days"] + record.get("extension_days", DEFAULT_EXTENSION_DAYS)
        raise PastTheLimit(
            f"Postponing by {days} working days would move the deadline to {moved.isoformat()}, past {latest}: "
            f"the statutory {record['statutory_days']} + extension {record.get('extension_days', 0)} = {limit} "
            "working days from acceptance, the days the clock stood still not counted.",
            errors={"days": [f"At most until {latest}."]},
            latest_deadline=latest,
        )
    return moved.isoformat()


def suspension_end(event: dict[str, Any], calendars: Calendars, today: date) -> date:
    """The last day of a suspension: ``until``, or ``days`` working days from ``today``; exactly one of them."""
    if (event.get("days") is None) == (event.get("until") is None):
        raise Invalid(
            "A suspension needs an end: give 'days' (working days) or 'until' (a date), not both.",
            errors={"until": ["Give days or until."]},
        )
    if event.get("until") is not None:
        until = event["until"]
        if until <= today:
            raise Invalid("A suspension ends after today.", errors={"until": [f"Give a day after {today}."]})
        return until
    return calendars.deadline(today, int(event["days"]))
