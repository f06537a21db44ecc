"""Once-only resolution against real stand-in agency services on 127.0.0.1."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time

import pytest
from cryptography import x509
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from testbed import OPERATOR

from hub.audit import log as audit
from hub.demo.agency import StandInAgency
from hub.store import keys

RESIDENT = "440106199001011235"
SUBJECT = {"id_type": "resident-id", "id": RESIDENT}
RECORDS = {
    "identity": {RESIDENT: {"identity": {"name": "李伟", "id_number": RESIDENT, "address": "体育西路 1 号"}}},
    "marriage": {RESIDENT: {"marriage": {"status": "已婚"}}},
    "health": {},
}


@pytest.fixture
def agency_service():
    service = StandInAgency(RECORDS).start()
    yield service
    service.stop()


def connector(registry, client, connector_id, agency, provides, url, timeout_ms=2000, activate=True):
    body = {"id": connector_id, "agency": agency, "kind": "rest", "provides": provides, "config": {"url": url}}
    registry.post("/api/v1/connectors", body | {"timeout_ms": timeout_ms})
    if activate:
        assert client.post(f"/api/v1/connectors/{connector_id}/test", json={}, headers=OPERATOR).get_json()["ok"]
        response = client.post(f"/api/v1/connectors/{connector_id}/activation", json={"active": True}, headers=OPERATOR)
        assert response.status_code == 200 and response.get_json()["active"] is True


@pytest.fixture
def province(registry, client, agency_service):
    for code in ("market", "health", "police", "civil", "stats"):
        registry.agency(code)
    registry.evidence_type(
        "identity", name={"type": "string"}, id_number={"type": "string"}, address={"type": "string"}
    )
    registry.evidence_type("marriage", status={"type": "string", "required": True})
    registry.evidence_type("health-cert", holder={"type": "string"}, valid_until={"type": "date"})
    registry.service_item(
        "food",
        agency="market",
        co_agencies=["health"],
        materials=[
            {"code": "id", "name": "身份证明", "evidence_type": "identity", "required": True},
            {"code": "marriage", "name": "婚姻状况", "evidence_type": "marriage", "required": True},
            {"code": "cert", "name": "健康证明", "evidence_type": "health-cert", "required": True},
            {"code": "plan", "name": "平面图", "evidence_type": None, "required": True},
            {"code": "photo", "name": "照片", "evidence_type": None, "required": False},
        ],
    )
    connector(registry, client, "police-id", "police", ["identity"], agency_service.url_for("identity"))
    connector(registry, client, "civil-marriage", "civil", ["marriage"], agency_service.url_for("marriage"))
    connector(registry, client, "health-certs", "health", ["health-cert"], agency_service.url_for("health"))
    return {
        "market": registry.token("market", "agency"),
        "health": registry.token("health", "agency"),
        "case": apply_for(client, registry),
    }


def apply_for(client, registry, item="food", subject=SUBJECT):
    """A case to read for: an application submitted through a portal (it makes the case's first read)."""
    return registry.case(item, subject | {"name": "李伟"})


@pytest.fixture
def resolve(client, province):
    """Resolve for a case (the province's food case unless told), as the agency whose headers are given."""

    def resolve(headers, item="food", subject=SUBJECT, language="zh", application=None):
        body = {"service_item": item, "subject": subject, "application": application or province["case"]}
        return client.post("/api/v1/resolutions", json=body, headers=headers | {"Accept-Language": language})

    return resolve


def by_code(answer):
    return {m["code"]: m for m in answer["materials"]}


def test_resolved_missing_and_the_one_time_notice(client, province, resolve):
    response = resolve(province["market"])
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    materials = by_code(answer)
    assert materials["id"]["status"] == "resolved"
    assert materials["id"]["data"] == {"name": "李伟", "id_number": RESIDENT, "address": "体育西路 1 号"}
    assert materials["id"]["source"] == {"agency": "police", "connector": "police-id", "cached": False}
    assert materials["marriage"]["status"] == "resolved"
    assert materials["cert"]["status"] == "missing" and materials["cert"]["data"] is None
    assert materials["plan"]["status"] == "missing" and materials["plan"]["source"] is None
    assert answer["notice"]["missing"] == ["cert", "plan"]  # at one time; the optional photo is not demanded
    assert "健康证明" in answer["notice"]["text"] and "平面图" in answer["notice"]["text"]
    assert answer["notice"]["unavailable"] == []
    english = resolve(province["market"], language="en").get_json()
    assert english["notice"]["text"].startswith("Please provide these materials, all at once")


def test_failing_and_slow_sources_are_unavailable_within_the_deadline(client, app, province, agency_service, resolve):
    agency_service.behaviour["identity"] = {"status": 500}
    agency_service.behaviour["marriage"] = {"delay_s": 3}
    state = app.extensions["hub"]
    original = state.settings
    state.settings = dataclasses.replace(original, resolution_deadline_ms=800)
    try:
        started = time.monotonic()
        answer = resolve(province["market"]).get_json()
        elapsed = time.monotonic() - started
    finally:
        state.settings = original
        agency_service.behaviour.clear()
    materials = by_code(answer)
    assert materials["id"]["status"] == "unavailable"
    assert materials["marriage"]["status"] == "unavailable"
    assert answer["notice"]["unavailable"] == ["id", "marriage"]
    assert "id" not in answer["notice"]["missing"]  # the applicant is not asked for what a source may supply
    assert elapsed < 2.5  # the overall deadline, not the slow source, bounds the answer


def test_first_good_answer_wins(client, registry, province, agency_service, resolve):
    slow = StandInAgency(RECORDS).start()
    slow.behaviour["identity"] = {"delay_s": 1.5}
    try:
        connector(registry, client, "slow-id", "police", ["identity"], slow.url_for("identity"))
        started = time.monotonic()
        answer = resolve(province["market"]).get_json()
        assert time.monotonic() - started < 1.4
    finally:
        slow.stop()
    assert by_code(answer)["id"]["source"]["connector"] == "police-id"


def test_inactive_connectors_are_not_asked(client, registry, province, agency_service, resolve):
    response = client.post("/api/v1/connectors/police-id/activation", json={"active": False}, headers=OPERATOR)
    assert response.status_code == 200
    agency_service.calls.clear()
    answer = resolve(province["market"]).get_json()
    assert by_code(answer)["id"]["status"] == "missing"
    assert "identity" not in agency_service.calls


def test_activation_needs_a_passing_test(client, registry, province):
    registry.post(
        "/api/v1/connectors",
        {
            "id": "dead",
            "agency": "police",
            "kind": "rest",
            "provides": ["identity"],
            "config": {"url": "http://127.0.0.1:9/x/{subject_id}"},
        },
    )
    refused = client.post("/api/v1/connectors/dead/activation", json={"active": True}, headers=OPERATOR)
    assert refused.status_code == 409
    test = client.post("/api/v1/connectors/dead/test", json={}, headers=OPERATOR).get_json()
    assert test["ok"] is False
    assert client.post("/api/v1/connectors/dead/activation", json={"active": True}, headers=OPERATOR).status_code == 409


def test_connector_test_with_a_sample_shows_field_names_only(client, province):
    body = {"evidence_type": "identity", "subject_id_type": "resident-id", "subject_id": RESIDENT}
    result = client.post("/api/v1/connectors/police-id/test", json=body, headers=OPERATOR).get_json()
    assert result["ok"] is True
    assert result["sample"] == {
        "evidence_type": "identity",
        "status": "resolved",
        "fields": ["address", "id_number", "name"],
    }
    assert "李伟" not in str(result)


def test_ssrf_outside_the_allowlist_is_refused(client, registry, province):
    body = {"id": "evil", "agency": "police", "kind": "rest", "provides": ["identity"]}
    for url in ("http://10.0.0.1/x/{subject_id}", "http://169.254.169.254/latest/{subject_id}", "file:///etc/passwd"):
        response = client.post("/api/v1/connectors", json=body | {"config": {"url": url}}, headers=OPERATOR)
        assert response.status_code == 422, url
        assert any(name.startswith("config") for name in response.get_json()["errors"])
    assert client.get("/api/v1/connectors/evil", headers=OPERATOR).status_code == 404


def test_co_agency_may_resolve(province, resolve):
    assert resolve(province["health"]).status_code == 201


def audit_actions(store):
    return [
        fields["action"]
        for partition in audit.known_partitions(store)
        for _, fields in store.stream_entries(keys.audit_stream(partition))
    ]


def test_refused_agency_gets_403_naming_the_evidence_types_and_it_is_audited(client, province, store, resolve):
    forbid = """
    @id("health-no-identity")
    forbid (principal == Agency::"health", action == Action::"read", resource == EvidenceType::"identity");
    """
    assert client.put("/api/v1/policies/narrow", json={"text": forbid}, headers=OPERATOR).status_code == 200
    response = resolve(province["health"])
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["evidence_types"] == ["identity"]
    assert "identity" in problem["detail"]
    log = client.get("/api/v1/access-log", query_string=SUBJECT, headers=OPERATOR).get_json()["items"]
    assert log[0]["outcome"] == "refused" and log[0]["agency"] == "health"
    assert log[0]["application"] == province["case"]
    assert "resolution.refuse" in audit_actions(store)
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True


# -- every read serves a case (issue 16, finding 1)
def test_an_agency_outside_the_case_is_refused_and_the_person_sees_the_attempt(
    client, registry, province, store, agency_service, resolve
):
    agency_service.calls.clear()
    response = resolve(registry.token("stats", "agency"))
    assert response.status_code == 403 and "takes no part" in response.get_json()["detail"]
    assert agency_service.calls == []  # no source was asked
    log = client.get("/api/v1/access-log", query_string=SUBJECT, headers=OPERATOR).get_json()["items"]
    assert log[0] | {"at": None} == {
        "at": None,
        "agency": "stats",
        "application": province["case"],
        "service_item": "food",
        "evidence_types": [],
        "fields": [],
        "outcome": "refused",
        "resolution": None,
    }
    assert "resolution.refuse" in audit_actions(store)


def test_the_subject_must_be_the_case_applicant(client, province, agency_service, resolve):
    someone_else = {"id_type": "resident-id", "id": "440104198512125675"}
    agency_service.calls.clear()
    response = resolve(province["market"], subject=someone_else)
    assert response.status_code == 403 and "no party to" in response.get_json()["detail"]
    assert agency_service.calls == []
    log = client.get("/api/v1/access-log", query_string=someone_else, headers=OPERATOR).get_json()["items"]
    assert [entry["outcome"] for entry in log] == ["refused"]  # the person sees the attempt


def test_an_unknown_case_is_refused(client, province, resolve):
    response = resolve(province["market"], application="app.market.00000000000000000000")
    assert response.status_code == 403 and "no application" in response.get_json()["detail"]
    assert resolve(province["market"], application="no-such-thing").status_code == 403


def test_operator_rules_limit_fields_and_widen_access(client, province, registry, resolve):
    forbid = """
    @id("no-address-for-health")
    forbid (principal == Agency::"health", action == Action::"read_field", resource)
    when { resource.name == "address" };
    """
    assert client.put("/api/v1/policies/no-address", json={"text": forbid}, headers=OPERATOR).status_code == 200
    seen_by_health = by_code(resolve(province["health"]).get_json())["id"]["data"]
    assert set(seen_by_health) == {"name", "id_number"}
    assert set(by_code(resolve(province["market"]).get_json())["id"]["data"]) == {
        "name",
        "id_number",
        "address",
    }
    permit = """
    @id("stats-identity")
    permit (principal == Agency::"stats", action == Action::"read", resource == EvidenceType::"identity")
    when { context.service_item.code == "food" };
    """
    assert client.put("/api/v1/policies/stats", json={"text": permit}, headers=OPERATOR).status_code == 200
    still = resolve(registry.token("stats", "agency"))  # a rule cannot make a bystander part of the case
    assert still.status_code == 403 and "takes no part" in still.get_json()["detail"]


def test_invalid_operator_policy_is_refused_and_changes_nothing(client, province, resolve):
    response = client.put(
        "/api/v1/policies/bad",
        json={"text": "permit (principal, action, resource) when { resource.nope };"},
        headers=OPERATOR,
    )
    assert response.status_code == 422
    names = [p["name"] for p in client.get("/api/v1/policies", headers=OPERATOR).get_json()["items"]]
    assert "bad" not in names
    assert resolve(province["market"]).status_code == 201


def test_access_log_shows_every_use_and_keeps_no_identifier(client, province, store, resolve):
    resolve(province["market"])
    resolve(province["health"])
    log = client.get("/api/v1/access-log", query_string=SUBJECT | {"limit": 1}, headers=OPERATOR).get_json()
    assert log["items"][0]["agency"] == "health" and log["next"]
    older = client.get(
        "/api/v1/access-log", query_string=SUBJECT | {"cursor": log["next"]}, headers=OPERATOR
    ).get_json()
    assert older["items"][0]["agency"] == "market"
    assert older["items"][0]["evidence_types"] == ["identity", "marriage"]
    assert older["items"][0]["service_item"] == "food" and older["items"][0]["outcome"] == "read"
    raw = store.raw_client_for_tests()
    everything = b"".join(key + (raw.dump(key) or b"") for key in raw.scan_iter("*"))
    assert RESIDENT.encode() not in everything


def test_envelope_is_signed_and_verifiable_with_the_published_keys(client, province, resolve):
    answer = resolve(province["market"]).get_json()
    jwks = client.get("/api/v1/resolutions/keys").get_json()
    key = ECKey.import_key(jwks["keys"][0])
    # joserfc caps headers at 512 bytes by default; an x5c chain of two certificates is larger.
    registry = JWSRegistry()
    registry.max_header_length = 8192  # joserfc's default cap (512) is below an x5c chain of two
    token = jws.deserialize_compact(answer["envelope"], key, registry=registry)
    payload = json.loads(token.payload)
    assert payload["resolution"] == answer["id"]
    assert {m["code"]: m["data"] for m in payload["materials"]} == {
        "id": by_code(answer)["id"]["data"],
        "marriage": {"status": "已婚"},
    }
    assert token.headers()["kid"] == jwks["keys"][0]["kid"]
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in token.headers()["x5c"]]
    roots = x509.load_pem_x509_certificates(client.get("/api/v1/pki/roots").data)
    chain[0].verify_directly_issued_by(chain[1])
    chain[1].verify_directly_issued_by(roots[0])
    assert chain[0].public_key() == key.get_op_key("verify")
    tampered = answer["envelope"][:-4] + ("AAAA" if not answer["envelope"].endswith("AAAA") else "BBBB")
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(tampered, key, registry=registry)


