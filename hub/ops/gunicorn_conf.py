"""The one gunicorn configuration, for ``hub serve`` and ``gunicorn -c python:hub.ops.gunicorn_conf wsgi:app``.

The master starts (or attaches to) the embedded Redis before any worker and starts it again
whenever it dies (:class:`hub.store.embedded.Keeper`), loads the demo when asked, decides when the
periodic jobs are due (:mod:`hub.ops.schedule`, in a thread of its own), starts ``HUB_QUEUE_WORKERS``
job-queue workers that run them (:mod:`hub.ops.queue`), and stops Redis after the last worker has gone.
SIGTERM is a graceful stop: workers finish their requests for up to ``HUB_GRACEFUL_TIMEOUT`` seconds.

The hooks import the hub inside themselves on purpose, not to dodge a cycle: gunicorn reads this file
before it forks, and ``PROMETHEUS_MULTIPROC_DIR`` must be set (below) before anything imports
``prometheus_client``, which the hub's modules do at import.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub import logs
from hub.config import load_settings

if TYPE_CHECKING:
    from hub.ops.schedule import Runner
    from hub.store.client import Store
    from hub.store.embedded import Keeper

_settings = load_settings()


def _metrics_directory(data_dir: Path) -> Path:
    """Where the workers keep their metrics files: in memory (``/dev/shm``) where there is one, one directory per
    data directory. prometheus_client writes them through ``mmap``, and a page first touched on a full disk kills
    the worker with SIGBUS: on the data disk, a full disk would take every worker down."""
    if not os.path.isdir("/dev/shm"):  # noqa: S108 - memory, as gunicorn's own heartbeat files below
        return data_dir / "metrics"
    return Path("/dev/shm") / f"hub-metrics-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]}"  # noqa: S108


_metrics_dir = _metrics_directory(_settings.data_dir.resolve())
# Must be in the environment before any worker imports prometheus_client.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.workers
threads = _settings.threads
worker_class = "gthread"
timeout = _settings.timeout
graceful_timeout = _settings.graceful_timeout
keepalive = 5
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections over them; on one
# shared socket the worker that wakes first accepted whole bursts and served them alone at half the rate
# (docs/profiling.md). The master binds nothing then, so it first checks the port is free (on_starting):
# SO_REUSEPORT alone would let a second hub on the same port take half of this one's connections.
reuse_port = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - heartbeat files, gunicorn docs
forwarded_allow_ips = "*" if _settings.trusted_proxies else ""  # else a client's X-Forwarded-Proto would set the scheme
accesslog = None  # the hub logs each request itself, as JSON, with its request id
logconfig_dict = logs.gunicorn_logconfig(_settings.log_level)
wsgi_app = "hub:create_app()"
proc_name = "hub"
# gunicorn 27's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl): every hub on a host would
# take it over from the one before, and the hub has no use for it.
control_socket_disable = True
_demo_agency = None  # the demo agency service, when HUB_DEMO=1 started it
_runner: Runner | None = None  # the periodic jobs, when any is on
_redis_keeper: Keeper | None = None  # restarts the embedded Redis if it dies
_queue_workers: list[subprocess.Popen] = []  # this host's job-queue workers (hub worker)


def on_starting(server: Any) -> None:
    """In the master, before workers: the port free, fresh metrics files, the store, the admin token, the demo."""
    _refuse_a_taken_port()
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    from hub.store.client import Store

    store = Store(_settings)
    try:
        _prepare(store)
    except BaseException:
        store.stop_embedded_if_last()  # a failed start must not leave its Redis behind
        raise
    finally:
        store.close()  # workers open their own connections after the fork


def _refuse_a_taken_port() -> None:
    """Exit with a plain message if something listens on the hub's address already (another hub, say)."""
    try:
        with socket.create_server((_settings.host, _settings.port)):  # no SO_REUSEPORT: fails if anyone is bound
            pass
    except OSError as exc:
        sys.exit(f"hub serve: cannot listen on {_settings.host}:{_settings.port}: {exc.strerror}")


