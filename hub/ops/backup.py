"""Backups of the whole hub (Redis data, blobs included), checking one, and restoring one.

A backup is one tar file, ``hub-backup-<UTC time>.tar``, written atomically (temporary file, fsync,
rename) with three members:

- ``backup.json``: format, kind (``manual`` or ``scheduled``), times, Redis version, the SHA-256 and
  size of the compressed and of the uncompressed snapshot, what the snapshot holds (counts of keys,
  blobs, licences, applications, materials, archives, audit entries) and the head of every audit chain;
- ``backup.json.p7s``: a detached CMS signature over ``backup.json`` by the hub's archive seal, with
  an RFC 3161 timestamp (the manifest names the snapshot's digest, so the seal covers it too);
- ``redis.rdb.gz``: the Redis snapshot (RDB), gzip-compressed.

Consistency: the snapshot is Redis's own point-in-time copy (see :meth:`hub.store.client.Store.snapshot_to`),
and every change in the hub is one MULTI/EXEC, so a backup holds each change whole or not at all,
with its audit entry. Its contents are counted and checked by loading it into a throwaway server
before the manifest is written; verifying and restoring load it again and compare.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hub.config import Settings
from hub.context import now, rfc3339
from hub.licences.pki import Pki
from hub.ops import backup_documents, integrity
from hub.ops.scratch import BackupError, scratch_server
from hub.state import HubState
from hub.store import keys

FORMAT = 1
MANIFEST, SIGNATURE, SNAPSHOT = "backup.json", "backup.json.p7s", "redis.rdb.gz"
NAME_PREFIX, NAME_SUFFIX = "hub-backup-", ".tar"
MANUAL, SCHEDULED = "manual", "scheduled"
APPEND_ONLY_FILE = "appendonly.aof"  # Redis 6's default name, which the embedded server's configuration keeps
COMPRESS_LEVEL = 1  # the RDB is LZF-compressed and PDFs deflated already: level 6 saved ~2% more, in ~25% more time
CHUNK = 1 << 20
# Counts that describe the snapshot for good; keys with a time to live may expire before it is loaded.
COMPARED_COUNTS = ("blobs", "licences", "applications", "materials", "archives", "audit_entries")


@dataclass(frozen=True)
class Check:
    """One thing verified about a backup: passed (True), failed (False) or not checked (None)."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class Verification:
    """Every check made on one backup, and what its snapshot holds."""

    path: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    contents: integrity.IntegrityReport | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok is not False for check in self.checks)

    def add(self, name: str, ok: bool | None, detail: str) -> bool | None:
        self.checks.append(Check(name, ok, detail))
        return ok


# -- making one
def create(state: HubState, directory: Path | None = None, kind: str = MANUAL) -> Path:
    """Back up the hub's whole store, while it serves, into one sealed file; its path."""
    directory = Path(directory or state.settings.backups)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = now()
    with tempfile.TemporaryDirectory(dir=directory, prefix=".making-") as work_dir:
        work = Path(work_dir)
        state.pki.roots_pem()  # makes the PKI now if new, so that the snapshot holds the seal it is sealed by
        started = now()
        state.store.snapshot_to(work / "dump.rdb")
        taken = now()
        documents = backup_documents.copy_documents(
            state.store.blobs, backup_documents.copy_store(work, state.settings)
        )
        with ThreadPoolExecutor(1) as compressor:  # zlib lets go of the GIL: compress while the copy is checked
            compressing = compressor.submit(_compress, work / "dump.rdb", work / SNAPSHOT)
            with scratch_server(work, state.settings, documents_in=work / backup_documents.DOCUMENTS) as copy:
                contents = integrity.check(copy)
            snapshot = compressing.result()
        manifest = {
            "format": FORMAT,
            "kind": kind,
            "created_at": rfc3339(created),
            "snapshot_started_at": rfc3339(started),
            "snapshot_taken_at": rfc3339(taken),
            "redis_version": state.store.server_version(),
            "snapshot": snapshot,
            "counts": contents.counts(),
            "audit_heads": contents.audit_heads,
            "problems": contents.problems,
            "documents": documents,
        }
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        path = directory / f"{NAME_PREFIX}{created.strftime('%Y%m%dT%H%M%S.%f')[:-3]}Z{NAME_SUFFIX}"
        signature = state.pki.sign_detached(manifest_bytes)
        _write_atomically(
            path, manifest_bytes, signature, work / SNAPSHOT, work / backup_documents.DOCUMENTS, documents
        )
    return path


