"""The OpenAPI spec, the docs page, health, readiness, metrics and configuration."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from hub.config import load_settings


def test_openapi_is_valid_and_describes_every_api_route(client, app):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in /openapi.json"


def test_protected_routes_declare_bearer_auth_and_public_ones_do_not(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    agencies = spec["paths"]["/api/v1/agencies"]["post"]
    assert agencies["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "422"} <= set(agencies["responses"])
    guide = spec["paths"]["/api/v1/service-items/{code}/guide"]["get"]
    assert "security" not in guide
    assert "text/html" in guide["responses"]["200"]["content"]
    params = {p["name"] for p in agencies.get("parameters", [])}
    assert "Idempotency-Key" in params


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        response = client.get("/docs/assets/" + asset)
        assert response.status_code == 200 and len(response.data) > 1000


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "warnings": []}


def test_metrics_have_per_route_histograms(client):
    client.get("/healthz")
    client.get("/api/v1/agencies")
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE hub_http_request_duration_seconds histogram" in text
    assert 'route="/api/v1/agencies",status="401"' in text
    assert 'route="/healthz",status="200"' in text


def test_settings_from_environment():
    settings = load_settings(
        {"HUB_PORT": "9001", "HUB_DEMO": "yes", "REDIS_CLUSTER": "0", "HUB_DATA_DIR": "/srv/hub", "REDIS_URL": ""}
    )
    assert (settings.port, settings.demo, settings.redis_cluster, str(settings.data_dir)) == (
        9001,
        True,
        False,
        "/srv/hub",
    )
    assert settings.embedded_redis is True
    assert settings.base_url == "http://127.0.0.1:9001"
    assert load_settings({"HUB_PUBLIC_URL": "https://hub.example.gov.cn/"}).base_url == "https://hub.example.gov.cn"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("HUB_PORT", "x"), ("HUB_DEMO", "maybe"), ("HUB_REDIS_APPENDFSYNC", "never"), ("HUB_WORKERS", "1.5")],
)
def test_malformed_settings_name_the_variable(variable, value):
    with pytest.raises(ValueError, match=variable):
        load_settings({variable: value})


def test_errors_are_documented_as_problem_json(client):
    spec = client.get("/openapi.json").get_json()
    assert list(spec["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]) == ["application/problem+json"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and "content" in response:
                    assert "application/json" not in response["content"], (method, path, status)