def test_resolution_is_audited_in_an_unbroken_chain(client, province, resolve):
    for _ in range(3):
        resolve(province["market"])
    report = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    assert report["intact"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"service_item": "food", "subject": {"id_type": "passport", "id": "x"}}, 422),
        ({"service_item": "food", "subject": {"id_type": "resident-id", "id": "../../etc"}}, 422),
        ({"service_item": "nope", "subject": SUBJECT}, 403),  # not the case's item
        ({"service_item": "food"}, 422),
        ({"service_item": "food", "subject": SUBJECT, "application": None}, 422),  # a read names its case
    ],
)
def test_bad_requests(client, province, body, status):
    body = {"application": province["case"]} | body
    response = client.post("/api/v1/resolutions", json=body, headers=province["market"])
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_operator_and_portal_tokens_cannot_resolve(registry, province, resolve):
    assert resolve(OPERATOR).status_code == 403
    assert resolve(registry.token("market", "portal")).status_code == 403


def test_connector_health_shows_calls_errors_and_circuit(client, province, agency_service, resolve):
    for _ in range(2):  # and the case's own first read: three good calls
        resolve(province["market"])
    agency_service.behaviour["identity"] = {"status": 503}
    try:
        for _ in range(3):  # each resolution tries the failing source twice (one retry)
            resolve(province["market"])
    finally:
        agency_service.behaviour.clear()
    report = client.get("/api/v1/connectors/police-id/health", headers=OPERATOR).get_json()
    assert report["calls"] == 6 and report["errors"] == 3
    assert report["circuit"] == "open"  # five consecutive failed attempts open it
    assert report["p50_ms"] is not None and report["active"] is True and report["last_test"]["ok"] is True
    assert len(report["series"]) == 12 and sum(point["calls"] for point in report["series"]) == 6
    # An open circuit refuses at once: the material is unavailable without a call to the agency.
    agency_service.calls.clear()
    answer = resolve(province["market"]).get_json()
    assert by_code(answer)["id"]["status"] == "unavailable"
    assert "identity" not in agency_service.calls
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'hub_source_call_duration_seconds_count{connector="police-id",outcome="error"}' in metrics
    assert 'hub_source_circuit_open{connector="police-id"} 1.0' in metrics


