"""Keys on a real PKCS#11 token: SoftHSM2 with a private token directory made for this test session."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pkcs11 import exceptions as p11_errors
from pkcs11.constants import Attribute, ObjectClass
from pkcs11.mechanisms import KeyType
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from testbed import SOFTHSM_TOKEN as TOKEN
from testbed import SOFTHSM_USER_PIN as USER_PIN

from certs.api import KeyUnavailable
from certs.pkcs11 import Pkcs11Backend, Pkcs11Key

WRONG_PIN = "9999"


@pytest.fixture
def backend(softhsm: str) -> Iterator[Pkcs11Backend]:
    backend = Pkcs11Backend(softhsm, TOKEN, USER_PIN)
    yield backend
    backend.close()


@pytest.fixture
def generated(backend: Pkcs11Backend) -> tuple[Pkcs11Key, dict]:
    return backend.generate("agency-seal")


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hub Test CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, public_key: ec.EllipticCurvePublicKey
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Agency seal")]))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def blank_pdf() -> bytes:
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b""))
    writer.insert_page(PageObject(contents=contents, media_box=(0, 0, 595, 842)))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def seal_pdf(key: Pkcs11Key, certificate: asn1_x509.Certificate, ca: asn1_x509.Certificate) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(BytesIO(blank_pdf()))
    return signers.sign_pdf(writer, meta, signer=key.cms_signer(certificate, [ca])).getvalue()


def assert_sealed(pdf: bytes, ca: asn1_x509.Certificate) -> None:
    (signature,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    assert signature.field_name == "Seal"
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=[ca], allow_fetching=False))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def assert_verifies(key: Pkcs11Key, signature: bytes, data: bytes) -> None:
    key.public_key().verify(signature, data, ec.ECDSA(hashes.SHA256()))


def test_generated_key_is_found_again_and_seals_a_pdf(softhsm: str, generated: tuple[Pkcs11Key, dict]) -> None:
    key, reference = generated
    assert set(reference) == {"backend", "label", "key_id"}
    assert reference["backend"] == "pkcs11" and reference["label"] == "agency-seal"
    assert len(bytes.fromhex(reference["key_id"])) == 16
    assert USER_PIN not in json.dumps(reference)

    again = Pkcs11Backend(softhsm, TOKEN, USER_PIN)
    try:
        loaded = again.load(json.loads(json.dumps(reference)))
        assert loaded.public_key() == key.public_key()
        assert isinstance(loaded.public_key().curve, ec.SECP256R1)

        ca_key, ca = make_ca()
        certificate = to_asn1(issue(ca_key, ca, loaded.public_key()))
        assert_sealed(seal_pdf(loaded, certificate, to_asn1(ca)), to_asn1(ca))
    finally:
        again.close()


def test_sign_gives_der_ecdsa_sha256(generated: tuple[Pkcs11Key, dict]) -> None:
    key, _reference = generated
    data = b'{"alg":"ES256"}.{"licence_number":"L-1"}'
    signature = key.sign(data)
    assert signature[0] == 0x30  # DER SEQUENCE, not raw r||s
    assert_verifies(key, signature, data)
    with pytest.raises(InvalidSignature):
        assert_verifies(key, signature, data + b"!")


def test_private_key_never_leaves_the_token(backend: Pkcs11Backend, generated: tuple[Pkcs11Key, dict]) -> None:
    key, _reference = generated

    def attributes(session):
        private = session.get_key(ObjectClass.PRIVATE_KEY, KeyType.EC, label=key.label, id=key.key_id)
        flags = {name: private[name] for name in (Attribute.SENSITIVE, Attribute.EXTRACTABLE, Attribute.TOKEN)}
        with pytest.raises(p11_errors.AttributeSensitive):
            private[Attribute.VALUE]
        return flags

    assert backend.call(attributes) == {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.TOKEN: True}


def test_unknown_reference_is_unavailable(backend: Pkcs11Backend) -> None:
    with pytest.raises(KeyUnavailable, match="no EC private key 'nobody'"):
        backend.load({"backend": "pkcs11", "label": "nobody", "key_id": "00" * 16})
    with pytest.raises(KeyUnavailable, match="not a PKCS#11 key reference"):
        backend.load({"backend": "software", "label": "x", "pkcs8": "..."})
    with pytest.raises(KeyUnavailable, match="not a PKCS#11 key reference"):
        backend.load({"backend": "pkcs11", "label": "x", "key_id": "not hex"})


def test_wrong_pin_is_unavailable_and_not_told(softhsm: str, generated: tuple[Pkcs11Key, dict]) -> None:
    key, reference = generated
    # While this process is logged in, the token cannot check a PIN; the backend compares with the one it took.
    with pytest.raises(KeyUnavailable) as while_logged_in:
        Pkcs11Backend(softhsm, TOKEN, WRONG_PIN).load(reference)
    key.backend.close()
    # Logged out, the token itself refuses the PIN.
    with pytest.raises(KeyUnavailable, match="refused the PIN") as refused:
        Pkcs11Backend(softhsm, TOKEN, WRONG_PIN).load(reference)
    for error in (while_logged_in.value, refused.value):
        assert WRONG_PIN not in str(error) and USER_PIN not in str(error)
        assert WRONG_PIN not in repr(error.__cause__)
    assert WRONG_PIN not in repr(Pkcs11Backend(softhsm, TOKEN, WRONG_PIN))


def test_missing_token_or_module_is_unavailable(softhsm: str) -> None:
    with pytest.raises(KeyUnavailable, match="no PKCS#11 token 'absent'"):
        Pkcs11Backend(softhsm, "absent", USER_PIN).load({"backend": "pkcs11", "label": "x", "key_id": "00"})
    with pytest.raises(KeyUnavailable, match="cannot be loaded"):
        Pkcs11Backend("/nonexistent/libpkcs11.so", TOKEN, USER_PIN).load(
            {"backend": "pkcs11", "label": "x", "key_id": "00"}
        )


def test_eight_threads_sign_with_one_key(generated: tuple[Pkcs11Key, dict]) -> None:
    key, _reference = generated
    ca_key, ca = make_ca()
    certificate, ca_asn1 = to_asn1(issue(ca_key, ca, key.public_key())), to_asn1(ca)

    def work(thread: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
        signed = []
        for round_number in range(10):
            data = f"thread {thread} round {round_number}".encode()
            signed.append((data, key.sign(data)))
        return signed, seal_pdf(key, certificate, ca_asn1)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))

    for signed, pdf in results:
        for data, signature in signed:
            assert_verifies(key, signature, data)
        assert_sealed(pdf, ca_asn1)


def test_forked_child_signs_on_its_own_session(generated: tuple[Pkcs11Key, dict]) -> None:
    key, _reference = generated
    key.sign(b"the parent is logged in before the fork")
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: sign, report, and leave without running pytest's teardown
        status = 1
        try:
            os.close(read_end)
            os.write(write_end, key.sign(b"from the child"))
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        signature = pipe.read()
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert_verifies(key, signature, b"from the child")
    assert_verifies(key, key.sign(b"the parent still signs"), b"the parent still signs")
