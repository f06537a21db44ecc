"""The whole-store integrity check finds missing and changed documents, and leaves disposed archives be."""

from __future__ import annotations

import hashlib

import pytest
from testbed import LICENCE_HOLDER

from hub.ops import integrity
from hub.store import case_keys, keys

HOLDER = LICENCE_HOLDER
CASE = "app.market." + "a" * 20


@pytest.fixture
def licence(client, registry) -> dict:
    registry.agency("market", region="330100")
    registry.licence_type("biz-licence", issuer="market")
    token = registry.token("market", "agency")
    body = {"type": "biz-licence", "holder": HOLDER, "fields": {"holder": "shop"}}
    response = client.post("/api/v1/licences", json=body, headers=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_fresh_hub_with_a_licence_is_intact(store, licence):
    report = integrity.check(store)
    assert report.intact, report.problems
    assert report.licences == 1 and report.blobs == 1 and report.audit_entries >= 4


def test_a_missing_or_changed_licence_pdf_is_reported(store, licence):
    pdf = store.blobs.path(licence["sha256"])  # the file the directory blob store keeps it in
    pdf.write_bytes(b"%PDF-1.7 not the sealed one")
    assert any("does not match its digest" in p for p in integrity.check(store).problems)
    pdf.unlink()
    assert any(f"licence {licence['number']}" in p and "missing" in p for p in integrity.check(store).problems)


def test_application_materials_and_archive_packages_are_checked(store, licence):
    content = b"%PDF-1.7 an uploaded scan"
    sha256 = hashlib.sha256(content).hexdigest()
    upload = {"sha256": sha256, "media_type": "application/pdf", "size": len(content), "uploaded_at": "now"}
    store.set_json(case_keys.application("market", CASE), {"id": CASE, "materials": [{"code": "id", "file": upload}]})
    package = {"sha256": hashlib.sha256(b"zip").hexdigest(), "size": 3}
    store.set_json(case_keys.archive("market", CASE), {"case": CASE, "package": package, "disposed": None})
    store.raw_client_for_tests().zadd(case_keys.archives_of("market"), {CASE: 1})
    report = integrity.check(store)
    assert report.applications == 1 and report.materials == 1 and report.archives == 1
    assert sorted(p.split(":")[0] for p in report.problems) == [f"application {CASE} material id", f"archive {CASE}"]

    store.put_document(sha256, [content])
    store.put_document(package["sha256"], [b"zip"])
    assert integrity.check(store).intact

    store.delete_document(package["sha256"])  # disposed of: the package goes on purpose, the entry stays
    disposed = {"at": "2030-01-01T00:00:00+00:00", "by": "operator", "reason": "retention ended"}
    store.set_json(case_keys.archive("market", CASE), {"case": CASE, "package": package, "disposed": disposed})
    assert integrity.check(store).intact


def test_a_broken_audit_chain_is_reported(store, licence):
    stream = keys.audit_stream(keys.licence_partition("biz-licence"))
    raw = store.raw_client_for_tests()
    entry_id = raw.xrange(stream)[0][0]
    raw.xdel(stream, entry_id)
    assert not integrity.check(store).intact
