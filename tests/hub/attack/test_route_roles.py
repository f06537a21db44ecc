"""Every route of the app, called as every kind of caller: who may, who is refused, and how.

``ACCESS`` says, for each route and method of ``app.url_map``, who may call it: the public, bearer
tokens with one of some roles (hub/auth.py ROLES), the operator signed in to the console, or an
applicant signed in to the /apply pages. A route missing from the table fails the test, so a new
route cannot land without someone deciding who may call it. Each route is then called with no token,
a malformed and a revoked token, a token of each role, and (where the path names a record of one
agency) with another agency's token: 401 with problem+json and WWW-Authenticate where the API needs
a token, 403 where the role is wrong, never a 2xx where the caller may not.
"""

from __future__ import annotations

import io

import pytest
from attack_support import Province, build_province, fresh_unlimited_app
from intake_support import PDF
from testbed import Registry, credit_code_of

from hub.registry.agency_routes import READERS

PUBLIC = "public"  # anyone, token or not
CONSOLE = "console"  # the operator, signed in to the console with an operator token
DESK = "desk"  # an agency's caseworker, signed in to the desk with an agency token
APPLICANT = "applicant"  # a person signed in to the /apply pages (demo identity service)
OP, AG, PO = frozenset({"operator"}), frozenset({"agency"}), frozenset({"portal"})
ANY_ROLE = frozenset(READERS)

