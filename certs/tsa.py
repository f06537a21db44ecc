"""The hub's RFC 3161 time-stamping authority, and a pyHanko time stamper that asks it in-process.

The TSA signs TSTInfo with its own key and certificate (extended key usage timeStamping) through a
pyHanko :class:`~pyhanko.sign.signers.Signer`, so the key may be software or on a token alike.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import TimeStamper

from .loops import outside_loop

#: The policy the hub's TSA states in every token unless told otherwise (a UUID-derived OID, X.667).
DEFAULT_POLICY = "2.25.236262892563346542375493946405153632587"
ACCEPTED_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}  # name: digest length


class TimeStampAuthority:
    """Answers time-stamp requests with tokens signed by ``signer``."""

    def __init__(
        self,
        signer: Signer,
        certificate: asn1_x509.Certificate,
        clock: Callable[[], dt.datetime],
        policy: str = DEFAULT_POLICY,
    ) -> None:
        self._signer = signer
        self._certificate = certificate
        self._clock = clock
        self._policy = policy

    def respond_der(self, request_der: bytes) -> bytes:
        """The DER TimeStampResp for a DER TimeStampReq (a rejection, never an exception, on bad input)."""
        try:
            request = tsp.TimeStampReq.load(request_der)
            request.native  # noqa: B018 - parses the whole request now, so bad DER fails here
        except (ValueError, TypeError):
            return rejection("bad_data_format", "not a DER TimeStampReq").dump()
        return outside_loop(lambda: asyncio.run(self.respond(request))).dump()

    async def respond(self, request: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """A token for ``request``, or a rejection saying why not."""
        imprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        if algorithm not in ACCEPTED_DIGESTS:
            return rejection("bad_alg", f"digest {algorithm} is not accepted")
        if len(imprint["hashed_message"].native) != ACCEPTED_DIGESTS[algorithm]:
            return rejection("bad_data_format", "the imprint has the wrong length")
        requested_policy = request["req_policy"].native
        if requested_policy is not None and requested_policy != self._policy:
            return rejection("unaccepted_policy", f"this TSA only issues under policy {self._policy}")
        info = {
            "version": "v1",
            "policy": self._policy,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(127),
            "gen_time": self._clock().astimezone(dt.UTC),
            "accuracy": {"seconds": 1},
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self._certificate.subject),
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        content = cms.EncapsulatedContentInfo(
            {"content_type": "tst_info", "content": cms.ParsableOctetString(tsp.TSTInfo(info).dump())}
        )
        token = await self._signer.async_sign_general_data(content, "sha256", detached=False, use_cades=True)
        if not request["cert_req"].native:
            token["content"]["certificates"] = None  # RFC 3161 2.4.1: only when asked for
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


class _Rejection(tsp.TimeStampResp):
    """A TimeStampResp without a token (asn1crypto's own makes the token mandatory)."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def rejection(failure: str, text: str) -> tsp.TimeStampResp:
    """A TimeStampResp refusing a request: the failure (RFC 3161 PKIFailureInfo) and why, in words."""
    return _Rejection(
        {
            "status": {
                "status": "rejection",
                "status_string": [text],
                "fail_info": {failure},
            }
        }
    )


class InProcessTimeStamper(TimeStamper):
    """A pyHanko time stamper that asks the hub's own TSA directly instead of over HTTP."""

    def __init__(self, authority: TimeStampAuthority) -> None:
        super().__init__(include_nonce=True)
        self._authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """The authority's answer to ``req``."""
        return await self._authority.respond(req)
