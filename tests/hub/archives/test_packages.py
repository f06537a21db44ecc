"""Case archive packages: filed when a case concludes, checked with openssl and sha256sum alone and by
``hub archive verify``, and every kind of tampering caught (a file changed, added or removed, the
manifest changed, the signature damaged)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms
from intake_support import HOLDER, PDF, PNG, apply, build_province, conclude, event, province, ready, upload
from testbed import OPERATOR, service_item_body

from hub.archives import filing
from hub.audit import log as audit
from hub.context import Context

__all__ = ["province"]  # a fixture, used by name


def package_of(client, application_id, token=OPERATOR) -> bytes:
    response = client.get(f"/api/v1/applications/{application_id}/archive", headers=token)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/zip"
    return response.get_data()


def unpack(content: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(into)
    return into


def openssl_verifies(folder: Path, roots: Path) -> subprocess.CompletedProcess:
    command = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "manifest.json.p7s"]
    command += ["-content", "manifest.json", "-CAfile", str(roots), "-out", "/dev/null"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True)


def sha256sum_checks(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)


@pytest.fixture
def roots(client, tmp_path) -> Path:
    path = tmp_path / "roots.pem"
    path.write_bytes(client.get("/api/v1/pki/roots").get_data())
    return path


def rezip(content: bytes, change) -> bytes:
    """The package with its members passed through ``change(name, data) -> data | None`` (None drops one)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = change(info.filename, source.read(info.filename))
            if data is not None:
                target.writestr(info.filename, data)
    return out.getvalue()


