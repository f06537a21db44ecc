"""What the tests share besides fixtures: the operator's token, the test clock, registering through the API,
hubs served by gunicorn, short temporary directories. The fixtures built on these are in ``conftest.py``."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from hub.config import Settings
from hub.identifiers import with_check_characters

if TYPE_CHECKING:
    from hub.store.client import Store

ADMIN_TOKEN = "operator-secret-for-tests-0123456789"


OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# The holder of the licences the licence tests issue: an organisation whose credit code checks.
LICENCE_HOLDER = {"id_type": "credit-code", "id": "91330100MA2H7K3P23", "name": "杭州西湖小吃店"}


REPO = Path(__file__).resolve().parents[1]


VENV_BIN = Path(sys.executable).parent


OUTPUT = REPO / "test-output"


# The moment every in-process test's hub starts at (a Monday, 09:30 in the province), whatever day the
# suite runs on: case deadlines, validity and retention count from here, in a year whose holidays the
# calendar package knows.
TEST_START = datetime.fromisoformat("2026-06-15T09:30:00+08:00")


class SettableClock:
    """The hub's clock in tests: starts at a set moment and moves a millisecond each time it is read, so
    that events keep their order; a test moves it on by days with :meth:`advance`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        self.moment += timedelta(milliseconds=1)
        return self.moment

    def advance(self, **delta: float) -> datetime:
        """Move the clock on (``days=3``, ``hours=2``, ...) and return the new moment."""
        self.moment += timedelta(**delta)
        return self.moment


def credit_code_of(agency_code: str) -> str:
    """A real-shaped unified social credit code (right check characters) that is the same for the same agency
    code: ``11`` (an organ of state) and a region, then digits drawn from the code."""
    digits = str(int.from_bytes(hashlib.sha256(agency_code.encode()).digest()[:8], "big"))[-10:]
    return with_check_characters("credit-code", f"114400{digits}")


def short_tempdir(prefix: str) -> Path:
    """A fresh directory with a short path (Unix socket paths are limited to 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


# HUB_TEST_REDIS_CLUSTER=1: the session's hub runs on a three-master Redis Cluster instead of its
# embedded server (``make test`` runs the storage-heavy tests a second time that way).
ON_CLUSTER = os.environ.get("HUB_TEST_REDIS_CLUSTER") == "1"


def store_env(settings: Settings) -> dict[str, str]:
    """The environment that points another hub process at the test session's store."""
    if not settings.redis_url:
        return {"HUB_DATA_DIR": str(settings.data_dir)}
    return {"REDIS_URL": settings.redis_url, "REDIS_CLUSTER": "1" if settings.redis_cluster else "0"}


class Registry:
    def __init__(self, client) -> None:
        self.client = client

    def post(self, path: str, body: dict, status: int = 201) -> dict:
        response = self.client.post(path, json=body, headers=OPERATOR)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def agency(self, code: str = "market", region: str = "440000", name: str | None = None) -> dict:
        body = {"code": code, "name": name or f"Agency {code}", "region": region, "credit_code": credit_code_of(code)}
        return self.post("/api/v1/agencies", body)

    def evidence_type(self, code: str = "identity", **fields) -> dict:
        fields = fields or {"name": {"type": "string", "required": True}, "born": {"type": "date"}}
        return self.post("/api/v1/evidence-types", {"code": code, "name": f"Evidence {code}", "fields": fields})

    def licence_type(self, code: str = "biz-licence", issuer: str = "market") -> dict:
        body = {
            "code": code,
            "name": f"Licence {code}",
            "issuer": issuer,
            "fields": {"holder": {"type": "string", "required": True}},
            "validity_days": 365,
        }
        return self.post("/api/v1/licence-types", body)

    def food_licence_type(self, issuer: str = "market", formats: tuple[str, ...] = ("pdf",)) -> dict:
        """A food business licence type (one required field, ``premises``) issued by ``issuer`` as ``formats``."""
        body = {
            "code": "food-business",
            "name": "食品经营许可证",
            "issuer": issuer,
            "fields": {"premises": {"type": "string", "required": True}},
            "validity_days": 365,
            "formats": list(formats),
        }
        return self.post("/api/v1/licence-types", body)

    def licence_registry(self, agency: str, provides: list[str], connector_id: str = "licence-registry") -> None:
        """An active ``licences`` connector: the hub's own licences as a source of proof."""
        connector = {"id": connector_id, "agency": agency, "kind": "licences", "provides": provides}
        self.post("/api/v1/connectors", {**connector, "config": {}, "timeout_ms": 1000})
        assert self.post(f"/api/v1/connectors/{connector_id}/test", {}, status=200)["ok"]
        self.post(f"/api/v1/connectors/{connector_id}/activation", {"active": True}, status=200)

    def token(self, agency: str, *roles: str) -> dict:
        record = self.post(f"/api/v1/agencies/{agency}/tokens", {"roles": list(roles)})
        return {"Authorization": f"Bearer {record['token']}"}

    def service_item(self, code: str = "item-1", **overrides) -> dict:
        return self.post("/api/v1/service-items", service_item_body(code, **overrides))

    def case(self, item: str, applicant: dict, portal_of: str = "market") -> str:
        """The id of an application for ``item`` by ``applicant`` (id_type, id and name), submitted through a
        portal token of ``portal_of``: the case every read of the applicant's data must name."""
        body = {"service_item": item, "applicant": applicant, "channel": "web"}
        response = self.client.post("/api/v1/applications", json=body, headers=self.token(portal_of, "portal"))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]


