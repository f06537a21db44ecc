"""Restoring a backup into an empty data directory, then checking what was restored (docs/recovery.md)."""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path

from hub.config import Settings
from hub.ops import backup, backup_documents, integrity
from hub.state import HubState
from hub.store import embedded as embedded_redis
from hub.store.client import Store
from hub.store.secret import SECRET_FILE


@dataclass
class Restored:
    """A restore: the backup's checks, then the seal and integrity of the restored store."""

    data_dir: Path
    verification: backup.Verification

    @property
    def ok(self) -> bool:
        return self.verification.ok


def restore(path: Path, data_dir: Path, settings: Settings, secret_key_file: Path | None = None) -> Restored:
    """Bring a backup into an empty data directory so the embedded server starts with it, then check it."""
    data_dir = Path(data_dir).resolve()
    _refuse_unless_empty(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    result = backup.Verification(Path(path))
    try:
        if not backup.unpack(result, data_dir / "dump.rdb", None):
            raise backup.BackupError(
                "the backup is damaged: " + "; ".join(c.detail for c in result.checks if c.ok is False)
            )
        result.checks = [check for check in result.checks if check.name != "seal"]
        with backup.scratch_server(data_dir) as loaded:
            loaded.switch_to_append_only()  # the embedded server reads only the AOF once append-only is on
        if not (data_dir / backup.APPEND_ONLY_FILE).is_file():
            raise backup.BackupError(f"Redis wrote no {backup.APPEND_ONLY_FILE} into {data_dir}.")
        (data_dir / "dump.rdb").unlink()
        if secret_key_file is not None:
            _copy_secret(secret_key_file, data_dir)
        restored = replace(settings, data_dir=data_dir, redis_url=None, redis_cluster=False)
        _restore_documents(result, restored)
        _check_restored(result, restored)
    except BaseException:
        _empty(data_dir)  # leave the directory as it was, so the restore can be tried again
        raise
    return Restored(data_dir, result)


def _restore_documents(result: backup.Verification, settings: Settings) -> None:
    """Put the backup's documents into the restored hub's blob store, each opened whole with its secret."""
    if not result.manifest.get("documents"):
        return
    if not (settings.secret_key or (settings.data_dir / SECRET_FILE).exists()):
        raise backup.BackupError(
            f"the backup's documents are sealed under its hub's secret: copy the old {SECRET_FILE} in "
            "(--secret-key-file) or set HUB_SECRET_KEY"
        )
    if not backup_documents.extract(result, backup_documents.store_of(settings)):
        raise backup.BackupError("the backup's documents are damaged: " + result.checks[-1].detail)


def _refuse_unless_empty(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise backup.BackupError(f"{data_dir} is not an empty directory; restore only into a new or empty one.")
    if len(str(data_dir / embedded_redis.SOCKET_NAME)) > embedded_redis.MAX_SOCKET_PATH:
        raise backup.BackupError(f"{data_dir} is too long a path for the embedded server's Unix socket.")


def _copy_secret(secret_key_file: Path, data_dir: Path) -> None:
    target = data_dir / SECRET_FILE
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(Path(secret_key_file).read_bytes())


def _check_restored(result: backup.Verification, settings: Settings) -> None:
    """Start the embedded server on the restored directory, compare, check, and stop it again."""
    store = Store(settings)
    try:
        backup.compare_contents(result, integrity.check(store))
        if settings.secret_key or (settings.data_dir / SECRET_FILE).exists():
            with tarfile.open(result.path, mode="r:") as archive:
                manifest, signature = (
                    backup.read(archive.extractfile(name)) for name in (backup.MANIFEST, backup.SIGNATURE)
                )
            backup.check_seal(result, backup.hub_pki(HubState(settings, store)), manifest, signature)
        else:
            result.add("seal", None, f"not checked: copy the old {SECRET_FILE} in (or set HUB_SECRET_KEY) first")
    finally:
        store.stop_embedded_if_last()


def _empty(data_dir: Path) -> None:
    for entry in data_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