def _prepare(store: Store) -> None:
    global _demo_agency
    from hub import demo
    from hub.registry import tokens as auth
    from hub.state import HubState

    state = HubState(_settings, store)
    state.keyring.claim_store()  # hubs sharing a store must share its secret: refuse to start otherwise
    store.claim_blob_store()  # and its blob store
    if _settings.admin_token:
        auth.ensure_operator_token(store, _settings.admin_token)
    if _settings.demo:
        _demo_agency = demo.start_agency_service()
        tokens = demo.load(state)
        print(demo.banner(tokens, _settings.base_url, demo.sample_licence_or_none(state)), file=sys.stderr, flush=True)


def when_ready(server: Any) -> None:
    """In the master, once it listens: keep the embedded Redis running, and start the periodic jobs' runner,
    if any job is on."""
    global _runner, _redis_keeper
    from hub.ops.schedule import Runner, jobs_for
    from hub.store.embedded import Keeper

    logs.configure(_settings.log_level)  # the master has no app, which would otherwise set this up
    if _settings.embedded_redis:
        _redis_keeper = Keeper(_settings.data_dir, _settings.redis_appendfsync).start()
    jobs = jobs_for(_settings)
    if not jobs:
        return
    try:
        from hub.state import HubState
        from hub.store.client import Store

        state = HubState(_settings, Store(_settings))
        _runner = Runner(state, jobs, hand_over=_queue_hand_over(server, state))
        _runner.start()
    except Exception:  # the hub serves without its jobs rather than not at all; the log says why
        server.log.exception("the periodic jobs could not start")


def _queue_hand_over(server: Any, state: Any) -> Any:
    """Start this host's queue workers and return how the runner hands them jobs; None (the runner runs
    jobs itself) when no queue can be reached, as on a cluster without HUB_QUEUE_URL."""
    from hub.ops import queue

    if state.store.queue_connection is None:
        server.log.warning("no job queue (a Redis Cluster without HUB_QUEUE_URL): jobs run in the master")
        return None
    _keep_queue_workers()

    def hand_over(job: Any, period: int) -> str:
        _keep_queue_workers()  # a worker that died (Redis gone for a while, say) is replaced here
        return queue.enqueue(state.store, job.name, period, expires_s=max(job.interval, 60))

    return hand_over


def _keep_queue_workers() -> None:
    """Run ``HUB_QUEUE_WORKERS`` live ``hub worker`` processes."""
    _queue_workers[:] = [worker for worker in _queue_workers if worker.poll() is None]
    missing = _settings.queue_workers - len(_queue_workers)
    _queue_workers.extend(subprocess.Popen([sys.executable, "-m", "hub", "worker"]) for _ in range(missing))


def child_exit(server: Any, worker: Any) -> None:
    from hub import metrics

    metrics.worker_exited(worker.pid)


def on_exit(server: Any) -> None:
    """After the last worker: stop the demo agency service, and the embedded Redis unless another hub uses it."""
    if _redis_keeper is not None:
        _redis_keeper.stop()  # the server is about to be shut down on purpose
    if _runner is not None:
        _runner.stop()
        _runner.state.store.close()
    for worker in _queue_workers:  # SIGTERM: RQ finishes the job in hand, then exits
        worker.terminate()
    for worker in _queue_workers:
        try:
            worker.wait(_settings.graceful_timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
    if _demo_agency is not None:
        _demo_agency.terminate()
        _demo_agency.wait(10)
    from hub.store import embedded as embedded_redis

    if _settings.embedded_redis and embedded_redis.is_running(_settings.data_dir):
        from hub.store.client import Store

        if not Store(_settings).stop_embedded_if_last():
            return  # another hub on this data directory goes on, with these metrics files
    shutil.rmtree(_metrics_dir, ignore_errors=True)
