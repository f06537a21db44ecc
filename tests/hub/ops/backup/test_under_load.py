"""The done-when test: a full backup of a served hub while clients write, restored with nothing lost.

Threads register agencies and issue licences over HTTP while ``hub backup create`` runs against the
same data directory; every acknowledged write is recorded with the time of its answer. The backup is
restored into a fresh directory and a second hub served from it: every write acknowledged before the
snapshot began is there, every licence it holds has its PDF, and the audit chains recompute.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import requests
from served_support import ClientThreads, post, wait_for
from testbed import LICENCE_HOLDER, OPERATOR, VENV_BIN, _kill_redis_of, backup_create, short_tempdir

from hub.ops import backup

HOLDER = LICENCE_HOLDER


@dataclass(frozen=True)
class Write:
    kind: str  # "agency" or "licence"
    key: str  # agency code or licence number
    acknowledged_at: float  # epoch seconds, when the 201 came back
    sha256: str = ""


class Writers(ClientThreads):
    """Threads writing to a served hub until stopped, keeping every acknowledged write: two register
    agencies, one issues licences."""

    def __init__(self, url: str, issuer: dict) -> None:
        super().__init__([(self._agencies, 0), (self._agencies, 1), (self._licences, 0)], join_s=60)
        self.url, self.issuer = url, issuer
        self.done: list[Write] = []

    def count(self, kind: str) -> int:
        with self.lock:
            return sum(1 for write in self.done if write.kind == kind)

    def _keep(self, write: Write) -> None:
        with self.lock:
            self.done.append(write)

    def _agencies(self, session: requests.Session, thread: int) -> None:
        n = 0
        while not self.stopping.is_set():
            code = f"w{thread}-{n}"
            n += 1
            body = {"code": code, "name": f"Agency {code}", "region": "440000"}
            response = session.post(f"{self.url}/api/v1/agencies", json=body, headers=OPERATOR, timeout=30)
            if response.status_code == 201:
                self._keep(Write("agency", code, time.time()))

    def _licences(self, session: requests.Session, _: int) -> None:
        while not self.stopping.is_set():
            body = {"type": "biz-licence", "holder": HOLDER, "fields": {"holder": "shop"}}
            response = session.post(f"{self.url}/api/v1/licences", json=body, headers=self.issuer, timeout=60)
            if response.status_code == 201:
                record = response.json()
                self._keep(Write("licence", record["number"], time.time(), record["sha256"]))


@pytest.fixture
def restored_dir():
    path = short_tempdir("hub-restored-")
    yield path
    _kill_redis_of(path)  # in case the hub served from it did not get to stop its server
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_backup_under_concurrent_writes_restores_with_nothing_lost(served_hub_factory, restored_dir, tmp_path):
    env = {"HUB_BACKUP_INTERVAL": "0", "HUB_CHECKPOINT_INTERVAL": "0"}
    source = served_hub_factory(**env).start()
    post(source.url, "/api/v1/agencies", {"code": "market", "name": "Market", "region": "330100"})
    type_body = {
        "code": "biz-licence",
        "name": "Licence",
        "issuer": "market",
        "fields": {"holder": {"type": "string", "required": True}},
        "validity_days": 365,
    }
    post(source.url, "/api/v1/licence-types", type_body)
    token = post(source.url, "/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
    issuer = {"Authorization": f"Bearer {token}"}

    with Writers(source.url, issuer) as writers:
        wait_for(
            lambda: writers.count("licence") >= 2 and writers.count("agency") >= 20,
            seconds=120,
            what="the writers' first writes",
        )
        created = backup_create(source.env, tmp_path)
        written_by_then = len(writers.done)
        wait_for(lambda: len(writers.done) > written_by_then + 5, seconds=120, what="writes after the snapshot")
    path = Path(created.stdout.strip())
    manifest = backup.read_manifest(path)
    snapshot_began = datetime.fromisoformat(manifest["snapshot_started_at"]).timestamp()
    before = [write for write in writers.done if write.acknowledged_at < snapshot_began]
    assert any(w.kind == "licence" for w in before) and any(w.kind == "agency" for w in before)
    assert any(write.acknowledged_at > snapshot_began for write in writers.done)

    secret = source.data_dir / "secret.key"
    restore = ["backup", "restore", str(path), "--data-dir", str(restored_dir), "--secret-key-file", str(secret)]
    restored = subprocess.run(
        [str(VENV_BIN / "hub"), *restore],
        env={**os.environ, "HUB_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "ok   integrity" in restored.stdout and "ok   seal" in restored.stdout
    source.stop()

    copy = served_hub_factory(restored_dir, **env).start()
    try:
        for write in before:
            if write.kind == "agency":
                assert requests.get(f"{copy.url}/api/v1/agencies/{write.key}", headers=OPERATOR, timeout=30).ok, write
            else:
                pdf = requests.get(f"{copy.url}/api/v1/licences/{write.key}/pdf", headers=OPERATOR, timeout=30)
                assert pdf.ok and hashlib.sha256(pdf.content).hexdigest() == write.sha256, write
        chains = requests.get(f"{copy.url}/api/v1/audit/verify", headers=OPERATOR, timeout=60).json()
        assert chains["intact"] is True, chains
        assert chains["entries"] == manifest["counts"]["audit_entries"]  # the snapshot, no more and no less
    finally:
        assert copy.stop() == 0  # and with it the embedded server, before the directory goes