def test_cache_is_off_for_personal_data_by_default(client, province, agency_service, resolve):
    resolve(province["market"])
    agency_service.calls.clear()
    resolve(province["market"])
    assert agency_service.calls.count("identity") == 1  # asked again


def test_cached_answers_are_reused_within_their_ttl_and_dropped_when_the_source_says_so(
    client, registry, province, store, resolve
):
    records = {"biz": {RESIDENT: {"business": {"name": "李记餐馆"}}}}
    registry_service = StandInAgency(records).start()
    try:
        body = {"code": "business", "name": "Business", "fields": {"name": {"type": "string"}}}
        registry.post("/api/v1/evidence-types", body | {"cache_ttl_seconds": 600, "personal": False})
        url = registry_service.url + "/biz/{subject_id}?type={evidence_type}"
        connector(registry, client, "biz-reg", "police", ["business"], url)
        registry.service_item("shop", materials=[{"code": "biz", "name": "营业执照", "evidence_type": "business"}])
        shop = apply_for(client, registry, item="shop")  # the case's first read asks the source
        assert registry_service.calls.count("biz") == 1
        second = by_code(resolve(province["market"], item="shop", application=shop).get_json())["biz"]
        assert second["data"] == {"name": "李记餐馆"} and second["source"]["cached"] is True
        assert registry_service.calls.count("biz") == 1
        police = registry.token("police", "agency")
        invalidate = {"evidence_type": "business", "subject": SUBJECT}
        path = "/api/v1/evidence-cache/invalidations"
        assert client.post(path, json=invalidate, headers=province["market"]).status_code == 403  # not the source
        assert client.post(path, json=invalidate, headers=police).status_code == 204
        third = by_code(resolve(province["market"], item="shop", application=shop).get_json())["biz"]
        assert third["source"]["cached"] is False and registry_service.calls.count("biz") == 2
    finally:
        registry_service.stop()
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True


