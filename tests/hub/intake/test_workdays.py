"""Working-day arithmetic: the package's 2026 holidays and make-up days, operator-loaded years, coverage."""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta

import chinese_calendar
import pytest

from hub.context import Context
from hub.errors import Invalid
from hub.intake.workdays import Calendars, WorkingCalendar, package_years

OPERATOR_CTX = Context(actor="operator/token:test")


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def naive_deadline(start: date, days: int) -> date:
    """The same deadline, day by day with the package itself: the reference the arithmetic must match."""
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    return day


def test_the_package_2026_schedule_is_what_the_tests_assume():
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 17)) == (True, "Spring Festival")
    assert chinese_calendar.get_holiday_detail(date(2026, 2, 14)) == (False, "Spring Festival")  # a Saturday worked
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 5)) == (True, "National Day")
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 10)) == (False, "National Day")  # a Saturday worked


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 13), True),  # Friday before the Spring Festival
        (date(2026, 2, 14), True),  # Saturday, a make-up working day
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 2, 23), False),  # Monday, last day of the Spring Festival
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, a make-up working day
        (date(2026, 3, 1), False),  # an ordinary Sunday
        (date(2026, 9, 20), True),  # Sunday, made up for National Day
        (date(2026, 10, 1), False),
        (date(2026, 10, 7), False),  # Wednesday, Golden Week
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, a make-up working day
        (date(2026, 10, 11), False),
    ],
)
def test_holidays_and_make_up_days_of_2026(calendar, day, working):
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday: across a weekend
        (date(2026, 3, 6), 5, date(2026, 3, 13)),
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Qingming, Saturday to Monday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # Golden Week
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # ... the third is the make-up Saturday
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the make-up Saturday before the Spring Festival
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 10, 3), 1, date(2026, 10, 8)),  # accepted on a holiday: that day does not count
        (date(2026, 3, 7), 1, date(2026, 3, 9)),  # nor does a Saturday
        (date(2026, 3, 9), 1, date(2026, 3, 10)),  # nor an ordinary working day
        (date(2026, 10, 3), 0, date(2026, 10, 3)),
        (date(2026, 3, 9), 0, date(2026, 3, 9)),
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # New Year, then the make-up Sunday
    ],
)
def test_deadlines(calendar, start, days, deadline):
    assert calendar.add_working_days(start, days) == deadline
    assert calendar.add_working_days(start, days) == naive_deadline(start, days)


def test_remaining_days_after_a_suspension(calendar):
    accepted = date(2026, 9, 21)  # Monday; ten working days cross Mid-Autumn and Golden Week
    deadline = calendar.add_working_days(accepted, 10)
    assert deadline == date(2026, 10, 12)
    suspended = date(2026, 9, 24)  # three days used: 22, 23, 24 September
    remaining = calendar.working_days_between(suspended, deadline)
    assert remaining == 7
    resumed = date(2026, 11, 2)
    assert calendar.add_working_days(resumed, remaining) == date(2026, 11, 11)
    assert calendar.working_days_between(date(2026, 10, 14), deadline) == -2  # overdue by two working days


def test_counting_and_adding_are_inverse(calendar):
    rng = random.Random(14)
    for _ in range(400):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(4 * 366))  # into 2027 and beyond
        days = rng.randrange(366)
        deadline = calendar.add_working_days(start, days)
        assert calendar.working_days_between(start, deadline) == days
        assert days == 0 or calendar.is_working_day(deadline)
        if days:  # the deadline is the first day reaching the count
            assert calendar.working_days_between(start, deadline - timedelta(days=1)) == days - 1


def test_matches_the_package_day_by_day(calendar):
    rng = random.Random(5)
    for _ in range(100):
        start = date(2020, 1, 1) + timedelta(days=rng.randrange(6 * 365))
        days = rng.randrange(120)
        if (start + timedelta(days=days * 2 + 40)).year > 2026:
            continue
        assert calendar.add_working_days(start, days) == naive_deadline(start, days)


def test_a_year_of_working_days_is_fast(calendar):
    import time

    started = time.perf_counter()
    for offset in range(1000):
        calendar.add_working_days(date(2025, 1, 1) + timedelta(days=offset), 365)
    assert time.perf_counter() - started < 1.0


