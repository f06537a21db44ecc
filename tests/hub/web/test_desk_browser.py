"""The caseworker's desk in headless Chromium (issue 18, "Done when"): a joint case worked from submission to
approval by the lead in Chinese and by the co-agency and the data's owner in English, through the pages alone:
acceptance, a file opened inline, a postponement refused past the limit and one within it, a suspension whose end
restarts the clock by itself, a discrepancy corrected by the data's owner, a co-agency opinion changed, and the
approval with a sealed licence and a sealed acceptance notice.

The hub is the test's own app (its clock set by the test) served on 127.0.0.1 in a thread, so the days a
suspension lasts can pass."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from browser_support import PHONE, no_horizontal_scroll, shoot, t
from testbed import OPERATOR, free_port
from werkzeug.serving import make_server

from hub.context import Context
from hub.demo.agency import StandInAgency
from hub.intake import deadlines

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HOLDER = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
RECORDS = {"premises": {HOLDER["id"]: {"premises-record": {"address": "西湖边 1 号"}}}}


@pytest.fixture
def live(app) -> Iterator[str]:
    """The test's app served on 127.0.0.1 (threads: requests run beside the browser's event loop)."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def housing_register():
    service = StandInAgency(RECORDS).start()
    yield service
    service.stop()


@pytest.fixture
def joint_case(client, registry, housing_register) -> dict:
    """Market leads a joint permit with fire; housing owns the premises record the form is checked against."""
    for code, name in (
        ("market", "杭州市市场监督管理局"),
        ("fire", "杭州市消防救援支队"),
        ("housing", "杭州市住房保障局"),
    ):
        registry.agency(code, region="330100", name=name)
    registry.agency("hall", region="330100", name="杭州市政务服务中心")
    registry.food_licence_type("market")
    registry.evidence_type("premises-record", address={"type": "string"})
    connector = {"id": "housing-premises", "agency": "housing", "kind": "rest", "provides": ["premises-record"]}
    registry.post("/api/v1/connectors", connector | {"config": {"url": housing_register.url_for("premises")}})
    assert client.post("/api/v1/connectors/housing-premises/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post("/api/v1/connectors/housing-premises/activation", {"active": True}, status=200)
    materials = [
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
        {"code": "premises", "name": "房屋登记信息", "evidence_type": "premises-record", "required": True},
    ]
    checks = [{"form_field": "premises", "material": "premises", "field": "address"}]
    item = {"agency": "market", "co_agencies": ["fire"], "produces": "food-business", "committed_days": 5}
    registry.service_item("joint-permit", **item, materials=materials, form_checks=checks)
    tokens = {code: registry.token(code, "agency") for code in ("market", "fire", "housing")}
    portal = registry.token("hall", "portal")
    body = {"service_item": "joint-permit", "applicant": HOLDER, "channel": "web", "form": {"premises": "西湖边 2 号"}}
    case = client.post("/api/v1/applications", json=body, headers=portal).get_json()
    assert case["discrepancies"], case  # the form says 2, housing's record 1
    client.post(
        f"/api/v1/applications/{case['id']}/materials",
        data={"material": "plan", "file": (io.BytesIO(PNG), "plan.png")},
        headers=portal,
        content_type="multipart/form-data",
    )
    return {"id": case["id"], "discrepancy": case["discrepancies"][0], "tokens": tokens}


def sign_in(page, live: str, token: dict, lang: str) -> None:
    page.goto(f"{live}/desk/login?lang={lang}")
    page.locator("#token").fill(token["Authorization"].removeprefix("Bearer "))
    page.get_by_role("button", name=t("console_sign_in_button", lang)).click()
    page.wait_for_url(f"{live}/desk")


def act(page, action: str, lang: str, **fields: str) -> None:
    form = page.locator(f'form[data-action="{action}"]')
    for name, value in fields.items():
        form.locator(f'[name="{name}"]').fill(value)
    form.locator("button").click()
    page.wait_for_load_state()


def test_a_joint_case_is_worked_at_the_desk_from_submission_to_a_sealed_licence(
    live, joint_case, open_page, app, clock, client, housing_register
):
    state, case_id = app.extensions["hub"], joint_case["id"]
    market, _ = open_page(locale="zh-CN", viewport=PHONE)
    sign_in(market, live, joint_case["tokens"]["market"], "zh")
    assert market.locator('[data-count="to-accept"]').inner_text() == "1"
    no_horizontal_scroll(market)
    market.locator(f'[data-case="{case_id}"] a').click()
    act(market, "accept", "zh")
    assert market.locator('[data-status="accepted"]').count() and market.locator('[data-document="acceptance"]').count()

    with market.expect_popup() as popup:  # the upload opens inline, beside the case
        market.locator('[data-file="plan"]').click()
    assert popup.value.url.endswith(f"/desk/cases/{case_id}/files/plan")

    latest = market.locator('[data-fact="latest"]').inner_text()
    act(market, "postpone", "zh", reason="专家评审", days="30")
    assert latest in market.locator("[data-error]").inner_text()  # refused, naming the limit
    act(market, "postpone", "zh", reason="专家评审", days="3")
    assert market.locator(".flash-ok").count()

    until = state.today() + timedelta(days=3)
    act(market, "suspend", "zh", reason="现场核查", until=until.isoformat())
    assert market.locator('[data-status="suspended"]').count() and until.isoformat() in market.content()
    shoot(market, "desk-case-suspended-zh")
    clock.advance(days=4)
    deadlines.sweep_agency(state, Context.system("schedule"), "market", state.today())  # the scheduled sweep
    market.reload()
    assert market.locator('[data-status="accepted"]').count()
    assert market.locator('[data-event="resume"]').count()  # restarted by itself at the end

    owner, _ = open_page(locale="en-US")
    sign_in(owner, live, joint_case["tokens"]["housing"], "en")
    owner.locator('[data-queue="discrepancies"]').click()
    owner.locator(f'[data-discrepancy="{joint_case["discrepancy"]}"] a').click()
    assert owner.locator("[data-platform-value]").inner_text() == "西湖边 1 号"
    housing_register.records["premises"][HOLDER["id"]]["premises-record"]["address"] = "西湖边 2 号"
    owner.get_by_role("button", name=t("desk_settle", "en")).click()
    owner.wait_for_load_state()
    assert owner.locator(".flash-ok").inner_text() == t("desk_settled", "en")

    fire, _ = open_page(locale="en-US")
    sign_in(fire, live, joint_case["tokens"]["fire"], "en")
    fire.locator('[data-queue="tasks"]').click()
    fire.locator(f'[data-case="{case_id}"] a').click()
    for outcome, opinion in (("reject", "Exits too narrow"), ("approve", "Fixed: approved")):
        form = fire.locator('form[data-action="task"]')
        form.locator(f'input[value="{outcome}"]').check()
        form.locator("textarea").fill(opinion)
        form.locator("button").click()
        fire.wait_for_load_state()
    assert fire.locator('[data-task="fire"] [data-opinion]').inner_text() == "Fixed: approved"
    assert fire.locator('[data-event="task.reject.changed"]').count() == 0  # the first opinion was a first
    assert fire.locator('[data-event="task.approve.changed"]').count() == 1

    market.reload()
    assert market.locator("[data-value]").first.inner_text().endswith("西湖边 2 号")  # the corrected value
    act(market, "approve", "zh")
    assert market.locator('[data-status="approved"]').count()
    shoot(market, "desk-case-approved-zh")
    record = client.get(f"/api/v1/applications/{case_id}", headers=joint_case["tokens"]["market"]).get_json()
    pdf = client.get(f"/api/v1/licences/{record['licence']}/pdf", headers=joint_case["tokens"]["market"]).get_data()
    notice = client.get(
        f"/api/v1/applications/{case_id}/documents/{record['documents'][0]['reference']}",
        headers=joint_case["tokens"]["market"],
    ).get_data()
    for sealed in (pdf, notice):
        files = {"file": (io.BytesIO(sealed), "sealed.pdf")}
        verdict = client.post("/api/v1/verifications", data=files, content_type="multipart/form-data").get_json()
        assert verdict["verdict"] == "valid", verdict