CSV_HEADER = "subject_id,holder,valid_until\n"


def upload(client, headers, text: str, connector_id: str = "health-csv"):
    data = {"file": (io.BytesIO(text.encode("utf-8")), "certs.csv", "text/csv")}
    return client.put(f"/api/v1/connectors/{connector_id}/dataset", data=data, headers=headers)


def test_a_csv_dataset_serves_resolution(client, registry, province, resolve):
    client.post("/api/v1/connectors/health-certs/activation", json={"active": False}, headers=OPERATOR)
    body = {"id": "health-csv", "agency": "health", "kind": "csv", "provides": ["health-cert"], "config": {}}
    registry.post("/api/v1/connectors", body)
    uploaded = upload(
        client, province["health"], CSV_HEADER + f"{RESIDENT},李伟,2027-06-30\n440104198512125675,陈静,2026-12-31\n"
    )
    assert uploaded.status_code == 200, uploaded.get_json()
    assert uploaded.get_json()["rows"] == 2
    client.post("/api/v1/connectors/health-csv/test", json={}, headers=OPERATOR)
    client.post("/api/v1/connectors/health-csv/activation", json={"active": True}, headers=OPERATOR)
    cert = by_code(resolve(province["market"]).get_json())["cert"]
    assert cert["status"] == "resolved"
    assert cert["data"] == {"holder": "李伟", "valid_until": "2027-06-30"}
    other = {"id_type": "resident-id", "id": "440101200001010009"}
    case = apply_for(client, registry, subject=other)
    assert (
        by_code(resolve(province["market"], subject=other, application=case).get_json())["cert"]["status"] == "missing"
    )