ACCESS: dict[tuple[str, str], str | frozenset[str]] = {
    # -- pages, documentation, operations: public
    ("/", "GET"): PUBLIC,
    ("/service-items", "GET"): PUBLIC,
    ("/verify", "GET"): PUBLIC,
    ("/verify", "POST"): PUBLIC,
    ("/verify/<number>", "GET"): PUBLIC,
    ("/docs", "GET"): PUBLIC,
    ("/docs/assets/<path:filename>", "GET"): PUBLIC,
    ("/openapi.json", "GET"): PUBLIC,
    ("/static/<path:filename>", "GET"): PUBLIC,
    ("/healthz", "GET"): PUBLIC,
    ("/readyz", "GET"): PUBLIC,
    ("/metrics", "GET"): PUBLIC,
    # -- the public API: service guides, verification, the PKI's published parts
    ("/api/v1/service-items/<code>/guide", "GET"): PUBLIC,
    ("/api/v1/service-items/<code>/outcomes", "GET"): PUBLIC,
    ("/api/v1/resolutions/keys", "GET"): PUBLIC,
    ("/api/v1/verifications", "POST"): PUBLIC,
    ("/api/v1/pki/roots", "GET"): PUBLIC,
    ("/api/v1/pki/ca/<name>.crt", "GET"): PUBLIC,
    ("/api/v1/pki/crl/<name>.crl", "GET"): PUBLIC,
    ("/api/v1/pki/ocsp", "POST"): PUBLIC,
    ("/api/v1/pki/tsa", "POST"): PUBLIC,
    ("/api/v1/pki/seals/<agency>", "GET"): PUBLIC,
    ("/api/v1/pki/seals/<agency>/history", "GET"): PUBLIC,
    ("/api/v1/pki/seals/<agency>/sm2", "GET"): PUBLIC,
    # -- the registry: the operator writes, every role reads the catalogue
    ("/api/v1/agencies", "GET"): ANY_ROLE,
    ("/api/v1/agencies", "POST"): OP,
    ("/api/v1/agencies/<code>", "GET"): ANY_ROLE,
    ("/api/v1/agencies/<code>/tokens", "GET"): OP,
    ("/api/v1/agencies/<code>/tokens", "POST"): OP,
    ("/api/v1/agencies/<code>/tokens/<token_id>", "DELETE"): OP,
    ("/api/v1/evidence-types", "GET"): ANY_ROLE,
    ("/api/v1/evidence-types", "POST"): OP,
    ("/api/v1/evidence-types/<code>", "GET"): ANY_ROLE,
    ("/api/v1/licence-types", "GET"): ANY_ROLE,
    ("/api/v1/licence-types", "POST"): OP,
    ("/api/v1/licence-types/<code>", "GET"): ANY_ROLE,
    ("/api/v1/service-items", "GET"): PUBLIC,
    ("/api/v1/service-items", "POST"): OP,
    ("/api/v1/service-items/<code>", "GET"): PUBLIC,
    ("/api/v1/service-items/<code>/versions", "GET"): PUBLIC,
    ("/api/v1/calendar/working-days", "GET"): ANY_ROLE,
    ("/api/v1/calendar/<year>", "GET"): ANY_ROLE,
    ("/api/v1/calendar/<year>", "PUT"): OP,
    ("/api/v1/connectors", "GET"): OP,
    ("/api/v1/connectors", "POST"): OP,
    ("/api/v1/connectors/<connector_id>", "GET"): OP,
    ("/api/v1/connectors/<connector_id>/test", "POST"): OP,
    ("/api/v1/connectors/<connector_id>/activation", "POST"): OP,
    ("/api/v1/connectors/<connector_id>/health", "GET"): OP,
    ("/api/v1/connectors/<connector_id>/dataset", "PUT"): OP | AG,
    ("/api/v1/policies", "GET"): OP,
    ("/api/v1/policies/<name>", "PUT"): OP,
    ("/api/v1/policies/<name>", "DELETE"): OP,
    # -- resolution, sealing, licences
    ("/api/v1/resolutions", "POST"): AG,
    ("/api/v1/access-log", "GET"): OP | PO,  # a portal with the person's proof (issue 19)
    ("/api/v1/sessions", "DELETE"): OP,
    ("/api/v1/evidence-cache/invalidations", "POST"): AG | OP,
    ("/api/v1/signatures", "POST"): AG,
    ("/api/v1/licences", "GET"): ANY_ROLE,
    ("/api/v1/licences", "POST"): AG,
    ("/api/v1/licences/<number>", "GET"): AG | OP,
    ("/api/v1/licences/<number>/status", "POST"): AG | OP,
    ("/api/v1/licences/<number>/history", "GET"): AG | OP,
    ("/api/v1/licences/<number>/pdf", "GET"): ANY_ROLE,
    ("/api/v1/licences/<number>/ofd", "GET"): ANY_ROLE,
    ("/api/v1/licences/<number>/amendments", "POST"): AG,
    ("/api/v1/licences/<number>/renewals", "POST"): AG,
    ("/api/v1/licences/<number>/reissues", "POST"): AG,
    ("/api/v1/licences/<number>/credential", "GET"): ANY_ROLE,
    ("/api/v1/status-lists/<type_code>/<list_number>", "GET"): PUBLIC,
    ("/api/v1/credential-pickups/<code>", "GET"): PUBLIC,  # the one-time code is the key
    ("/api/v1/licences/<number>/grants", "POST"): PO,  # with the holder's proof
    ("/api/v1/grants", "GET"): PO,
    ("/api/v1/grants/<grant_id>/revocation", "POST"): PO,
    ("/api/v1/grants/redemptions", "POST"): AG | PO,  # the relying party, by its credit code
    ("/api/v1/pki/seals/<agency>/renewal", "POST"): OP,
    ("/api/v1/pki/seals/<agency>/revocation", "POST"): OP,
    ("/api/v1/pki/seals/<agency>/sm2/renewal", "POST"): OP,
    ("/api/v1/pki/seals/<agency>/sm2/revocation", "POST"): OP,
    # -- intake: portals submit and upload, agencies handle, archives
    ("/api/v1/applications", "GET"): AG | PO,  # a portal: one person's, with their proof
    ("/api/v1/applications", "POST"): PO,
    ("/api/v1/applications/<application_id>", "GET"): ANY_ROLE,
    ("/api/v1/applications/<application_id>/materials", "POST"): PO,
    ("/api/v1/applications/<application_id>/materials/<code>/file", "GET"): AG,
    ("/api/v1/applications/<application_id>/documents/<reference>", "GET"): ANY_ROLE,
    ("/api/v1/applications/<application_id>/withdrawal", "POST"): PO,
    ("/api/v1/applications/<application_id>/events", "POST"): AG,
    ("/api/v1/applications/<application_id>/tasks/<agency>", "POST"): AG,
    ("/api/v1/applications/<application_id>/archive", "GET"): AG | OP,
    ("/api/v1/discrepancies", "GET"): AG,
    ("/api/v1/discrepancies/<discrepancy_id>", "POST"): AG,
    ("/api/v1/discrepancies/<discrepancy_id>/material", "GET"): AG,
    ("/api/v1/deadline-alerts", "GET"): AG | OP,
    ("/api/v1/statistics", "GET"): AG | OP,
    ("/api/v1/subscriptions", "GET"): AG | PO,
    ("/api/v1/subscriptions", "POST"): AG | PO,
    ("/api/v1/subscriptions/<subscription_id>", "DELETE"): AG | PO,
    ("/api/v1/subscriptions/<subscription_id>/deliveries", "GET"): AG | PO,
    ("/api/v1/archives", "GET"): AG | OP,
    ("/api/v1/archives/due-for-disposal", "GET"): OP,
    ("/api/v1/archives/<case>", "GET"): AG | OP,
    ("/api/v1/archives/<case>/disposal", "POST"): OP,
    ("/api/v1/audit/verify", "GET"): OP,
    ("/api/v1/audit/entries", "GET"): OP,
    ("/api/v1/audit/checkpoints", "GET"): OP,
    ("/api/v1/audit/checkpoints", "POST"): OP,
    # -- the operator console: sign-in is open, the rest needs the operator signed in
    ("/console/login", "GET"): PUBLIC,
    ("/console/login", "POST"): PUBLIC,
    ("/console/logout", "POST"): PUBLIC,
    ("/console", "GET"): CONSOLE,
    ("/console/statistics", "GET"): CONSOLE,
    ("/desk/login", "GET"): PUBLIC,
    ("/desk/login", "POST"): PUBLIC,
    ("/desk/logout", "POST"): PUBLIC,
    ("/desk/login/identity-service", "GET"): PUBLIC,
    ("/desk/callback", "GET"): PUBLIC,
    ("/desk", "GET"): DESK,
    ("/desk/cases/<application_id>", "GET"): DESK,
    ("/desk/cases/<application_id>/documents/<reference>", "GET"): DESK,
    ("/desk/cases/<application_id>/events", "POST"): DESK,
    ("/desk/cases/<application_id>/files/<code>", "GET"): DESK,
    ("/desk/cases/<application_id>/licence.<any(pdf, ofd):form>", "GET"): DESK,
    ("/desk/cases/<application_id>/task", "POST"): DESK,
    ("/desk/discrepancies/<discrepancy_id>", "GET"): DESK,
    ("/desk/discrepancies/<discrepancy_id>", "POST"): DESK,
    ("/console/connectors/<connector_id>/test", "POST"): CONSOLE,
    ("/console/connectors/<connector_id>/activation", "POST"): CONSOLE,
    # -- the applicant pages: sign-in is open, the rest needs a signed-in applicant
    ("/apply/login", "GET"): PUBLIC,
    ("/apply/login", "POST"): PUBLIC,
    ("/apply/callback", "GET"): PUBLIC,
    ("/apply/logout", "POST"): PUBLIC,
    ("/apply", "GET"): APPLICANT,
    ("/apply/services/<code>", "GET"): APPLICANT,
    ("/apply/services/<code>", "POST"): APPLICANT,
    ("/apply/applications", "GET"): APPLICANT,
    ("/apply/applications/<application_id>", "GET"): APPLICANT,
    ("/apply/applications/<application_id>/materials", "POST"): APPLICANT,
    ("/apply/applications/<application_id>/sign", "GET"): APPLICANT,
    ("/apply/applications/<application_id>/sign", "POST"): APPLICANT,
    ("/apply/applications/<application_id>/documents/<reference>", "GET"): APPLICANT,
    ("/apply/licences/<number>.pdf", "GET"): APPLICANT,
    ("/apply/licences/<number>.ofd", "GET"): APPLICANT,
    ("/apply/licences/<number>", "GET"): APPLICANT,
    ("/apply/licences/<number>.sd-jwt", "GET"): APPLICANT,
    ("/apply/licences/<number>/grants", "POST"): APPLICANT,
    ("/apply/grants/<grant_id>/revocation", "POST"): APPLICANT,
    ("/apply/access-log", "GET"): APPLICANT,
}

