"""The verifier's limits: a file that takes too long is abandoned (its process killed), an upload past
HUB_MAX_UPLOAD_BYTES is refused before parsing, and a non-PDF is a 4xx problem — never a crashed worker."""

from __future__ import annotations

import io

import pytest
from certs_support import many_fields, simple_pdf

from hub.licences.verification import VerificationFailed, Verifier


def test_a_file_over_the_time_cap_is_abandoned_and_the_pool_goes_on(app):
    trust = app.extensions["hub"].pki.verification_trust()
    verifier = Verifier(processes=1, timeout_seconds=2)
    try:
        assert verifier.report(simple_pdf(), trust)["signatures"] == []  # warm: the process has started
        with pytest.raises(VerificationFailed, match="longer than 2 s"):
            verifier.report(many_fields(80_000), trust)  # seconds of parsing
        assert verifier.report(simple_pdf(), trust)["signatures"] == []  # a fresh process took over
    finally:
        verifier.close()


def test_uploads_past_the_cap_are_413_and_non_pdfs_422(client, settings):
    too_big = b"%PDF-1.7\n" + b"0" * (settings.max_upload_bytes + 1)
    response = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(too_big), "big.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    for content in (b"", b"GIF89a not a pdf", b"%PDF-1.7\n garbage"):
        answer = client.post(
            "/api/v1/verifications", data={"file": (io.BytesIO(content), "x.pdf")}, content_type="multipart/form-data"
        )
        assert answer.status_code == 422, answer.get_json()
        assert answer.mimetype == "application/problem+json"
    missing = client.post("/api/v1/verifications", data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