def test_negative_days_are_refused(calendar):
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2026, 1, 5), -1)


def test_coverage_is_said(calendar):
    assert set(range(2004, 2027)) <= set(calendar.known_years()) == set(package_years())
    assert calendar.is_covered(2026)
    assert not calendar.is_covered(2098)
    assert calendar.year(2098).source == "weekends-only"
    assert calendar.year(2026).source == "chinese_calendar"
    assert calendar.uncovered_years(date(2026, 12, 1), date(2026, 12, 31)) == []
    assert calendar.uncovered_years(date(2098, 12, 1), date(2100, 1, 5)) == [2098, 2099, 2100]
    # an uncovered year is Monday to Friday, not nothing
    assert calendar.add_working_days(date(2098, 10, 3), 1) == date(2098, 10, 6)


def test_a_deadline_in_an_uncovered_year_logs_a_warning(store, caplog):
    calendars = Calendars(store)
    with caplog.at_level(logging.WARNING, logger="hub.workdays"):
        # 2099 is a year no package knows: Monday to Friday, Wednesday 30 December + 5 = Wednesday 6 January
        assert calendars.deadline(date(2099, 12, 30), 5) == date(2100, 1, 6)
        calendars.deadline(date(2099, 12, 30), 6)
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert sorted(record.year for record in warnings) == [2099, 2100]


# -- years the operator loads
def test_a_loaded_year_overrides_the_package(store):
    calendars = Calendars(store)
    other_worker = Calendars(store)
    assert calendars.deadline(date(2026, 3, 9), 1) == date(2026, 3, 10)
    assert other_worker.deadline(date(2026, 10, 1), 1) == date(2026, 10, 8)
    calendars.put_year(OPERATOR_CTX, 2026, {"holidays": ["2026-03-10"], "working_days": ["2026-03-14"]})
    for worker in (calendars, other_worker):
        assert worker.deadline(date(2026, 3, 9), 1) == date(2026, 3, 11)  # a fictional holiday
        assert worker.deadline(date(2026, 3, 12), 2) == date(2026, 3, 14)  # a fictional make-up Saturday
        assert worker.deadline(date(2026, 10, 1), 1) == date(2026, 10, 2)  # the whole year is replaced
        assert worker.year(2026).source == "operator"
    assert calendars.year(2025).source == "chinese_calendar"


def test_a_year_outside_the_package_can_be_loaded(store):
    calendars = Calendars(store)
    assert not calendars.current().is_covered(2098)
    loaded = calendars.put_year(OPERATOR_CTX, 2098, {"holidays": ["2098-10-06", "2098-10-01"], "working_days": []})
    assert [day.isoformat() for day in loaded.holidays] == ["2098-10-01", "2098-10-06"]
    assert calendars.current().is_covered(2098)
    assert calendars.deadline(date(2098, 10, 3), 1) == date(2098, 10, 7)


@pytest.mark.parametrize(
    ("year", "body", "field"),
    [
        (2027, {"holidays": ["2026-12-31"], "working_days": []}, "holidays"),
        (2027, {"holidays": [], "working_days": ["2027-02-08"]}, "working_days"),  # a Monday
        (2027, {"holidays": ["2027-02-06"], "working_days": ["2027-02-06"]}, "working_days"),
        (2027, {"holidays": ["2027-1-1"], "working_days": []}, "holidays"),
        (2027, {"holidays": ["20270101"], "working_days": []}, "holidays"),
        (2027, {"holidays": ["2027-02-30"], "working_days": []}, "holidays"),
        (2027, {"holidays": [20270101], "working_days": []}, "holidays"),
        (2027, {"holidays": "2027-01-01", "working_days": []}, "holidays"),
        (1850, {"holidays": [], "working_days": []}, "year"),
        ("20x7", {"holidays": [], "working_days": []}, "year"),
        (2027, {"year": 2028, "holidays": [], "working_days": []}, "year"),
    ],
)
def test_bad_years_are_refused_with_the_field(store, year, body, field):
    with pytest.raises(Invalid) as refused:
        Calendars(store).put_year(OPERATOR_CTX, year, body)
    assert list(refused.value.errors) == [field]
    assert store.get_json("hub:{reg}:calendar:2027") is None
