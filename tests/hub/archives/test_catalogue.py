"""The archive register: search by case, applicant, agency, service item and filing date, page by page;
retention by service item, and disposal only after it, audited, with the register remembering it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from intake_support import HOLDER, apply, conclude, event, province, upload
from testbed import OPERATOR

from hub.archives import filing
from hub.context import Context
from hub.store import case_keys

__all__ = ["province"]  # a fixture, used by name
OTHER = {"id_type": "credit-code", "id": "91330100MA2PTHER8A", "name": "钱塘示范餐厅"}


def search(client, token=OPERATOR, **query):
    response = client.get("/api/v1/archives", query_string=query, headers=token)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cases_of(page) -> list[str]:
    return [entry["case"] for entry in page["items"]]


@pytest.fixture
def filed(client, province):
    """Three archived cases: a joint one (market leads, fire joins), a rejected one, another applicant's."""
    joint = conclude(client, province, item="joint-permit")
    rejected = conclude(client, province, outcome="reject")
    case = apply(client, province["portal"], applicant=OTHER).get_json()
    upload(client, province["portal"], case["id"], "plan")
    upload(client, province["portal"], case["id"], "lease")
    event(client, province["market"], case["id"], "accept")
    event(client, province["market"], case["id"], "approve")
    return {"joint": joint, "rejected": rejected, "other": case["id"]}


def test_search_by_each_criterion(client, province, filed, app):
    newest_first = [filed["other"], filed["rejected"], filed["joint"]]
    assert cases_of(search(client)) == newest_first
    assert cases_of(search(client, case=filed["rejected"])) == [filed["rejected"]]
    assert cases_of(search(client, case="app.market.nothing-like-it")) == []
    by_holder = search(client, applicant_id_type=HOLDER["id_type"], applicant_id=HOLDER["id"])
    assert cases_of(by_holder) == [filed["rejected"], filed["joint"]]
    assert cases_of(search(client, service_item="joint-permit")) == [filed["joint"]]
    assert cases_of(search(client, agency="fire")) == [filed["joint"]]  # the co-agency finds what it joined
    assert cases_of(search(client, agency="market")) == newest_first
    today = app.extensions["hub"].today()
    assert cases_of(search(client, archived_from=(today - timedelta(days=1)).isoformat())) == newest_first
    assert cases_of(search(client, archived_to=(today - timedelta(days=2)).isoformat())) == []
    entry = search(client, case=filed["joint"])["items"][0]
    assert entry["package"]["sha256"] and entry["applicant"]["name_masked"] != HOLDER["name"]
    assert "subject_hash" not in entry and entry["retention"]["years"] == 30 and entry["disposed"] is None


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, filed):
    seen, cursor = [], None
    while True:
        page = search(client, limit=1, **({"cursor": cursor} if cursor else {}))
        seen += cases_of(page)
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [filed["other"], filed["rejected"], filed["joint"]]
    bad = client.get("/api/v1/archives?cursor=nonsense", headers=OPERATOR)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"


def test_agencies_see_their_own_archives_only(client, province, filed):
    assert cases_of(search(client, province["fire"])) == [filed["joint"]]
    assert client.get("/api/v1/archives?agency=market", headers=province["fire"]).status_code == 403
    assert client.get(f"/api/v1/archives/{filed['rejected']}", headers=province["fire"]).status_code == 403
    assert client.get(f"/api/v1/archives/{filed['joint']}", headers=province["fire"]).status_code == 200
    assert client.get("/api/v1/archives", headers=province["portal"]).status_code == 403
    half = client.get(f"/api/v1/archives?applicant_id={HOLDER['id']}", headers=OPERATOR)
    assert half.status_code == 422  # an ID without its type


def test_disposal_only_after_retention_audited_and_remembered(client, province, registry, app, store, hub_cli, clock):
    registry.service_item("short-kept", agency="market", retention_years=1, materials=[])
    case = apply(client, province["portal"], item="short-kept").get_json()
    event(client, province["market"], case["id"], "accept")
    event(client, province["market"], case["id"], "approve")
    entry = client.get(f"/api/v1/archives/{case['id']}", headers=OPERATOR).get_json()
    until = date.fromisoformat(entry["retention"]["until"])
    assert until == date(2027, 6, 15)  # concluded on the test clock's 2026-06-15, kept one year
    early = client.post(f"/api/v1/archives/{case['id']}/disposal", json={"reason": "期满销毁"}, headers=OPERATOR)
    assert early.status_code == 409 and "cannot be disposed of yet" in early.get_json()["detail"]
    assert client.get("/api/v1/archives/due-for-disposal", headers=OPERATOR).get_json()["items"] == []
    clock.advance(days=366)  # a year and a day on: 2027-06-16
    due = client.get("/api/v1/archives/due-for-disposal", headers=OPERATOR).get_json()["items"]
    assert [d["case"] for d in due] == [case["id"]]
    assert client.post(f"/api/v1/archives/{case['id']}/disposal", json={}, headers=OPERATOR).status_code == 422
    done = client.post(f"/api/v1/archives/{case['id']}/disposal", json={"reason": "期满销毁"}, headers=OPERATOR)
    assert done.status_code == 200
    disposed = done.get_json()["disposed"]
    assert disposed["reason"] == "期满销毁" and disposed["by"].startswith("operator")
    assert store.document(entry["package"]["sha256"]) is None  # the package is gone from the blob store
    gone = client.get(f"/api/v1/applications/{case['id']}/archive", headers=OPERATOR)
    assert gone.status_code == 410 and gone.mimetype == "application/problem+json"
    left = client.get(f"/api/v1/applications/{case['id']}", headers=OPERATOR).get_json()
    assert "applicant" not in left and left["status"] == "approved"  # only what identifies the case is kept
    remembered = client.get(f"/api/v1/archives/{case['id']}", headers=OPERATOR).get_json()
    assert remembered["package"]["sha256"] == entry["package"]["sha256"] and remembered["disposed"] == disposed
    newest = client.get("/api/v1/audit/entries?partition=app:market&limit=1", headers=OPERATOR).get_json()["items"][0]
    assert newest["action"] == "archive.dispose" and entry["package"]["sha256"] in newest["detail"]
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True
    forever = registry.service_item("kept-forever", agency="market", retention_years=None, materials=[])
    assert forever["retention_years"] is None
    listed = hub_cli("archive", "dispose", "--reason", "期满销毁", "--dry-run", check=True)
    assert "due: 0" in listed.stdout


def test_a_filing_cut_short_after_registration_is_settled_by_the_sweep(client, province, filed, app, store):
    before = client.get(f"/api/v1/archives/{filed['joint']}", headers=OPERATOR).get_json()
    raw = store.raw_client_for_tests()  # as a crash would leave it: filed, the co-agency not yet told
    raw.zrem(case_keys.archives_of("fire"), filed["joint"])
    raw.zadd(case_keys.archives_pending("market"), {filed["joint"]: 1})
    assert cases_of(search(client, province["fire"])) == []
    outcome = filing.file_pending(app.extensions["hub"], Context.system("test"))
    assert outcome == {"filed": [filed["joint"]], "failed": []}
    assert cases_of(search(client, province["fire"])) == [filed["joint"]]
    assert raw.zcard(case_keys.archives_pending("market")) == 0
    after = client.get(f"/api/v1/archives/{filed['joint']}", headers=OPERATOR).get_json()
    assert after == before  # settled, not filed a second time
    assert cases_of(search(client)) == [filed["other"], filed["rejected"], filed["joint"]]
