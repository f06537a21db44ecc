"""The blob store's disk fills up while applicants upload (issue 17): uploads get a clear 503 problem, the case
does not count an upload that was not kept, no half-written file is left under a document's name, what was
acknowledged reads back whole, and once there is room again uploads go through without a restart.

The blob directory is a small tmpfs mounted for the test (root only; CI runs as root)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_support import QUIET, attach, fill, is_problem, new_case, random_pdf, set_up_uploads, tmpfs, upload_plan

from blobstores.directory import INCOMING

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs for the blob directory needs root"),
]

DISK_BYTES = 4 * 1024 * 1024
UPLOAD_BYTES = 300 * 1024


@pytest.fixture
def blob_disk() -> Iterator[Path]:
    with tmpfs(DISK_BYTES) as mount_point:
        yield mount_point


def upload(url: str, portal: dict[str, str]) -> tuple[str, requests.Response, bytes]:
    case_id, content = new_case(url, portal), random_pdf(UPLOAD_BYTES)
    return case_id, upload_plan(url, portal, case_id, content), content


def test_a_full_blob_disk_refuses_uploads_clearly_and_recovers_by_itself(blob_disk, served_hub_factory):
    hub = served_hub_factory(HUB_BLOB_DIR=str(blob_disk / "blobs"), **QUIET).start()
    portal = set_up_uploads(hub.url)
    kept = []
    for _ in range(3):
        case_id, response, content = upload(hub.url, portal)
        assert response.status_code == 201, response.text
        kept.append((case_id, content))

    fill(blob_disk / "filler")
    case_id, refused, _ = upload(hub.url, portal)
    assert is_problem(refused, 503), refused.text
    case = requests.get(f"{hub.url}/api/v1/applications/{case_id}", headers=portal, timeout=30).json()
    assert case["status"] == "pending_materials"  # the upload that was not kept is not counted
    assert list((blob_disk / "blobs" / INCOMING).iterdir()) == []  # nothing half-written left

    store = attach(hub.data_dir, blob_disk / "blobs")
    try:
        for case_id, content in kept:  # what was acknowledged reads back whole
            record = requests.get(f"{hub.url}/api/v1/applications/{case_id}", headers=portal, timeout=30).json()
            (plan,) = [m for m in record["materials"] if m["code"] == "plan"]
            assert store.document(plan["file"]["sha256"]) == content
    finally:
        store.close()

    (blob_disk / "filler").unlink()  # room again: no restart needed
    _, again, _ = upload(hub.url, portal)
    assert again.status_code == 201, again.text
