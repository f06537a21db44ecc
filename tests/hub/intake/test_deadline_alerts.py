"""The scheduled deadline sweep (Art. 14): one due-soon and one overdue alert per case and deadline, for every
clock (acceptance, the applicant's materials, the decision), audited with the case, standing until the case is
decided (postponing or suspending never clears one), listed per agency and for operators."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from intake_support import event, province, ready, working_days_after
from testbed import OPERATOR

from hub.context import Context
from hub.intake import deadlines
from hub.ops.schedule import Runner, jobs_for
from hub.state import HubState
from hub.store import case_keys

__all__ = ["province"]  # a fixture, used by name
SWEEP = Context.system("schedule")


def _accepted(client, province) -> tuple[str, date]:
    application_id = ready(client, province)
    accepted = event(client, province["market"], application_id, "accept").get_json()
    return application_id, date.fromisoformat(accepted["deadline"])


def _day_before(deadline: date) -> date:
    """The working day before ``deadline`` (from which it is 'due the next working day')."""
    day = deadline - timedelta(days=1)
    while working_days_after(day, 1) != deadline:
        day -= timedelta(days=1)
    return day


def _listed(client, token, **query) -> list[dict]:
    response = client.get("/api/v1/deadline-alerts", headers=token, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def _case_audit(store, application_id: str) -> list[str]:
    return [entry["action"] for entry in store.list_all_json(case_keys.application_audit("market", application_id))]


def test_a_case_is_flagged_due_soon_then_overdue_once_each(app, client, province, store):
    state = app.extensions["hub"]
    application_id, deadline = _accepted(client, province)
    quiet = {"resumed": 0, "due-soon": 0, "overdue": 0, "fetched": 0, "documents": 0}
    assert deadlines.sweep_agency(state, SWEEP, "market", state.today()) == quiet
    eve = _day_before(deadline)
    assert deadlines.sweep_agency(state, SWEEP, "market", eve)["due-soon"] == 1
    assert deadlines.sweep_agency(state, SWEEP, "market", eve)["due-soon"] == 0  # raised once, not every sweep
    assert deadlines.sweep_agency(state, SWEEP, "market", deadline)["due-soon"] == 0  # due today: still due-soon
    [alert] = _listed(client, province["market"])
    assert alert["application"] == application_id and alert["level"] == "due-soon"
    assert alert["deadline"] == deadline.isoformat() and alert["agency"] == "market"
    late = deadline + timedelta(days=1)
    assert deadlines.sweep_agency(state, SWEEP, "market", late)["overdue"] == 1
    assert [a["level"] for a in _listed(client, province["market"])] == ["overdue"]
    assert _case_audit(store, application_id)[-2:] == ["application.due-soon", "application.overdue"]
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True


def test_an_alert_stands_until_the_case_is_decided_and_never_goes_down_a_level(app, client, province):
    state = app.extensions["hub"]
    decided, deadline = _accepted(client, province)
    suspended, _ = _accepted(client, province)
    postponed, _ = _accepted(client, province)
    late = deadline + timedelta(days=1)
    assert deadlines.sweep_agency(state, SWEEP, "market", late)["overdue"] == 3
    assert event(client, province["market"], decided, "approve").status_code == 200
    assert event(client, province["market"], suspended, "suspend", reason="现场核查", days=10).status_code == 200
    moved = event(client, province["market"], postponed, "postpone", reason="专家评审", days=3).get_json()
    swept = deadlines.sweep_agency(state, SWEEP, "market", late)
    assert swept["overdue"] == swept["due-soon"] == 0
    assert {(a["application"], a["level"]) for a in _listed(client, province["market"])} == {
        (suspended, "overdue"),
        (postponed, "overdue"),  # moving the deadline does not undo having missed it
    }
    new_deadline = date.fromisoformat(moved["deadline"])
    assert deadlines.sweep_agency(state, SWEEP, "market", _day_before(new_deadline))["due-soon"] == 0
    [alert] = [a for a in _listed(client, province["market"]) if a["application"] == postponed]
    assert alert["level"] == "overdue" and alert["deadline"] == deadline.isoformat()


def test_the_acceptance_and_the_materials_clocks_raise_alerts_too(app, client, province):
    state = app.extensions["hub"]
    waiting = ready(client, province)  # submitted: the lead has 5 working days to accept or refuse it
    case = client.get(f"/api/v1/applications/{waiting}", headers=province["market"]).get_json()
    acceptance = date.fromisoformat(case["acceptance_deadline"])
    assert acceptance == working_days_after(state.today(), 5) and case["deadline"] is None
    asked = ready(client, province)
    requested = event(
        client, province["market"], asked, "request_materials", reason="缺少平面图", materials=[{"code": "floor-plan"}]
    ).get_json()
    materials = date.fromisoformat(requested["materials_deadline"])
    assert materials == working_days_after(state.today(), 20) and requested["acceptance_deadline"] is None
    assert deadlines.sweep_agency(state, SWEEP, "market", acceptance + timedelta(days=1))["overdue"] == 1
    deadlines.sweep_agency(state, SWEEP, "market", materials + timedelta(days=1))
    listed = {a["application"]: a for a in _listed(client, province["market"])}
    assert listed[waiting]["clock"] == "acceptance" and listed[waiting]["level"] == "overdue"
    assert listed[asked]["clock"] == "materials" and listed[asked]["deadline"] == materials.isoformat()


def test_the_listing_is_per_agency_for_agencies_and_any_for_operators(app, client, province, registry):
    state = app.extensions["hub"]
    first, deadline = _accepted(client, province)
    second, _ = _accepted(client, province)
    deadlines.sweep_agency(state, SWEEP, "market", deadline + timedelta(days=1))
    assert {a["application"] for a in _listed(client, OPERATOR)} == {first, second}
    assert len(_listed(client, OPERATOR, agency="market", level="overdue")) == 2
    assert _listed(client, OPERATOR, level="due-soon") == []
    page = client.get("/api/v1/deadline-alerts?limit=1", headers=OPERATOR).get_json()
    rest = client.get(f"/api/v1/deadline-alerts?limit=1&cursor={page['next']}", headers=OPERATOR).get_json()
    assert {page["items"][0]["application"], rest["items"][0]["application"]} == {first, second}
    assert rest["next"] is None
    assert _listed(client, province["fire"]) == []  # an agency sees only the cases it leads
    other = client.get("/api/v1/deadline-alerts?agency=market", headers=province["fire"])
    assert other.status_code == 403 and other.content_type == "application/problem+json"
    assert client.get("/api/v1/deadline-alerts", headers=province["portal"]).status_code == 403
    assert client.get("/api/v1/deadline-alerts").status_code == 401
    assert client.get("/api/v1/deadline-alerts?agency=nobody", headers=OPERATOR).status_code == 404
    assert client.get("/api/v1/deadline-alerts?level=late", headers=OPERATOR).status_code == 422
    assert client.get("/api/v1/deadline-alerts?cursor=bogus", headers=OPERATOR).status_code == 422


def test_the_alert_is_not_raised_for_a_case_decided_after_the_sweep_read_it(app, client, province):
    state = app.extensions["hub"]
    application_id, deadline = _accepted(client, province)
    assert event(client, province["market"], application_id, "approve").status_code == 200
    # the sweep saw the case running (as if it read the due set just before the decision)
    assert deadlines._raise(state, SWEEP, "market", application_id, deadline, "overdue") is False
    assert _listed(client, OPERATOR) == []


def test_the_sweep_runs_as_a_periodic_job_at_start(app, client, province, settings):
    only_deadlines = replace(
        settings,
        backup_interval=0,
        checkpoint_interval=0,
        archive_sweep_interval=0,
        probe_interval=0,
        blob_collection_interval=0,
        notify_interval=0,
        deadline_sweep_interval=60,
    )
    state = HubState(only_deadlines, app.extensions["hub"].store, app.extensions["hub"].clock)
    application_id = ready(client, province)
    event(client, province["market"], application_id, "accept")
    runner = Runner(state, jobs_for(only_deadlines))
    runner.prime()
    [outcome] = runner.tick()
    assert outcome["job"] == "deadlines" and outcome["ok"] is True
    assert outcome["result"] == {"day": state.today().isoformat(), "agencies": {}}  # due in 5 working days: quiet
