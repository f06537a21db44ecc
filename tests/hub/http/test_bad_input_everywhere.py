"""Bad input on every route that takes a body: each answer is a problem, and nothing is written."""

from __future__ import annotations

import pytest
from testbed import OPERATOR

from hub.store import keys
from hub.store.request_counts import KEY_PREFIX as RATE_LIMIT_PREFIX

# They take files or DER (OCSP and time-stamp requests), never JSON.
UPLOAD_ROUTES = {
    "/api/v1/connectors/c1/dataset",
    "/api/v1/verifications",
    "/api/v1/pki/ocsp",
    "/api/v1/pki/tsa",
    "/api/v1/applications/<application_id>/materials",
}
OPTIONAL_BODIES = {  # every field optional: a bare probe, a renewal, a revocation for key compromise now, a checkpoint,
    "/api/v1/connectors/c1/test",  # a withdrawal without a reason
    "/api/v1/applications/<application_id>/withdrawal",
    "/api/v1/pki/seals/<agency>/renewal",
    "/api/v1/pki/seals/<agency>/revocation",
    "/api/v1/pki/seals/<agency>/sm2/renewal",
    "/api/v1/pki/seals/<agency>/sm2/revocation",
    "/api/v1/audit/checkpoints",
}


def body_routes(app) -> list[str]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in {"POST", "PUT", "PATCH"} & rule.methods:
            if rule.rule.startswith("/api/"):
                path = rule.rule.replace("<code>", "market").replace("<connector_id>", "c1").replace("<name>", "p1")
                routes.append((path, method))
    return sorted(routes)


AGENCY_ROUTES = {  # agencies', not the operator's
    "/api/v1/resolutions",
    "/api/v1/licences",
    "/api/v1/signatures",
    "/api/v1/applications/<application_id>/events",
    "/api/v1/applications/<application_id>/tasks/<agency>",
    "/api/v1/discrepancies/<discrepancy_id>",
    "/api/v1/licences/<number>/amendments",
    "/api/v1/licences/<number>/renewals",
    "/api/v1/licences/<number>/reissues",
}
PORTAL_ROUTES = {
    "/api/v1/applications",
    "/api/v1/licences/<number>/grants",
    "/api/v1/grants/<grant_id>/revocation",
    "/api/v1/grants/redemptions",
    "/api/v1/applications/<application_id>/withdrawal",
    "/api/v1/subscriptions",
}  # front-ends'
PUBLIC_CATALOGUE = "/api/v1/service-items"
PUBLIC = (
    "/guide",
    "/resolutions/keys",
    "/verifications",
    "/pki/roots",
    ".crt",
    ".crl",
    "/pki/ocsp",
    "/pki/tsa",
    "/seals/<agency>",
    "/seals/<agency>/history",
    "/seals/<agency>/sm2",
    "/outcomes",
    "/status-lists/<type_code>/<list_number>",
    "/credential-pickups/<code>",
)


@pytest.fixture
def routes(app, registry):
    registry.agency("market")
    agency, portal = registry.token("market", "agency"), registry.token("market", "portal")

    def token_for(path: str) -> dict:
        return agency if path in AGENCY_ROUTES else portal if path in PORTAL_ROUTES else OPERATOR

    return [(path, method, token_for(path)) for path, method in body_routes(app)]


def snapshot(store) -> dict:
    raw = store.raw_client_for_tests()
    # idempotency records and rate-limit counters are written by every request, refused or not
    return {key: raw.dump(key) for key in raw.scan_iter("hub:*") if not key.startswith(b"hub:{idem:")}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{broken", "application/json", 400),
        ("plain words", "text/plain", 415),
        ("<xml/>", "application/xml", 415),
        ("{}", "application/json", 422),
        ("[]", "application/json", 422),
        ('"text"', "application/json", 422),
        ("null", "application/json", 422),
        ('{"unexpected": true}', "application/json", 422),
    ],
)
def test_every_body_route_refuses_bad_input_cleanly(client, store, routes, data, content_type, status):
    assert routes, "no routes with bodies were found"
    before = snapshot(store)
    for route, method, headers in routes:
        if route in OPTIONAL_BODIES and data in ("{}", "null"):
            continue  # an empty body is a valid request there
        response = client.open(route, method=method, data=data, content_type=content_type, headers=headers)
        expected = 415 if route in UPLOAD_ROUTES else status  # they take files, never JSON
        assert response.status_code == expected, (route, response.get_json())
        assert response.mimetype == "application/problem+json", route
        problem = response.get_json()
        assert problem["status"] == expected and problem["title"] and problem["detail"], route
        if expected == 422:
            assert problem["errors"], route
    assert snapshot(store) == before


def test_every_route_without_a_token_is_401_problem(client, app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule.endswith(PUBLIC):
            continue
        path = rule.rule
        for placeholder in ("<code>", "<connector_id>", "<token_id>", "<name>"):
            path = path.replace(placeholder, "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method == "GET" and rule.rule.startswith(PUBLIC_CATALOGUE):
                continue  # the catalogue is public (issue 19)
            response = client.open(path, method=method)
            assert response.status_code == 401, (method, path)
            assert response.mimetype == "application/problem+json"


def test_registry_keys_all_carry_the_registry_hash_tag(client, registry, store):
    registry.agency("market")
    registry.evidence_type("identity")
    registry.licence_type("lic", issuer="market")
    registry.service_item("item-1")
    raw = store.raw_client_for_tests()
    names = [key.decode() for key in raw.scan_iter("*") if not key.startswith(RATE_LIMIT_PREFIX.encode())]
    assert names and all(name.startswith("hub:{") for name in names)
    assert all(name.startswith("hub:{pki}:") for name in names if ":{pki}" in name)
    registry_keys = [name for name in names if not name.startswith(("hub:{idem:", "hub:{pki}:"))]
    assert all(name.startswith(f"hub:{{{keys.REGISTRY}}}:") for name in registry_keys), registry_keys
