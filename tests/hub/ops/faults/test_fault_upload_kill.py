"""Every process of a serving hub (gunicorn's master, its workers, the embedded Redis) killed with SIGKILL the
moment an upload is being written to the blob store (issue 17): after a restart on the same data, every
acknowledged upload reads back whole, every file a case names is in the blob store whole, the file the kill cut
short was never given a document's name and is collected, and an upload retried with its Idempotency-Key goes
through once."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from fault_support import QUIET, attach, new_case, random_pdf, set_up_uploads, upload_plan
from served_support import wait_for

from blobstores.directory import INCOMING
from hub.ops import blob_collection
from hub.store import embedded as embedded_redis
from hub.store import keys

pytestmark = pytest.mark.slow

UPLOADERS = 3
UPLOAD_BYTES = 6 * 1024 * 1024  # long enough to write that the kill lands inside one
ROUNDS = 5
SERVED = {"HUB_WORKERS": "2", "HUB_THREADS": "4", "HUB_REDIS_APPENDFSYNC": "always", **QUIET}


class Uploaders:
    """Client threads, each filing cases and uploading a fresh plan to each, until their hub is killed."""

    def __init__(self, url: str, portal: dict[str, str]) -> None:
        self.url, self.portal = url, portal
        self.lock = threading.Lock()
        self.acknowledged: dict[str, str] = {}  # case -> digest of the plan its 201 acknowledged
        self.cut: dict[str, tuple[str, bytes]] = {}  # case -> (Idempotency-Key, plan) of a request killed in flight
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(UPLOADERS)]
        for thread in self.threads:
            thread.start()

    def _run(self, uploader: int) -> None:
        session = requests.Session()
        for n in range(1000):
            key, content = f"plan-{uploader}-{n}", random_pdf(UPLOAD_BYTES)
            try:
                case_id = new_case(self.url, self.portal)
            except (requests.RequestException, AssertionError):
                return  # the hub is gone
            try:
                response = upload_plan(self.url, self.portal, case_id, content, session, **{"Idempotency-Key": key})
            except requests.RequestException:
                with self.lock:
                    self.cut[case_id] = (key, content)
                return
            if response.status_code != 201:
                return
            with self.lock:
                self.acknowledged[case_id] = hashlib.sha256(content).hexdigest()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(60)


def being_written(blob_root: Path) -> list[str]:
    try:
        return os.listdir(blob_root / INCOMING)
    except FileNotFoundError:
        return []


def kill_mid_write(hub, blob_root: Path, uploaders: Uploaders) -> list[str]:
    """SIGKILL every process of ``hub`` the moment a blob is being written; the temporary files left behind."""
    processes = [*hub.pids(), embedded_redis.server_pid(hub.data_dir)]  # looked up first: the kill must be quick
    wait_for(lambda: being_written(blob_root), seconds=120, every=0.001, what="an upload being written")
    for pid in processes:
        os.kill(pid, signal.SIGKILL)
    uploaders.join()
    hub.process.wait(10)
    assert embedded_redis.wait_stopped(hub.data_dir, wait_seconds=10)
    return being_written(blob_root)


def test_every_process_killed_mid_upload_loses_nothing_acknowledged(served_hub_factory):
    hub = served_hub_factory(**SERVED).start()
    blob_root = hub.data_dir / "blobs"
    portal = set_up_uploads(hub.url)
    acknowledged: dict[str, str] = {}
    cut: dict[str, tuple[str, bytes]] = {}
    for _ in range(ROUNDS):  # the write may finish between the sight of its file and the kill: then again
        uploaders = Uploaders(hub.url, portal)
        wait_for(lambda uploaders=uploaders: uploaders.acknowledged, seconds=120, what="an upload acknowledged")
        cut_short = kill_mid_write(hub, blob_root, uploaders)
        acknowledged |= uploaders.acknowledged
        cut |= uploaders.cut
        hub = served_hub_factory(hub.data_dir, **SERVED).start()
        if cut_short:
            break
    assert cut_short, f"no kill in {ROUNDS} landed while a blob was being written"
    assert cut, "no upload was in flight when the hub was killed"
    restarted = hub
    store = attach(hub.data_dir)
    try:
        cases = {
            case_id: requests.get(f"{restarted.url}/api/v1/applications/{case_id}", headers=portal, timeout=30).json()
            for case_id in [*acknowledged, *cut]
        }
        for case_id, digest in acknowledged.items():  # what was acknowledged is there, whole
            (plan,) = cases[case_id]["materials"]
            assert plan["file"]["sha256"] == digest
            assert hashlib.sha256(store.document(digest)).hexdigest() == digest
        for case_id, case in cases.items():  # nothing a case names is missing or partial
            for material in case["materials"]:
                if material.get("file"):
                    assert store.document(material["file"]["sha256"]) is not None, case_id

        # The cut uploads, retried with their keys, go through once each.
        for case_id, (key, content) in cut.items():
            retried = upload_plan(restarted.url, portal, case_id, content, **{"Idempotency-Key": key})
            assert retried.status_code in (200, 201), retried.text
            case = requests.get(f"{restarted.url}/api/v1/applications/{case_id}", headers=portal, timeout=30).json()
            (plan,) = case["materials"]
            assert plan["file"]["sha256"] == hashlib.sha256(content).hexdigest()

        # The file the kill cut short never had a document's name; the collection clears it, and no blob that
        # nothing names outlives two rounds of it.
        assert not set(cut_short) & set(store.document_names())
        now = time.time()
        blob_collection.collect(store, now, grace_seconds=0)
        collected = blob_collection.collect(store, now, grace_seconds=0)
        assert being_written(blob_root) == []
        named = {
            m["file"]["sha256"]
            for case_id in cases
            for m in requests.get(f"{restarted.url}/api/v1/applications/{case_id}", headers=portal, timeout=30).json()[
                "materials"
            ]
            if m.get("file")
        }
        marker = store.get_json(keys.blob_store_marker())  # the blob store's own: see Documents.claim_blob_store
        assert set(store.document_names()) == named | {marker}, collected
    finally:
        store.close()