DATASET_ID, OTHER_DATASET_ID = "440101199001020017", "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name,holder\n1,x\n", "header"),
        (CSV_HEADER + f"{DATASET_ID},x,not-a-date\n", "line 2"),
        (CSV_HEADER + f"{DATASET_ID},,2027-01-01\n{DATASET_ID},y,2027-01-01\n", "line 3"),
        (CSV_HEADER + ",x,2027-01-01\n", "line 2"),
        ("subject_id,holder,valid_until,extra\n1,x,2027-01-01,z\n", "header"),
        (CSV_HEADER + "440101199001020011,x,2027-01-01\n", "line 2"),  # a check character mistyped
        (CSV_HEADER + f"{DATASET_ID},x,2027-01-01\n9,y,2027-01-01\n", "line 3"),  # not a resident ID at all
    ],
)
def test_a_bad_dataset_is_refused_whole(client, registry, province, store, text, where):
    body = {"id": "health-csv", "agency": "health", "kind": "csv", "provides": ["health-cert"], "config": {}}
    registry.post("/api/v1/connectors", body)
    assert upload(client, province["health"], CSV_HEADER + f"{OTHER_DATASET_ID},old,2027-01-01\n").status_code == 200
    response = upload(client, province["health"], text)
    assert response.status_code == 422
    assert where in response.get_json()["errors"]
    assert store.raw_client_for_tests().hlen(keys.dataset_rows("health-csv", "health-cert")) == 1  # the old one stays


