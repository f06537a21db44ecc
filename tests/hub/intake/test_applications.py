"""Whole cases through the intake API: apply, the one-time notice, uploads, the clock, joint processing,
approval with a licence, and every transition that does not fit (409)."""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import date, timedelta

from intake_support import HOLDER, PNG, apply, event, province, ready, upload, working_days_after
from testbed import OPERATOR

from hub.context import Context
from hub.intake import applications

__all__ = ["province"]  # a fixture, used by name


def test_apply_lists_what_is_missing_at_once_and_uploads_complete_it(client, province):
    response = apply(client, province["portal"])
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["status"] == "pending_materials" and case["deadline"] is None
    assert case["notice"]["missing"] == ["plan", "lease"]  # required only, all at once
    assert case["version"] == 1 and "91330100MA2JNTAKXK" not in response.get_data(as_text=True)
    assert upload(client, province["portal"], case["id"], "plan").status_code == 201
    done = upload(client, province["portal"], case["id"], "lease", PNG).get_json()
    assert done["status"] == "submitted" and done["notice"]["missing"] == []
    lease = next(m for m in done["materials"] if m["code"] == "lease")
    assert lease["status"] == "uploaded" and lease["file"]["media_type"] == "image/png"
    assert upload(client, province["portal"], case["id"], "plan", PNG).status_code == 409  # required: until complete
    optional = upload(client, province["portal"], case["id"], "photo")  # an optional one: until the decision
    assert optional.status_code == 201 and optional.get_json()["status"] == "submitted"
    event(client, province["market"], case["id"], "accept")
    event(client, province["market"], case["id"], "approve")
    assert upload(client, province["portal"], case["id"], "photo", PNG).status_code == 409  # decided


def test_bad_uploads_are_refused(client, province):
    case = apply(client, province["portal"]).get_json()
    for content in (b"", b"GIF89a....", b"<html>not a pdf</html>"):
        response = upload(client, province["portal"], case["id"], "plan", content)
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert upload(client, province["portal"], case["id"], "nonsense").status_code == 422
    assert upload(client, province["market"], case["id"], "plan").status_code == 403  # not a portal token


def test_items_that_need_the_applicant_in_person_are_refused_with_where_to_go(client, province):
    response = apply(client, province["portal"], item="counter-only")
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"].endswith("not-online") and "in person" in problem["detail"]


def test_the_clock_runs_in_working_days_stops_and_restarts(client, province, app):
    application_id = ready(client, province)
    today = app.extensions["hub"].today()
    accepted = event(client, province["market"], application_id, "accept").get_json()
    assert accepted["status"] == "accepted"
    assert accepted["deadline"] == working_days_after(today, 5).isoformat()
    assert event(client, province["market"], application_id, "suspend", days=10).status_code == 422  # needs a reason
    suspended = event(client, province["market"], application_id, "suspend", reason="现场核查", days=10).get_json()
    assert suspended["status"] == "suspended" and suspended["deadline"] is None and suspended["remaining_days"] == 5
    resumed = event(client, province["market"], application_id, "resume").get_json()
    assert resumed["deadline"] == working_days_after(today, 5).isoformat()
    postponed = event(client, province["market"], application_id, "postpone", reason="专家评审", days=3).get_json()
    assert postponed["deadline"] == working_days_after(working_days_after(today, 5), 3).isoformat()
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["portal"]).get_json()
    assert [line["type"] for line in seen["timeline"]] == [
        "submit",
        "complete",
        "accept",
        "suspend",
        "resume",
        "postpone",
    ]
    assert (
        seen["notifications"][-1]["reason"] == "专家评审" and seen["notifications"][-1]["deadline"] == seen["deadline"]
    )


