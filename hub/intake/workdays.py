"""Working days: the calendar the clock of an application (Art. 14) counts in, and the operator's changes to it.

A day is a working day when it is a Monday to Friday that is not a holiday, or a make-up working
day (调休: a Saturday or Sunday worked in exchange for a longer holiday). Where a year's holidays
and make-up days come from, in order:

1. ``operator``: a year the operator loaded through the API; it replaces everything else for that
   whole year (so a year the package gets wrong, or has not published yet, can be fixed).
2. ``chinese_calendar``: mainland China's statutory holidays and make-up days, as the maintained
   ``chinesecalendar`` package encodes them (each release covers up to the year the State Council
   has announced).
3. ``weekends-only``: any other year. Deadlines there are still computed, counting Monday to
   Friday, because refusing to accept an application for want of next year's holiday notice would
   be worse; but nothing hides it: :meth:`WorkingCalendar.is_covered` and
   :meth:`WorkingCalendar.known_years` say which years have real data, the ``GET`` of a year says
   ``weekends-only``, and :class:`Calendars` logs a warning whenever a deadline or a count of
   remaining days crosses such a year.

Arithmetic is closed-form: weekdays between two dates are counted by formula, then corrected by
the (few, sorted) holidays on weekdays and make-up days in between, so a count or a deadline over a
whole year costs a few bisections, not a loop over days.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import Invalid
from hub.store import keys
from hub.store.client import Store, Tx

log = logging.getLogger(__name__)
MIN_YEAR, MAX_YEAR = 2000, 2100
OPERATOR, PACKAGE, WEEKENDS_ONLY = "operator", "chinese_calendar", "weekends-only"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WARN_FROM_MONTH = 11  # from 1 November the console, /readyz and a metric say next year's calendar is missing
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class YearCalendar:
    """One year's exceptions to "Monday to Friday", and where they come from."""

    year: int
    source: str  # OPERATOR, PACKAGE or WEEKENDS_ONLY
    holidays: tuple[date, ...] = ()  # days off, on any day of the week
    working_days: tuple[date, ...] = ()  # make-up working days, all on Saturdays or Sundays
    updated_at: str | None = None
    updated_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The year as the API shows it."""
        shown: dict[str, Any] = {
            "year": self.year,
            "source": self.source,
            "holidays": [day.isoformat() for day in self.holidays],
            "working_days": [day.isoformat() for day in self.working_days],
        }
        if self.updated_at:
            shown |= {"updated_at": self.updated_at, "updated_by": self.updated_by}
        return shown


@functools.cache
def package_years() -> Mapping[int, YearCalendar]:
    """Every year the installed ``chinesecalendar`` has data for."""
    holidays: dict[int, list[date]] = {}
    working_days: dict[int, list[date]] = {}
    for day in chinese_calendar.holidays:
        holidays.setdefault(day.year, []).append(day)
    for day in chinese_calendar.workdays:
        working_days.setdefault(day.year, []).append(day)
    return {
        year: YearCalendar(year, PACKAGE, tuple(sorted(holidays[year])), tuple(sorted(working_days.get(year, ()))))
        for year in sorted(holidays)
    }


def _weekdays_through(ordinal: int) -> int:
    """How many Mondays to Fridays there are from 0001-01-01 (a Monday) to the day ``ordinal``."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


