"""Licences end to end through the API: issue, download, verify, change status, verify again."""

from __future__ import annotations

import io
import json
import subprocess
import time
from datetime import date, timedelta

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from testbed import LICENCE_HOLDER, OPERATOR

from certs import numbering
from hub.store import keys

HOLDER = LICENCE_HOLDER


@pytest.fixture
def issuer(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.post(
        "/api/v1/licence-types",
        {
            "code": "food-business",
            "name": "食品经营许可证 (Food business licence)",
            "issuer": "market",
            "fields": {
                "premises": {"type": "string", "required": True, "label": "经营场所"},
                "chain_store": {"type": "boolean"},
                "opened": {"type": "date"},
            },
            "validity_days": 1825,
        },
    )
    return registry.token("market", "agency")


def issue(client, token, **overrides):
    body = {
        "type": "food-business",
        "holder": HOLDER,
        "fields": {"premises": "西湖区文三路 1 号", "chain_store": False},
    }
    body.update(overrides)
    return client.post("/api/v1/licences", json=body, headers=token)


def verify(client, pdf: bytes):
    return client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(pdf), "licence.pdf")}, content_type="multipart/form-data"
    )


def test_issue_answers_the_contract_and_the_number_checks(client, issuer):
    response = issue(client, issuer)
    assert response.status_code == 201, response.get_json()
    licence = response.get_json()
    assert licence["status"] == "valid"
    assert {"number", "issued_at", "valid_until", "sha256", "pdf_url", "verify_url"} <= set(licence)
    # Issued on the test clock's 2026-06-15 (01:30 UTC is 09:30 in the province), valid for 1825 days: five
    # 365-day years reach 2031-06-15, but 29 February 2028 falls inside them, so the last day is one earlier.
    assert licence["issued_at"].startswith("2026-06-15T01:30")
    assert licence["valid_from"] == "2026-06-15"
    assert licence["valid_until"] == "2031-06-14"
    assert licence["number"].startswith("FOOD-BUSINESS-330100-")
    assert numbering.is_well_formed(licence["number"])
    assert licence["verify_url"].endswith("/verify/" + licence["number"])
    assert HOLDER["id"] not in response.get_data(as_text=True)  # the holder ID is only kept masked


def test_issued_pdf_validates_with_pyhanko_and_pdfsig(client, issuer, tmp_path):
    licence = issue(client, issuer).get_json()
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=issuer)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    roots = client.get("/api/v1/pki/roots").data
    from asn1crypto import pem, x509

    anchors = [x509.Certificate.load(der) for _, _, der in pem.unarmor(roots, multiple=True)]
    signature = PdfFileReader(io.BytesIO(pdf.data)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=anchors, allow_fetching=False))
    assert status.intact and status.valid and status.trusted
    assert status.modification_level.name == "LTA_UPDATES" and status.timestamp_validity is not None
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf.data)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in out and "ETSI.CAdES.detached" in out


def test_verify_valid_then_revoked_then_cache_follows_status(client, issuer):
    licence = issue(client, issuer).get_json()
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=issuer).data
    first = verify(client, pdf)
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert answer["verdict"] == "valid", answer
    assert answer["licence"]["number"] == licence["number"] and answer["licence"]["status"] == "valid"
    assert answer["signatures"][0]["indication"] == "passed"
    changed = client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "revoked", "reason": "吊销"}, headers=issuer
    )
    assert changed.status_code == 200 and changed.get_json()["status"] == "revoked"
    again = verify(client, pdf).get_json()
    assert again["verdict"] == "invalid" and "licence_revoked" in again["reasons"]
    assert again["signatures"][0]["indication"] == "passed"  # the seal is fine; the licence is not in force
    no_way_back = client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "valid", "reason": "oops"}, headers=issuer
    )
    assert no_way_back.status_code == 409