# Routes whose path names a record that belongs to agency 'market' (or its portal 'hall'): another
# agency's token, with the role the route takes, must be refused (403) or not see it (404).
CROSS_AGENCY = {
    ("/api/v1/applications/<application_id>", "GET"): "other-agency",
    ("/api/v1/applications/<application_id>/events", "POST"): "other-agency",
    ("/api/v1/applications/<application_id>/tasks/<agency>", "POST"): "other-agency",
    ("/api/v1/applications/<application_id>/materials", "POST"): "other-portal",
    ("/api/v1/applications/<application_id>/materials/<code>/file", "GET"): "other-agency",
    ("/api/v1/applications/<application_id>/documents/<reference>", "GET"): "other-agency",
    ("/api/v1/applications/<application_id>/withdrawal", "POST"): "other-portal",
    ("/api/v1/applications/<application_id>/archive", "GET"): "other-agency",
    ("/api/v1/connectors/<connector_id>/dataset", "PUT"): "other-agency",
    ("/api/v1/licences/<number>", "GET"): "other-agency",
    ("/api/v1/licences/<number>/status", "POST"): "other-agency",
    ("/api/v1/licences/<number>/history", "GET"): "other-agency",
    ("/api/v1/licences/<number>/pdf", "GET"): "other-agency",
    ("/api/v1/licences/<number>/ofd", "GET"): "other-agency",
    ("/api/v1/licences/<number>/amendments", "POST"): "other-agency",
    ("/api/v1/licences/<number>/renewals", "POST"): "other-agency",
    ("/api/v1/licences/<number>/reissues", "POST"): "other-agency",
    ("/api/v1/licences/<number>/credential", "GET"): "other-agency",
    ("/api/v1/archives/<case>", "GET"): "other-agency",
}

