"""A small province for the attack tests: two agencies with every kind of token, one of them revoked,
and one record of each kind the API reads, so that requests get past authentication and reach handlers.

Shared by ``tests/hub/attack/``; everything is made through the API, as the operator.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask
from intake_support import PDF
from testbed import ADMIN_TOKEN, OPERATOR

from hub import create_app
from hub.config import Settings
from hub.registry import tokens as auth

CASE_HOLDER = {"id_type": "credit-code", "id": "91330100MA2ATTAC9Q", "name": "攻防测试茶馆"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class Province:
    """Who can call, and what there is to call about."""

    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def fresh_unlimited_app(settings: Settings, **overrides: Any) -> Flask:
    """Empty the test session's store (as the ``app`` fixture does), then a hub on it with rate limits
    off: the attack tests reach handlers, not the limiter (whose 429s the spec documents)."""
    app = create_app(settings=replace(settings, rate_limits=False, **overrides))
    empty(app)
    return app


def empty(app: Flask) -> None:
    """Empty the store under ``app`` and seed the operator token again (what conftest's ``app`` does)."""
    state = app.extensions["hub"]
    state.store.raw_client_for_tests().flushdb()
    shutil.rmtree(state.settings.data_dir / "blobs", ignore_errors=True)
    for cached in ("pki", "seals", "calendars"):  # they lived in the store just emptied
        state.__dict__.pop(cached, None)
    auth.ensure_operator_token(state.store, ADMIN_TOKEN)


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (response.status_code, response.get_data(as_text=True))
    return response.get_json(silent=True)


def build_province(client: Any, registry: Any) -> Province:
    """Agencies ``market`` (issues licences, leads the item) and ``other`` (an unrelated agency), a
    portal ``hall``; tokens for each role, a revoked one; an item, a case, a licence type and a connector."""
    province = Province()
    registry.agency("market", region="330100", name="市场监督管理局")
    registry.agency("other", region="330100", name="另一个局")
    registry.agency("hall", region="330100", name="政务服务中心")
    registry.evidence_type("identity")
    registry.food_licence_type("market")
    materials = [
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
        {"code": "id", "name": "Identity", "evidence_type": "identity", "required": False},
    ]
    item = {"agency": "market", "produces": "food-business", "committed_days": 5, "materials": materials}
    registry.service_item("food-permit", **item)
    province.tokens = {
        "operator": dict(OPERATOR),
        "agency": registry.token("market", "agency"),
        "portal": registry.token("hall", "portal"),
        "other-agency": registry.token("other", "agency"),
        "other-portal": registry.token("other", "portal"),
    }
    revoked = registry.post("/api/v1/agencies/market/tokens", {"roles": ["agency"]})
    _ok(client.delete(f"/api/v1/agencies/market/tokens/{revoked['id']}", headers=OPERATOR), 204)
    province.tokens["revoked"] = bearer(revoked["token"])
    province.tokens["bad"] = bearer("hub_" + "x" * 43)
    connector = {"id": "market-csv", "agency": "market", "kind": "csv", "provides": ["identity"], "config": {}}
    registry.post("/api/v1/connectors", {**connector, "timeout_ms": 1000})
    body = {"service_item": "food-permit", "applicant": CASE_HOLDER, "channel": "web", "form": {"premises": "1 号"}}
    case = _ok(client.post("/api/v1/applications", json=body, headers=province.tokens["portal"]), 201)
    province.ids["application"] = case["id"]
    upload = {"material": "plan", "file": (io.BytesIO(PDF), "plan.pdf")}
    _ok(
        client.post(
            f"/api/v1/applications/{case['id']}/materials",
            data=upload,
            headers=province.tokens["portal"],
            content_type="multipart/form-data",
        )
    )
    return province


__all__ = ["ADMIN_TOKEN", "CASE_HOLDER", "Province", "bearer", "build_province", "empty", "fresh_unlimited_app"]
