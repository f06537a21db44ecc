"""Problem details on every kind of bad request, request ids, paging and Idempotency-Key."""

from __future__ import annotations

import logging

import pytest
from testbed import OPERATOR

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_malformed_json_is_400_problem(client):
    response = client.post("/api/v1/agencies", data="{not json", content_type="application/json", headers=OPERATOR)
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_wrong_content_type_is_415_problem(client):
    response = client.post("/api/v1/agencies", data="code=x", content_type="text/plain", headers=OPERATOR)
    body = assert_problem(response, 415)
    assert "application/json" in body["detail"]


def test_form_body_on_json_route_is_415(client):
    response = client.post("/api/v1/agencies", data={"code": "x"}, headers=OPERATOR)
    assert_problem(response, 415)


def test_unknown_route_is_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_unknown_method_is_405_problem_with_allow(client):
    response = client.put("/api/v1/agencies", json={}, headers=OPERATOR)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_oversized_body_is_413_problem(client, app):
    limit = app.extensions["hub"].settings.max_body_bytes
    body = '{"code": "x", "name": "' + "a" * limit + '", "region": "440000"}'
    response = client.post("/api/v1/agencies", data=body, content_type="application/json", headers=OPERATOR)
    assert_problem(response, 413)


def test_validation_errors_are_listed_by_field(client):
    response = client.post("/api/v1/agencies", json={"code": "bad code!", "extra": 1}, headers=OPERATOR)
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"code", "name", "region", "extra"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_body_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/agencies", json=["a", "b"], headers=OPERATOR)
    assert_problem(response, 422)


def test_unexpected_exception_is_500_without_internals(app, settings, caplog):
    from hub import create_app

    exploding = create_app(settings=settings)

    @exploding.route("/api/v1/test-explode")
    def explode():
        raise RuntimeError("secret internal detail /etc/passwd")

    client = exploding.test_client()
    with caplog.at_level(logging.ERROR, logger="hub.http.problems"):
        response = client.get("/api/v1/test-explode", headers={"X-Request-ID": "trace-abc-123"})
    body = assert_problem(response, 500)
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "trace-abc-123" in body["detail"]
    logged = [r for r in caplog.records if r.getMessage() == "unhandled exception"]
    assert logged and logged[0].request_id == "trace-abc-123"
    assert "secret internal detail" in str(logged[0].exc_info[1])


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123-def"})
    assert given.headers["X-Request-ID"] == "abc-123-def"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert len(made.headers["X-Request-ID"]) == 32


def test_security_headers(client):
    response = client.get("/api/v1/agencies", headers=OPERATOR)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_cursor_paging_walks_every_record_once(client, registry):
    codes = [f"agency-{n:02d}" for n in range(23)]
    for code in reversed(codes):
        registry.agency(code)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/agencies", query_string=query, headers=OPERATOR).get_json()
        seen += [item["code"] for item in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == codes
    assert pages == 5


def test_full_last_page_has_no_next(client, registry):
    for code in ("a1", "a2"):
        registry.agency(code)
    body = client.get("/api/v1/agencies?limit=2", headers=OPERATOR).get_json()
    assert [i["code"] for i in body["items"]] == ["a1", "a2"]
    assert body["next"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "cursor=%%%", "cursor=" + "a" * 600])
def test_bad_paging_arguments_are_422(client, query):
    assert_problem(client.get("/api/v1/agencies?" + query, headers=OPERATOR), 422)


# -- Idempotency-Key
def test_idempotent_repeat_returns_first_answer_and_creates_nothing(client, store):
    headers = OPERATOR | {"Idempotency-Key": "create-agency-1"}
    body = {"code": "idem", "name": "Idem", "region": "440000"}
    first = client.post("/api/v1/agencies", json=body, headers=headers)
    again = client.post("/api/v1/agencies", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    verify = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    # the operator token seeded, one agency (not two), the PKI's creation and the agency's seal
    assert verify["entries"] == 2 + 2


def test_idempotent_repeat_of_a_new_version_does_not_make_another(client, registry):
    registry.agency("market")
    registry.evidence_type("identity")
    from testbed import service_item_body

    headers = OPERATOR | {"Idempotency-Key": "item-v1"}
    for _ in range(3):
        response = client.post("/api/v1/service-items", json=service_item_body(), headers=headers)
        assert response.status_code == 201
        assert response.get_json()["version"] == 1
    assert client.get("/api/v1/service-items/item-1", headers=OPERATOR).get_json()["version"] == 1


def test_same_key_with_another_body_is_422(client):
    headers = OPERATOR | {"Idempotency-Key": "k-2"}
    client.post("/api/v1/agencies", json={"code": "one", "name": "One", "region": "440000"}, headers=headers)
    response = client.post("/api/v1/agencies", json={"code": "two", "name": "Two", "region": "440000"}, headers=headers)
    body = assert_problem(response, 422)
    assert "Idempotency-Key" in body["errors"]
    assert client.get("/api/v1/agencies/two", headers=OPERATOR).status_code == 404


def test_failed_request_releases_its_key(client):
    headers = OPERATOR | {"Idempotency-Key": "k-3"}
    bad = client.post("/api/v1/agencies", json={"code": "x"}, headers=headers)
    assert bad.status_code == 422
    good = client.post("/api/v1/agencies", json={"code": "x", "name": "X", "region": "440000"}, headers=headers)
    assert good.status_code == 201


def test_keys_are_per_caller(client, registry, store):
    """Two operators, each allowed to issue tokens, send the same request under the same Idempotency-Key:
    the second is a request of its own (a token of its own, with its secret), not a replay of the first's."""
    from hub.registry import tokens as auth

    second_secret = "second-operator-secret-9876543210"
    auth.ensure_operator_token(store, second_secret)
    second_operator = {"Authorization": f"Bearer {second_secret}"}
    registry.agency("a")

    def issue(caller: dict):
        headers = caller | {"Idempotency-Key": "shared-key"}
        return client.post("/api/v1/agencies/a/tokens", json={"roles": ["agency"]}, headers=headers)

    first, second = issue(OPERATOR), issue(second_operator)
    assert first.status_code == second.status_code == 201, second.get_json()
    assert "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first.get_json()["id"]
    assert second.get_json()["token"] != first.get_json()["token"]  # a secret of its own: a replay never has one
    issued = client.get("/api/v1/agencies/a/tokens", headers=OPERATOR).get_json()["items"]
    assert sorted(t["id"] for t in issued) == sorted([first.get_json()["id"], second.get_json()["id"]])
    again = issue(second_operator)  # each caller's own repeat is still a replay, of its own answer
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == second.get_json()["id"]


def test_token_replay_never_returns_the_secret_again(client, registry, store):
    registry.agency("a")
    headers = OPERATOR | {"Idempotency-Key": "token-1"}
    first = client.post("/api/v1/agencies/a/tokens", json={"roles": ["agency"]}, headers=headers)
    again = client.post("/api/v1/agencies/a/tokens", json={"roles": ["agency"]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert "token" in first.get_json()
    assert "token" not in again.get_json()
    assert again.get_json()["id"] == first.get_json()["id"]
    dump = b"".join(
        (store.raw_client_for_tests().dump(key) or b"") for key in store.raw_client_for_tests().scan_iter("*")
    )
    assert first.get_json()["token"].encode() not in dump


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_malformed_idempotency_key_is_422(client, key):
    headers = OPERATOR | {"Idempotency-Key": key}
    response = client.post("/api/v1/agencies", json={"code": "a", "name": "A", "region": "440000"}, headers=headers)
    assert_problem(response, 422)