ROLE_CALLERS = ("operator", "agency", "portal")  # tokens of hub/auth.py ROLES (agency and portal: of an agency)
UNAUTHENTICATED = ("none", "bad", "revoked")
CALLERS = UNAUTHENTICATED + ROLE_CALLERS
APPLICANT_HOLDER = {"id_type": "resident-id", "id": "33010619900101123X", "name": "张三"}
CSV = b"subject_id,name\n91330100MA2ATTAC9Q,test\n"


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def _routes(app) -> list[tuple[str, str]]:
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules() for method in _methods(rule))


@pytest.fixture(scope="module")
def matrix_app(session_app, settings):
    app = fresh_unlimited_app(settings, applicant_portal="hall", demo=True)
    yield app
    app.extensions["hub"].store.close()


@pytest.fixture(scope="module")
def province(matrix_app) -> Province:
    client = matrix_app.test_client()
    province = build_province(client, Registry(client))
    licence = {"type": "food-business", "holder": APPLICANT_HOLDER, "fields": {"premises": "1 号"}}
    answer = client.post("/api/v1/licences", json=licence, headers=province.tokens["agency"])
    assert answer.status_code == 201, answer.get_json()
    province.ids["licence"] = answer.get_json()["number"]
    return province


def _path(rule: str, province: Province) -> str:
    values = {
        "<code>": "market",
        "<agency>": "market",
        "<token_id>": "0000000000000000",
        "<connector_id>": "market-csv",
        "<name>": "need_to_know",
        "<year>": "2026",
        "<application_id>": province.ids["application"],
        "<case>": province.ids["application"],
        "<number>": province.ids["licence"],
        "<type_code>": "food-business",
        "<grant_id>": "g-0000000000000000",
        "<list_number>": "1",
        "<discrepancy_id>": "d-unknown",
        "<path:filename>": "missing.css",
        "<any(pdf, ofd):form>": "pdf",
    }
    for placeholder, value in values.items():
        rule = rule.replace(placeholder, value)
    return rule


