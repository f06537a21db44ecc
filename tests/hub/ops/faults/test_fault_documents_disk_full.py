"""The blob store's disk fills up while applicants upload (issue 17): uploads get a clear 503 problem, the case
does not count an upload that was not kept, no half-written file is left under a document's name, what was
acknowledged reads back whole, and once there is room again uploads go through without a restart.

The blob directory is a small tmpfs mounted for the test (root only; CI runs as root)."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fault_support import QUIET, attach, fill, is_problem, tmpfs
from served_support import post

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


def set_up(url: str) -> tuple[dict[str, str], str]:
    """A hall that submits for a market whose item needs one uploaded plan; the portal's headers and the item."""
    for code, name in (("market", "杭州市市场监督管理局"), ("hall", "杭州市政务服务中心")):
        post(url, "/api/v1/agencies", {"code": code, "name": name, "region": "330100"})
    materials = [{"code": "plan", "name": "平面图", "evidence_type": None, "required": True}]
    item = {"code": "permit", "name": "许可", "region": "330100", "agency": "market", "materials": materials}
    post(url, "/api/v1/service-items", {**item, "statutory_days": 20, "committed_days": 10})
    token = post(url, "/api/v1/agencies/hall/tokens", {"roles": ["portal"]})["token"]
    return {"Authorization": f"Bearer {token}"}, "permit"


def upload(url: str, portal: dict[str, str], item: str) -> tuple[str, requests.Response, bytes]:
    applicant = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
    case = post(url, "/api/v1/applications", {"service_item": item, "applicant": applicant, "channel": "web"}, portal)
    content = b"%PDF-1.7\n" + secrets.token_bytes(UPLOAD_BYTES)
    files = {"file": ("plan.pdf", io.BytesIO(content), "application/pdf")}
    response = requests.post(
        f"{url}/api/v1/applications/{case['id']}/materials",
        data={"material": "plan"},
        files=files,
        headers=portal,
        timeout=60,
    )
    return case["id"], response, content


def test_a_full_blob_disk_refuses_uploads_clearly_and_recovers_by_itself(blob_disk, served_hub_factory):
    hub = served_hub_factory(HUB_BLOB_DIR=str(blob_disk / "blobs"), **QUIET).start()
    portal, item = set_up(hub.url)
    kept = []
    for _ in range(3):
        case_id, response, content = upload(hub.url, portal, item)
        assert response.status_code == 201, response.text
        kept.append((case_id, content))

    fill(blob_disk / "filler")
    case_id, refused, _ = upload(hub.url, portal, item)
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
    _, again, _ = upload(hub.url, portal, item)
    assert again.status_code == 201, again.text
