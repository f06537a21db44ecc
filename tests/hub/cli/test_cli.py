"""The ``hub`` command line, run as a real process against the session's embedded Redis."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from testbed import OPERATOR

from hub.demo import PROVINCE_FILE
from hub.store import keys

COMMANDS = [
    [],
    ["serve"],
    ["tokens"],
    ["tokens", "create"],
    ["audit"],
    ["audit", "verify"],
    ["registry"],
    ["registry", "import"],
    ["registry", "export"],
    ["demo"],
    ["demo", "load"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "hub")
def test_every_command_has_help(hub_cli, command):
    result = hub_cli(*command, "--help", check=True)
    assert "Usage:" in result.stdout


def test_top_level_help_lists_every_environment_variable(hub_cli):
    from hub.config import describe

    text = hub_cli("--help", check=True).stdout
    assert all(name in text for name, _, _ in describe())


def test_python_dash_m_hub(app, settings):
    result = subprocess.run([sys.executable, "-m", "hub", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "registry" in result.stdout


def test_tokens_create_for_an_agency(hub_cli, registry, client):
    registry.agency("market")
    result = hub_cli("tokens", "create", "--agency", "market", "--role", "agency", "--role", "portal", check=True)
    secret = result.stdout.strip()
    assert secret.startswith("hub_")
    assert "agency, portal" in result.stderr
    assert client.get("/api/v1/agencies", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_tokens_create_for_the_operator(hub_cli, client):
    secret = hub_cli("tokens", "create", "--operator", check=True).stdout.strip()
    assert client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tokens", "create"], "exactly one of"),
        (["tokens", "create", "--operator", "--agency", "x"], "exactly one of"),
        (["tokens", "create", "--agency", "ghost"], "No agency with code 'ghost'"),
        (["tokens", "create", "--agency", "x", "--role", "root"], "Invalid value"),
    ],
)
def test_tokens_create_mistakes_are_plain_messages(hub_cli, args, message):
    result = hub_cli(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_verify_exit_status(hub_cli, registry, store):
    registry.agency("market")
    result = hub_cli("audit", "verify", check=True)
    verdict = json.loads(result.stdout)
    assert verdict["intact"] is True and verdict["entries"] == 2 + 2  # and the PKI's creation, the seal
    raw = store.raw_client_for_tests()
    stream = keys.audit_stream(keys.REGISTRY)
    raw.xdel(stream, raw.xrange(stream)[0][0])
    broken = hub_cli("audit", "verify")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["intact"] is False
    assert "does not chain" in broken.stderr


def test_import_the_demo_file_then_again_changes_nothing(hub_cli, client):
    first = hub_cli("registry", "import", str(PROVINCE_FILE), check=True)
    assert "agencies        6 created, 0 updated, 0 unchanged" in first.stdout
    assert "applying" in first.stderr
    entries = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"]
    again = hub_cli("registry", "import", str(PROVINCE_FILE), check=True)
    assert "service_items   0 created, 0 updated, 4 unchanged" in again.stdout
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"] == entries


def test_export_then_import_round_trips(hub_cli, tmp_path, store):
    hub_cli("registry", "import", str(PROVINCE_FILE), check=True)
    exported = tmp_path / "catalogue.json"
    hub_cli("registry", "export", str(exported), check=True)
    document = json.loads(exported.read_text())
    assert len(document["service_items"]) == 4 and len(document["agencies"]) == 6
    yaml_text = hub_cli("registry", "export", check=True).stdout
    assert yaml.safe_load(yaml_text) == document
    store.raw_client_for_tests().flushdb()
    hub_cli("registry", "import", str(exported), check=True)
    assert json.loads(hub_cli("registry", "export", "--format", "json", check=True).stdout) == document


def test_import_is_all_or_nothing(hub_cli, tmp_path, client):
    document = yaml.safe_load(PROVINCE_FILE.read_text())
    document["service_items"][-1]["co_agencies"] = ["no-such-agency"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True))
    result = hub_cli("registry", "import", str(bad))
    assert result.returncode == 1
    assert "no-such-agency" in result.stderr and "Nothing was imported" in result.stderr
    assert client.get("/api/v1/agencies", headers=OPERATOR).get_json()["items"] == []
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["entries"] == 1


def test_import_reports_every_invalid_record_with_its_place(hub_cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "agencies": [{"code": "ok", "name": "OK", "region": "440000"}, {"code": "x y", "region": "1"}],
                "service_items": [{"code": "s"}],
                "widgets": [],
            }
        )
    )
    result = hub_cli("registry", "import", str(bad))
    assert result.returncode == 1
    for place in ("agencies[1].code", "agencies[1].name", "agencies[1].region", "service_items[0].agency", "_file"):
        assert place in result.stderr


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [("agencies: [", ".yaml", "not valid YAML"), ("{", ".json", "not valid JSON"), ("- a\n- b\n", ".yaml", "mapping")],
)
def test_import_of_a_broken_file_is_a_plain_message(hub_cli, tmp_path, text, suffix, message):
    path = tmp_path / ("broken" + suffix)
    path.write_text(text)
    result = hub_cli("registry", "import", str(path))
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_dry_run_writes_nothing(hub_cli, client):
    result = hub_cli("registry", "import", "--dry-run", str(PROVINCE_FILE), check=True)
    assert "nothing written" in result.stdout
    assert client.get("/api/v1/agencies", headers=OPERATOR).get_json()["items"] == []


def test_large_import(hub_cli, tmp_path, client):
    items = [
        {
            "code": f"item-{n:05d}",
            "name": f"Item {n}",
            "region": "440000",
            "agency": "a",
            "statutory_days": 20,
            "committed_days": 10,
            "materials": [{"code": "id", "name": "ID", "evidence_type": "id"}],
        }
        for n in range(3000)
    ]
    document = {
        "agencies": [{"code": "a", "name": "A", "region": "440000"}],
        "evidence_types": [{"code": "id", "name": "ID", "fields": {"n": {"type": "string"}}}],
        "service_items": items,
    }
    path = tmp_path / "large.json"
    path.write_text(json.dumps(document))
    result = hub_cli("registry", "import", str(path), check=True)
    assert "3000 created" in result.stdout
    page = client.get("/api/v1/service-items?limit=500", headers=OPERATOR).get_json()
    assert len(page["items"]) == 500 and page["next"]
    verdict = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    assert (verdict["intact"], verdict["entries"], verdict["problems"]) == (True, 1 + 1 + 1 + 3000, [])


def test_unreachable_store_is_a_plain_message(hub_cli):
    result = hub_cli("audit", "verify", env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_bad_configuration_is_a_plain_message(hub_cli):
    result = hub_cli("audit", "verify", env={"HUB_PORT": "eighty"})
    assert result.returncode == 1
    assert "HUB_PORT" in result.stderr and "Traceback" not in result.stderr


def test_demo_load_prints_stable_tokens(hub_cli, settings):
    first = hub_cli("demo", "load", check=True).stdout
    again = hub_cli("demo", "load", check=True).stdout
    assert "prov-market" in first and first == again
    tokens_file = settings.data_dir / "demo-tokens.json"
    assert oct(tokens_file.stat().st_mode & 0o777) == "0o600"
    tokens_file.unlink()


def test_tokens_list_and_revoke_for_the_operator(hub_cli, client):
    secret = hub_cli("tokens", "create", "--operator", check=True).stdout.strip()
    listed = hub_cli("tokens", "list", "--operator", check=True).stdout.splitlines()
    assert len(listed) == 2 and all("operator" in line for line in listed)
    assert secret not in "".join(listed)
    token_id = next(line.split()[0] for line in listed if "system:cli" in line)
    hub_cli("tokens", "revoke", token_id, "--operator", check=True)
    assert client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert hub_cli("tokens", "revoke", token_id, "--operator").returncode == 1


def test_an_agency_called_operator_does_not_share_the_operators_tokens(hub_cli, registry, client):
    registry.agency("operator")
    assert client.get("/api/v1/agencies/operator/tokens", headers=OPERATOR).get_json()["items"] == []
    assert len(hub_cli("tokens", "list", "--operator", check=True).stdout.splitlines()) == 1