def _compress(source: Path, target: Path) -> dict[str, Any]:
    """gzip ``source`` into ``target``; the digests and sizes of both."""
    raw = hashlib.sha256()
    with source.open("rb") as reader, gzip.open(target, "wb", compresslevel=COMPRESS_LEVEL) as writer:
        while chunk := reader.read(CHUNK):
            raw.update(chunk)
            writer.write(chunk)
    return {
        "name": SNAPSHOT,
        "compression": "gzip",
        "sha256": _file_sha256(target),
        "size": target.stat().st_size,
        "rdb_sha256": raw.hexdigest(),
        "rdb_size": source.stat().st_size,
    }


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(
    path: Path, manifest: bytes, signature: bytes, snapshot: Path, documents: Path, names: dict[str, str]
) -> None:
    """Write the tar beside ``path``, fsync it, then rename it into place (never a half-written backup)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("xb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
                _add_bytes(archive, MANIFEST, manifest)
                _add_bytes(archive, SIGNATURE, signature)
                archive.add(snapshot, arcname=SNAPSHOT, recursive=False, filter=_plain)
                for name in sorted(names):
                    archive.add(
                        documents / name[:2] / name,
                        arcname=backup_documents.DOCUMENTS + name,
                        recursive=False,
                        filter=_plain,
                    )
            handle.flush()
            os.fsync(handle.fileno())
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = _plain(tarfile.TarInfo(name))
    info.size, info.mtime = len(content), int(time.time())
    archive.addfile(info, io.BytesIO(content))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


# -- checking one
def verify(path: Path, pki: Pki | None, settings: Settings) -> Verification:
    """Check a backup: members, checksums, decompression, the seal (with ``pki``) and the snapshot itself
    (its sealed records opened with the secret of the hub ``settings`` describe)."""
    result = Verification(Path(path))
    with tempfile.TemporaryDirectory(prefix="hub-verify-") as work_dir:
        work = Path(work_dir)
        documents = backup_documents.copy_store(work, settings)
        if unpack(result, work / "dump.rdb", pki) and backup_documents.extract(result, documents):
            try:
                with scratch_server(work, settings, documents_in=work / backup_documents.DOCUMENTS) as copy:
                    compare_contents(result, integrity.check(copy))
            except BackupError as error:
                result.add("contents", False, error.detail)
    return result


def hub_pki(state: HubState) -> Pki | None:
    """The PKI of the hub configured here, or None if it has none yet (checking must not make one)."""
    return state.pki if state.store.get_json(keys.pki_authority()) is not None else None


def unpack(result: Verification, rdb: Path, pki: Pki | None) -> bool:
    """Read the tar's members, check the manifest, the seal and the snapshot's checksums into ``rdb``."""
    try:
        with tarfile.open(result.path, mode="r:") as archive:
            members = {name: archive.extractfile(name) for name in (MANIFEST, SIGNATURE, SNAPSHOT)}
            manifest_bytes, signature = read(members[MANIFEST]), read(members[SIGNATURE])
            if not _read_manifest(result, manifest_bytes):
                return False
            check_seal(result, pki, manifest_bytes, signature)
            return bool(_extract_snapshot(result, members[SNAPSHOT], rdb))
    except (OSError, tarfile.TarError, KeyError) as error:
        result.add("file", False, f"not a readable backup: {error}")
        return False


def read(member: IO[bytes] | None) -> bytes:
    if member is None:
        raise tarfile.TarError("a member is not a regular file")
    return member.read()


def _read_manifest(result: Verification, content: bytes) -> bool:
    try:
        result.manifest = json.loads(content)
    except ValueError:
        return bool(result.add("manifest", False, f"{MANIFEST} is not JSON"))
    if not isinstance(result.manifest, dict) or result.manifest.get("format") != FORMAT:
        return bool(result.add("manifest", False, f"{MANIFEST} is not a format {FORMAT} manifest"))
    return bool(
        result.add("manifest", True, f"{result.manifest.get('kind')} backup of {result.manifest['created_at']}")
    )


def check_seal(result: Verification, pki: Pki | None, manifest: bytes, signature: bytes) -> None:
    if pki is None:
        result.add("seal", None, "not checked: no hub PKI here to check it against")
        return
    report = pki.verify_detached(manifest, signature)
    if report.valid:
        result.add("seal", True, f"sealed by {report.signer}, timestamped {report.timestamp}")
    else:
        result.add("seal", False, "the seal does not hold: " + "; ".join(report.problems or ("not trusted",)))


class _Hashing(io.RawIOBase):
    """A reader that hashes and counts what passes through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.digest, self.size = inner, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        self.digest.update(chunk)
        self.size += len(chunk)
        return len(chunk)