def test_licence_sealed_before_the_seal_was_revoked_stays_valid(client, issuer):
    licence = issue(client, issuer).get_json()
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=issuer).data
    time.sleep(1.1)  # CRL revocation times have one-second precision
    revoked = client.post("/api/v1/pki/seals/market/revocation", json={"reason": "key_compromise"}, headers=OPERATOR)
    assert revoked.status_code == 200, revoked.get_json()
    answer = verify(client, pdf).get_json()
    assert answer["verdict"] == "valid", answer
    assert answer["signatures"][0]["checks"]["revocation"]["outcome"] == "passed"
    later = issue(client, issuer).get_json()  # a new seal is made for the next licence
    assert later["seal_serial"] != licence["seal_serial"]


def test_wrong_check_character_is_404_everywhere(client, issuer):
    number = issue(client, issuer).get_json()["number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert client.get(f"/api/v1/licences/{wrong}", headers=issuer).status_code == 404
    assert client.get(f"/api/v1/licences/{wrong}/pdf", headers=issuer).status_code == 404
    assert client.get(f"/verify/{wrong}", headers={"Accept": "application/json"}).status_code == 404


def test_fields_are_checked_against_the_licence_type(client, issuer):
    response = issue(client, issuer, fields={"chain_store": "yes", "unknown": 1})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"fields.premises", "fields.chain_store", "fields.unknown"} <= set(errors)


def test_only_the_issuer_issues_and_changes(client, registry, issuer):
    registry.agency("other", region="330100")
    other = registry.token("other", "agency")
    assert issue(client, other).status_code == 403
    number = issue(client, issuer).get_json()["number"]
    body = {"status": "suspended", "reason": "x"}
    assert client.post(f"/api/v1/licences/{number}/status", json=body, headers=other).status_code == 403


def test_history_and_listing(client, issuer):
    number = issue(client, issuer).get_json()["number"]
    client.post(f"/api/v1/licences/{number}/status", json={"status": "suspended", "reason": "整改"}, headers=issuer)
    client.post(f"/api/v1/licences/{number}/status", json={"status": "valid", "reason": "整改完成"}, headers=issuer)
    history = client.get(f"/api/v1/licences/{number}/history", headers=issuer).get_json()["items"]
    assert [entry["status"] for entry in history] == ["valid", "suspended", "valid"]
    assert history[1]["reason"] == "整改" and history[1]["by"].startswith("agency:market")
    issue(client, issuer)
    page = client.get("/api/v1/licences?limit=1", headers=issuer).get_json()
    assert len(page["items"]) == 1 and page["next"]
    rest = client.get(f"/api/v1/licences?limit=5&cursor={page['next']}", headers=issuer).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    mine = client.get(
        f"/api/v1/licences?holder_id_type=credit-code&holder_id={HOLDER['id']}", headers=OPERATOR
    ).get_json()
    assert len(mine["items"]) == 2
    audit = client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()
    assert audit["intact"] is True


def test_a_licence_past_its_validity_is_expired_everywhere(client, issuer, clock):
    licence = issue(client, issuer).get_json()
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=issuer).data
    assert verify(client, pdf).get_json()["verdict"] == "valid"
    assert client.get(f"/verify/{licence['number']}", headers={"Accept": "application/json"}).get_json()["status"] == (
        "valid"
    )
    # Let the validity run out: the day after its last day.
    clock.moment += timedelta(days=(date.fromisoformat(licence["valid_until"]) - date(2026, 6, 15)).days + 1)
    assert client.get(f"/verify/{licence['number']}", headers={"Accept": "application/json"}).get_json()["status"] == (
        "expired"
    )
    answer = verify(client, pdf).get_json()
    assert answer["verdict"] == "invalid" and "licence_expired" in answer["reasons"]
    changed = client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "suspended", "reason": "x"}, headers=issuer
    )
    assert changed.status_code == 200  # an expired licence can still be suspended or revoked on record


