"""A certificate in the forms the hub keeps and hands on: DER, PEM, and asn1crypto's for pyHanko."""

from __future__ import annotations

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.pades import parsed


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    """The certificate for pyHanko: parsed once per thread (see certs.pades.parsed)."""
    return parsed(asn1_x509.Certificate, der(certificate))


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def load_pem(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())