def test_a_case_suspended_on_one_day_and_resumed_on_another_keeps_only_the_days_it_had_left(
    client, province, app, clock
):
    market = province["market"]
    application_id = ready(client, province)
    accepted_on = app.extensions["hub"].today()
    assert accepted_on == date(2026, 6, 15)  # the test clock's start, a Monday
    deadline = event(client, market, application_id, "accept").get_json()["deadline"]
    assert deadline == working_days_after(accepted_on, 5).isoformat() == "2026-06-23"  # 19 June: Dragon Boat

    clock.advance(days=2)  # Wednesday 17 June: two working days used, three left
    suspended_on = accepted_on + timedelta(days=2)
    left = next(n for n in range(6) if working_days_after(suspended_on, n).isoformat() == deadline)
    assert left == 3
    suspended = event(client, market, application_id, "suspend", reason="现场核查", days=10).get_json()
    assert suspended["status"] == "suspended" and suspended["remaining_days"] == left

    clock.advance(days=7)  # Wednesday 24 June: the days stopped do not count
    resumed_on = suspended_on + timedelta(days=7)
    resumed = event(client, market, application_id, "resume").get_json()
    assert resumed["status"] == "accepted" and resumed["remaining_days"] is None
    assert resumed["deadline"] == working_days_after(resumed_on, left).isoformat() == "2026-06-29"
    assert resumed["deadline"] != working_days_after(resumed_on, 5).isoformat()  # not the full five again


def test_an_application_binds_to_the_version_in_force_on_the_day_it_is_made(client, province, registry, clock):
    materials = [
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
        {"code": "lease", "name": "租赁合同", "evidence_type": None, "required": True},
    ]
    amended = {"agency": "market", "produces": "food-business", "committed_days": 8, "materials": materials}
    assert registry.service_item("food-permit", **amended, effective_from="2026-07-01")["version"] == 2

    before = apply(client, province["portal"]).get_json()  # 15 June: version 2 is not in force yet
    assert before["version"] == 1
    assert [m["code"] for m in before["materials"]] == ["plan", "lease", "photo"]

    clock.advance(days=15)  # 30 June: still the day before
    assert apply(client, province["portal"]).get_json()["version"] == 1
    clock.advance(days=1)  # 1 July: version 2 takes effect
    after = ready(client, province)
    case = client.get(f"/api/v1/applications/{after}", headers=province["portal"]).get_json()
    assert case["version"] == 2 and [m["code"] for m in case["materials"]] == ["plan", "lease"]
    accepted = event(client, province["market"], after, "accept").get_json()
    assert accepted["deadline"] == working_days_after(date(2026, 7, 1), 8).isoformat()  # version 2's eight days


def test_transitions_that_do_not_fit_are_409(client, province):
    pending = apply(client, province["portal"]).get_json()["id"]
    assert event(client, province["market"], pending, "accept").status_code == 409  # materials missing
    application_id = ready(client, province)
    for kind, body in (("resume", {}), ("approve", {}), ("postpone", {"reason": "x", "days": 2})):
        assert event(client, province["market"], application_id, kind, **body).status_code == 409, kind
    event(client, province["market"], application_id, "accept")
    assert event(client, province["market"], application_id, "accept").status_code == 409
    assert event(client, province["fire"], application_id, "reject", reason="x").status_code == 403  # not the lead
    rejected = event(client, province["market"], application_id, "reject", reason="不符合条件").get_json()
    assert rejected["status"] == "rejected" and rejected["licence"] is None
    public = client.get("/api/v1/service-items/food-permit/outcomes").get_json()["items"]  # no token needed
    assert [(o["outcome"], o["applicant_name_masked"]) for o in public] == [("rejected", "西****馆")]
    assert HOLDER["name"] not in str(public) and "id" not in public[0]
    assert event(client, province["market"], application_id, "resume").status_code == 409


