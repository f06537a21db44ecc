"""Electronic seals and sealed signatures of GB/T 38540 (安全电子签章密码技术规范), version 4: the structures
``SES_Seal`` and ``SES_Signature``, made and checked with SM2 over SM3.

An electronic seal (``SES_Seal``) is the seal's picture and properties — whose seal it is, which certificates
may use it, from when until when — signed by the seal maker. A sealed signature (``SES_Signature``) binds
one use of it to a document: the signer's SM2 signature over ``TBS_Sign``, which holds the seal, the time, the
SM3 digest of what was sealed and a note of what that was (for OFD, the path of its ``Signature.xml``), plus
optionally an RFC 3161 timestamp over the signature value. :func:`check_signature` takes one apart as the
standard's verification steps do and says which of them failed.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import core
from asn1crypto import x509 as asn1_x509

from .api import CertsError
from .sm2 import SM2_WITH_SM3_OID, Sm2Error, Sm2Key, Sm2PublicKey, sm3
from .sm2_authority import ChainRefused, check_chain

VERSION = 4
SEAL_HEADER_ID = "ES"
ORGANISATION_SEAL, PERSONAL_SEAL = 1, 2
CERTIFICATES = 1  # certListType: the certificates themselves (2 would be their digests)


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SesHeader(core.Sequence):
    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class SesPropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", CertInfoList),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SesPictureInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SesSealInfo(core.Sequence):
    _fields = [
        ("header", SesHeader),
        ("es_id", core.IA5String),
        ("property", SesPropertyInfo),
        ("picture", SesPictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SesSeal(core.Sequence):
    _fields = [
        ("eseal_info", SesSealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class SealToSign(core.Sequence):
    """What the seal maker signs: the seal's information, the maker's certificate and the algorithm."""

    _fields = [("eseal_info", SesSealInfo), ("cert", core.OctetString), ("sign_alg_id", core.ObjectIdentifier)]


class TbsSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SesSeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SesSignature(core.Sequence):
    _fields = [
        ("to_sign", TbsSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


class SesError(CertsError):
    """Bytes that are not a GB/T 38540 structure this module can read."""


@dataclass(frozen=True)
class SealPicture:
    """The seal's picture as it is printed: image type (``png``), bytes, and size in millimetres."""

    kind: str
    data: bytes
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class SealSpec:
    """An electronic seal to make: its identifier, name, kind, picture, the certificates that may use it."""

    es_id: str
    name: str
    picture: SealPicture
    certificates: Sequence[asn1_x509.Certificate]
    valid_start: dt.datetime
    valid_end: dt.datetime
    kind: int = ORGANISATION_SEAL
    vendor: str = "hub"


def _generalized(moment: dt.datetime) -> core.GeneralizedTime:
    return core.GeneralizedTime(moment.astimezone(dt.UTC).replace(microsecond=0))


def make_seal(spec: SealSpec, maker_key: Sm2Key, maker: asn1_x509.Certificate, now: dt.datetime) -> SesSeal:
    """The electronic seal ``spec`` describes, signed by the seal maker."""
    info = SesSealInfo(
        {
            "header": {"id": SEAL_HEADER_ID, "version": VERSION, "vid": spec.vendor},
            "es_id": spec.es_id,
            "property": {
                "type": spec.kind,
                "name": spec.name,
                "cert_list_type": CERTIFICATES,
                "cert_list": [certificate.dump() for certificate in spec.certificates],
                "create_date": _generalized(now),
                "valid_start": _generalized(spec.valid_start),
                "valid_end": _generalized(spec.valid_end),
            },
            "picture": {
                "type": spec.picture.kind,
                "data": spec.picture.data,
                "width": spec.picture.width_mm,
                "height": spec.picture.height_mm,
            },
        }
    )
    to_sign = SealToSign({"eseal_info": info, "cert": maker.dump(), "sign_alg_id": SM2_WITH_SM3_OID})
    return SesSeal(
        {
            "eseal_info": info,
            "cert": maker.dump(),
            "sign_alg_id": SM2_WITH_SM3_OID,
            "signed_value": maker_key.sign(to_sign.dump()),
        }
    )


def sign(
    seal: SesSeal,
    signer_key: Sm2Key,
    signer: asn1_x509.Certificate,
    data: bytes,
    property_info: str,
    now: dt.datetime,
    time_stamp: bytes | None = None,
) -> bytes:
    """A GB/T 38540 sealed signature (DER) of ``data`` with ``seal``, by ``signer``; ``property_info`` says what
    ``data`` is. ``time_stamp``, if given, is an RFC 3161 token over the signature value (see
    :func:`signature_value_of` for what to have time-stamped)."""
    to_sign = TbsSign(
        {
            "version": VERSION,
            "eseal": seal,
            "time_info": _generalized(now),
            "data_hash": sm3(data),
            "property_info": property_info,
        }
    )
    signature = SesSignature(
        {
            "to_sign": to_sign,
            "cert": signer.dump(),
            "signature_alg_id": SM2_WITH_SM3_OID,
            "signature": signer_key.sign(to_sign.dump()),
        }
    )
    if time_stamp is not None:
        signature["time_stamp"] = time_stamp
    return signature.dump()


def signature_value_of(der: bytes) -> bytes:
    """The signature value inside a sealed signature: what its timestamp covers."""
    return bytes(_load(der)["signature"])


