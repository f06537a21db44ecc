"""The validation data a PDF carries in its DSS, for chains other than the verifier's own CAs.

A document sealed with an imported seal (an outside CA) carries that CA's certificates, CRLs and
OCSP answers from signing time: with them it validates offline. For its own CAs the verifier uses
only its current CRLs, never the older ones a file brings along.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Set
from dataclasses import dataclass, field

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from .pades import TrustMaterial


@dataclass
class EmbeddedValidationData:
    """Certificates, CRLs (DER) and OCSP answers (DER) found in a document's DSS."""

    certificates: list[asn1_x509.Certificate] = field(default_factory=list)
    crls: list[bytes] = field(default_factory=list)
    ocsp_responses: list[bytes] = field(default_factory=list)


def with_outside_validation_data(
    trust: TrustMaterial, reader: PdfFileReader, own_ca_subjects: Set[bytes]
) -> TrustMaterial:
    """``trust`` extended with what the document's DSS holds about other CAs."""
    found = outside_validation_data(reader, own_ca_subjects)
    return dataclasses.replace(
        trust,
        intermediates=[*trust.intermediates, *found.certificates],
        crls=[*trust.crls, *found.crls],
        ocsp_responses=[*trust.ocsp_responses, *found.ocsp_responses],
    )


def outside_validation_data(reader: PdfFileReader, own_ca_subjects: Set[bytes]) -> EmbeddedValidationData:
    """What the document's DSS holds about CAs whose DER subject is not in ``own_ca_subjects``.

    A missing or broken DSS yields nothing: the signature reports then say what could not be checked.
    """
    found = EmbeddedValidationData()
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        found.certificates = [c for c in dss.load_certs() if c.issuer.dump() not in own_ca_subjects]
        for reference in dss.crls:
            data = reference.get_object().read_data(DecodePurpose.CRL)
            if asn1_crl.CertificateList.load(data)["tbs_cert_list"]["issuer"].dump() not in own_ca_subjects:
                found.crls.append(data)
        for reference in dss.ocsps:
            data = reference.get_object().read_data(DecodePurpose.OCSP_RESPONSE)
            if not _answers_for(data, own_ca_subjects):
                found.ocsp_responses.append(data)
    except Exception:
        return EmbeddedValidationData()
    return found


def _answers_for(ocsp_der: bytes, ca_subjects: Set[bytes]) -> bool:
    response = asn1_ocsp.OCSPResponse.load(ocsp_der)
    certificates = response.basic_ocsp_response["certs"] or []
    return any(certificate.issuer.dump() in ca_subjects for certificate in certificates)
