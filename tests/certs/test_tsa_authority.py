"""The hub's RFC 3161 time-stamping authority, asked with real DER requests and checked from outside.

Tokens are read back with asn1crypto, their signature checked with pyHanko against the test PKI,
and accepted by ``openssl ts -verify``; bad requests must get a rejection with the RFC's failure
code, never an exception.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import cms, core, tsp
from asn1crypto import crl as asn1_crl
from certs_support import TestPki, asn1
from cryptography.x509 import ExtendedKeyUsage, KeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from certs import authority
from certs.tsa import DEFAULT_POLICY

DATA = "电子证照 licence 0001".encode()
OTHER_POLICY = "1.3.6.1.4.1.99999.1"


class TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp. asn1crypto's own makes the token mandatory, so it cannot read a rejection."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def request(
    digest: bytes | None = None,
    algorithm: str = "sha256",
    nonce: int | None = None,
    policy: str | None = None,
    cert_req: bool = True,
) -> tsp.TimeStampReq:
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": algorithm},
            "hashed_message": hashlib.sha256(DATA).digest() if digest is None else digest,
        },
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    return tsp.TimeStampReq(fields)


def ask(pki: TestPki, request_der: bytes) -> TimeStampResp:
    """The TSA's DER answer to ``request_der``, parsed."""
    response = TimeStampResp.load(pki.tsa_authority.respond_der(request_der))
    response.native  # noqa: B018 - parse it all now
    return response


def token_info(response: TimeStampResp) -> tsp.TSTInfo:
    return response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed


def test_granted_token_answers_the_request(pki: TestPki) -> None:
    nonce = secrets.randbits(64)
    before = dt.datetime.now(dt.UTC)

    response = ask(pki, request(nonce=nonce).dump())

    assert response["status"]["status"].native == "granted"
    info = token_info(response)
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(DATA).digest()
    assert info["nonce"].native == nonce
    assert info["policy"].native == DEFAULT_POLICY
    assert before - dt.timedelta(seconds=1) <= info["gen_time"].native <= dt.datetime.now(dt.UTC)
    assert info["tsa"].chosen == asn1(pki.tsa).subject
    assert info["serial_number"].native > 0


def test_token_signature_verifies_and_chains_to_the_root(pki: TestPki) -> None:
    response = ask(pki, request().dump())
    signed_data = response["time_stamp_token"]["content"]
    context = ValidationContext(
        trust_roots=[asn1(pki.root)],
        other_certs=[asn1(pki.issuing)],
        crls=[asn1_crl.CertificateList.load(der) for der in pki.crls()],
        allow_fetching=False,
    )

    status = TimestampSignatureStatus(
        **asyncio.run(validate_tst_signed_data(signed_data, context, lambda algorithm: hashlib.sha256(DATA).digest()))
    )

    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.dump() == asn1(pki.tsa).dump()
    assert status.timestamp == token_info(response)["gen_time"].native


def test_token_for_other_data_does_not_verify(pki: TestPki) -> None:
    signed_data = ask(pki, request().dump())["time_stamp_token"]["content"]
    context = ValidationContext(trust_roots=[asn1(pki.root)], other_certs=[asn1(pki.issuing)], allow_fetching=False)

    status_kwargs = asyncio.run(validate_tst_signed_data(signed_data, context, lambda algorithm: b"\0" * 32))

    assert status_kwargs["intact"] is False