def test_reverification_answers_from_the_cache_until_revocations_change(client, issuer, store, app):
    licence = issue(client, issuer).get_json()
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=issuer).data
    first = verify(client, pdf).get_json()
    raw = store.raw_client_for_tests()
    cache_key = f"hub:{{vc:{first['sha256']}}}:report"
    cached = json.loads(raw.get(cache_key))
    assert cached["report"]["signatures"] == first["signatures"]
    # Mark the cached report so that an answer from the cache shows: the hub serves what it stored.
    cached["report"]["signatures"][0]["field_name"] = "from-the-cache"
    raw.set(cache_key, json.dumps(cached))
    assert verify(client, pdf).get_json()["signatures"][0]["field_name"] == "from-the-cache"
    exposition = client.get("/metrics").get_data(as_text=True)
    assert 'hub_verifications_total{cached="true",verdict="valid"}' in exposition
    assert 'hub_licences_issued_total{type="food-business"}' in exposition
    # A revocation anywhere in the PKI makes every cached report stale.
    client.post("/api/v1/pki/seals/market/revocation", json={}, headers=OPERATOR)
    assert verify(client, pdf).get_json()["signatures"][0]["field_name"] == "Seal"


def test_a_portal_downloads_a_licence_only_for_its_holder_with_their_proof(client, registry, issuer, person_proof):
    registry.agency("hall", region="330100", name="政务服务中心")
    portal = registry.token("hall", "portal") | person_proof(HOLDER)
    number = issue(client, issuer).get_json()["number"]
    assert client.get(f"/api/v1/licences/{number}/pdf", headers=portal).status_code == 403
    other = "holder_id_type=credit-code&holder_id=91330100MA2YYYYY4W"
    assert client.get(f"/api/v1/licences/{number}/pdf?{other}", headers=portal).status_code == 403
    mine = f"holder_id_type={HOLDER['id_type']}&holder_id={HOLDER['id']}"
    download = client.get(f"/api/v1/licences/{number}/pdf?{mine}", headers=portal)
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    # Knowing the number and the holder's ID is not enough: the person's proof is.
    unproven = {"Authorization": portal["Authorization"]}
    assert client.get(f"/api/v1/licences/{number}/pdf?{mine}", headers=unproven).status_code == 403
    assert client.get(f"/api/v1/licences?{mine}", headers=unproven).status_code == 403
    assert client.get(f"/api/v1/licences?{mine}", headers=portal).get_json()["items"][0]["number"] == number


def test_each_handing_over_of_a_licence_is_in_its_holders_access_log(client, issuer):
    licence = issue(client, issuer).get_json()
    client.get(f"/api/v1/licences/{licence['number']}", headers=issuer)
    client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=OPERATOR)
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
    assert [(entry["agency"], entry["evidence_types"], entry["outcome"]) for entry in log] == [
        ("operator", ["food-business"], "read"),
        ("market", ["food-business"], "read"),
    ]
    assert "food-business.holder_name" in log[0]["fields"]


def test_a_licence_history_begins_with_its_issuance_without_a_key_of_its_own(client, issuer, store):
    licence = issue(client, issuer).get_json()
    number_key = numbering.canonical(licence["number"])
    assert store.raw_client_for_tests().exists(keys.licence_history("food-business", number_key)) == 0
    history = client.get(f"/api/v1/licences/{licence['number']}/history", headers=issuer).get_json()["items"]
    assert [(line["status"], line["reason"]) for line in history] == [("valid", "issued")]
    client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "suspended", "reason": "整改"}, headers=issuer
    )
    history = client.get(f"/api/v1/licences/{licence['number']}/history", headers=issuer).get_json()["items"]
    assert [(line["status"], line["reason"]) for line in history] == [("valid", "issued"), ("suspended", "整改")]


def test_a_listing_of_licences_is_a_read_of_each_holder_on_the_page(client, issuer):
    other = {"id_type": "resident-id", "id": "440106199001011235", "name": "李伟"}
    issue(client, issuer)
    issue(client, issuer, holder=other)
    assert len(client.get("/api/v1/licences", headers=issuer).get_json()["items"]) == 2
    for holder in (HOLDER, other):
        query = {"id_type": holder["id_type"], "id": holder["id"]}
        log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
        assert [(entry["agency"], entry["outcome"]) for entry in log] == [("market", "read")]
