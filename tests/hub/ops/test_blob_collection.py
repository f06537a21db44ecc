"""Stored files no record names are collected (issue 16, item 6), in two passes a grace period apart, and never
one a case, a licence or an archive names."""

from __future__ import annotations

import hashlib
import os
import time

from intake_support import PDF, apply, build_province, conclude, event, upload
from intake_support import province as intake_province

from blobstores.directory import INCOMING
from hub.ops import blob_collection

province = intake_province  # the intake tests' small province, as this module's fixture
GRACE = 3600.0
NOW = 1_800_000_000.0


def stored(store, content: bytes) -> str:
    name = hashlib.sha256(content).hexdigest()
    store.put_document(name, [content])
    return name


def test_an_unnamed_file_is_noted_then_collected_and_a_named_one_kept(client, store, province):
    case = apply(client, province["portal"]).get_json()
    assert upload(client, province["portal"], case["id"], "plan").status_code == 201
    named = hashlib.sha256(PDF).hexdigest()
    leftover = stored(store, b"%PDF-1.7 a file no case came to name")

    first = blob_collection.collect(store, NOW, GRACE)
    assert (first.blobs, first.noted, first.collected) == (2, 1, 0)  # noted only: its case may be committing
    assert store.document(leftover) is not None

    early = blob_collection.collect(store, NOW + GRACE - 1, GRACE)
    assert early.collected == 0 and store.document(leftover) is not None

    late = blob_collection.collect(store, NOW + GRACE, GRACE)
    assert late.collected == 1 and store.document(leftover) is None
    assert store.document(named) == PDF  # the case's upload stays


def test_a_file_stored_again_is_wanted_again(store):
    content = b"%PDF-1.7 uploaded, refused, then uploaded again"
    key = stored(store, content)
    assert blob_collection.collect(store, NOW, GRACE).noted == 1
    stored(store, content)  # a second upload of the same bytes: its record is on its way
    assert blob_collection.collect(store, NOW + GRACE, GRACE).collected == 0
    assert store.document(key) == content


def test_what_a_crash_left_half_written_is_cleared_after_the_grace_period(store):
    incoming = store.blobs.root / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    stale, fresh = incoming / ("a" * 64 + ".dead"), incoming / ("b" * 64 + ".writing")
    stale.write_bytes(b"half a sealed upload")
    fresh.write_bytes(b"an upload being written now")
    old = time.time() - 2 * GRACE
    os.utime(stale, (old, old))
    assert blob_collection.collect(store, time.time(), GRACE).leftovers == 1
    assert not stale.exists() and fresh.exists()


def test_no_document_a_record_names_is_collected(client, store, registry):
    # A licence issued as PDF and OFD then amended, and a case's decision documents: each is named by a record.
    tokens = build_province(registry, licence_formats=("pdf", "ofd"))
    case_id = conclude(client, tokens)
    case = client.get(f"/api/v1/applications/{case_id}", headers=tokens["market"]).get_json()
    licence = client.get(f"/api/v1/licences/{case['licence']}", headers=tokens["market"]).get_json()
    named = {"pdf": licence["sha256"], "ofd": licence["ofd_sha256"]}
    named |= {document["reference"]: document["sha256"] for document in case["documents"]}
    amendment = {"fields": {"premises": "西湖区文三路 9 号"}, "reason": "迁址"}
    amended = client.post(f"/api/v1/licences/{case['licence']}/amendments", json=amendment, headers=tokens["market"])
    named |= {"pdf 2": amended.get_json()["sha256"], "ofd 2": amended.get_json()["ofd_sha256"]}
    assert len(set(named.values())) == 5  # two versions' PDF and OFD, and the acceptance notice

    blob_collection.collect(store, NOW, GRACE)
    blob_collection.collect(store, NOW + GRACE, GRACE)
    assert {name: store.document(sha256) is not None for name, sha256 in named.items()} == dict.fromkeys(named, True)


def test_an_upload_replaced_by_another_is_kept(client, store, province):
    application_id = apply(client, province["portal"]).get_json()["id"]
    first = b"%PDF-1.7 a floor plan nobody can read"
    upload(client, province["portal"], application_id, "plan", content=first)
    upload(client, province["portal"], application_id, "lease")
    event(client, province["market"], application_id, "accept")
    asked = event(client, province["market"], application_id, "request_materials", reason="平面图不清晰",
                  materials=[{"code": "plan"}])  # fmt: skip
    assert asked.status_code == 200, asked.get_json()
    clearer = b"%PDF-1.7 the floor plan again, legible this time"
    assert upload(client, province["portal"], application_id, "plan", content=clearer).status_code == 201
    blob_collection.collect(store, NOW, GRACE)
    blob_collection.collect(store, NOW + GRACE, GRACE)
    assert store.document(hashlib.sha256(first).hexdigest()) == first  # the plan the request was about
    assert store.document(hashlib.sha256(clearer).hexdigest()) == clearer
