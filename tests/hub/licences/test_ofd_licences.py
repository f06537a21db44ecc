"""Licences issued as OFD beside the PDF (issue 22): a type that asks for ``ofd`` gets an OFD sealed with its
issuer's SM2 electronic seal, downloadable where the PDF is, for whom the PDF is, and verifiable against the
hub's SM2 root."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree
from testbed import LICENCE_HOLDER, OPERATOR

from certs import ofd_package, ofd_seal
from hub.store import keys

NS = {"ofd": "http://www.ofdspec.org/2016"}
FIELDS = {"premises": {"type": "string", "required": True, "label": "经营场所"}}


def licence_type(registry, code: str, formats: list[str] | None) -> dict:
    body = {"code": code, "name": "食品经营许可证 (Food business licence)", "issuer": "market", "fields": FIELDS,
            "validity_days": 1825}  # fmt: skip
    if formats is not None:
        body["formats"] = formats
    return registry.post("/api/v1/licence-types", body)


@pytest.fixture
def issuer(registry, market) -> dict:
    licence_type(registry, "food-business", ["pdf", "ofd"])
    return market


def issue(client, token, type_code: str = "food-business") -> dict:
    body = {"type": type_code, "holder": LICENCE_HOLDER, "fields": {"premises": "西湖区文三路 1 号"}}
    answer = client.post("/api/v1/licences", json=body, headers=token)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_a_licence_of_a_type_that_asks_for_ofd_has_a_sealed_ofd(app, client, issuer) -> None:
    licence = issue(client, issuer)
    assert licence["ofd_url"] == f"http://127.0.0.1:8000/api/v1/licences/{licence['number']}/ofd"
    answer = client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=issuer)
    assert answer.status_code == 200 and answer.mimetype == "application/ofd"
    assert answer.headers["ETag"] == f'"{licence["ofd_sha256"]}"'
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{licence["number"]}.ofd"'
    state = app.extensions["hub"]
    [seal] = ofd_seal.verify_ofd(answer.data, state.sm2_pki.trust()).signatures
    assert seal.valid, (seal.failed, seal.uncovered, seal.check and seal.check.failed)
    assert seal.check.signer.subject.native["common_name"] == "杭州市市场监督管理局"
    assert seal.check.seal_name == "杭州市市场监督管理局电子证照专用章" and seal.check.picture.kind == "png"
    assert seal.time_stamped_at is not None  # by the hub's SM2 TSA, over the signature value
    info = ElementTree.fromstring(ofd_package.read(answer.data)["OFD.xml"]).find("ofd:DocBody/ofd:DocInfo", NS)
    custom = {data.get("Name"): data.text for data in info.findall("ofd:CustomDatas/ofd:CustomData", NS)}
    assert custom["证照编号"] == licence["number"] and custom["持证主体"] == LICENCE_HOLDER["name"]
    assert LICENCE_HOLDER["id"] not in answer.data.decode("latin-1")  # the holder's ID masked, as on the PDF


def test_one_sm2_seal_serves_an_agencys_licences(app, client, issuer) -> None:
    first, second = issue(client, issuer), issue(client, issuer)
    assert first["ofd_sha256"] != second["ofd_sha256"]
    stored = app.extensions["hub"].store.get_json(keys.pki_seal("market", "sm2"))
    assert stored["key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for licence in (first, second):
        content = client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=issuer).data
        [seal] = ofd_seal.verify_ofd(content, app.extensions["hub"].sm2_pki.trust()).signatures
        assert format(seal.check.signer.serial_number, "x") == stored["serial"]


def test_the_ofd_is_read_as_the_pdf_is_and_logged_in_the_holders_access_log(client, issuer, registry) -> None:
    licence = issue(client, issuer)
    registry.agency("tax", region="330100", name="杭州市税务局")
    stranger = registry.token("tax", "agency")
    refused = client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=stranger)
    assert refused.status_code in (403, 404) and refused.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=OPERATOR).status_code == 200
    query = {"id_type": LICENCE_HOLDER["id_type"], "id": LICENCE_HOLDER["id"]}
    log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
    assert [(entry["agency"], entry["evidence_types"], entry["outcome"]) for entry in log] == [
        ("operator", ["food-business"], "read")
    ]


def test_a_type_that_does_not_ask_for_ofd_issues_none(client, registry, market) -> None:
    created = licence_type(registry, "pdf-only", None)
    assert created["formats"] == ["pdf"]
    licence = issue(client, market, "pdf-only")
    assert "ofd_url" not in licence and licence.get("ofd_sha256") is None
    answer = client.get(f"/api/v1/licences/{licence['number']}/ofd", headers=market)
    assert answer.status_code == 404 and "PDF only" in answer.get_json()["detail"]


@pytest.mark.parametrize("formats", [["ofd"], ["pdf", "pdf"], ["pdf", "docx"], []])
def test_formats_the_hub_cannot_issue_are_refused(client, market, formats) -> None:
    body = {"code": "odd", "name": "x", "issuer": "market", "fields": FIELDS, "validity_days": 10, "formats": formats}
    answer = client.post("/api/v1/licence-types", json=body, headers=OPERATOR)
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert "formats" in answer.get_json()["errors"]
