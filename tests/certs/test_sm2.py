"""The SM2 side of the PKI (issue 22): SM2 keys and signatures over SM3, SM2 certificates and CRLs.

GmSSL computes them for the hub; OpenSSL 3's ``openssl`` command is the independent implementation that
checks them: it verifies the hub's signatures and certificates, and the hub verifies OpenSSL's. OpenSSL 3.0
applies a distinguishing ID only to the certificate it is asked about, so a chain is checked link by link
(``-partial_chain``), each with the standard ID of GM/T 0009, and CRL signatures over their TBS part.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from sm2_support import DISTID, MOMENT, URLS, Sm2Pki, openssl_checks, pem

from certs.authority import Profile, RevocationReason, Revoked
from certs.sm2 import Sm2Error, Sm2Key, Sm2PublicKey, sm3
from certs.sm2_authority import ChainRefused, Sm2Issuer, check_chain, crl, issue, name


@pytest.fixture(scope="module")
def sm2_pki() -> Sm2Pki:
    return Sm2Pki()


def run(openssl: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


# -- keys and signatures
def test_sm3_matches_the_standards_example() -> None:
    # GB/T 32905-2016, appendix A.1: the digest of "abc".
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_openssl_verifies_the_hubs_signature_and_the_hub_verifies_openssls(openssl: str, tmp_path: Path) -> None:
    key = Sm2Key.generate()
    message = "电子证照 sealed by SM2".encode()
    (tmp_path / "message").write_bytes(message)
    (tmp_path / "public.pem").write_text(pem(key.public_key.spki().dump(), "PUBLIC KEY"))
    (tmp_path / "key.pem").write_text(pem(key.pkcs8(), "PRIVATE KEY"))
    (tmp_path / "ours.sig").write_bytes(key.sign(message))
    checked = run(openssl, "dgst", "-sm3", "-verify", "public.pem", "-sigopt", DISTID, "-signature", "ours.sig",
                  "message", cwd=tmp_path)  # fmt: skip
    assert checked.returncode == 0 and "Verified OK" in checked.stdout, checked.stderr
    made = run(openssl, "dgst", "-sm3", "-sign", "key.pem", "-sigopt", DISTID, "-out", "theirs.sig", "message",
               cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    theirs = (tmp_path / "theirs.sig").read_bytes()
    assert key.public_key.verify(message, theirs)
    assert not key.public_key.verify(message + b".", theirs)
    assert not key.public_key.verify(message, theirs, signer_id=b"another signer id")  # Z binds the ID


def test_openssl_refuses_a_signature_over_other_bytes(openssl: str, tmp_path: Path) -> None:
    key = Sm2Key.generate()
    (tmp_path / "message").write_bytes(b"what was shown")
    (tmp_path / "public.pem").write_text(pem(key.public_key.spki().dump(), "PUBLIC KEY"))
    (tmp_path / "ours.sig").write_bytes(key.sign(b"what was signed"))
    checked = run(openssl, "dgst", "-sm3", "-verify", "public.pem", "-sigopt", DISTID, "-signature", "ours.sig",
                  "message", cwd=tmp_path)  # fmt: skip
    assert checked.returncode != 0 and "Verification failure" in checked.stdout + checked.stderr


def test_a_key_survives_pkcs8_and_openssl_reads_it_as_sm2(openssl: str, tmp_path: Path) -> None:
    key = Sm2Key.generate()
    again = Sm2Key.from_pkcs8(key.pkcs8())
    assert again.public_key == key.public_key and again.private_bytes() == key.private_bytes()
    (tmp_path / "key.pem").write_text(pem(key.pkcs8(), "PRIVATE KEY"))
    shown = run(openssl, "pkey", "-in", "key.pem", "-noout", "-text", cwd=tmp_path)
    assert shown.returncode == 0 and "SM2" in shown.stdout, shown.stdout + shown.stderr
    assert "private" not in repr(key).lower() and key.private_bytes().hex() not in repr(key)


@pytest.mark.parametrize(
    "signature",
    [b"", b"\x30\x00", b"\x30\x06\x02\x01\x00\x02\x01\x01", b"\x30\x06\x02\x01\x01\x02\x01\x01\x00", b"\xff" * 72],
    ids=["empty", "empty-sequence", "zero-r", "trailing-byte", "garbage"],
)
def test_malformed_signatures_are_refused_not_raised(signature: bytes) -> None:
    assert not Sm2Key.generate().public_key.verify(b"message", signature)


def test_keys_that_are_not_sm2_are_refused(sm2_pki: Sm2Pki) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = p256.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(Sm2Error, match="not an SM2 public key"):
        Sm2PublicKey.from_spki(der)
    with pytest.raises(Sm2Error):
        Sm2PublicKey(b"\x04" * 10)
    assert Sm2PublicKey.from_spki(sm2_pki.seal.public_key) == sm2_pki.seal_key.public_key


# -- certificates, CRLs, chains
def test_openssl_verifies_each_link_of_the_chain(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    for file, certificate in (("root.pem", sm2_pki.root), ("issuing.pem", sm2_pki.issuing), ("seal.pem", sm2_pki.seal)):
        (tmp_path / file).write_text(pem(certificate.dump(), "CERTIFICATE"))
    at = str(int(MOMENT.timestamp()) + 3600)
    for anchor, target in (("root.pem", "issuing.pem"), ("issuing.pem", "seal.pem")):
        checked = run(openssl, "verify", "-vfyopt", DISTID, "-partial_chain", "-attime", at, "-CAfile", anchor,
                      target, cwd=tmp_path)  # fmt: skip
        assert checked.returncode == 0 and f"{target}: OK" in checked.stdout, checked.stdout + checked.stderr
    root = sm2_pki.root  # its own signature, which a verifier given it as an anchor does not check
    signed, signature = root["tbs_certificate"].dump(), bytes(root["signature_value"])
    assert openssl_checks(openssl, tmp_path, sm2_pki.root_key.public_key, signed, signature)
    # The seal's certificate is not a CA: nothing it signs chains.
    stray = issue(Sm2Issuer(sm2_pki.seal, sm2_pki.seal_key, "seal", URLS), Profile.SEAL, name("Stray"),
                  Sm2Key.generate().public_key, MOMENT, 9)  # fmt: skip
    (tmp_path / "stray.pem").write_text(pem(stray.dump(), "CERTIFICATE"))
    refused = run(openssl, "verify", "-vfyopt", DISTID, "-partial_chain", "-attime", at, "-CAfile", "seal.pem",
                  "stray.pem", cwd=tmp_path)  # fmt: skip
    assert refused.returncode != 0
    with pytest.raises(ChainRefused):
        check_chain(stray, [sm2_pki.seal, sm2_pki.issuing], [sm2_pki.root], MOMENT)


def test_the_seal_certificate_has_the_signing_profile(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    (tmp_path / "seal.pem").write_text(pem(sm2_pki.seal.dump(), "CERTIFICATE"))
    text = run(openssl, "x509", "-in", "seal.pem", "-noout", "-text", cwd=tmp_path).stdout
    assert "Signature Algorithm: SM2-with-SM3" in text and "ASN1 OID: SM2" in text
    assert "Digital Signature, Non Repudiation" in text and "CA:FALSE" in text
    assert "URI:https://hub.example.gov.cn/api/v1/pki/crl/sm2-issuing.crl" in text
    assert "CA Issuers - URI:https://hub.example.gov.cn/api/v1/pki/ca/sm2-issuing.crt" in text
    assert "Extended Key Usage" not in text
    subject = sm2_pki.seal.subject.native
    assert subject["common_name"] == "广东省市场监督管理局电子印章" and subject["serial_number"] == "GD-SCJG"
    assert sm2_pki.seal.not_valid_after - sm2_pki.seal.not_valid_before >= dt.timedelta(days=3 * 365)


def test_the_hub_checks_the_chain_and_refuses_a_look_alike_root(sm2_pki: Sm2Pki) -> None:
    path = check_chain(sm2_pki.seal, [sm2_pki.issuing], [sm2_pki.root], MOMENT)
    assert path == [sm2_pki.seal, sm2_pki.issuing, sm2_pki.root]
    # Same names, other keys: a look-alike PKI's seal does not chain to the hub's root, nor the hub's to its root.
    look_alike = Sm2Pki()
    assert look_alike.root.subject == sm2_pki.root.subject
    with pytest.raises(ChainRefused, match="does not chain"):
        check_chain(look_alike.seal, [look_alike.issuing], [sm2_pki.root], MOMENT)
    with pytest.raises(ChainRefused, match="does not chain"):
        check_chain(look_alike.seal, [sm2_pki.issuing], [sm2_pki.root], MOMENT)
    with pytest.raises(ChainRefused, match="does not chain"):
        check_chain(sm2_pki.seal, [sm2_pki.issuing], [look_alike.root], MOMENT)


def test_a_changed_certificate_does_not_chain(sm2_pki: Sm2Pki) -> None:
    tbs = sm2_pki.seal["tbs_certificate"].copy()
    tbs["subject"] = name("另一个机关", "另一个机关")
    forged = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": sm2_pki.seal["signature_algorithm"],
            "signature_value": sm2_pki.seal["signature_value"],
        }
    )
    with pytest.raises(ChainRefused, match="does not chain"):
        check_chain(forged, [sm2_pki.issuing], [sm2_pki.root], MOMENT)


def test_validity_is_checked_at_the_moment_given(sm2_pki: Sm2Pki) -> None:
    with pytest.raises(ChainRefused, match="not valid at that time"):
        check_chain(sm2_pki.seal, [sm2_pki.issuing], [sm2_pki.root], MOMENT - dt.timedelta(days=1))
    with pytest.raises(ChainRefused, match="not valid at that time"):
        check_chain(sm2_pki.seal, [sm2_pki.issuing], [sm2_pki.root], MOMENT + dt.timedelta(days=4 * 365))


def test_crls_are_signed_by_their_ca_as_openssl_checks_them(sm2_pki: Sm2Pki, openssl: str, tmp_path: Path) -> None:
    revoked = [Revoked(3, MOMENT, RevocationReason.KEY_COMPROMISE)]
    der = crl(sm2_pki.issuer, revoked, MOMENT, 42, dt.timedelta(days=1))
    parsed = asn1_crl.CertificateList.load(der)
    entry = parsed["tbs_cert_list"]["revoked_certificates"][0]
    assert entry["user_certificate"].native == 3 and entry.crl_reason_value.native == "key_compromise"
    assert parsed.crl_number_value.native == 42 and parsed.issuer == sm2_pki.issuing.subject
    (tmp_path / "issuing.pem").write_text(pem(sm2_pki.issuing.dump(), "CERTIFICATE"))
    (tmp_path / "crl.pem").write_text(pem(der, "X509 CRL"))
    shown = run(openssl, "crl", "-in", "crl.pem", "-noout", "-text", cwd=tmp_path)
    assert "Signature Algorithm: SM2-with-SM3" in shown.stdout and "Key Compromise" in shown.stdout
    # The signature over the TBS part, checked by OpenSSL with the issuing CA's public key, and not the root's.
    signed, signature = parsed["tbs_cert_list"].dump(), bytes(parsed["signature"])
    assert openssl_checks(openssl, tmp_path, sm2_pki.issuing_key.public_key, signed, signature)
    assert not openssl_checks(openssl, tmp_path, sm2_pki.root_key.public_key, signed, signature)


def test_only_ca_seal_and_tsa_certificates_are_issued_on_the_sm2_side(sm2_pki: Sm2Pki) -> None:
    from certs.api import CertsError

    with pytest.raises(CertsError, match="not ocsp"):
        issue(sm2_pki.issuer, Profile.OCSP, name("OCSP"), Sm2Key.generate().public_key, MOMENT, 7)


def test_a_key_at_rest_is_encrypted_pkcs8_that_openssl_opens_with_the_passphrase(openssl: str, tmp_path: Path) -> None:
    key = Sm2Key.generate()
    text = key.encrypted_pem(b"correct horse battery staple")
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") and key.private_bytes().hex() not in text
    assert Sm2Key.from_encrypted_pem(text, b"correct horse battery staple").public_key == key.public_key
    with pytest.raises(Sm2Error, match="could not be opened"):
        Sm2Key.from_encrypted_pem(text, b"another passphrase")
    (tmp_path / "key.pem").write_text(text)
    opened = run(openssl, "pkey", "-in", "key.pem", "-passin", "pass:correct horse battery staple", "-pubout",
                 cwd=tmp_path)  # fmt: skip
    assert opened.returncode == 0
    assert "".join(opened.stdout.split()) == "".join(pem(key.public_key.spki().dump(), "PUBLIC KEY").split())
    assert run(openssl, "pkey", "-in", "key.pem", "-passin", "pass:wrong", "-noout", cwd=tmp_path).returncode != 0
