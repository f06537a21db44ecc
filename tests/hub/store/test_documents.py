"""Documents live in the blob store, not in Redis (issue 17): a licence's PDF is a sealed file and Redis keeps
only its digest, and documents an older hub kept in Redis are read there until they are migrated, while serving."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
import requests
from served_support import post
from testbed import ADMIN_TOKEN

from hub.ops import blob_collection
from hub.store import keys
from hub.store.client import Store
from hub.store.documents import BlobStoreUnshared


def test_an_issued_licence_keeps_its_pdf_out_of_redis(client, registry, store):
    registry.agency("market", region="330100")
    registry.food_licence_type("market")
    holder = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
    body = {"type": "food-business", "holder": holder, "fields": {"premises": "西湖边"}}
    licence = client.post("/api/v1/licences", json=body, headers=registry.token("market", "agency")).get_json()
    raw = store.raw_client_for_tests()
    # The type's status list is a bitmap of two bits per entry, whatever its licences' documents.
    records = [key for key in raw.scan_iter("*") if b":status-bits:" not in key and b":status-taken:" not in key]
    largest = max(raw.memory_usage(key) or 0 for key in records)
    assert largest < 16_384  # records and indexes only: the PDF (tens of kilobytes) is not among them
    assert raw.exists(keys.blob(licence["sha256"])) == 0
    assert store.blobs.exists(licence["sha256"]) and store.document(licence["sha256"]).startswith(b"%PDF")


def test_documents_left_in_redis_are_read_there_until_migrated(store, hub_cli):
    content = b"%PDF-1.7 kept in Redis by an older hub"
    name = hashlib.sha256(content).hexdigest()
    store.set_bytes_if_absent(keys.blob(name), content)  # as a hub before the blob store wrote it
    assert store.document(name) == content and not store.blobs.exists(name)
    assert name in set(store.document_names())

    moved = hub_cli("blobs", "migrate", env={"HUB_ADMIN_TOKEN": ADMIN_TOKEN}, check=True)
    assert moved.stdout.startswith("moved 1 document(s)")
    assert store.blobs.exists(name) and store.raw_client_for_tests().exists(keys.blob(name)) == 0
    assert store.document(name) == content
    assert hub_cli("blobs", "migrate", check=True).stdout.startswith("moved 0 document(s)")


def test_a_hub_on_s3_keeps_its_documents_there_sealed(served_hub_factory, s3_server):
    bucket = s3_server.bucket()
    hub = served_hub_factory(HUB_BLOB_URL=f"s3://{bucket}/hub", **s3_server.environment()).start()
    post(hub.url, "/api/v1/agencies", {"code": "market", "name": "杭州市市场监督管理局", "region": "330100"})
    fields = {"premises": {"type": "string", "required": True}}
    licence_type = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "fields": fields}
    post(hub.url, "/api/v1/licence-types", {**licence_type, "validity_days": 365})
    token = post(hub.url, "/api/v1/agencies/market/tokens", {"roles": ["agency"]})["token"]
    market = {"Authorization": f"Bearer {token}"}
    holder = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
    body = {"type": "food-business", "holder": holder, "fields": {"premises": "西湖边"}}
    licence = post(hub.url, "/api/v1/licences", body, headers=market)

    stored = s3_server.client().get_object(Bucket=bucket, Key=f"hub/{licence['sha256']}")["Body"].read()
    assert b"%PDF" not in stored and "西湖示范茶馆".encode() not in stored  # sealed in the bucket
    pdf = requests.get(f"{hub.url}/api/v1/licences/{licence['number']}/pdf", headers=market, timeout=30)
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == licence["sha256"]


def test_hubs_sharing_a_store_must_share_its_blob_store(store, settings, tmp_path):
    """A hub whose blob store is not the one its peers use would keep documents they cannot find: it refuses to
    start (the served check is in tests/hub/store/test_cluster.py)."""
    marker = store.claim_blob_store()
    assert store.claim_blob_store() == marker and store.blobs.exists(marker)  # the same blob store: agreed
    elsewhere = Store(replace(settings, blob_dir=tmp_path / "own-blobs"))
    try:
        with pytest.raises(BlobStoreUnshared, match="the same HUB_BLOB_DIR on a shared mount"):
            elsewhere.claim_blob_store()
    finally:
        elsewhere.close()
    collected = blob_collection.collect(store, 10**10, grace_seconds=0)
    collected = blob_collection.collect(store, 10**10, grace_seconds=0)
    assert collected.collected == 0 and store.blobs.exists(marker)  # the marker is not collected as unnamed
