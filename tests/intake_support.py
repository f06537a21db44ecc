"""A small province for intake tests (three agencies, a licence type, three service items) and the
calls a portal and the agencies make through a case; shared by the intake and archive tests."""

from __future__ import annotations

import io
from datetime import date, timedelta

import chinese_calendar
import pytest

HOLDER = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def working_days_after(start: date, days: int) -> date:
    """An oracle independent of the hub: count chinese_calendar's working days one by one."""
    day = start
    while days:
        day += timedelta(days=1)
        days -= chinese_calendar.is_workday(day)
    return day


@pytest.fixture
def province(registry, client):
    return build_province(registry)


def build_province(registry, licence_formats: tuple[str, ...] = ("pdf",)) -> dict[str, dict[str, str]]:
    """The province's agencies, licence type (issued as ``licence_formats``) and service items; the tokens of the
    hall's portal and of the agencies."""
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency("fire", region="330100", name="杭州市消防救援支队")
    registry.agency("hall", region="330100", name="杭州市政务服务中心")
    registry.food_licence_type("market", licence_formats)
    materials = [
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
        {"code": "lease", "name": "租赁合同", "evidence_type": None, "required": True},
        {"code": "photo", "name": "门头照片", "evidence_type": None, "required": False},
    ]
    common = {"agency": "market", "produces": "food-business", "committed_days": 5, "materials": materials}
    registry.service_item("food-permit", **common)
    registry.service_item("joint-permit", **{**common, "co_agencies": ["fire"]})
    registry.service_item("counter-only", **{**common, "in_person_required": True})
    return {
        "portal": registry.token("hall", "portal"),
        "market": registry.token("market", "agency"),
        "fire": registry.token("fire", "agency"),
    }


def apply(client, portal, item="food-permit", **extra):
    body = {"service_item": item, "applicant": HOLDER, "channel": "web", "form": {"premises": "西湖边 1 号"}}
    return client.post("/api/v1/applications", json={**body, **extra}, headers=portal)


def upload(client, portal, application_id, material, content=PDF):
    return client.post(
        f"/api/v1/applications/{application_id}/materials",
        data={"material": material, "file": (io.BytesIO(content), "f")},
        headers=portal,
        content_type="multipart/form-data",
    )


def event(client, token, application_id, kind, **body):
    return client.post(f"/api/v1/applications/{application_id}/events", json={"type": kind, **body}, headers=token)


def ready(client, province, item="food-permit") -> str:
    case = apply(client, province["portal"], item=item).get_json()
    upload(client, province["portal"], case["id"], "plan")
    upload(client, province["portal"], case["id"], "lease")
    return case["id"]


def conclude(client, province, item="food-permit", outcome="approve") -> str:
    """A case taken from application to decision (with the co-agency's part on a joint item)."""
    application_id = ready(client, province, item=item)
    event(client, province["market"], application_id, "accept")
    if item == "joint-permit":
        task = {"outcome": "approve", "opinion": "消防检查合格"}
        client.post(f"/api/v1/applications/{application_id}/tasks/fire", json=task, headers=province["fire"])
    body = {"reason": "材料不符合要求"} if outcome == "reject" else {}
    decided = event(client, province["market"], application_id, outcome, **body)
    assert decided.status_code == 200, decided.get_json()
    return application_id
