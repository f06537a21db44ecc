"""Detached CMS signatures over arbitrary bytes (an archive manifest, an audit checkpoint).

:func:`sign_detached` makes a CAdES-BES ``SignedData`` (DER, content not embedded) with the signer's
chain and a signature timestamp (RFC 3161, as the unsigned ``signatureTimeStampToken`` attribute),
so ``openssl cms -verify -binary -inform DER -content FILE -CAfile roots.pem`` checks it with the
hub's roots alone. :func:`verify_detached` checks one the same way pyHanko does for PDF seals:
integrity, the signer's chain at the timestamp's time, and the timestamp itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from asn1crypto import cms
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import async_validate_detached_cms
from pyhanko.sign.validation.errors import SignatureValidationError

from .api import CertsError
from .loops import outside_loop
from .pades import SealRefused, TrustMaterial


class NotASignature(CertsError):
    """The bytes given as a detached signature are not a CMS SignedData."""


@dataclass(frozen=True)
class DetachedReport:
    """What a detached signature proves about the content it was checked against."""

    intact: bool  # the content's digest matches and the signature over the attributes holds
    trusted: bool  # the signer's chain reaches a given root and nothing in it was revoked at the time
    signer: str  # the signer's subject (RFC 4514)
    signed_at: dt.datetime | None  # the signing time the signer claims
    timestamp: dt.datetime | None  # the trusted time of the signature timestamp, when valid
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.intact and self.trusted and self.timestamp is not None and not self.problems


def sign_detached(content: bytes, signer: signers.Signer, timestamper: TimeStamper) -> bytes:
    """A DER ``SignedData`` over ``content`` (detached), with a signature timestamp."""
    try:
        signing = signer.async_sign_general_data(
            cms.ContentInfo({"content_type": "data", "content": content}),
            "sha256",
            detached=True,
            use_cades=True,
            timestamper=timestamper,
        )
        signed = outside_loop(asyncio.run, signing)
    except TimestampRequestError as error:
        raise SealRefused(f"the time-stamping authority did not answer: {error}") from error
    except SigningError as error:
        raise SealRefused(f"the content could not be signed: {error}") from error
    return signed.dump()


def verify_detached(content: bytes, signature: bytes, trust: TrustMaterial) -> DetachedReport:
    """Check ``signature`` (DER CMS) against ``content`` and ``trust``."""
    try:
        info = cms.ContentInfo.load(signature)
        if info["content_type"].native != "signed_data":
            raise NotASignature("the signature file is not a CMS SignedData")
        signed_data = info["content"]
        signer_info = signed_data["signer_infos"][0]
        signer_id = signer_info["sid"]
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise NotASignature(f"the signature file is not a CMS SignedData: {error}") from error
    try:
        checking = async_validate_detached_cms(
            content, signed_data, signer_validation_context=trust.validation_context()
        )
        status = outside_loop(asyncio.run, checking)
    except (SignatureValidationError, ValueError, TypeError, KeyError) as error:
        subject = str(signer_id.native)
        return DetachedReport(False, False, subject, None, None, (f"unreadable signature: {error}",))
    problems = []
    if not status.intact:
        problems.append("the content does not match the signature")
    elif not status.valid:
        problems.append("the signature does not verify with the signer's key")
    elif not status.trusted:  # (pyHanko judges trust only for an intact signature)
        problems.append(f"the signer's chain is not trusted ({status.trust_problem_indic})")
    timestamp = None
    ts_status = status.timestamp_validity
    if ts_status is None:
        problems.append("no signature timestamp")
    elif not (ts_status.intact and ts_status.valid and ts_status.trusted):
        problems.append("the signature timestamp does not verify")
    else:
        timestamp = ts_status.timestamp
    return DetachedReport(
        intact=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
        timestamp=timestamp,
        problems=tuple(problems),
    )
