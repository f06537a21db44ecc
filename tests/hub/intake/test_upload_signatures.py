"""Applicants' electronic signatures (issue 18, item 8): an uploaded PDF that carries signatures is verified as it
arrives, and the case shows each signature's verdict: who signed, when, intact or not, trusted or not."""

from __future__ import annotations

import io

from certs_support import TestPki, simple_pdf
from intake_support import apply, province, upload

__all__ = ["province"]  # a fixture, used by name


def sealed_by_the_hub(client, token) -> bytes:
    """A PDF sealed by an agency through the hub's signing service: its chain leads to the hub's root."""
    files = {"file": (io.BytesIO(simple_pdf("平面图")), "plan.pdf")}
    response = client.post("/api/v1/signatures", data=files, headers=token, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_data()


def signatures_of(client, province, pdf: bytes) -> list[dict]:
    case = apply(client, province["portal"]).get_json()
    answer = upload(client, province["portal"], case["id"], "plan", pdf)
    assert answer.status_code == 201, answer.get_json()
    seen = client.get(f"/api/v1/applications/{case['id']}", headers=province["market"]).get_json()
    [plan] = [m for m in seen["materials"] if m["code"] == "plan"]
    return plan["file"].get("signatures")


def test_a_pdf_signed_through_the_hub_is_intact_and_trusted(client, province):
    [signature] = signatures_of(client, province, sealed_by_the_hub(client, province["market"]))
    assert signature["intact"] is True and signature["trusted"] is True and signature["indication"] == "passed"
    assert signature["signer"] == "杭州市市场监督管理局" and signature["timestamped"] is True
    assert signature["signed_at"]


def test_a_signature_from_a_ca_the_hub_does_not_trust_is_intact_but_not_trusted(client, province):
    stranger = TestPki(name="Stranger")
    key, certificate = stranger.seal("某某有限公司")
    [signature] = signatures_of(client, province, stranger.seal_pdf(simple_pdf("合同"), key, certificate))
    assert signature["intact"] is True and signature["trusted"] is False and signature["signer"] == "某某有限公司"
    assert signature["indication"] != "passed"


def test_a_signed_pdf_changed_after_signing_is_not_intact(client, province):
    sealed = bytearray(sealed_by_the_hub(client, province["market"]))
    sealed[sealed.index(b"\n", 9) - 1] ^= 1  # one bit of the header's binary comment: signed, not parsed
    [signature] = signatures_of(client, province, bytes(sealed))
    assert signature["intact"] is False and signature["indication"] == "failed"


def test_an_unsigned_upload_has_no_signatures_to_show(client, province):
    assert signatures_of(client, province, simple_pdf("平面图")) is None