class WorkingCalendar:
    """Which days are working days, and deadlines and counts in working days."""

    def __init__(self, operator_years: Iterable[YearCalendar] = ()) -> None:
        self._years: dict[int, YearCalendar] = dict(package_years())
        self._years.update({loaded.year: loaded for loaded in operator_years})
        # Only exceptions matter to the arithmetic: holidays on weekdays, make-up days on weekends.
        self._days_off = sorted(d.toordinal() for y in self._years.values() for d in y.holidays if d.weekday() < 5)
        self._days_on = sorted(d.toordinal() for y in self._years.values() for d in y.working_days if d.weekday() > 4)
        self._days_off_set, self._days_on_set = set(self._days_off), set(self._days_on)

    def year(self, year: int) -> YearCalendar:
        """The effective calendar of ``year``."""
        return self._years.get(year) or YearCalendar(year, WEEKENDS_ONLY)

    def known_years(self) -> list[int]:
        """The years with real data (loaded by the operator or in the package), in order."""
        return sorted(self._years)

    def is_covered(self, year: int) -> bool:
        """False when ``year`` is counted as Monday to Friday only, for want of data."""
        return year in self._years

    def uncovered_years(self, first: date, last: date) -> list[int]:
        """The years from ``first`` to ``last`` (either order) counted as weekends only."""
        low, high = sorted((first.year, last.year))
        return [year for year in range(low, high + 1) if not self.is_covered(year)]

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        ordinal = day.toordinal()
        if day.weekday() > 4:
            return ordinal in self._days_on_set
        return ordinal not in self._days_off_set

    def working_days_between(self, start: date, end: date) -> int:
        """The working days in (start, end]; negative, counting (end, start], when ``end`` is earlier."""
        low, high = start.toordinal(), end.toordinal()
        count = _weekdays_through(high) - _weekdays_through(low)
        count -= bisect_right(self._days_off, high) - bisect_right(self._days_off, low)
        count += bisect_right(self._days_on, high) - bisect_right(self._days_on, low)
        return count

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts); ``start`` for 0."""
        if days < 0:
            raise ValueError("days must not be negative")
        if days == 0:
            return start
        # The smallest end with `days` working days in (start, end] is itself a working day.
        span = days * 7 // 5 + 14
        while self.working_days_between(start, start + timedelta(days=span)) < days:
            span *= 2
        low, high = 1, span
        while low < high:
            middle = (low + high) // 2
            if self.working_days_between(start, start + timedelta(days=middle)) >= days:
                high = middle
            else:
                low = middle + 1
        return start + timedelta(days=low)


# -- operator-loaded years
def parse_year(text: str | int) -> int:
    """A year named in a path, or Invalid."""
    value = str(text)
    if not value.isdigit() or not MIN_YEAR <= int(value) <= MAX_YEAR:
        raise Invalid(f"{value!r} is not a year the hub keeps.", errors={"year": [f"Use {MIN_YEAR} to {MAX_YEAR}."]})
    return int(value)


def _dates_of(field: str, values: Any, year: int, errors: dict[str, list[str]]) -> list[date]:
    """The distinct dates in ``values``, each an ISO date inside ``year``; problems go to ``errors``."""
    days: set[date] = set()
    if not isinstance(values, list):
        errors.setdefault(field, []).append("Give a list of ISO dates (YYYY-MM-DD).")
        return []
    for value in values:
        try:
            if not isinstance(value, str) or not ISO_DATE.match(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            errors.setdefault(field, []).append(f"{value!r} is not an ISO date (YYYY-MM-DD).")
            continue
        if day.year != year:
            errors.setdefault(field, []).append(f"{value} is not in {year}.")
            continue
        days.add(day)
    return sorted(days)


def validate_year(year: int, holidays: Any, working_days: Any) -> tuple[list[date], list[date]]:
    """The holidays and make-up working days of a year the operator loads, checked; or Invalid."""
    errors: dict[str, list[str]] = {}
    days_off = _dates_of("holidays", holidays, year, errors)
    days_on = _dates_of("working_days", working_days, year, errors)
    for day in days_on:
        if day.weekday() < 5:
            errors.setdefault("working_days", []).append(
                f"{day} is a {WEEKDAY_NAMES[day.weekday()]}; a make-up working day falls on a Saturday or Sunday."
            )
    for day in sorted(set(days_off) & set(days_on)):
        errors.setdefault("working_days", []).append(f"{day} is listed as a holiday too.")
    if errors:
        raise Invalid(f"The calendar for {year} is refused; see errors.", errors=errors)
    return days_off, days_on


def _loaded(record: dict[str, Any]) -> YearCalendar:
    return YearCalendar(
        year=record["year"],
        source=OPERATOR,
        holidays=tuple(date.fromisoformat(d) for d in record["holidays"]),
        working_days=tuple(date.fromisoformat(d) for d in record["working_days"]),
        updated_at=record.get("updated_at"),
        updated_by=record.get("updated_by"),
    )


class Calendars:
    """The working-day calendar of this worker, kept in step with the years the operator loaded."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._calendar: WorkingCalendar | None = None
        self._version: str | None = None
        self._warned: set[int] = set()

    def current(self) -> WorkingCalendar:
        """The calendar in force now."""
        version = self._store.get_json(keys.calendar_version())
        with self._lock:
            if self._calendar is None or version != self._version:
                years = self._store.index_page(keys.calendar_year_index(), None, MAX_YEAR - MIN_YEAR + 1)
                records = self._store.get_many_json([keys.calendar_year(int(year)) for year in years])
                self._calendar = WorkingCalendar(_loaded(record) for record in records if record)
                self._version = version
            return self._calendar

    def deadline(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start``: the end of a time limit that starts on ``start``."""
        calendar = self.current()
        end = calendar.add_working_days(start, days)
        self._warn_uncovered(calendar, start, end)
        return end

    def remaining(self, today: date, deadline: date) -> int:
        """The working days left after ``today`` until ``deadline`` (negative once it has passed)."""
        calendar = self.current()
        self._warn_uncovered(calendar, today, deadline)
        return calendar.working_days_between(today, deadline)

    def _warn_uncovered(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        for year in calendar.uncovered_years(first, last):
            if year not in self._warned:  # once per year and worker: enough to be noticed, not to flood
                self._warned.add(year)
                log.warning(
                    "no holiday calendar for this year: counting Monday to Friday only; load it with "
                    "PUT /api/v1/calendar/{year}",
                    extra={"year": year},
                )

    def missing_next_year(self, today: date) -> int | None:
        """From 1 November, next year if its holidays are not known (neither the package nor the operator has
        them): deadlines that reach into it would count Monday to Friday only. None otherwise."""
        following = today.year + 1
        if today.month < WARN_FROM_MONTH or self.current().is_covered(following):
            return None
        return following

    def deadline_report(self, start: date, days: int) -> dict[str, Any]:
        """The deadline of ``days`` working days from ``start``, and the years it counted without data."""
        calendar = self.current()
        end = calendar.add_working_days(start, days)
        self._warn_uncovered(calendar, start, end)
        return {"start": start, "days": days, "deadline": end, "uncovered_years": calendar.uncovered_years(start, end)}

    def year(self, year: int | str) -> YearCalendar:
        """The effective calendar of one year."""
        return self.current().year(parse_year(year))

    def put_year(self, ctx: Context, year: int | str, body: Mapping[str, Any]) -> YearCalendar:
        """Load (or replace) a whole year's holidays and make-up working days, overriding the package."""
        year = parse_year(year)
        if body.get("year", year) != year:
            raise Invalid("The body is for another year than the path.", errors={"year": [f"Use {year} or omit it."]})
        days_off, days_on = validate_year(year, body.get("holidays"), body.get("working_days"))
        record = {
            "year": year,
            "holidays": [day.isoformat() for day in days_off],
            "working_days": [day.isoformat() for day in days_on],
            "updated_at": rfc3339(now()),
            "updated_by": ctx.actor,
        }

        def work(tx: Tx) -> None:
            tx.set_json(keys.calendar_year(year), record)
            tx.index_add(keys.calendar_year_index(), str(year))
            tx.set_json(keys.calendar_version(), uuid.uuid4().hex)  # unique, so a flushed store never matches
            detail = {"holidays": record["holidays"], "working_days": record["working_days"]}
            audit.append(tx, keys.REGISTRY, ctx, "calendar.put", f"calendar:{year}", detail)

        self._store.atomic(work)
        self._warned.discard(year)
        return _loaded(record)
