"""The sealing service: PDFs sealed at B-LT (visible or not, earlier signatures kept), JSON signed as JWS."""

from __future__ import annotations

import base64
import io
import json

import pytest
from certs_support import simple_pdf
from cryptography import x509
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from pyhanko.pdf_utils.reader import PdfFileReader
from testbed import OPERATOR


def seal(client, token, pdf: bytes, **form):
    data = {"file": (io.BytesIO(pdf), "notice.pdf"), **form}
    return client.post("/api/v1/signatures", data=data, headers=token, content_type="multipart/form-data")


def verify(client, pdf: bytes) -> dict:
    data = {"file": (io.BytesIO(pdf), "notice.pdf")}
    return client.post("/api/v1/verifications", data=data, content_type="multipart/form-data").get_json()


def test_a_sealed_notice_is_reported_signature_by_signature_but_is_not_a_licence(client, market):
    response = seal(client, market, simple_pdf("Decision"))
    assert response.status_code == 201 and response.mimetype == "application/pdf"
    answer = verify(client, response.data)
    assert answer["signatures"][0]["indication"] == "passed"
    assert answer["signatures"][0]["signer"]["common_name"] == "杭州市市场监督管理局"
    assert answer["verdict"] == "indeterminate" and answer["licence"] is None
    assert "not_a_licence" in answer["reasons"]


def test_visible_stamp_and_a_second_seal_keep_the_first(client, registry, market):
    first = seal(client, market, simple_pdf("Notice"), visible="true").data
    reader = PdfFileReader(io.BytesIO(first))
    widget = reader.embedded_signatures[0].sig_field
    rect = [float(v) for v in widget["/Rect"]]
    assert rect[2] - rect[0] > 100 and rect[3] - rect[1] > 30  # a real, visible box
    registry.agency("tax", region="330100", name="杭州市税务局")
    second = seal(client, registry.token("tax", "agency"), first).data
    assert second.startswith(first)  # an incremental update: the first seal's bytes are untouched
    signatures = PdfFileReader(io.BytesIO(second)).embedded_signatures
    assert [s.field_name for s in signatures] == ["AgencySeal", "AgencySeal-2"]
    answer = verify(client, second)
    assert [s["signer"]["common_name"] for s in answer["signatures"]] == ["杭州市市场监督管理局", "杭州市税务局"]
    assert answer["signatures"][1]["indication"] == "passed"
    # A later signature (and its validation data) is the only change: the first seal still passes.
    changes = answer["signatures"][0]["checks"]["changes_after_signing"]
    assert changes["outcome"] == "passed" and changes["reason"] == "later signatures were added"
    assert answer["verdict"] == "indeterminate"  # sealed notices are never "valid": they are not licences


def test_not_a_pdf_is_a_problem(client, market):
    response = seal(client, market, b"hello, not a pdf")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_json_evidence_is_signed_as_jws_verifiable_with_the_x5c_chain(client, market):
    payload = {"resolution": "r-1", "materials": [{"code": "id", "data": {"name": "张三"}}]}
    response = client.post("/api/v1/signatures", json={"payload": payload}, headers=market)
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["jws"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "ES256"
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in header["x5c"]]
    root = x509.load_pem_x509_certificates(client.get("/api/v1/pki/roots").data)[0]
    chain[0].verify_directly_issued_by(chain[1])
    chain[1].verify_directly_issued_by(root)
    key = ECKey.import_key(chain[0].public_key())
    registry = JWSRegistry()
    registry.max_header_length = 8192  # joserfc's default cap (512) is below an x5c chain of two
    assert json.loads(jws.deserialize_compact(token, key, registry=registry).payload) == payload
    forged = token.split(".")
    forged[1] = base64.urlsafe_b64encode(json.dumps({"resolution": "r-2"}).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(".".join(forged), key, registry=registry)


def test_only_agencies_seal_and_replays_return_the_same_pdf(client, market):
    assert client.post("/api/v1/signatures", json={"payload": {}}, headers=OPERATOR).status_code == 403
    assert client.post("/api/v1/signatures", json={"payload": {}}).status_code == 401
    pdf = simple_pdf("Replay")
    headers = {**market, "Idempotency-Key": "seal-1"}
    first = client.post(
        "/api/v1/signatures",
        data={"file": (io.BytesIO(pdf), "a.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    again = client.post(
        "/api/v1/signatures",
        data={"file": (io.BytesIO(pdf), "a.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.data == first.data
