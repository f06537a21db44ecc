"""Statistics (issue 19, item 5): per agency and item over a period, checked against cases seeded here whose
figures the test works out itself: received, decided on time and late, working days taken, suspensions,
postponements, channels."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from intake_support import HOLDER, event, province, upload, working_days_after
from testbed import OPERATOR

__all__ = ["province"]  # a fixture, used by name


def filed(client, province, channel: str) -> str:
    body = {"service_item": "food-permit", "applicant": HOLDER, "channel": channel, "form": {"premises": "西湖边"}}
    case = client.post("/api/v1/applications", json=body, headers=province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan")
    upload(client, province["portal"], case["id"], "lease")
    return case["id"]


def stats(client, token, first: date, last: date, **query) -> dict:
    answer = client.get(
        "/api/v1/statistics", query_string={"from": first.isoformat(), "to": last.isoformat(), **query}, headers=token
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_figures_are_those_of_the_cases(client, province, app, clock):
    state = app.extensions["hub"]
    start = state.today()  # Monday 15 June 2026
    quick, suspended, late = (
        filed(client, province, "web"),
        filed(client, province, "mobile"),
        filed(client, province, "web"),
    )
    refused = filed(client, province, "terminal")
    for case in (quick, suspended, late):
        event(client, province["market"], case, "accept")
    deadline = working_days_after(start, 5)
    event(client, province["market"], refused, "reject", reason="不符合条件")  # never accepted: on time, no days
    event(client, province["market"], suspended, "suspend", reason="现场核查", days=2)
    event(client, province["market"], late, "postpone", reason="专家评审", days=1)
    clock.advance(days=1)
    event(client, province["market"], quick, "approve")  # one working day after acceptance
    event(client, province["market"], suspended, "resume")
    clock.advance(days=12)  # well past even the postponed deadline
    assert state.today() > working_days_after(deadline, 1)
    event(client, province["market"], late, "approve")
    # the working days after acceptance up to the decision, counted one by one (an oracle apart from the hub)
    taken_late = sum(
        chinese_calendar.is_workday(start + timedelta(days=k)) for k in range(1, (state.today() - start).days + 1)
    )

    [row] = stats(client, OPERATOR, start, state.today())["items"]
    assert row["agency"] == "market" and row["service_item"] == "food-permit"
    assert (row["received"], row["concluded"], row["on_time"], row["late"]) == (4, 3, 2, 1)
    assert row["average_working_days"] == round((1 + taken_late) / 2, 1)
    assert (row["suspensions"], row["postponements"]) == (1, 1)
    assert row["channels"] == {"web": 2, "mobile": 1, "terminal": 1}

    assert stats(client, OPERATOR, start - timedelta(days=30), start - timedelta(days=1))["items"] == []
    [decided_later] = stats(client, OPERATOR, start + timedelta(days=1), state.today())["items"]
    assert (decided_later["received"], decided_later["concluded"]) == (0, 2)  # filed before, decided in it


def test_an_agency_sees_its_own_and_a_portal_none(client, province, app):
    today = app.extensions["hub"].today()
    filed(client, province, "web")
    assert [r["agency"] for r in stats(client, province["market"], today, today)["items"]] == ["market"]
    assert stats(client, province["fire"], today, today)["items"] == []
    mine_only = client.get(
        "/api/v1/statistics", query_string={"from": today, "to": today, "agency": "market"}, headers=province["fire"]
    )
    assert mine_only.status_code == 403
    assert (
        client.get(
            "/api/v1/statistics", query_string={"from": today, "to": today}, headers=province["portal"]
        ).status_code
        == 403
    )
    backwards = client.get(
        "/api/v1/statistics", query_string={"from": today, "to": today - timedelta(days=1)}, headers=OPERATOR
    )
    assert backwards.status_code == 422