def test_joint_processing_and_approval_with_a_licence(client, province):
    application_id = ready(client, province, item="joint-permit")
    accepted = event(client, province["market"], application_id, "accept").get_json()
    assert [task["agency"] for task in accepted["tasks"]] == ["fire"]
    assert event(client, province["market"], application_id, "approve").status_code == 409  # fire has not approved
    task = client.post(
        f"/api/v1/applications/{application_id}/tasks/fire",
        json={"outcome": "approve", "opinion": "消防安全检查合格"},
        headers=province["fire"],
    )
    assert task.status_code == 200 and task.get_json()["tasks"][0]["status"] == "approved"
    # Art. 10: a co-agency may change its opinion until the lead decides, and the lead sees each one.
    changed = client.post(
        f"/api/v1/applications/{application_id}/tasks/fire",
        json={"outcome": "reject", "opinion": "疏散通道不足"},
        headers=province["fire"],
    )
    assert changed.status_code == 200 and changed.get_json()["tasks"][0]["opinion"] == "疏散通道不足"
    assert changed.get_json()["timeline"][-1]["type"] == "task.reject.changed"
    assert event(client, province["market"], application_id, "approve").status_code == 409  # fire says no now
    again = {"outcome": "approve", "opinion": "整改后合格"}
    task_url = f"/api/v1/applications/{application_id}/tasks/fire"
    changed_back = client.post(task_url, json=again, headers=province["fire"])
    assert changed_back.status_code == 200
    before = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"]
    approved = event(client, province["market"], application_id, "approve").get_json()
    assert approved["status"] == "approved" and approved["licence"]
    late = client.post(task_url, json=again, headers=province["fire"])
    assert late.status_code == 409  # the lead has decided
    licence = client.get(f"/api/v1/licences/{approved['licence']}", headers=province["market"]).get_json()
    assert licence["holder"]["name"] == HOLDER["name"] and licence["fields"] == {"premises": "西湖边 1 号"}
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["fire"]).get_json()
    assert seen["licence"] == approved["licence"]  # one answer, seen by every agency involved
    outcome = client.get("/api/v1/service-items/joint-permit/outcomes").get_json()["items"][0]
    assert outcome["outcome"] == "approved" and outcome["licence"] == approved["licence"]
    audit = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    # the approval and the filing of the case's archive in the lead agency's chain, the licence's issue
    # in its type's chain: all verified
    assert audit["intact"] is True and audit["entries"] == before + 3


def test_request_materials_names_everything_at_once_and_stops_the_clock(client, province, app):
    application_id = ready(client, province)
    event(client, province["market"], application_id, "accept")
    asked = event(
        client,
        province["market"],
        application_id,
        "request_materials",
        reason="补正材料",
        materials=[{"code": "photo"}, {"code": "fire-check", "name": "消防检查意见"}],
    ).get_json()
    assert asked["status"] == "pending_materials" and asked["notice"]["missing"] == ["photo", "fire-check"]
    assert asked["deadline"] is None and asked["remaining_days"] == 5
    upload(client, province["portal"], application_id, "photo", PNG)
    back = upload(client, province["portal"], application_id, "fire-check").get_json()
    today = app.extensions["hub"].today()
    assert back["status"] == "accepted" and back["deadline"] == working_days_after(today, 5).isoformat()


def test_due_cases_are_listed_per_agency_soonest_first(client, province, app):
    ids = [ready(client, province) for _ in range(3)]
    for application_id in ids:
        event(client, province["market"], application_id, "accept")
    event(client, province["market"], ids[1], "postpone", reason="延期", days=10)
    far = (app.extensions["hub"].today() + timedelta(days=60)).isoformat()
    page = client.get(f"/api/v1/applications?due_before={far}&limit=2", headers=province["market"]).get_json()
    # the two due on the same day first (between them, Redis orders by id), then the postponed one
    assert {item["id"] for item in page["items"]} == {ids[0], ids[2]} and page["next"]
    rest = client.get(
        f"/api/v1/applications?due_before={far}&limit=2&cursor={page['next']}", headers=province["market"]
    ).get_json()
    assert [item["id"] for item in rest["items"]] == [ids[1]] and rest["next"] is None
    assert client.get("/api/v1/applications", headers=province["market"]).status_code == 422
    soon = app.extensions["hub"].today().isoformat()
    assert client.get(f"/api/v1/applications?due_before={soon}", headers=province["market"]).get_json()["items"] == []
    assert client.get(f"/api/v1/applications?due_before={far}", headers=province["fire"]).get_json()["items"] == []


def test_submitted_cases_wait_in_the_lead_agencys_inbox(client, province):
    pending = apply(client, province["portal"]).get_json()["id"]
    first, second = ready(client, province), ready(client, province)
    inbox = client.get("/api/v1/applications?status=submitted", headers=province["market"]).get_json()
    assert [item["id"] for item in inbox["items"]] == [first, second]  # oldest first; not the incomplete one
    assert pending not in [item["id"] for item in inbox["items"]]
    event(client, province["market"], first, "accept")
    inbox = client.get("/api/v1/applications?status=submitted", headers=province["market"]).get_json()
    assert [item["id"] for item in inbox["items"]] == [second]
    assert client.get("/api/v1/applications?status=submitted", headers=province["fire"]).get_json()["items"] == []


