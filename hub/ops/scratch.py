"""A private Redis server that loads a snapshot (a backup being made, checked or restored), as a store; and the
error of a backup that cannot be made, read or restored."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hub.config import Settings
from hub.errors import HubError
from hub.store import embedded as embedded_redis
from hub.store.client import Store
from hub.store.secret import hub_secret

SCRATCH_STOP_SECONDS = 300  # a scratch server writing out a large append-only file on shutdown


class BackupError(HubError):
    """A backup could not be made, read or restored."""

    status, slug, title = 422, "backup", "Backup failed"


@contextmanager
def scratch_server(
    data_dir: Path, settings: Settings | None = None, documents_in: Path | None = None
) -> Iterator[Store]:
    """A private Redis server that loads ``data_dir/dump.rdb`` (append-only off), as a store that opens
    sealed records with the secret of the hub ``settings`` describe (none: it only moves data); stopped after."""
    runtime = Path(tempfile.mkdtemp(prefix="hub-scratch-", dir="/tmp"))  # short: Unix socket paths are limited
    socket_path = runtime / "redis.sock"
    lines = [
        "port 0",
        f"unixsocket {socket_path}",
        "unixsocketperm 700",
        f"dir {data_dir.resolve()}",
        "dbfilename dump.rdb",
        "appendonly no",
        'save ""',
        f"logfile {runtime / 'redis.log'}",
    ]
    (runtime / "redis.conf").write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [str(embedded_redis.redis_binary()), str(runtime / "redis.conf")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = None
    try:
        secret = (
            {}
            if settings is None
            else {"secret_key": hub_secret(settings).decode(), "record_key_version": settings.record_key_version}
        )
        documents = {} if documents_in is None else {"blob_dir": documents_in}
        store = Store(Settings(redis_url=f"unix://{socket_path}", **secret, **documents))
        _wait_loaded(store, process, runtime / "redis.log")
        yield store
    finally:
        if store is not None and process.poll() is None:
            store.shutdown_server()
        with suppress(subprocess.TimeoutExpired):
            process.wait(SCRATCH_STOP_SECONDS)
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(runtime, ignore_errors=True)


def _wait_loaded(store: Store, process: subprocess.Popen, log_path: Path) -> None:
    while not store.ping():
        if process.poll() is not None:
            log_lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
            reason = next((line for line in reversed(log_lines) if "#" in line), "see its log")
            raise BackupError(f"the snapshot does not load into Redis: {reason.split('# ', 1)[-1]}")
        time.sleep(0.05)
