"""The calendar API: loading a year, reading the effective year, deadlines; rights, bad input, audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from testbed import OPERATOR

PROBLEM = "application/problem+json"


def put_year(client, year, body, headers=OPERATOR):
    return client.put(f"/api/v1/calendar/{year}", json=body, headers=headers)


def deadline(client, start: str, days: int, headers=OPERATOR) -> dict:
    response = client.get("/api/v1/calendar/working-days", query_string={"from": start, "days": days}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_package_year_is_shown(client):
    body = client.get("/api/v1/calendar/2026", headers=OPERATOR).get_json()
    assert body["source"] == "chinese_calendar"
    assert {"2026-02-17", "2026-10-01", "2026-10-07"} <= set(body["holidays"])
    assert body["working_days"] == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]


def test_a_year_without_data_says_so(client):
    body = client.get("/api/v1/calendar/2098", headers=OPERATOR).get_json()
    assert body == {"year": 2098, "source": "weekends-only", "holidays": [], "working_days": []}
    answer = deadline(client, "2097-12-31", 2)
    assert answer == {"from": "2097-12-31", "days": 2, "deadline": "2098-01-02", "uncovered_years": [2097, 2098]}


def test_deadline_across_golden_week(client):
    assert deadline(client, "2026-09-30", 3) == {
        "from": "2026-09-30",
        "days": 3,
        "deadline": "2026-10-10",
        "uncovered_years": [],
    }
    assert deadline(client, "2026-10-03", 0)["deadline"] == "2026-10-03"


def test_operator_load_overrides_the_package_and_is_audited(client):
    assert deadline(client, "2026-03-09", 1)["deadline"] == "2026-03-10"
    body = {"year": 2026, "holidays": ["2026-03-10", "2026-01-01"], "working_days": ["2026-03-14"]}
    response = put_year(client, 2026, body)
    assert response.status_code == 200, response.get_json()
    loaded = response.get_json()
    assert loaded["source"] == "operator"
    assert loaded["holidays"] == ["2026-01-01", "2026-03-10"]
    assert loaded["updated_by"].startswith("operator/")
    assert client.get("/api/v1/calendar/2026", headers=OPERATOR).get_json() == loaded
    assert deadline(client, "2026-03-09", 1)["deadline"] == "2026-03-11"
    assert deadline(client, "2026-03-12", 2)["deadline"] == "2026-03-14"
    entries = client.get("/api/v1/audit/entries?limit=1", headers=OPERATOR).get_json()["items"]
    assert entries[0]["action"] == "calendar.put" and entries[0]["target"] == "calendar:2026"
    verify = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    assert verify["intact"] is True


def test_a_year_outside_the_package_is_loaded(client):
    body = {"holidays": ["2098-01-01", "2098-10-01"], "working_days": ["2098-09-27"]}
    assert put_year(client, 2098, body).status_code == 200
    shown = client.get("/api/v1/calendar/2098", headers=OPERATOR).get_json()
    assert shown["source"] == "operator"
    assert shown["working_days"] == ["2098-09-27"]
    assert deadline(client, "2098-09-26", 1) == {
        "from": "2098-09-26",
        "days": 1,
        "deadline": "2098-09-27",
        "uncovered_years": [],
    }


@pytest.mark.parametrize(
    ("year", "body", "fields"),
    [
        ("2027", {"holidays": ["2026-12-31"], "working_days": []}, {"holidays"}),
        ("2027", {"holidays": [], "working_days": ["2027-02-08"]}, {"working_days"}),
        ("2027", {"holidays": ["2027-02-06"], "working_days": ["2027-02-06"]}, {"working_days"}),
        ("2027", {"holidays": ["01/01/2027"], "working_days": []}, {"holidays"}),
        ("2027", {"holidays": [1], "working_days": []}, {"holidays"}),
        ("2027", {"holidays": []}, {"working_days"}),
        ("2027", {"holidays": [], "working_days": [], "extra": 1}, {"extra"}),
        ("2027", {"year": 2028, "holidays": [], "working_days": []}, {"year"}),
        ("1899", {"holidays": [], "working_days": []}, {"year"}),
        ("99999", {"holidays": [], "working_days": []}, {"year"}),
        ("next", {"holidays": [], "working_days": []}, {"year"}),
    ],
)
def test_bad_input_is_a_422_problem_and_writes_nothing(client, store, year, body, fields):
    response = put_year(client, year, body)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert set(response.get_json()["errors"]) == fields
    assert store.get_json("hub:{reg}:calendar-version") is None
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-13-01&days=1",
        "from=2026-01-01&days=-1",
        "from=2026-01-01&days=100000",
        "from=2026-01-01",
        "days=3",
        "from=2026-01-01&days=x",
    ],
)
def test_bad_deadline_questions_are_422(client, query):
    response = client.get("/api/v1/calendar/working-days?" + query, headers=OPERATOR)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM and response.get_json()["errors"]


def test_reading_a_bad_year_is_422(client):
    response = client.get("/api/v1/calendar/1800", headers=OPERATOR)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"year"}


def test_rights(client, registry):
    registry.agency("market")
    agency = registry.token("market", "agency")
    portal = registry.token("market", "portal")
    body = {"holidays": [], "working_days": []}
    assert client.get("/api/v1/calendar/2026").status_code == 401
    assert client.get("/api/v1/calendar/working-days?from=2026-01-05&days=1").status_code == 401
    assert put_year(client, 2027, body, headers={}).status_code == 401
    assert put_year(client, 2027, body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    for headers in (agency, portal):
        assert client.get("/api/v1/calendar/2026", headers=headers).status_code == 200
        assert deadline(client, "2026-01-05", 1, headers=headers)["deadline"] == "2026-01-06"
        refused = put_year(client, 2027, body, headers=headers)
        assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert client.get("/api/v1/calendar/2027", headers=OPERATOR).get_json()["source"] == "weekends-only"


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "2101-01-01"])
def test_a_start_outside_the_years_the_hub_keeps_is_a_422_not_a_server_error(client, start):
    response = client.get("/api/v1/calendar/working-days", query_string={"from": start, "days": 1}, headers=OPERATOR)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "from" in response.get_json()["errors"]


def test_from_1_november_readyz_and_a_metric_warn_while_next_year_is_missing(client, clock):
    clock.moment = datetime(2099, 10, 31, 12, 0, tzinfo=UTC)  # 2100 no package knows; not November yet
    assert client.get("/readyz").get_json() == {"status": "ready", "warnings": []}
    assert "hub_calendar_next_year_missing 0.0" in client.get("/metrics").get_data(as_text=True)
    clock.moment = datetime(2099, 11, 1, 1, 0, tzinfo=UTC)  # 1 November in Asia/Shanghai
    [warning] = client.get("/readyz").get_json()["warnings"]
    assert "2100" in warning and "PUT /api/v1/calendar/2100" in warning
    assert "hub_calendar_next_year_missing 1.0" in client.get("/metrics").get_data(as_text=True)
    assert put_year(client, 2100, {"year": 2100, "holidays": ["2100-01-01"], "working_days": []}).status_code == 200
    assert client.get("/readyz").get_json()["warnings"] == []
    assert "hub_calendar_next_year_missing 0.0" in client.get("/metrics").get_data(as_text=True)