# The form of the demo's food business licence item (440000-SCJG-001-01): every field its licence needs.
DEMO_FOOD_FORM = {
    "operator_name": "李伟小吃店",
    "credit_code": "92440106MA5C1Q7P2K",
    "premises": "广州市天河区体育西路 1 号",
    "main_business": "小餐饮",
}


def service_item_body(code: str = "item-1", **overrides) -> dict:
    body = {
        "code": code,
        "name": f"Service {code}",
        "region": "440000",
        "agency": "market",
        "co_agencies": [],
        "online": True,
        "in_person_required": False,
        "statutory_days": 20,
        "committed_days": 10,
        "produces": None,
        "materials": [{"code": "id", "name": "Identity", "evidence_type": "identity", "required": True}],
    }
    body.update(overrides)
    return body


# -- the hub served by gunicorn, for tests that need real processes
def backup_create(env: dict, directory: Path) -> subprocess.CompletedProcess:
    """``hub backup create --dir DIRECTORY`` with a served hub's environment (at WARNING: what it prints is the
    command's own); the finished process, which must have succeeded."""
    made = subprocess.run(
        [str(VENV_BIN / "hub"), "backup", "create", "--dir", str(directory)],
        env={**env, "HUB_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    return made


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedHub:
    """``hub serve`` in a child process on a free port, with its own data directory."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}-{self.port}.log"
        self.env = {
            **os.environ,
            "HUB_DATA_DIR": str(data_dir),
            "HUB_PORT": str(self.port),
            "HUB_ADMIN_TOKEN": ADMIN_TOKEN,
            "HUB_WORKERS": "2",
            "HUB_DEMO": "0",
            "HUB_CONNECTOR_ALLOWLIST": "127.0.0.1/32",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, wait_seconds: float = 60) -> ServedHub:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(VENV_BIN / "hub"), "serve"], env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub serve exited: {self.log()}")
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hub serve did not become ready: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, wait_seconds: float = 30) -> int:
        """SIGTERM (graceful) and wait; the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.terminate()
        return self.process.wait(wait_seconds)

    def pids(self) -> list[int]:
        """The master and its workers."""
        assert self.process is not None
        out = subprocess.run(["pgrep", "-g", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]


def _kill_redis_of(data_dir: Path, how: int = signal.SIGKILL) -> None:
    """Make sure no Redis server outlives a test that may have left one on purpose."""
    pid_file = data_dir / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), how)
        except (ProcessLookupError, ValueError):
            pass


DEMO_AGENCY_GROUP = "demo-agency-port"  # tests whose hub serves the demo agencies on their fixed port (8001)


# -- a SoftHSM2 token for the PKCS#11 seal keys
SOFTHSM_MODULE_PATHS = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


SOFTHSM_TOKEN = "hub-test"


SOFTHSM_USER_PIN = "1234"


SOFTHSM_SO_PIN = "5678"


HANDSHAKE = {"HELLO", "CLIENT"}


def commands_sent(store, request) -> list[tuple[str, str]]:
    """(where from, command) for each command Redis ran while ``request()`` was served: ``lua`` for those a
    script ran, ``client`` for those sent to it (but a new connection's handshake: MONITOR holds the one the
    pool had, so the request opens another)."""
    raw = store.raw_client_for_tests()
    marker = "end-of-request-marker"
    with raw.monitor() as monitor:
        request()
        raw.echo(marker)
        seen = []
        for command in monitor.listen():
            if marker in command["command"]:
                return seen
            name = command["command"].split()[0]
            if command["client_type"] == "lua":
                seen.append(("lua", name))
            elif name not in HANDSHAKE:
                seen.append(("client", name))


def everything_in(store: Store) -> bytes:
    """Every key and every value the server holds, as stored (strings, lists, hashes, sets, streams)."""
    raw = store.raw_client_for_tests()
    parts = []
    for key in raw.scan_iter("*"):
        kind = raw.type(key)
        parts.append(key)
        if kind == b"string":
            parts.append(raw.get(key))
        elif kind == b"list":
            parts.extend(raw.lrange(key, 0, -1))
        elif kind == b"hash":
            parts.extend(b for pair in raw.hgetall(key).items() for b in pair)
        elif kind in (b"set",):
            parts.extend(raw.smembers(key))
        elif kind == b"zset":
            parts.extend(raw.zrange(key, 0, -1))
        elif kind == b"stream":
            parts.extend(b for _, fields in raw.xrange(key) for pair in fields.items() for b in pair)
    return b"\n".join(parts)