def flip_byte(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 1
    return bytes(changed)


def in_signature_value(p7s: bytes) -> bytes:
    """The CMS with one bit of the signer's signature value flipped."""
    value = cms.ContentInfo.load(p7s)["content"]["signer_infos"][0]["signature"].native
    return flip_byte(p7s, p7s.index(value) + len(value) // 2)


def with_extra(content: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO(content)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, data)
    return out.getvalue()


def test_a_concluded_case_is_filed_with_every_document_and_checks_out_with_standard_tools(
    client, province, roots, tmp_path, hub_cli
):
    application_id = conclude(client, province, item="joint-permit")
    case = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    assert case["archive"]["sha256"]  # filed when the case concluded
    content = package_of(client, application_id, province["market"])
    assert hashlib.sha256(content).hexdigest() == case["archive"]["sha256"]
    folder = unpack(content, tmp_path / "package")
    assert openssl_verifies(folder, roots).returncode == 0
    assert sha256sum_checks(folder).returncode == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    sums_digest = hashlib.sha256((folder / "SHA256SUMS").read_bytes()).hexdigest()
    assert manifest["files"]["SHA256SUMS"] == sums_digest  # the sealed manifest vouches for SHA256SUMS
    licence = case["licence"]
    assert set(manifest["files"]) == {
        "application.json",
        "service-item.json",
        "materials/plan.pdf",
        "materials/lease.pdf",
        "evidence/resolved.json",
        "evidence/envelope.jws",
        "decisions.json",
        "notices.json",
        f"licence/{licence}.pdf",
        f"licence/{licence}.json",
        *(f"documents/{document['reference']}.pdf" for document in case["documents"]),
        "audit.json",
        "SHA256SUMS",
    }
    assert [document["kind"] for document in case["documents"]] == ["acceptance"]
    for entry in manifest["entries"]:
        data = (folder / entry["path"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    media = {entry["path"]: entry["media_type"] for entry in manifest["entries"]}
    assert media["materials/plan.pdf"] == "application/pdf" and media["application.json"] == "application/json"
    metadata = manifest["archive"]
    assert metadata["case"] == application_id and metadata["outcome"] == "approved"
    assert metadata["agencies"] == {"lead": "market", "co": ["fire"]}
    assert metadata["service_item"]["code"] == "joint-permit" and metadata["retention"]["years"] == 30
    assert metadata["licence"] == licence and metadata["applicant"]["name"] == HOLDER["name"]
    assert HOLDER["id"] not in (folder / "application.json").read_text()  # the record keeps the ID masked
    decisions = json.loads((folder / "decisions.json").read_text())
    assert decisions["decision"]["type"] == "approve" and decisions["tasks"][0]["opinion"] == "消防检查合格"
    issued = client.get(f"/api/v1/licences/{licence}/pdf", headers=province["market"]).get_data()
    assert (folder / f"licence/{licence}.pdf").read_bytes() == issued
    verified = hub_cli("archive", "verify", str(tmp_path / "saved.zip"), "--roots", str(roots))
    assert verified.returncode == 2  # no such file: click's usage error, in plain words
    (tmp_path / "saved.zip").write_bytes(content)
    verified = hub_cli("archive", "verify", str(tmp_path / "saved.zip"), "--roots", str(roots), check=True)
    assert "package: VALID" in verified.stdout and application_id in verified.stdout


def test_a_licence_issued_as_ofd_too_is_archived_in_both_forms(client, registry, roots, tmp_path):
    tokens = build_province(registry, licence_formats=("pdf", "ofd"))
    application_id = conclude(client, tokens)
    licence = client.get(f"/api/v1/applications/{application_id}", headers=tokens["market"]).get_json()["licence"]
    folder = unpack(package_of(client, application_id), tmp_path / "package")
    assert openssl_verifies(folder, roots).returncode == 0 and sha256sum_checks(folder).returncode == 0
    issued = client.get(f"/api/v1/licences/{licence}/ofd", headers=tokens["market"]).get_data()
    assert (folder / f"licence/{licence}.ofd").read_bytes() == issued
    media = {
        entry["path"]: entry["media_type"] for entry in json.loads((folder / "manifest.json").read_text())["entries"]
    }
    assert media[f"licence/{licence}.ofd"] == "application/ofd" and media[f"licence/{licence}.pdf"] == "application/pdf"


def test_an_upload_asked_for_again_is_archived_with_the_one_it_replaced(client, province, roots, tmp_path):
    application_id = apply(client, province["portal"]).get_json()["id"]
    first = b"%PDF-1.7 a floor plan nobody can read"
    upload(client, province["portal"], application_id, "plan", content=first)
    upload(client, province["portal"], application_id, "lease")
    event(client, province["market"], application_id, "accept")
    event(client, province["market"], application_id, "request_materials", reason="平面图不清晰",
          materials=[{"code": "plan"}])  # fmt: skip
    clearer = b"%PDF-1.7 the floor plan again, legible this time"
    assert upload(client, province["portal"], application_id, "plan", content=clearer).status_code == 201
    assert event(client, province["market"], application_id, "approve").status_code == 200
    folder = unpack(package_of(client, application_id), tmp_path / "package")
    assert openssl_verifies(folder, roots).returncode == 0 and sha256sum_checks(folder).returncode == 0
    assert (folder / "materials/plan.pdf").read_bytes() == clearer
    assert (folder / "materials/earlier/plan-1.pdf").read_bytes() == first  # what the request was about
    [plan] = [m for m in json.loads((folder / "application.json").read_text())["materials"] if m["code"] == "plan"]
    assert plan["earlier_files"][0]["because"] == "asked for again"


def test_the_audit_extract_is_the_chain_s_own_entries(client, province, tmp_path):
    application_id = conclude(client, province)
    folder = unpack(package_of(client, application_id), tmp_path / "package")
    extract = json.loads((folder / "audit.json").read_text())
    actions = [entry["action"] for entry in extract["entries"]]
    assert actions == [
        "application.submit",
        "application.material",
        "application.material",
        "application.accept",
        "application.document",  # the sealed acceptance notice
        "application.approve",
    ]
    for entry in extract["entries"]:
        assert audit.entry_hash(entry) == entry["hash"]  # recomputable by anyone from the documented rule
    chain = client.get("/api/v1/audit/entries?partition=app:market&limit=100", headers=OPERATOR).get_json()
    in_chain = {entry["hash"] for entry in chain["items"]}
    assert {entry["hash"] for entry in extract["entries"]} <= in_chain


def test_tampering_with_a_file_the_manifest_or_the_signature_is_caught(client, province, roots, tmp_path, hub_cli):
    application_id = conclude(client, province, outcome="reject")
    content = package_of(client, application_id)
    cases = {
        "changed": rezip(content, lambda name, data: data + b" " if name == "materials/plan.pdf" else data),
        "added": with_extra(content, "materials/extra.pdf", b"%PDF-1.7 smuggled in"),
        "removed": rezip(content, lambda name, data: None if name == "notices.json" else data),
        "manifest": rezip(
            content, lambda name, data: data.replace(b'"rejected"', b'"approved"') if name == "manifest.json" else data
        ),
        "signature": rezip(content, lambda name, data: in_signature_value(data) if name.endswith(".p7s") else data),
        # openssl cms does not look at the RFC 3161 token; the hub's check does
        "timestamp": rezip(content, lambda name, data: flip_byte(data, -40) if name.endswith(".p7s") else data),
    }
    expected = {
        "changed": "changed: materials/plan.pdf",
        "added": "added (not in the manifest): materials/extra.pdf",
        "removed": "removed (listed, missing): notices.json",
        "manifest": "manifest signature: NOT valid",
        "signature": "manifest signature: NOT valid",
        "timestamp": "the signature timestamp does not verify",
    }
    for kind, tampered in cases.items():
        path = tmp_path / f"{kind}.zip"
        path.write_bytes(tampered)
        result = hub_cli("archive", "verify", str(path), "--roots", str(roots))
        assert result.returncode == 1, (kind, result.stdout, result.stderr)
        assert expected[kind] in result.stdout and "package: NOT VALID" in result.stdout, (kind, result.stdout)
        folder = unpack(tampered, tmp_path / kind)
        if kind in {"manifest", "signature"}:
            assert openssl_verifies(folder, roots).returncode != 0, kind
        elif kind in {"changed", "removed"}:  # what sha256sum -c checks; an extra file is the hub's to find
            assert sha256sum_checks(folder).returncode != 0, kind
    untouched = tmp_path / "untouched.zip"
    untouched.write_bytes(content)
    assert hub_cli("archive", "verify", str(untouched), "--roots", str(roots)).returncode == 0
    not_roots = tmp_path / "not-roots.pem"
    not_roots.write_text("junk\n")
    refused = hub_cli("archive", "verify", str(untouched), "--roots", str(not_roots))
    assert refused.returncode == 1 and "not a PEM certificate bundle" in refused.stderr
    assert "Traceback" not in refused.stderr
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    result = hub_cli("archive", "verify", str(garbage), "--roots", str(roots))
    assert result.returncode == 1 and "not a readable zip" in result.stdout


def test_the_package_is_for_the_lead_agency_and_the_operator_once_the_case_is_concluded(client, province):
    running = ready(client, province, item="joint-permit")
    event(client, province["market"], running, "accept")
    response = client.get(f"/api/v1/applications/{running}/archive", headers=province["market"])
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    application_id = conclude(client, province, item="joint-permit")
    for token, status in ((province["fire"], 403), (province["portal"], 403), ({}, 401)):
        assert client.get(f"/api/v1/applications/{application_id}/archive", headers=token).status_code == status
    assert client.get("/api/v1/applications/app.market.nope/archive", headers=OPERATOR).status_code == 404
    assert package_of(client, application_id, OPERATOR) == package_of(client, application_id, province["market"])


def test_a_filing_that_fails_leaves_the_case_pending_and_the_sweep_files_it(
    client, province, store, app, hub_cli, tmp_path
):
    application_id = ready(client, province)
    case = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    upload_sha = next(m["file"]["sha256"] for m in case["materials"] if m["code"] == "plan")
    kept = store.blobs.path(upload_sha)  # the upload's file in the directory blob store
    saved = kept.read_bytes()
    kept.unlink()  # an upload lost: no complete package can be made
    event(client, province["market"], application_id, "accept")
    decided = event(client, province["market"], application_id, "approve").get_json()
    assert decided["status"] == "approved" and decided.get("archive") is None  # the decision stands
    response = client.get(f"/api/v1/applications/{application_id}/archive", headers=OPERATOR)
    assert response.status_code == 409 and "missing" in response.get_json()["detail"]
    kept.write_bytes(saved)
    assert hub_cli("archive", "file", check=True).stdout.strip() == "filed 1, failed 0"
    assert filing.file_pending(app.extensions["hub"], Context.system("test")) == {"filed": [], "failed": []}
    content = package_of(client, application_id)
    saved_package = tmp_path / "filed.zip"
    saved_package.write_bytes(content)
    checked = hub_cli("archive", "verify", str(saved_package), check=True)  # with this hub's roots and CRLs
    assert "package: VALID" in checked.stdout


def test_service_items_carry_a_retention_period(client, registry):
    registry.agency("market")
    registry.evidence_type("identity")
    made = registry.service_item("kept-forever", retention_years=None)
    assert made["retention_years"] is None
    assert registry.service_item("kept-ten", retention_years=10)["retention_years"] == 10
    assert registry.service_item("default-kept")["retention_years"] == 30
    bad = client.post("/api/v1/service-items", json=service_item_body("bad", retention_years=0), headers=OPERATOR)
    assert bad.status_code == 422 and "retention_years" in bad.get_json()["errors"]


def test_png_uploads_are_filed_with_their_type(client, province, tmp_path):
    case = apply(client, province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan", PNG)
    upload(client, province["portal"], case["id"], "lease")
    event(client, province["market"], case["id"], "accept")
    event(client, province["market"], case["id"], "approve")
    folder = unpack(package_of(client, case["id"]), tmp_path / "package")
    assert (folder / "materials/plan.png").read_bytes() == PNG


def test_every_download_of_a_package_is_in_the_applicants_access_log(client, province):
    application_id = conclude(client, province)
    package_of(client, application_id, province["market"])
    package_of(client, application_id, OPERATOR)
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
    downloads = [(entry["agency"], entry["application"]) for entry in log[:2]]
    assert downloads == [("operator", application_id), ("market", application_id)]


def test_a_package_is_zipped_into_the_blob_store_a_piece_at_a_time(client, province):
    """Issue 17, item 4: filing reads each upload from the blob store and writes the package to it in pieces;
    neither the upload nor the package is ever held whole in the worker (here a 12 MB upload: the approval
    that files the case allocates a fraction of that at its peak)."""
    large = PDF + os.urandom(12 * 2**20)
    case = apply(client, province["portal"]).get_json()
    assert upload(client, province["portal"], case["id"], "plan", large).status_code == 201
    upload(client, province["portal"], case["id"], "lease")
    event(client, province["market"], case["id"], "accept")
    tracemalloc.start()
    try:
        approved = event(client, province["market"], case["id"], "approve")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert approved.status_code == 200 and approved.get_json()["archive"]["sha256"]
    assert peak < 4 * 2**20, f"filing held {peak / 2**20:.1f} MiB at its peak"
    with zipfile.ZipFile(io.BytesIO(package_of(client, case["id"]))) as archive:
        assert archive.read("materials/plan.pdf") == large