def _extract_snapshot(result: Verification, member: IO[bytes] | None, rdb: Path) -> bool | None:
    """Decompress the snapshot into ``rdb``, checking both checksums of the manifest."""
    expected = result.manifest.get("snapshot") or {}
    if member is None:
        return result.add("snapshot", False, "the snapshot is not a regular file")
    compressed = _Hashing(member)
    raw = hashlib.sha256()
    try:
        with gzip.GzipFile(fileobj=io.BufferedReader(compressed, CHUNK), mode="rb") as reader, rdb.open("wb") as out:
            while chunk := reader.read(CHUNK):
                raw.update(chunk)
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        return result.add("snapshot", False, f"the snapshot does not decompress: {error}")
    if (compressed.digest.hexdigest(), compressed.size) != (expected.get("sha256"), expected.get("size")):
        return result.add("snapshot", False, "the compressed snapshot does not match its checksum")
    if (raw.hexdigest(), rdb.stat().st_size) != (expected.get("rdb_sha256"), expected.get("rdb_size")):
        return result.add("snapshot", False, "the decompressed snapshot does not match its checksum")
    return result.add("snapshot", True, f"{expected['rdb_size']:,} bytes, checksums match")


def compare_contents(result: Verification, contents: integrity.IntegrityReport) -> None:
    """The loaded snapshot holds what the manifest says, and is itself intact."""
    result.contents = contents
    recorded, counts = result.manifest.get("counts", {}), contents.counts()
    differing = [
        f"{name} {counts[name]} (recorded {recorded.get(name)})"
        for name in COMPARED_COUNTS
        if counts[name] != recorded.get(name)
    ]
    if contents.audit_heads != result.manifest.get("audit_heads"):
        differing.append("the audit chain heads differ from the recorded ones")
    if differing:
        result.add("contents", False, "the snapshot does not hold what the manifest says: " + "; ".join(differing))
    else:
        result.add("contents", True, ", ".join(f"{n} {v:,}" for n, v in contents.counts().items()))
    detail = "audit chains and documents intact" if contents.intact else "; ".join(contents.problems[:20])
    result.add("integrity", contents.intact, detail)


# -- the backups directory
def list_backups(directory: Path) -> list[tuple[Path, dict[str, Any] | None]]:
    """Every backup in ``directory``, oldest first, with its manifest (None if unreadable)."""
    paths = sorted(Path(directory).glob(f"{NAME_PREFIX}*{NAME_SUFFIX}")) if Path(directory).is_dir() else []
    return [(path, read_manifest(path)) for path in paths]


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of a backup, unchecked, or None if it cannot be read."""
    try:
        with tarfile.open(path, mode="r:") as archive:
            return json.loads(read(archive.extractfile(MANIFEST)))
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return None


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete the scheduled backups beyond the newest ``keep`` (never a manual one); the deleted paths."""
    scheduled = [path for path, manifest in list_backups(directory) if manifest and manifest.get("kind") == SCHEDULED]
    doomed = scheduled[: max(len(scheduled) - keep, 0)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
