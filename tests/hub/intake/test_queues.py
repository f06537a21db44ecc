"""The caseworker's queues (`GET /api/v1/applications?queue=`): each agency's cases in each queue, soonest
deadline first, paged, kept in step as cases move."""

from __future__ import annotations

from datetime import timedelta

from intake_support import apply, event, province, ready, working_days_after

__all__ = ["province"]  # a fixture, used by name


def queue(client, token, name: str, **query) -> list[dict]:
    response = client.get("/api/v1/applications", headers=token, query_string={"queue": name, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


def test_to_accept_and_materials_wait_with_their_clocks(client, province, app, clock):
    today = app.extensions["hub"].today()
    waiting = apply(client, province["portal"]).get_json()["id"]  # nothing uploaded yet
    first = ready(client, province)
    clock.advance(days=1)
    second = ready(client, province)
    to_accept = queue(client, province["market"], "to-accept")
    assert ids(to_accept) == [first, second]  # the sooner acceptance deadline first
    assert to_accept[0]["clock"] == "acceptance" and to_accept[0]["due_on"] == working_days_after(today, 5).isoformat()
    [materials] = queue(client, province["market"], "materials")
    assert materials["id"] == waiting and materials["due_on"] == working_days_after(today, 20).isoformat()
    event(client, province["market"], first, "accept")
    assert ids(queue(client, province["market"], "to-accept")) == [second]
    page = client.get("/api/v1/applications?queue=to-accept&limit=1", headers=province["market"]).get_json()
    assert page["next"] is None and ids(page["items"]) == [second]


def test_a_co_agency_sees_its_open_tasks_until_it_gives_its_opinion(client, province):
    joint = ready(client, province, item="joint-permit")
    assert queue(client, province["fire"], "tasks") == []
    accepted = event(client, province["market"], joint, "accept").get_json()
    [task] = queue(client, province["fire"], "tasks")
    assert task["id"] == joint and task["due_on"] == accepted["tasks"][0]["deadline"]
    assert queue(client, province["market"], "tasks") == []  # the lead has no task of its own
    opinion = {"outcome": "approve", "opinion": "合格"}
    assert (
        client.post(f"/api/v1/applications/{joint}/tasks/fire", json=opinion, headers=province["fire"]).status_code
        == 200
    )
    assert queue(client, province["fire"], "tasks") == []


def test_suspended_due_and_overdue(client, province, app, clock):
    state = app.extensions["hub"]
    paused = ready(client, province)
    running = ready(client, province)
    event(client, province["market"], paused, "accept")
    deadline = event(client, province["market"], running, "accept").get_json()["deadline"]
    until = state.today() + timedelta(days=30)
    event(client, province["market"], paused, "suspend", reason="现场核查", until=until.isoformat())
    [suspended] = queue(client, province["market"], "suspended")
    assert suspended["id"] == paused and suspended["due_on"] == until.isoformat()
    assert queue(client, province["market"], "due") == [] and queue(client, province["market"], "overdue") == []

    while state.today().isoformat() < deadline:
        clock.advance(days=1)
    assert ids(queue(client, province["market"], "due")) == [running]
    clock.advance(days=1)
    assert queue(client, province["market"], "due") == []
    [overdue] = queue(client, province["market"], "overdue")
    assert overdue["id"] == running and overdue["clock"] == "decision" and overdue["due_on"] == deadline


def test_queues_are_for_agencies_and_named(client, province):
    assert client.get("/api/v1/applications?queue=to-accept", headers=province["portal"]).status_code == 403
    refused = client.get("/api/v1/applications?queue=everything", headers=province["market"])
    assert refused.status_code == 422 and "queue" in refused.get_json()["errors"]
    assert client.get("/api/v1/applications", headers=province["market"]).status_code == 422
