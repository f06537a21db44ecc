"""Bearer tokens: 401 and 403 as problems, roles, secrets stored only as hashes, revocation."""

from __future__ import annotations

import hashlib

import pytest
from testbed import ADMIN_TOKEN, OPERATOR

from hub.context import Context
from hub.errors import Invalid, NotFound
from hub.registry import tokens as auth


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Bearer not-a-real-token", "bearer" + ADMIN_TOKEN],
)
def test_missing_or_invalid_token_is_401(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/api/v1/agencies", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_scheme_is_case_insensitive(client):
    assert client.get("/api/v1/agencies", headers={"Authorization": "bearer " + ADMIN_TOKEN}).status_code == 200


def test_agency_token_cannot_write_the_registry(client, registry):
    registry.agency("market")
    agency = registry.token("market", "agency")
    response = client.post("/api/v1/agencies", json={"code": "x", "name": "X", "region": "440000"}, headers=agency)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert "operator" in response.get_json()["detail"]
    assert client.get("/api/v1/agencies/x", headers=OPERATOR).status_code == 404


def test_agency_and_portal_tokens_read_the_catalogue_but_not_connectors(client, registry):
    registry.agency("market")
    for role in ("agency", "portal"):
        headers = registry.token("market", role)
        assert client.get("/api/v1/agencies", headers=headers).status_code == 200
        assert client.get("/api/v1/service-items", headers=headers).status_code == 200
        assert client.get("/api/v1/connectors", headers=headers).status_code == 403
        assert client.get("/api/v1/audit/verify", headers=headers).status_code == 403


def test_token_is_shown_once_and_stored_only_as_hash(client, registry, store):
    registry.agency("market")
    created = registry.post("/api/v1/agencies/market/tokens", {"roles": ["agency", "portal"]})
    secret = created["token"]
    assert created["roles"] == ["agency", "portal"] and created["agency"] == "market"
    raw = store.raw_client_for_tests()
    everything = b"".join(k + (raw.dump(k) or b"") for k in raw.scan_iter("*"))
    assert secret.encode() not in everything
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in everything
    listed = client.get("/api/v1/agencies/market/tokens", headers=OPERATOR).get_json()["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    assert client.get("/api/v1/agencies", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_revoked_token_is_refused(client, registry):
    registry.agency("market")
    created = registry.post("/api/v1/agencies/market/tokens", {"roles": ["agency"]})
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/agencies", headers=headers).status_code == 200
    revoke = client.delete(f"/api/v1/agencies/market/tokens/{created['id']}", headers=OPERATOR)
    assert revoke.status_code == 204
    assert client.get("/api/v1/agencies", headers=headers).status_code == 401
    again = client.delete(f"/api/v1/agencies/market/tokens/{created['id']}", headers=OPERATOR)
    assert again.status_code == 404


@pytest.mark.parametrize("roles", [["operator"], [], ["root"], ["agency", "operator"]])
def test_agency_tokens_take_agency_roles_only(client, registry, roles):
    registry.agency("market")
    response = client.post("/api/v1/agencies/market/tokens", json={"roles": roles}, headers=OPERATOR)
    assert response.status_code == 422
    assert "roles" in response.get_json()["errors"]


def test_token_for_unknown_agency_is_404(client):
    response = client.post("/api/v1/agencies/ghost/tokens", json={"roles": ["agency"]}, headers=OPERATOR)
    assert response.status_code == 404


def test_admin_token_seeding_is_idempotent(store):
    assert auth.ensure_operator_token(store, ADMIN_TOKEN) is False
    assert len(auth.list_tokens(store, None)) == 1
    assert auth.ensure_operator_token(store, "another-operator-secret-123") is True
    assert len(auth.list_tokens(store, None)) == 2


def test_short_admin_token_is_refused(store):
    with pytest.raises(Invalid):
        auth.ensure_operator_token(store, "short")


def test_service_level_errors(store):
    with pytest.raises(NotFound):
        auth.revoke_token(store, Context.system("test"), "ghost", "nope")
    with pytest.raises(Invalid):
        auth.create_token(store, Context.system("test"), None, ["agency"])