def test_only_the_owning_agency_or_operator_uploads(client, registry, province):
    body = {"id": "health-csv", "agency": "health", "kind": "csv", "provides": ["health-cert"], "config": {}}
    registry.post("/api/v1/connectors", body)
    assert upload(client, province["market"], CSV_HEADER).status_code == 403
    assert upload(client, OPERATOR, CSV_HEADER).status_code == 200
    assert upload(client, OPERATOR, CSV_HEADER, connector_id="police-id").status_code == 409
    not_utf8 = {"file": (io.BytesIO("subject_id\n李".encode("gbk")), "x.csv", "text/csv")}
    assert client.put("/api/v1/connectors/health-csv/dataset", data=not_utf8, headers=OPERATOR).status_code == 422


def test_header_credentials_are_sealed_at_rest_and_kept_out_of_the_audit(client, registry, province, store):
    url = "http://127.0.0.1:9/x/{subject_id}"
    body = {"id": "keyed", "agency": "police", "kind": "rest", "provides": ["identity"]}
    registry.post("/api/v1/connectors", body | {"config": {"url": url, "headers": {"X-Api-Key": "s3cr3t-key-123"}}})
    raw = store.raw_client_for_tests()
    everything = b"".join(key + (raw.dump(key) or b"") for key in raw.scan_iter("*"))
    assert b"s3cr3t-key-123" not in everything
    stored = client.get("/api/v1/connectors/keyed", headers=OPERATOR).get_json()
    assert stored["config"]["headers"]["X-Api-Key"].startswith("sealed:v1:")
    state = client.application.extensions["hub"]
    assert state.keyring.decrypt(stored["config"]["headers"]["X-Api-Key"]) == "s3cr3t-key-123"


def test_idempotent_resolution_replays_the_first_answer_without_storing_personal_data_in_clear(
    client, province, store, agency_service
):
    headers = province["market"] | {"Idempotency-Key": "resolve-1"}
    body = {"service_item": "food", "subject": SUBJECT, "application": province["case"]}
    first = client.post("/api/v1/resolutions", json=body, headers=headers)
    agency_service.calls.clear()
    again = client.post("/api/v1/resolutions", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert agency_service.calls == []  # nothing asked again
    raw = store.raw_client_for_tests()
    everything = b"".join(key + (raw.dump(key) or b"") for key in raw.scan_iter("*"))
    assert "体育西路".encode() not in everything and RESIDENT.encode() not in everything


# -- identifiers must fit their type (issue 16, finding 1)
def test_an_identifier_sent_under_another_type_is_refused_before_any_source_is_asked(
    client, province, agency_service, resolve
):
    entries_before = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"]
    calls_before = list(agency_service.calls)
    response = resolve(province["market"], subject={"id_type": "credit-code", "id": RESIDENT})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "subject" in response.get_json()["errors"]
    assert agency_service.calls == calls_before  # no source was asked
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"] == entries_before  # nothing kept
    for subject in ({"id_type": "credit-code", "id": RESIDENT}, SUBJECT):
        log = client.get("/api/v1/access-log", query_string=subject, headers=OPERATOR)
        assert log.status_code == (422 if subject["id_type"] == "credit-code" else 200)
    log = client.get("/api/v1/access-log", query_string=SUBJECT, headers=OPERATOR).get_json()["items"]
    assert [entry["outcome"] for entry in log] == ["read"]  # the case's own read only


def test_a_lower_case_x_is_the_same_person(client, registry, province, resolve):
    typed = {"id_type": "resident-id", "id": "11010519491231002x"}
    canonical = {"id_type": "resident-id", "id": "11010519491231002X"}
    case = apply_for(client, registry, subject=canonical)
    assert resolve(province["market"], subject=typed, application=case).status_code == 201
    log = client.get("/api/v1/access-log", query_string=canonical, headers=OPERATOR).get_json()["items"]
    assert len(log) == 2 and {entry["application"] for entry in log} == {case}
    also = client.get("/api/v1/access-log", query_string=typed, headers=OPERATOR).get_json()["items"]
    assert also == log


def test_a_read_without_its_case_is_refused_before_any_source_is_asked(client, province, agency_service):
    agency_service.calls.clear()
    body = {"service_item": "food", "subject": SUBJECT}
    response = client.post("/api/v1/resolutions", json=body, headers=province["market"])
    assert response.status_code == 422 and "application" in response.get_json()["errors"]
    assert agency_service.calls == []
