"""Art. 14 as law: a suspension has a reason and an end and the clock restarts by itself after it; a postponement
stops at the statutory days plus the extension the law allows, the days the clock stood still not counted; each
co-agency task has its own deadline within the case's."""

from __future__ import annotations

from datetime import date, timedelta

from intake_support import event, province, ready, working_days_after
from testbed import OPERATOR, service_item_body

from hub.context import Context
from hub.intake import deadlines

__all__ = ["province"]  # a fixture, used by name
SWEEP = Context.system("schedule")


def accepted(client, province, item="food-permit") -> tuple[str, dict]:
    application_id = ready(client, province, item=item)
    return application_id, event(client, province["market"], application_id, "accept").get_json()


def test_a_suspension_needs_a_reason_and_an_end(client, province, app):
    application_id, _ = accepted(client, province)
    today = app.extensions["hub"].today()
    market = province["market"]
    for body in ({"days": 3}, {"reason": "现场核查"}, {"reason": "现场核查", "days": 3, "until": "2026-07-01"}):
        refused = event(client, market, application_id, "suspend", **body)
        assert refused.status_code == 422 and refused.content_type == "application/problem+json", body
    past = event(client, market, application_id, "suspend", reason="现场核查", until=today.isoformat())
    assert past.status_code == 422 and "until" in past.get_json()["errors"]
    by_days = event(client, market, application_id, "suspend", reason="现场核查", days=3).get_json()
    assert by_days["suspension"]["until"] == working_days_after(today, 3).isoformat()


def test_the_clock_restarts_by_itself_when_the_suspension_ends_and_the_applicant_is_told_why_and_how_long(
    client, province, app, clock
):
    state = app.extensions["hub"]
    application_id, _ = accepted(client, province)
    today = state.today()
    left = 5  # accepted today: all five committed working days left
    until = today + timedelta(days=10)
    body = {"reason": "等待检测报告", "until": until.isoformat()}
    suspended = event(client, province["market"], application_id, "suspend", **body)
    assert suspended.status_code == 200, suspended.get_json()
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["portal"]).get_json()
    assert seen["suspension"] == {"reason": "等待检测报告", "since": today.isoformat(), "until": until.isoformat()}
    assert seen["timeline"][-1]["until"] == until.isoformat() and seen["notifications"][-1]["reason"] == "等待检测报告"
    assert seen["remaining_days"] == left and seen["deadline"] is None

    clock.advance(days=10)  # the last day of the suspension: still suspended
    assert deadlines.sweep_agency(state, SWEEP, "market", state.today())["resumed"] == 0
    clock.advance(days=1)
    assert deadlines.sweep_agency(state, SWEEP, "market", state.today())["resumed"] == 1
    resumed = client.get(f"/api/v1/applications/{application_id}", headers=province["portal"]).get_json()
    assert resumed["status"] == "accepted" and resumed["suspension"] is None
    assert resumed["deadline"] == working_days_after(until, left).isoformat()
    assert resumed["timeline"][-1]["type"] == "resume" and until.isoformat() in resumed["timeline"][-1]["reason"]
    assert deadlines.sweep_agency(state, SWEEP, "market", state.today())["resumed"] == 0  # once


def test_a_postponement_stops_at_the_statutory_days_plus_the_extension(client, province, app, registry):
    application_id, case = accepted(client, province)
    accepted_on = app.extensions["hub"].today()
    latest = working_days_after(accepted_on, 20)  # statutory 20, no extension
    assert case["latest_deadline"] == latest.isoformat()
    too_far = event(client, province["market"], application_id, "postpone", reason="专家评审", days=16)
    problem = too_far.get_json()
    assert too_far.status_code == 422 and problem["type"].endswith("past-the-time-limit")
    assert problem["latest_deadline"] == latest.isoformat() and latest.isoformat() in problem["detail"]
    assert "20" in problem["detail"] and "days" in problem["errors"]
    within = event(client, province["market"], application_id, "postpone", reason="专家评审", days=15).get_json()
    assert within["deadline"] == latest.isoformat()
    assert event(client, province["market"], application_id, "postpone", reason="再次", days=1).status_code == 422


def test_an_extension_the_law_allows_moves_the_limit(client, province, app, registry):
    food = client.get("/api/v1/service-items/food-permit", headers=OPERATOR).get_json()
    materials = [{k: m[k] for k in ("code", "name", "evidence_type", "required")} for m in food["materials"]]
    registry.service_item("extended", agency="market", committed_days=5, extension_days=10, materials=materials)
    application_id, case = accepted(client, province, item="extended")
    assert case["latest_deadline"] == working_days_after(app.extensions["hub"].today(), 30).isoformat()
    moved = event(client, province["market"], application_id, "postpone", reason="专家评审", days=25).get_json()
    assert moved["deadline"] == case["latest_deadline"]


def test_the_limit_moves_with_the_days_the_clock_stood_still(client, province, app, clock):
    state = app.extensions["hub"]
    application_id, _ = accepted(client, province)
    accepted_on = state.today()
    until = accepted_on + timedelta(days=7)
    event(client, province["market"], application_id, "suspend", reason="现场核查", until=until.isoformat())
    clock.advance(days=8)
    deadlines.sweep_agency(state, SWEEP, "market", state.today())
    resumed = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    assert resumed["latest_deadline"] == working_days_after(until, 20).isoformat()  # suspended on the day it began
    postponed = event(client, province["market"], application_id, "postpone", reason="专家评审", days=15).get_json()
    assert postponed["deadline"] == resumed["latest_deadline"]


def test_each_co_agency_task_has_its_own_deadline_within_the_case(client, province, app, registry):
    _, case = accepted(client, province, item="joint-permit")
    accepted_on = app.extensions["hub"].today()
    [task] = case["tasks"]
    assert task["deadline"] == working_days_after(accepted_on, 2).isoformat()  # half the 5 committed days
    assert date.fromisoformat(task["deadline"]) <= date.fromisoformat(case["deadline"])
    body = service_item_body("slow-part", agency="market", co_agencies=["fire"], committed_days=5, task_days=6)
    refused = client.post("/api/v1/service-items", json=body, headers=OPERATOR)
    assert refused.status_code == 422 and "task_days" in refused.get_json()["errors"]