def _body(rule: str, method: str) -> dict:
    """A well-formed body where the route takes one, so only authorization can refuse an allowed caller's peer."""
    if method not in {"POST", "PUT"} or not rule.startswith("/api/"):
        return {}
    if rule.endswith("/materials"):
        return {"data": {"material": "plan", "file": (io.BytesIO(PDF), "plan.pdf")}}
    if rule.endswith("/dataset"):
        return {"data": {"file": (io.BytesIO(CSV), "d.csv")}}
    if rule.endswith(("/ocsp", "/tsa", "/verifications")):
        return {}
    bodies = {
        "/events": {"type": "accept"},
        "/tasks/<agency>": {"outcome": "approve", "opinion": "同意"},
        "/status": {"status": "suspended", "reason": "检查"},
        "/amendments": {"fields": {"premises": "2 号"}, "reason": "迁址"},
        "/renewals": {"valid_until": "2027-06-01", "reason": "续期"},
        "/reissues": {"reason": "遗失"},
        "/licences/<number>/grants": HOLDER_QUERY | {"relying_party": credit_code_of("market"), "purpose": "开户"},
        "/grants/<grant_id>/revocation": HOLDER_QUERY,
        "/grants/redemptions": {"code": "AAAA-BBBB-CCCC-DDDD"},
    }
    for suffix, body in bodies.items():
        if rule.endswith(suffix):
            return {"json": body}
    return {"json": {}}


def test_every_route_is_in_the_table(matrix_app):
    routes = set(_routes(matrix_app))
    missing = sorted(routes - ACCESS.keys())
    assert not missing, f"routes with no entry in ACCESS (decide who may call them): {missing}"
    assert not sorted(ACCESS.keys() - routes), "ACCESS names routes the app no longer has"


def test_the_table_matches_what_each_api_view_demands(matrix_app):
    """Roles in the table are what hub.api.base.requires enforces, and public API routes take no token."""
    for rule in matrix_app.url_map.iter_rules():
        roles = getattr(matrix_app.view_functions[rule.endpoint], "required_roles", frozenset())
        for method in _methods(rule):
            expected = ACCESS.get((rule.rule, method))
            if isinstance(expected, frozenset):
                assert roles == expected, (rule.rule, method, sorted(roles))
            else:
                assert not roles, (rule.rule, method, "has required roles but the table says", expected)


# A portal reads a licence only naming the holder it acts for.
HOLDER_QUERY = {"holder_id_type": APPLICANT_HOLDER["id_type"], "holder_id": APPLICANT_HOLDER["id"]}
# ... and a person's cases or access log only with the person's proof (the demo's assertion: the matrix runs in demo).
PERSON_QUERY = {"applicant_id_type": APPLICANT_HOLDER["id_type"], "applicant_id": APPLICANT_HOLDER["id"]}
QUERIES = {
    "/api/v1/licences": HOLDER_QUERY,
    "/api/v1/licences/<number>/pdf": HOLDER_QUERY,
    "/api/v1/licences/<number>/ofd": HOLDER_QUERY,
    "/api/v1/licences/<number>/credential": HOLDER_QUERY,
    "/api/v1/grants": HOLDER_QUERY,
    "/api/v1/access-log": {"id_type": APPLICANT_HOLDER["id_type"], "id": APPLICANT_HOLDER["id"]},
    "/api/v1/statistics": {"from": "2026-06-01", "to": "2026-06-30"},
}
PERSON_QUERIES = {("/api/v1/applications", "GET"): PERSON_QUERY}
PROOF = {"Applicant-Token": f"demo {APPLICANT_HOLDER['id_type']}:{APPLICANT_HOLDER['id']}"}


