"""A small real PKI for the tests of ``certs``: root, issuing CA, TSA, OCSP responder and seals.

Everything is made with ``certs.authority`` the way the hub makes it, keys in memory.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.writer import PdfFileWriter

from certs import authority
from certs.authority import CertificateStatus, Issuer, Profile, Revoked
from certs.pades import SealRequest, TrustMaterial, seal_pdf
from certs.softkey import SoftKey
from certs.tsa import InProcessTimeStamper, TimeStampAuthority


def asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass
class TestPki:
    """A root and issuing CA with a TSA, an OCSP responder, revocations, and seals made on demand."""

    __test__ = False  # a helper, not a test class

    name: str = "Test"
    urls: authority.PublicUrls = field(default_factory=lambda: authority.PublicUrls("http://127.0.0.1:9"))
    revoked: list[Revoked] = field(default_factory=list)

    def __post_init__(self) -> None:
        moment = dt.datetime.now(dt.UTC)
        self.root_key = ec.generate_private_key(ec.SECP384R1())
        self.root = authority.self_signed_root(authority.name(f"{self.name} Root"), self.root_key, moment, 1)
        self.root_issuer = Issuer(self.root, self.root_key, "root", self.urls)
        issuing_key = ec.generate_private_key(ec.SECP384R1())
        self.issuing = authority.issue(
            self.root_issuer,
            Profile.ISSUING,
            authority.name(f"{self.name} Issuing CA"),
            issuing_key.public_key(),
            moment,
            2,
        )
        self.issuer = Issuer(self.issuing, issuing_key, "issuing", self.urls)
        self.tsa_key, self.tsa = self.leaf(Profile.TSA, f"{self.name} TSA")
        self.ocsp_key, self.ocsp = self.leaf(Profile.OCSP, f"{self.name} OCSP")
        self.tsa_authority = TimeStampAuthority(
            self.tsa_key.cms_signer(asn1(self.tsa), [asn1(self.issuing)]),
            asn1(self.tsa),
            lambda: dt.datetime.now(dt.UTC),
        )

    def leaf(self, profile: Profile, common_name: str) -> tuple[SoftKey, x509.Certificate]:
        key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
        certificate = authority.issue(
            self.issuer,
            profile,
            authority.name(common_name, "Test Org"),
            key.public_key(),
            dt.datetime.now(dt.UTC),
            x509.random_serial_number(),
        )
        return key, certificate

    def seal(self, common_name: str = "测试市市场监督管理局") -> tuple[SoftKey, x509.Certificate]:
        return self.leaf(Profile.SEAL, common_name)

    def revoke(self, certificate: x509.Certificate, at: dt.datetime | None = None) -> None:
        self.revoked.append(
            Revoked(certificate.serial_number, at or dt.datetime.now(dt.UTC), authority.RevocationReason.KEY_COMPROMISE)
        )

    def crls(self) -> list[bytes]:
        moment = dt.datetime.now(dt.UTC)
        return [
            authority.crl(self.issuer, self.revoked, moment, int(moment.timestamp() * 1000), dt.timedelta(days=1)),
            authority.crl(self.root_issuer, [], moment, int(moment.timestamp() * 1000), dt.timedelta(days=1)),
        ]

    def ocsp_response(self, certificate: x509.Certificate) -> bytes:
        responder = authority.OcspResponder(self.issuing, self.ocsp, self.ocsp_key.private_key)
        revoked = next((r for r in self.revoked if r.serial == certificate.serial_number), None)
        return responder.status_response(
            certificate.serial_number, CertificateStatus(True, revoked), dt.datetime.now(dt.UTC)
        )

    def sealing_trust(self, seal_certificate: x509.Certificate) -> TrustMaterial:
        return TrustMaterial(
            [asn1(self.root)],
            [asn1(self.issuing)],
            self.crls(),
            [self.ocsp_response(seal_certificate), self.ocsp_response(self.tsa)],
        )

    def verification_trust(self) -> TrustMaterial:
        return TrustMaterial([asn1(self.root)], [asn1(self.issuing)], self.crls())

    def seal_pdf(
        self, pdf: bytes, key: SoftKey, certificate: x509.Certificate, request: SealRequest | None = None
    ) -> bytes:
        return seal_pdf(
            pdf,
            key.cms_signer(asn1(certificate), [asn1(self.issuing)]),
            InProcessTimeStamper(self.tsa_authority),
            self.sealing_trust(certificate),
            request or SealRequest(),
        )

    def roots_pem(self) -> str:
        return authority.pem_bundle([self.root])


def simple_pdf(text: str = "Hello", pages: int = 1) -> bytes:
    """A small PDF with a line of text on each page, written by pyHanko."""
    writer = PdfFileWriter()
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    for number in range(pages):
        content = writer.add_object(
            generic.StreamObject(stream_data=f"BT /F1 24 Tf 72 720 Td ({text} {number + 1}) Tj ET".encode())
        )
        page = generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Page"),
                generic.NameObject("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                generic.NameObject("/Resources"): generic.DictionaryObject(
                    {generic.NameObject("/Font"): generic.DictionaryObject({generic.NameObject("/F1"): font})}
                ),
                generic.NameObject("/Contents"): content,
            }
        )
        writer.insert_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def raw_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A classic-xref PDF whose object N is ``objects[N-1]`` and whose catalog is object 1."""
    body = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref_at = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer_extra,
        xref_at,
    )
    return bytes(body)


CATALOG_WITH_FORM = [
    b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def many_fields(count: int) -> bytes:
    fields = b" ".join(b"%d 0 R" % (number + 4) for number in range(count))
    catalog = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>" % fields
    return raw_pdf([catalog, *CATALOG_WITH_FORM[1:], *(b"<< /FT /Tx /T (f%d) >>" % n for n in range(count))])
