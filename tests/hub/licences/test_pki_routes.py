"""The hub's PKI over HTTP: roots, seal certificates, CRLs, OCSP and the TSA, checked with cryptography and openssl."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID
from testbed import OPERATOR

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def market(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    return registry


def pem_file(tmp_path, name, certificates):
    path = tmp_path / name
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return str(path)


def chain(client):
    root = x509.load_pem_x509_certificates(client.get("/api/v1/pki/roots").data)[0]
    issuing = x509.load_der_x509_certificate(client.get("/api/v1/pki/ca/issuing.crt").data)
    seal = x509.load_pem_x509_certificate(client.get("/api/v1/pki/seals/market").get_json()["certificate"].encode())
    return root, issuing, seal


def openssl(*args, **kwargs):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False, **kwargs)


def test_agency_gets_a_seal_certificate_with_public_urls_that_openssl_accepts(client, market, tmp_path):
    root, issuing, seal = chain(client)
    assert root.subject == root.issuer and root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert seal.issuer == issuing.subject
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "杭州市市场监督管理局"
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    access = seal.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {d.access_method: d.access_location.value for d in access}
    assert urls[AuthorityInformationAccessOID.OCSP] == f"{BASE}/api/v1/pki/ocsp"
    assert urls[AuthorityInformationAccessOID.CA_ISSUERS] == f"{BASE}/api/v1/pki/ca/issuing.crt"
    points = seal.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == f"{BASE}/api/v1/pki/crl/issuing.crl"
    for certificate in (issuing, seal):  # every certificate carries the CRL URL of its issuer
        assert certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    result = openssl(
        "verify",
        "-CAfile",
        pem_file(tmp_path, "root.pem", [root]),
        "-untrusted",
        pem_file(tmp_path, "issuing.pem", [issuing]),
        pem_file(tmp_path, "seal.pem", [seal]),
    )
    assert result.returncode == 0, result.stderr


def test_crl_lists_a_revoked_seal_and_verifies(client, market, tmp_path):
    root, issuing, seal = chain(client)
    before = x509.load_der_x509_crl(client.get("/api/v1/pki/crl/issuing.crl").data)
    assert before.is_signature_valid(issuing.public_key())
    assert before.get_revoked_certificate_by_serial_number(seal.serial_number) is None
    revoked = client.post("/api/v1/pki/seals/market/revocation", json={"reason": "key_compromise"}, headers=OPERATOR)
    assert revoked.status_code == 200, revoked.get_json()
    again = client.post("/api/v1/pki/seals/market/revocation", json={}, headers=OPERATOR)
    assert again.status_code == 409
    after = client.get("/api/v1/pki/crl/issuing.crl").data
    crl = x509.load_der_x509_crl(after)
    entry = crl.get_revoked_certificate_by_serial_number(seal.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    path = tmp_path / "issuing.crl"
    path.write_bytes(after)
    result = openssl(
        "crl", "-inform", "DER", "-in", str(path), "-CAfile", pem_file(tmp_path, "ca.pem", [root, issuing]), "-noout"
    )
    assert result.returncode == 0 and "verify OK" in (result.stdout + result.stderr)
    root_crl = x509.load_der_x509_crl(client.get("/api/v1/pki/crl/root.crl").data)
    assert root_crl.is_signature_valid(root.public_key())


def ocsp_request(seal, issuing) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(seal, issuing, hashes.SHA1())  # noqa: S303 - the CertID default
    return builder.build().public_bytes(serialization.Encoding.DER)


def test_ocsp_answers_good_then_revoked_and_openssl_verifies_it(client, market, tmp_path):
    root, issuing, seal = chain(client)
    response = client.post(
        "/api/v1/pki/ocsp", data=ocsp_request(seal, issuing), content_type="application/ocsp-request"
    )
    assert response.status_code == 200 and response.mimetype == "application/ocsp-response"
    answer = ocsp.load_der_ocsp_response(response.data)
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    responder = answer.certificates[0]
    assert responder.issuer == issuing.subject
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.OCSP_SIGNING in eku
    (tmp_path / "resp.der").write_bytes(response.data)
    result = openssl(
        "ocsp",
        "-respin",
        str(tmp_path / "resp.der"),
        "-issuer",
        pem_file(tmp_path, "issuing.pem", [issuing]),
        "-cert",
        pem_file(tmp_path, "seal.pem", [seal]),
        "-CAfile",
        pem_file(tmp_path, "roots.pem", [root]),
        "-verify_other",
        pem_file(tmp_path, "untrusted.pem", [issuing]),
    )
    assert "Response verify OK" in result.stdout + result.stderr, result.stderr
    assert ": good" in result.stdout
    client.post("/api/v1/pki/seals/market/revocation", json={"reason": "key_compromise"}, headers=OPERATOR)
    revoked = ocsp.load_der_ocsp_response(
        client.post("/api/v1/pki/ocsp", data=ocsp_request(seal, issuing), content_type="application/ocsp-request").data
    )
    assert revoked.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason == x509.ReasonFlags.key_compromise
    garbage = client.post("/api/v1/pki/ocsp", data=b"nonsense", content_type="application/ocsp-request")
    status = ocsp.load_der_ocsp_response(garbage.data).response_status
    assert status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_tsa_answers_rfc3161_requests_that_openssl_verifies(client, market, tmp_path):
    data = b"a document to time-stamp"
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": int.from_bytes(os.urandom(8), "big"),
            "cert_req": True,
        }
    )
    response = client.post("/api/v1/pki/tsa", data=request.dump(), content_type="application/timestamp-query")
    assert response.status_code == 200 and response.mimetype == "application/timestamp-reply"
    answer = tsp.TimeStampResp.load(response.data)
    assert answer["status"]["status"].native == "granted"
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "reply.tsr").write_bytes(response.data)
    root = x509.load_pem_x509_certificates(client.get("/api/v1/pki/roots").data)[0]
    issuing = x509.load_der_x509_certificate(client.get("/api/v1/pki/ca/issuing.crt").data)
    result = openssl(
        "ts",
        "-verify",
        "-in",
        str(tmp_path / "reply.tsr"),
        "-data",
        str(tmp_path / "data"),
        "-CAfile",
        pem_file(tmp_path, "roots.pem", [root]),
        "-untrusted",
        pem_file(tmp_path, "issuing.pem", [issuing]),
    )
    assert "Verification: OK" in result.stdout, result.stdout + result.stderr


def test_private_keys_are_only_stored_encrypted(client, market, store):
    client.get("/api/v1/pki/roots")
    raw = store.raw_client_for_tests()
    # DUMP compresses large values, so read string values directly (the PKI keeps JSON strings).
    everything = b"".join(raw.get(key) for key in raw.scan_iter("*") if raw.type(key) == b"string")
    assert b"ENCRYPTED PRIVATE KEY" in everything
    assert b"BEGIN PRIVATE KEY" not in everything and b"BEGIN EC PRIVATE KEY" not in everything


def test_renewal_keeps_history_and_earlier_documents_valid(client, market):
    first = client.get("/api/v1/pki/seals/market").get_json()
    renewed = client.post("/api/v1/pki/seals/market/renewal", headers=OPERATOR)
    assert renewed.status_code == 201
    assert renewed.get_json()["serial"] != first["serial"]
    history = client.get("/api/v1/pki/seals/market/history").get_json()["items"]
    assert [entry["serial"] for entry in history] == [first["serial"], renewed.get_json()["serial"]]
    assert client.post("/api/v1/pki/seals/market/renewal").status_code == 401


def test_long_and_bilingual_agency_names_fit_the_seal_certificate(client, registry):
    registry.agency(
        "long", region="330100", name="浙江省市场监督管理局 (Zhejiang Provincial Administration for Market Regulation)"
    )
    seal = x509.load_pem_x509_certificate(client.get("/api/v1/pki/seals/long").get_json()["certificate"].encode())
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "浙江省市场监督管理局"
    registry.agency("longer", region="330100", name="局" * 100)
    seal = x509.load_pem_x509_certificate(client.get("/api/v1/pki/seals/longer").get_json()["certificate"].encode())
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "局" * 21  # 63 UTF-8 bytes
