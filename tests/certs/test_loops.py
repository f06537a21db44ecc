"""Sealing, verifying and time-stamping work when the caller already runs an asyncio event loop."""

from __future__ import annotations

import asyncio
import hashlib

from asn1crypto import tsp
from certs_support import TestPki, simple_pdf

from certs.verify import verify_pdf


def test_seal_verify_and_timestamp_inside_a_running_loop():
    pki = TestPki()
    key, certificate = pki.seal()

    async def inside() -> tuple[str, str]:
        sealed = pki.seal_pdf(simple_pdf(), key, certificate)  # pyHanko's sync API, under a running loop
        report = verify_pdf(sealed, pki.verification_trust())
        request = tsp.TimeStampReq(
            {
                "version": "v1",
                "message_imprint": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": hashlib.sha256(b"x").digest(),
                },
            }
        )
        answer = tsp.TimeStampResp.load(pki.tsa_authority.respond_der(request.dump()))
        return report.signatures[0].indication, answer["status"]["status"].native

    assert asyncio.run(inside()) == ("passed", "granted")
