"""RFC 3161 timestamps with SM2 and SM3: the token a GB/T 38540 sealed signature carries over its signature value.

A token is CMS ``SignedData`` around a ``TSTInfo`` whose message imprint is an SM3 digest, signed by the TSA's SM2
key over SM3 (the signed attributes: content type, message digest, and the TSA certificate's SM3 hash in
``signingCertificateV2``), with the TSA's certificate inside. :func:`check_token` undoes it: the imprint, the
digest, the SM2 signature, and that the certificate is a time-stamping one chaining to a trusted SM2 root.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509

from .api import CertsError
from .sm2 import SM2_WITH_SM3_OID, SM3_OID, Sm2Error, Sm2Key, Sm2PublicKey, sm3
from .sm2_authority import ChainRefused, check_chain
from .tsa import rejection

# The SM2 TSA's policy: a UUID OID (ITU-T X.667) of the hub's own, as the P-256 TSA's is.
POLICY = "2.25.31633243207599770029594653747022902513"


class TokenRefused(CertsError):
    """An SM2 timestamp token that does not hold."""


@dataclass(frozen=True)
class Sm2TimeStampAuthority:
    """The TSA: its key and certificate, and the CA certificates to send with the token."""

    key: Sm2Key
    certificate: asn1_x509.Certificate


def _sm3_algorithm() -> algos.DigestAlgorithm:
    return algos.DigestAlgorithm({"algorithm": SM3_OID})


def token_for(authority: Sm2TimeStampAuthority, data: bytes, now: dt.datetime) -> bytes:
    """A timestamp token (DER ``ContentInfo``) over the SM3 digest of ``data``, at ``now``."""
    return _token(authority, sm3(data), now, secrets.randbits(63), with_certificate=True).dump()


def asks_for_sm3(request_der: bytes) -> bool:
    """Whether ``request_der`` is an RFC 3161 request for a timestamp over an SM3 digest."""
    try:
        request = tsp.TimeStampReq.load(request_der)
        return request["message_imprint"]["hash_algorithm"]["algorithm"].dotted == SM3_OID
    except (ValueError, TypeError, KeyError):
        return False


def respond_der(authority: Sm2TimeStampAuthority, request_der: bytes, now: dt.datetime) -> bytes:
    """The DER ``TimeStampResp`` to an RFC 3161 request over an SM3 digest (a rejection on a bad one)."""
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        imprint = request["message_imprint"]
        digest, algorithm = bytes(imprint["hashed_message"]), imprint["hash_algorithm"]["algorithm"].dotted
        nonce, certificate_asked = request["nonce"].native, bool(request["cert_req"].native)
    except (ValueError, TypeError, KeyError):
        return rejection("bad_data_format", "not a DER TimeStampReq").dump()
    if algorithm != SM3_OID or len(digest) != 32:
        return rejection("bad_alg", "this authority stamps SM3 digests of 32 bytes").dump()
    if request["req_policy"].native not in (None, POLICY):
        return rejection("unaccepted_policy", f"this TSA only issues under policy {POLICY}").dump()
    token = _token(authority, digest, now, nonce, with_certificate=certificate_asked)
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


def _token(
    authority: Sm2TimeStampAuthority, digest: bytes, now: dt.datetime, nonce: int | None, with_certificate: bool
) -> cms.ContentInfo:
    info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": {"hash_algorithm": _sm3_algorithm(), "hashed_message": digest},
            "serial_number": secrets.randbits(127),
            "gen_time": now.astimezone(dt.UTC).replace(microsecond=0),
            "accuracy": {"seconds": 1},
        }
    )
    if nonce is not None:
        info["nonce"] = nonce
    content = info.dump()
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {"type": "message_digest", "values": [sm3(content)]},
            {
                "type": "signing_certificate_v2",
                "values": [
                    {"certs": [{"hash_algorithm": _sm3_algorithm(), "cert_hash": sm3(authority.certificate.dump())}]}
                ],
            },
        ]
    )
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={
                    "issuer": authority.certificate.issuer,
                    "serial_number": authority.certificate.serial_number,
                },
            ),
            "digest_algorithm": _sm3_algorithm(),
            "signed_attrs": attributes,
            "signature_algorithm": {"algorithm": SM2_WITH_SM3_OID},
            "signature": authority.key.sign(attributes.dump()),
        }
    )
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [_sm3_algorithm()],
            "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(content)},
            "certificates": [authority.certificate] if with_certificate else None,
            "signer_infos": [signer],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed})


@dataclass(frozen=True)
class CheckedToken:
    """What a token that holds says: when, and by which TSA."""

    time: dt.datetime
    authority: asn1_x509.Certificate


def check_token(
    token: bytes,
    data: bytes,
    roots: Sequence[asn1_x509.Certificate],
    intermediates: Sequence[asn1_x509.Certificate] = (),
) -> CheckedToken:
    """The time a token vouches for ``data`` existed at; TokenRefused saying why when it does not hold."""
    try:
        content_info = cms.ContentInfo.load(token, strict=True)
        signed = content_info["content"]
        info_bytes = signed["encap_content_info"]["content"].contents
        info = tsp.TSTInfo.load(info_bytes)
        [signer] = list(signed["signer_infos"])
        certificate = next(
            c.chosen
            for c in signed["certificates"]
            if c.chosen.serial_number == signer["sid"].chosen["serial_number"].native
        )
        imprint = info["message_imprint"]
        attributes = {attribute["type"].native: attribute["values"][0] for attribute in signer["signed_attrs"]}
        digest_oid, signature_oid = (
            imprint["hash_algorithm"]["algorithm"].dotted,
            signer["signature_algorithm"]["algorithm"].dotted,
        )
        moment = info["gen_time"].native
    except (ValueError, TypeError, KeyError, IndexError, StopIteration, AttributeError) as error:
        raise TokenRefused(f"not an SM2 timestamp token that can be read ({type(error).__name__})") from None
    if (
        content_info["content_type"].native != "signed_data"
        or digest_oid != SM3_OID
        or signature_oid != SM2_WITH_SM3_OID
    ):
        raise TokenRefused("not a timestamp over SM3 signed with SM2")
    if bytes(imprint["hashed_message"]) != sm3(data):
        raise TokenRefused("the timestamp is over other data")
    if attributes.get("message_digest") is None or bytes(attributes["message_digest"]) != sm3(info_bytes):
        raise TokenRefused("the timestamp's content was changed")
    try:
        key = Sm2PublicKey.from_spki(certificate.public_key)
    except Sm2Error:
        raise TokenRefused("the TSA's key is not an SM2 key") from None
    signed_attributes = b"\x31" + signer["signed_attrs"].dump()[1:]  # as signed: a SET OF, not [0] IMPLICIT
    if not key.verify(signed_attributes, bytes(signer["signature"])):
        raise TokenRefused("the timestamp's signature is not the TSA's")
    usages = certificate.extended_key_usage_value.native if certificate.extended_key_usage_value else []
    if usages != ["time_stamping"]:
        raise TokenRefused("the TSA's certificate is not one for time-stamping only")
    try:
        check_chain(certificate, intermediates, roots, moment)
    except ChainRefused as refused:
        raise TokenRefused(f"the TSA is not trusted: {refused}") from None
    return CheckedToken(moment, certificate)


def signed_attributes_of(token: bytes) -> bytes:
    """The signed attributes of a token as the TSA signed them, a DER SET OF (for another implementation's check)."""
    return b"\x31" + cms.ContentInfo.load(token)["content"]["signer_infos"][0]["signed_attrs"].dump()[1:]