def _api_call(client, rule: str, method: str, province: Province, caller: str):
    headers = {} if caller == "none" else province.tokens[caller]
    query = QUERIES.get(rule)
    if caller == "portal":
        headers, query = headers | PROOF, PERSON_QUERIES.get((rule, method), query)
    return client.open(_path(rule, province), method=method, headers=headers, query_string=query, **_body(rule, method))


API_CASES = [(r, m) for (r, m), who in ACCESS.items() if r.startswith("/api/") and who != PUBLIC]


@pytest.mark.parametrize(("rule", "method"), API_CASES, ids=[f"{m} {r}" for r, m in API_CASES])
def test_api_route_refuses_whom_it_should(matrix_app, province, rule, method):
    client = matrix_app.test_client()
    allowed = ACCESS[(rule, method)]
    for caller in CALLERS:
        response = _api_call(client, rule, method, province, caller)
        where = f"{method} {rule} as {caller}: {response.status_code} {response.get_data()[:300]!r}"
        assert response.status_code < 500, where
        if caller in UNAUTHENTICATED:
            assert response.status_code == 401, where
            assert response.mimetype == "application/problem+json", where
            assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), where
            assert response.get_json()["status"] == 401, where
        elif caller in allowed:
            assert response.status_code not in (401, 403), where
        else:
            assert response.status_code == 403, where
            assert response.mimetype == "application/problem+json", where


CROSS_CASES = sorted(CROSS_AGENCY)


