"""Backup and restore time per 10,000 licences on record (``python -m bench.backup``).

One licence is issued for real (rendered, sealed at PAdES B-LT, timestamped: about 0.3 s of CPU
each, too slow for 10,000), then 10,000 more are seeded straight into the hub's Redis in the shape
:func:`hub.licences.issue_for_subject` writes: the record (the real one with its number changed), the
number in the type's index and the holder's index, the first status in its history (sealed as the store
seals them), and the sealed PDF as a document in the blob store. Each seeded PDF is the real one with
a comment line appended that names its number, so every licence has a distinct blob of realistic
size (blobs are stored by content: 10,000 identical PDFs would be one). Seeded licences have no
audit entries of their own.

Then ``hub backup create`` (snapshot, compression, loading the snapshot into a scratch server to
count and check every blob, sealing), ``hub backup verify`` and ``hub backup restore`` are timed
as the library calls the commands make. The hub is not under load meanwhile; the backup's
consistency under load is what ``tests/hub/ops/backup/test_under_load.py`` shows. The wrk options are
accepted (the runner passes them to every benchmark) and unused.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from certs import numbering
from hub import create_app
from hub.config import Settings
from hub.ops import backup, restore
from hub.store import keys

from . import alone, processes, wrk

LICENCES = 10_000
SEED_BATCH = 500
ADMIN_TOKEN = "bench-operator-token-0123456789"  # noqa: S105 - a throwaway hub's token
OPERATOR = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOLDER = {"id_type": "credit-code", "id": "91330100MA2H7K3P23", "name": "杭州西湖小吃店"}
TYPE_CODE = "biz-licence"


@dataclass(frozen=True)
class BackupResult:
    """The timings and sizes of one backup, its verification and its restore."""

    licences: int
    pdf_bytes: int
    rdb_bytes: int
    compressed_bytes: int
    create_seconds: float
    verify_seconds: float
    restore_seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    name: str = "backup"

    def markdown(self) -> list[str]:
        per = LICENCES / self.licences
        mib = 1 << 20
        return [
            "## Backup and restore",
            "",
            f"A hub holding {self.licences:,} licences (one issued, the rest seeded in the service's shape, each"
            f" with its own {self.pdf_bytes / 1024:.0f} KiB sealed PDF); figures per 10,000 licences.",
            "",
            "| step | seconds per 10,000 licences |",
            "| --- | ---: |",
            f"| `hub backup create` (snapshot, gzip, load, check every blob, seal) | {self.create_seconds * per:.1f} |",
            f"| `hub backup verify` (checksums, seal, load, check every blob) | {self.verify_seconds * per:.1f} |",
            f"| `hub backup restore` (unpack, AOF rewrite, start, check blobs) | {self.restore_seconds * per:.1f} |",
            "",
            f"Snapshot {self.rdb_bytes / mib:,.0f} MiB, {self.compressed_bytes / mib:,.0f} MiB compressed"
            f" ({self.counts.get('keys', 0):,} keys, {self.counts.get('blobs', 0):,} blobs).",
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "licences": self.licences,
            "pdf_bytes": self.pdf_bytes,
            "rdb_bytes": self.rdb_bytes,
            "compressed_bytes": self.compressed_bytes,
            "create_seconds": self.create_seconds,
            "verify_seconds": self.verify_seconds,
            "restore_seconds": self.restore_seconds,
            "counts": self.counts,
        }


def run(load: wrk.WrkSettings) -> BackupResult:
    """Seed the licences, then time create, verify and restore."""
    del load  # not a load test
    data_dir = processes.short_tempdir("bench-backup-")
    target = processes.short_tempdir("bench-restored-")
    settings = Settings(data_dir=data_dir, admin_token=ADMIN_TOKEN, log_level="WARNING")
    app = create_app(settings=settings)
    state = app.extensions["hub"]
    try:
        print(f"issuing one licence, seeding {LICENCES - 1:,} more like it", flush=True)
        pdf_bytes = _seed(state, _issue_one(app.test_client()), LICENCES - 1)
        started = time.monotonic()
        path = backup.create(state, data_dir / "backups")
        create_seconds = time.monotonic() - started
        print(f"backup created in {create_seconds:.1f} s: {path}", flush=True)
        started = time.monotonic()
        checked = backup.verify(path, backup.hub_pki(state), state.settings)
        verify_seconds = time.monotonic() - started
        started = time.monotonic()
        restored = restore.restore(path, target, settings, data_dir / "secret.key")
        restore_seconds = time.monotonic() - started
        if not (checked.ok and restored.ok):
            raise processes.ServerError(
                f"the backup did not check out: {checked.checks} {restored.verification.checks}"
            )
        manifest = backup.read_manifest(path) or {}
        return BackupResult(
            licences=manifest["counts"]["licences"],
            pdf_bytes=pdf_bytes,
            rdb_bytes=manifest["snapshot"]["rdb_size"],
            compressed_bytes=manifest["snapshot"]["size"],
            create_seconds=create_seconds,
            verify_seconds=verify_seconds,
            restore_seconds=restore_seconds,
            counts=manifest["counts"],
        )
    finally:
        state.store.stop_embedded_if_last()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)


def _issue_one(client: Any) -> dict[str, Any]:
    """Register an issuer and a licence type, and issue one licence through the API."""

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = OPERATOR) -> dict[str, Any]:
        response = client.post(path, json=body, headers=headers)
        if response.status_code != 201:
            raise processes.ServerError(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json()

    post("/api/v1/agencies", {"code": "market", "name": "Market", "region": "330100"})
    fields = {"holder": {"type": "string", "required": True}}
    licence_type = {"code": TYPE_CODE, "name": "Licence", "issuer": "market", "fields": fields, "validity_days": 365}
    post("/api/v1/licence-types", licence_type)
    token = post("/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
    body = {"type": TYPE_CODE, "holder": HOLDER, "fields": {"holder": "shop"}}
    return post("/api/v1/licences", body, {"Authorization": f"Bearer {token}"})


def _seed(state: Any, real: dict[str, Any], count: int) -> int:
    """Write ``count`` licences like the stored ``real`` one, each with its own PDF; the PDF's size."""
    real_key = numbering.canonical(real["number"])
    record = state.store.get_json(keys.licence(TYPE_CODE, real_key))
    history = state.store.list_all_json(keys.licence_history(TYPE_CODE, real_key))
    pdf = state.store.document(record["sha256"])
    redis = state.store.raw_client_for_tests()
    for start in range(0, count, SEED_BATCH):
        pipe = redis.pipeline(transaction=False)
        for sequence in range(start, min(start + SEED_BATCH, count)):
            number = f"{record['number']}-S{sequence:05d}"
            content = pdf + f"\n% seeded licence {number}\n".encode()
            seeded = record | {"number": number, "sha256": hashlib.sha256(content).hexdigest()}
            number_key = numbering.canonical(number)
            state.store.put_document(seeded["sha256"], [content])  # to the blob store, sealed, as issuance does
            licence_key = keys.licence(TYPE_CODE, number_key)
            pipe.set(licence_key, state.store.codec.dump(licence_key, seeded))
            pipe.zadd(keys.licence_index(TYPE_CODE), {number_key: 0})
            pipe.zadd(keys.licence_holder_index(TYPE_CODE, record["holder"]["subject_hash"]), {number_key: 0})
            history_key = keys.licence_history(TYPE_CODE, number_key)
            if history:  # status changes only; the issuance line comes from the record
                pipe.rpush(history_key, *(state.store.codec.dump(history_key, line) for line in history))
        pipe.execute()
    return len(pdf)


if __name__ == "__main__":
    alone.main("python -m bench.backup", __doc__.splitlines()[0], run)
