"""A private Redis server that loads a snapshot (a backup being made, checked or restored), as a store; and the
error of a backup that cannot be made, read or restored."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
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


def _scratch_settings(settings: Settings | None, redis_url: str, documents: Path) -> Settings:
    """The copy's settings: the hub's own (its secret, and what opens its PKI's keys: the passphrase, the
    PKCS#11 token), so that checking the copy opens everything as the serving hub does, pointed at the
    scratch server and at ``documents``; with no hub settings, a store that only moves data."""
    if settings is None:
        return Settings(redis_url=redis_url, blob_dir=documents)
    return replace(
        settings,
        redis_url=redis_url,
        redis_cluster=False,
        redis_sentinel_master=None,
        secret_key=hub_secret(settings).decode(),
        blob_url=None,
        blob_dir=documents,
    )


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
        store = Store(_scratch_settings(settings, f"unix://{socket_path}", documents_in or runtime / "blobs"))
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