@pytest.mark.parametrize(("rule", "method"), CROSS_CASES, ids=[f"{m} {r}" for r, m in CROSS_CASES])
def test_another_agency_cannot_reach_an_agencys_records(matrix_app, province, rule, method):
    client = matrix_app.test_client()
    response = _api_call(client, rule, method, province, CROSS_AGENCY[(rule, method)])
    assert response.status_code in (403, 404), (method, rule, response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"


PUBLIC_CASES = [(r, m) for (r, m), who in ACCESS.items() if who == PUBLIC]


@pytest.mark.parametrize(("rule", "method"), PUBLIC_CASES, ids=[f"{m} {r}" for r, m in PUBLIC_CASES])
def test_public_route_asks_nobody_for_a_token(matrix_app, province, rule, method):
    client = matrix_app.test_client()
    statuses = set()
    for caller in CALLERS:
        response = _api_call(client, rule, method, province, caller)
        assert response.status_code < 500, (caller, response.status_code)
        assert response.status_code not in (401, 403), (caller, response.get_data(as_text=True)[:300])
        statuses.add(response.status_code)
    assert len(statuses) == 1, f"a public route answers by who calls: {statuses}"


def _staff_client(app, province: Province, caller: str, area: str = "console", role: str = "operator"):
    """A browser that tried to sign in to a staff area with the caller's token (none: did not try)."""
    client = app.test_client()
    client.get(f"/{area}/login")
    if caller != "none":
        with client.session_transaction() as session:
            csrf = session[f"{area}_csrf"]
        secret = province.tokens[caller]["Authorization"].removeprefix("Bearer ")
        answer = client.post(f"/{area}/login", data={"token": secret, "csrf_token": csrf})
        expected = 303 if caller == role else (403 if caller in ROLE_CALLERS else 401)
        assert answer.status_code == expected, (caller, answer.status_code)
    return client


def _form_with_csrf(client, key: str) -> dict:
    with client.session_transaction() as session:
        return {"csrf_token": session.get(key, "")}


CONSOLE_CASES = [(r, m) for (r, m), who in ACCESS.items() if who == CONSOLE]


@pytest.mark.parametrize(("rule", "method"), CONSOLE_CASES, ids=[f"{m} {r}" for r, m in CONSOLE_CASES])
def test_console_admits_only_a_signed_in_operator(matrix_app, province, rule, method):
    for caller in CALLERS:
        client = _staff_client(matrix_app, province, caller)
        data = _form_with_csrf(client, "console_csrf") if method == "POST" else None
        response = client.open(_path(rule, province), method=method, data=data)
        assert response.status_code < 500, (caller, response.status_code)
        signed_out = response.status_code == 303 and response.headers["Location"].endswith("/console/login")
        assert signed_out == (caller != "operator"), (caller, response.status_code, response.headers.get("Location"))


DESK_CASES = [(r, m) for (r, m), who in ACCESS.items() if who == DESK]


@pytest.mark.parametrize(("rule", "method"), DESK_CASES, ids=[f"{m} {r}" for r, m in DESK_CASES])
def test_desk_admits_only_a_signed_in_agency(matrix_app, province, rule, method):
    path = _path(rule, province).replace("<reference>", "market-2026-00000000-A1").replace("<code>", "plan")
    for caller in CALLERS:
        client = _staff_client(matrix_app, province, caller, "desk", "agency")
        data = _form_with_csrf(client, "desk_csrf") if method == "POST" else None
        response = client.open(path, method=method, data=data)
        assert response.status_code < 500, (caller, response.status_code)
        signed_out = response.status_code == 303 and response.headers["Location"].endswith("/desk/login")
        assert signed_out == (caller != "agency"), (caller, response.status_code, response.headers.get("Location"))


def _applicant_client(app, holder: dict | None):
    client = app.test_client()
    client.get("/apply/login")
    if holder is not None:
        form = {**holder, **_form_with_csrf(client, "apply_csrf")}
        assert client.post("/apply/login", data=form).status_code == 303
    return client


APPLICANT_CASES = [(r, m) for (r, m), who in ACCESS.items() if who == APPLICANT]


@pytest.mark.parametrize(("rule", "method"), APPLICANT_CASES, ids=[f"{m} {r}" for r, m in APPLICANT_CASES])
def test_applicant_pages_need_a_signed_in_applicant(matrix_app, province, rule, method):
    path = _path(rule, province).replace("<code>", "food-permit")
    # Bearer tokens mean nothing to these pages: with any of them, and no applicant, it is the sign-in.
    for caller in CALLERS:
        client = _applicant_client(matrix_app, None)
        headers = {} if caller == "none" else province.tokens[caller]
        data = _form_with_csrf(client, "apply_csrf") if method == "POST" else None
        response = client.open(path, method=method, headers=headers, data=data)
        assert response.status_code == 303, (caller, response.status_code)
        assert "/apply/login" in response.headers["Location"], (caller, response.headers["Location"])
    client = _applicant_client(matrix_app, APPLICANT_HOLDER)
    data = _form_with_csrf(client, "apply_csrf") if method == "POST" else None
    response = client.open(path, method=method, data=data)
    assert response.status_code < 500
    assert "/apply/login" not in response.headers.get("Location", ""), response.status_code


def test_an_applicant_cannot_open_anothers_case_or_licence(matrix_app, province):
    """The province's case belongs to a company, and its licence to APPLICANT_HOLDER: someone else sees neither."""
    stranger = {"id_type": "resident-id", "id": "440106199001011235", "name": "李伟"}
    client = _applicant_client(matrix_app, stranger)
    for path in (
        f"/apply/applications/{province.ids['application']}",
        f"/apply/licences/{province.ids['licence']}.pdf",
    ):
        response = client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