def test_who_may_read_an_application(client, province, registry):
    application_id = ready(client, province)
    registry.agency("other", region="330100")
    assert (
        client.get(f"/api/v1/applications/{application_id}", headers=registry.token("other", "agency")).status_code
        == 403
    )
    assert client.get(f"/api/v1/applications/{application_id}", headers=OPERATOR).status_code == 200
    assert client.get("/api/v1/applications/app.market.nonexistent00000000", headers=OPERATOR).status_code == 404
    assert client.get("/api/v1/applications/garbage", headers=OPERATOR).status_code == 404


def test_the_clock_skips_weekends_and_holidays_and_counts_make_up_days(client, province, app):
    today = app.extensions["hub"].today()
    weekdays = [today + timedelta(days=n) for n in range(1, 15) if (today + timedelta(days=n)).weekday() < 5]
    holidays = weekdays[:2]  # the next two weekdays are public holidays
    saturday = next(today + timedelta(days=n) for n in range(1, 8) if (today + timedelta(days=n)).weekday() == 5)
    for year in sorted({today.year, (today + timedelta(days=30)).year}):
        body = {
            "holidays": [d.isoformat() for d in holidays if d.year == year],
            "working_days": [d.isoformat() for d in (saturday,) if d.year == year],  # a make-up working Saturday
        }
        assert client.put(f"/api/v1/calendar/{year}", json=body, headers=OPERATOR).status_code == 200

    def is_working(day: date) -> bool:
        return day == saturday or (day.weekday() < 5 and day not in holidays)

    expected, left = today, 5
    while left:
        expected += timedelta(days=1)
        left -= is_working(expected)
    application_id = ready(client, province)
    accepted = event(client, province["market"], application_id, "accept").get_json()
    assert accepted["deadline"] == expected.isoformat()
    event(client, province["market"], application_id, "suspend", reason="等待检测报告", days=10)
    resumed = event(client, province["market"], application_id, "resume").get_json()
    assert resumed["deadline"] == expected.isoformat()  # suspended and resumed the same day: nothing lost


def test_a_refused_upload_leaves_no_byte_in_the_store(client, registry, province, store):
    """Issue 16, finding 6: uploads are authorised before anything is stored."""
    registry.agency("other-hall", region="330100", name="另一个政务服务中心")
    other_portal = registry.token("other-hall", "portal")

    def refused(token, application_id, material, status):
        content = PNG + secrets.token_bytes(16)  # bytes no other upload has
        response = upload(client, token, application_id, material, content)
        assert response.status_code == status, response.get_json()
        assert store.document(hashlib.sha256(content).hexdigest()) is None  # nothing in the blob store either

    refused(province["portal"], "app.market.00000000000000000000", "plan", 404)  # no such case
    case = apply(client, province["portal"]).get_json()
    refused(other_portal, case["id"], "plan", 403)  # another portal's case
    refused(province["portal"], case["id"], "nothing-like-it", 422)  # no such material
    ready_id = ready(client, province)  # everything required uploaded: no required upload now
    refused(province["portal"], ready_id, "plan", 409)


class ChunkedOnly(io.BytesIO):
    """A real upload's bytes that refuse to be read whole: every read must ask for a bounded chunk."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and 0 < size <= 1 << 20, f"read({size}): the upload was read whole"
        return super().read(size)


def test_an_upload_is_read_in_chunks_and_stored_whole(client, province, app, store):
    case = apply(client, province["portal"]).get_json()
    content = b"%PDF-1.7\n" + secrets.token_bytes(3 * 1024 * 1024)  # 3 MiB of scan
    state = app.extensions["hub"]
    record = applications.add_material(
        state, Context.system("test"), "hall", case["id"], "plan", ChunkedOnly(content), "zh"
    )
    stored = next(m["file"] for m in record["materials"] if m["code"] == "plan")
    assert stored["size"] == len(content) and stored["sha256"] == hashlib.sha256(content).hexdigest()
    assert store.document(stored["sha256"]) == content


def test_the_same_upload_sent_again_is_answered_as_kept_not_refused(client, province):
    """A retry of an upload whose answer was lost (the case moved on as it was kept) is not a conflict."""
    case = apply(client, province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan")
    done = upload(client, province["portal"], case["id"], "lease", PNG)
    assert done.get_json()["status"] == "submitted"
    again = upload(client, province["portal"], case["id"], "lease", PNG)
    assert again.status_code == 201 and again.get_json()["status"] == "submitted"
    other = upload(client, province["portal"], case["id"], "lease", PNG + b"\x00")
    assert other.status_code == 409  # another file for it is still refused
