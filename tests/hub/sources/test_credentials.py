"""Which parts of a connector's configuration are credentials (sealed at rest, redacted in the audit)."""

from __future__ import annotations

from hub.registry.credentials import with_credentials


def test_header_values_and_the_tls_client_key_are_credentials():
    config = {
        "url": "https://agency.example/x/{subject_id}",
        "headers": {"X-Api-Key": "k1", "X-Tenant": "t1"},
        "tls": {"client_cert": "CERT", "client_key": "KEY", "ca": "CA"},
        "field_map": {"a": "b"},
    }
    changed = with_credentials(config, lambda value: f"<{value}>")
    assert changed == {
        "url": config["url"],
        "headers": {"X-Api-Key": "<k1>", "X-Tenant": "<t1>"},
        "tls": {"client_cert": "CERT", "client_key": "<KEY>", "ca": "CA"},
        "field_map": {"a": "b"},
    }
    assert config["headers"]["X-Api-Key"] == "k1"  # the original is left alone


def test_a_config_without_credentials_is_unchanged():
    config = {"url": "http://127.0.0.1:9/{subject_id}"}
    assert with_credentials(config, lambda value: "changed") == config
