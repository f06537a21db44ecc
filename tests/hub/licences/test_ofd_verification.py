"""``POST /api/v1/verifications`` takes OFD files as it takes PDFs (issue 22): the same verdict shape and reasons,
the licence looked up, and hostile packages refused in a verifier process under its caps."""

from __future__ import annotations

import io
import zipfile

import pytest
from testbed import LICENCE_HOLDER

from certs import ofd_package

FIELDS = {"premises": {"type": "string", "required": True, "label": "经营场所"}}


@pytest.fixture
def issuer(registry, market) -> dict:
    registry.post(
        "/api/v1/licence-types",
        {"code": "food-business", "name": "食品经营许可证 (Food business licence)", "issuer": "market",
         "fields": FIELDS, "validity_days": 1825, "formats": ["pdf", "ofd"]},
    )  # fmt: skip
    return market


def issued_ofd(client, token, premises: str = "西湖区文三路 1 号") -> tuple[dict, bytes]:
    body = {"type": "food-business", "holder": LICENCE_HOLDER, "fields": {"premises": premises}}
    licence = client.post("/api/v1/licences", json=body, headers=token).get_json()
    return licence, client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=token).data


def verify(client, content: bytes, name: str = "licence.ofd"):
    return client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def repackaged(content: bytes, changes: dict[str, bytes]) -> bytes:
    return ofd_package.write({**ofd_package.read(content), **changes})


def test_an_issued_ofd_verifies_as_valid_and_names_its_licence(client, issuer) -> None:
    licence, content = issued_ofd(client, issuer)
    answer = verify(client, content)
    assert answer.status_code == 200, answer.get_json()
    verdict = answer.get_json()
    assert verdict["verdict"] == "valid" and verdict["reasons"] == []
    assert verdict["licence"]["number"] == licence["number"]
    [seal] = verdict["signatures"]
    assert seal["indication"] == "passed" and seal["kind"] == "signature"
    assert {name: check["outcome"] for name, check in seal["checks"].items()} == dict.fromkeys(
        ("integrity", "signer_chain", "seal", "revocation", "timestamp", "coverage", "changes_after_signing"), "passed"
    )
    assert seal["signer"]["common_name"] == "杭州市市场监督管理局" and seal["timestamp"]
    again = verify(client, content).get_json()  # from the cache, the same answer
    assert again["verdict"] == "valid" and again["signatures"] == verdict["signatures"]


def test_a_changed_page_is_not_valid(client, issuer) -> None:
    _, content = issued_ofd(client, issuer)
    page = "Doc_0/Pages/Page_0/Content.xml"
    forged = repackaged(content, {page: ofd_package.read(content)[page].replace("文三路".encode(), "文二路".encode())})
    verdict = verify(client, forged).get_json()
    assert verdict["verdict"] == "invalid" and "signature_failed" in verdict["reasons"]
    assert verdict["signatures"][0]["checks"]["integrity"]["sub_indication"] == "HASH_FAILURE"


def test_a_broken_signature_xml_is_a_failed_seal_not_a_refused_file(client, issuer) -> None:
    _, content = issued_ofd(client, issuer)
    signature = "Doc_0/Signs/Sign_0/Signature.xml"
    broken = repackaged(content, {signature: ofd_package.read(content)[signature][:-40]})
    answer = verify(client, broken)
    assert answer.status_code == 200, answer.get_json()
    verdict = answer.get_json()
    assert verdict["verdict"] == "invalid" and "signature_failed" in verdict["reasons"]
    [seal] = verdict["signatures"]
    assert seal["indication"] == "failed" and seal["checks"]["integrity"]["outcome"] == "failed"


def test_a_seal_copied_from_another_licence_is_not_valid(client, issuer) -> None:
    _, first = issued_ofd(client, issuer)
    _, second = issued_ofd(client, issuer, premises="拱墅区湖墅南路 2 号")
    lifted = {path: data for path, data in ofd_package.read(first).items() if "/Signs/" in path}
    verdict = verify(client, repackaged(second, lifted)).get_json()
    assert verdict["verdict"] == "invalid"
    assert verdict["signatures"][0]["indication"] == "failed"


def test_a_suspended_licences_ofd_is_not_valid(client, issuer) -> None:
    licence, content = issued_ofd(client, issuer)
    changed = client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "suspended", "reason": "检查"}, headers=issuer
    )
    assert changed.status_code == 200, changed.get_json()
    verdict = verify(client, content).get_json()
    assert verdict["verdict"] == "invalid" and verdict["reasons"] == ["licence_suspended"]


def zipped(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        zipped([("OFD.xml", b"<x/>"), ("Doc_0/Res/bomb.png", bytes(40 * 1024 * 1024))]),
        zipped([("OFD.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')]),
        zipped([("word/document.xml", b"<w/>")]),
    ],
    ids=["zip-bomb", "entity-expansion", "not-an-ofd"],
)
def test_hostile_or_foreign_packages_are_refused_plainly(client, content: bytes) -> None:
    answer = verify(client, content)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert "not a readable OFD" in answer.get_json()["detail"]


def test_a_file_that_is_neither_is_refused(client) -> None:
    answer = verify(client, b"GIF89a not a licence", "licence.gif")
    assert answer.status_code == 422 and "neither a PDF nor an OFD" in answer.get_json()["detail"]
