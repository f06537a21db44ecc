"""Documents live in the blob store, not in Redis (issue 17): a licence's PDF is a sealed file and Redis keeps
only its digest, and documents an older hub kept in Redis are read there until they are migrated, while serving."""

from __future__ import annotations

import hashlib

from testbed import ADMIN_TOKEN

from hub.store import keys


def test_an_issued_licence_keeps_its_pdf_out_of_redis(client, registry, store):
    registry.agency("market", region="330100")
    registry.food_licence_type("market")
    holder = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆"}
    body = {"type": "food-business", "holder": holder, "fields": {"premises": "西湖边"}}
    licence = client.post("/api/v1/licences", json=body, headers=registry.token("market", "agency")).get_json()
    raw = store.raw_client_for_tests()
    largest = max(raw.memory_usage(key) or 0 for key in raw.scan_iter("*"))
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