def test_tsa_certificate_has_critical_time_stamping_usage(pki: TestPki) -> None:
    usage = pki.tsa.extensions.get_extension_for_class(ExtendedKeyUsage)
    key_usage = pki.tsa.extensions.get_extension_for_class(KeyUsage)

    assert usage.critical and list(usage.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert key_usage.critical and key_usage.value.digital_signature and not key_usage.value.key_cert_sign


def test_openssl_accepts_the_token(pki: TestPki, openssl: str, tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "ca.pem").write_text(authority.pem_bundle([pki.root, pki.issuing]))
    (tmp_path / "resp.tsr").write_bytes(pki.tsa_authority.respond_der(request(nonce=12345).dump()))

    def verify(data_file: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [openssl, "ts", "-verify", "-in", "resp.tsr", "-data", data_file, "-CAfile", "ca.pem"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    accepted = verify("data")
    assert accepted.returncode == 0 and "Verification: OK" in accepted.stdout, accepted.stderr
    (tmp_path / "other").write_bytes(DATA + b"!")
    assert verify("other").returncode != 0


def test_openssl_request_gets_a_token_openssl_accepts(pki: TestPki, openssl: str, tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "ca.pem").write_text(authority.pem_bundle([pki.root, pki.issuing]))
    subprocess.run(
        [openssl, "ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "req.tsq"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=60,
    )
    (tmp_path / "resp.tsr").write_bytes(pki.tsa_authority.respond_der((tmp_path / "req.tsq").read_bytes()))

    checked = subprocess.run(
        [openssl, "ts", "-verify", "-queryfile", "req.tsq", "-in", "resp.tsr", "-CAfile", "ca.pem"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr


REFUSED: dict[str, tuple[Callable[[], tsp.TimeStampReq], str]] = {
    "wrong digest length": (lambda: request(digest=b"\1" * 20), "bad_data_format"),
    "md5": (lambda: request(digest=hashlib.md5(DATA).digest(), algorithm="md5"), "bad_alg"),  # noqa: S324
    "unknown algorithm": (lambda: request(algorithm="1.2.3.4.5"), "bad_alg"),
    "other policy": (lambda: request(policy=OTHER_POLICY), "unaccepted_policy"),
}


@pytest.mark.parametrize(("make", "failure"), list(REFUSED.values()), ids=list(REFUSED))
def test_bad_request_is_rejected_with_the_rfc_failure_code(
    make: Callable[[], tsp.TimeStampReq], failure: str, pki: TestPki
) -> None:
    response = asyncio.run(pki.tsa_authority.respond(make()))

    assert response["status"]["status"].native == "rejection"
    assert response["status"]["fail_info"].native == {failure}
    assert response["status"]["status_string"].native


def test_requesting_the_tsa_own_policy_is_granted(pki: TestPki) -> None:
    response = ask(pki, request(policy=DEFAULT_POLICY).dump())

    assert response["status"]["status"].native == "granted"
    assert token_info(response)["policy"].native == DEFAULT_POLICY


BAD_DER: dict[str, tuple[Callable[[], bytes], str]] = {
    "garbage": (lambda: secrets.token_bytes(64), "bad_data_format"),
    "empty": (lambda: b"", "bad_data_format"),
    "empty sequence": (lambda: b"\x30\x00", "bad_data_format"),
    "wrong digest length": (lambda: request(digest=b"\1" * 20).dump(), "bad_data_format"),
    "md5": (lambda: request(digest=hashlib.md5(DATA).digest(), algorithm="md5").dump(), "bad_alg"),  # noqa: S324
    "other policy": (lambda: request(policy=OTHER_POLICY).dump(), "unaccepted_policy"),
}


@pytest.mark.parametrize(("make", "failure"), list(BAD_DER.values()), ids=list(BAD_DER))
def test_bad_der_request_gets_a_der_rejection_not_an_exception(
    make: Callable[[], bytes], failure: str, pki: TestPki
) -> None:
    response = ask(pki, make())

    assert response["status"]["status"].native == "rejection"
    assert response["status"]["fail_info"].native == {failure}
    assert response["time_stamp_token"].native is None


def test_certificates_are_left_out_when_not_requested(pki: TestPki) -> None:
    response = ask(pki, request(cert_req=False).dump())

    assert response["status"]["status"].native == "granted"
    assert not response["time_stamp_token"]["content"]["certificates"]