def with_time_stamp(der: bytes, token: bytes) -> bytes:
    """The sealed signature ``der`` with ``token`` (an RFC 3161 TimeStampToken, DER) added."""
    signature = _load(der)
    signature["time_stamp"] = token
    return signature.dump(force=True)


def _load(der: bytes) -> SesSignature:
    try:
        signature = SesSignature.load(der, strict=True)
        _ = signature.native  # parsed through now: a malformed part fails here, not later
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise SesError(f"not a GB/T 38540 sealed signature: {type(error).__name__}") from None
    return signature


@dataclass
class SignatureCheck:
    """The outcome of checking one sealed signature: each step of GB/T 38540 passed or not, and the facts read."""

    failed: dict[str, str] = field(default_factory=dict)  # step -> why it failed
    seal_name: str | None = None
    es_id: str | None = None
    signer: asn1_x509.Certificate | None = None
    signed_at: dt.datetime | None = None
    property_info: str | None = None
    picture: SealPicture | None = None
    time_stamp: bytes | None = None

    @property
    def valid(self) -> bool:
        """Whether every step passed."""
        return not self.failed


@dataclass(frozen=True)
class SealTrust:
    """What a verifier trusts: SM2 roots and the intermediates it may chain through."""

    roots: Sequence[asn1_x509.Certificate]
    intermediates: Sequence[asn1_x509.Certificate] = ()


def check_signature(der: bytes, data: bytes, trust: SealTrust) -> SignatureCheck:
    """Check a sealed signature of ``data`` as GB/T 38540 says: the signer's signature over ``TBS_Sign``, the
    signer's certificate chain at the signing time, the seal maker's signature and chain, that the seal was
    valid then and lists the signer's certificate, and that ``data`` is what was sealed. SesError if ``der``
    cannot be read at all; every other failure is named in the result.

    The signing time is the one ``TBS_Sign`` claims; a timestamp, when there is one, is what vouches for it,
    and revocation is the caller's to check against its CRLs: both need more than the structure holds."""
    signature = _load(der)
    check = SignatureCheck()
    to_sign, seal = signature["to_sign"], signature["to_sign"]["eseal"]
    info = seal["eseal_info"]
    check.seal_name, check.es_id = info["property"]["name"].native, info["es_id"].native
    check.property_info, check.signed_at = to_sign["property_info"].native, to_sign["time_info"].native
    picture = info["picture"]
    check.picture = SealPicture(
        picture["type"].native, picture["data"].native, picture["width"].native, picture["height"].native
    )
    check.time_stamp = signature["time_stamp"].native if signature["time_stamp"].native is not None else None
    signer = _certificate(signature["cert"].native, check, "signer_certificate")
    maker = _certificate(seal["cert"].native, check, "maker_certificate")
    check.signer = signer
    if to_sign["version"].native != VERSION or info["header"]["id"].native != SEAL_HEADER_ID:
        check.failed["format"] = "not a version 4 seal and signature"
    if signer is not None:
        if not _sm2_signed(signer, signature["signature_alg_id"], to_sign.dump(), signature["signature"]):
            check.failed["signature"] = "the signature over TBS_Sign is not the signer's"
        _chain(signer, trust, check.signed_at, check, "signer_chain")
    if maker is not None:
        to_check = SealToSign({"eseal_info": info, "cert": seal["cert"], "sign_alg_id": seal["sign_alg_id"]}).dump()
        if not _sm2_signed(maker, seal["sign_alg_id"], to_check, seal["signed_value"]):
            check.failed["seal"] = "the seal is not signed by its maker"
        _chain(maker, trust, check.signed_at, check, "maker_chain")
    properties = info["property"]
    if not properties["valid_start"].native <= check.signed_at <= properties["valid_end"].native:
        check.failed["seal_validity"] = "the seal was not valid when it was used"
    listed = properties["cert_list"].native if properties["cert_list_type"].native == CERTIFICATES else []
    if signer is not None and signer.dump() not in listed:
        check.failed["seal_holder"] = "the signer's certificate is not one the seal lists"
    if not hmac.compare_digest(sm3(data), bytes(to_sign["data_hash"])):
        check.failed["data_hash"] = "what is presented is not what was sealed"
    return check


def _certificate(der: bytes, check: SignatureCheck, step: str) -> asn1_x509.Certificate | None:
    try:
        certificate = asn1_x509.Certificate.load(der, strict=True)
        _ = certificate.native
        return certificate
    except (ValueError, TypeError, KeyError, OverflowError):
        check.failed[step] = "the certificate cannot be read"
        return None


def _sm2_signed(
    certificate: asn1_x509.Certificate, algorithm: core.ObjectIdentifier, data: bytes, value: core.OctetBitString
) -> bool:
    if algorithm.dotted != SM2_WITH_SM3_OID:
        return False
    try:
        key = Sm2PublicKey.from_spki(certificate.public_key)
    except Sm2Error:
        return False
    return key.verify(data, bytes(value))


def _chain(
    certificate: asn1_x509.Certificate, trust: SealTrust, moment: dt.datetime | None, check: SignatureCheck, step: str
) -> None:
    try:
        check_chain(certificate, trust.intermediates, trust.roots, moment or dt.datetime.now(dt.UTC))
    except ChainRefused as refused:
        check.failed[step] = str(refused)
