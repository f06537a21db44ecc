"""Electronic seals on OFD documents (GB/T 33190 §18 with GB/T 38540): sealing a package and checking its seals.

Sealing adds ``Doc_0/Signs/Sign_N/Signature.xml``, which lists every part of the package with its SM3 digest
(``References``) and where the seal's picture stands (``StampAnnot``), and beside it ``SignedValue.dat``: a
GB/T 38540 sealed signature whose data digest is that of ``Signature.xml``. ``Signatures.xml`` (the list of
signatures, which later seals append to) is the one part no signature covers. Checking reads the package with
:mod:`certs.ofd_package`'s caps, recomputes every digest, checks each sealed signature with :mod:`certs.ses`,
and names every part that a signature does not cover (changed or added after it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

# ElementTree only builds the hub's own XML here; XML from strangers goes through ofd_package.parse_xml.
from xml.etree import ElementTree as ET  # nosec B405

from asn1crypto import x509 as asn1_x509

from . import ses, sm2_tsa
from .ofd_package import (
    ENTRY_NAME,
    LIMITS,
    NS,
    OFD_NAMESPACE,
    Limits,
    OfdError,
    OfdMalformed,
    parse_xml,
    read,
    resolve,
    write,
)
from .sm2 import SM2_WITH_SM3_OID, SM3_OID, Sm2Key, sm3

ET.register_namespace("ofd", OFD_NAMESPACE)
Q = "{" + OFD_NAMESPACE + "}"


@dataclass(frozen=True)
class Stamp:
    """Where the seal's picture stands: the page (0-based) and its box in millimetres (x, y, width, height)."""

    page: int
    boundary: tuple[float, float, float, float]


def _xml(element: ET.Element) -> bytes:
    return ET.tostring(element, encoding="UTF-8", xml_declaration=True)


def _child(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, Q + tag, attributes)
    if text is not None:
        element.text = text
    return element


def _numbers(values: tuple[float, ...]) -> str:
    return " ".join(f"{value:.3f}".rstrip("0").rstrip(".") for value in values)


def _document_root(parts: dict[str, bytes]) -> tuple[ET.Element, ET.Element, str]:
    ofd = parse_xml(parts[ENTRY_NAME], ENTRY_NAME)
    body = ofd.find("ofd:DocBody", NS)
    root_loc = body.findtext("ofd:DocRoot", namespaces=NS) if body is not None else None
    if body is None or not root_loc:
        raise OfdError("OFD.xml names no document (DocBody/DocRoot)")
    return ofd, body, resolve(ENTRY_NAME, root_loc)


def _page_ids(parts: dict[str, bytes], document_path: str) -> list[str]:
    if document_path not in parts:
        raise OfdError(f"the package has no {document_path}")
    document = parse_xml(parts[document_path], document_path)
    return [page.get("ID", "") for page in document.findall("ofd:Pages/ofd:Page", NS)]


def seal_ofd(
    package: bytes,
    seal: ses.SesSeal,
    signer_key: Sm2Key,
    signer: asn1_x509.Certificate,
    stamp: Stamp,
    now: dt.datetime,
    time_stamp: Callable[[bytes], bytes] | None = None,
    provider: str = "Government Service Hub",
) -> bytes:
    """``package`` with one more seal, over every part it holds; ``time_stamp`` (optional) turns a signature
    value into an RFC 3161 token over it."""
    parts = read(package)
    ofd, body, document_path = _document_root(parts)
    pages = _page_ids(parts, document_path)
    if not 0 <= stamp.page < len(pages):
        raise OfdError(f"the document has no page {stamp.page + 1}")
    listing_loc = body.findtext("ofd:Signatures", namespaces=NS)
    if listing_loc is None:  # the first seal: OFD.xml learns where the list is, before any digest is taken
        listing_loc = posixpath.join(posixpath.dirname(document_path), "Signs", "Signatures.xml")
        _child(body, "Signatures", listing_loc)
        parts[ENTRY_NAME] = _xml(ofd)
    listing_path = resolve(ENTRY_NAME, listing_loc)
    listing = parse_xml(parts[listing_path], listing_path) if listing_path in parts else _new_listing()
    number = 1 + max(
        [int(s.get("ID", "0")) for s in listing.findall("ofd:Signature", NS) if s.get("ID", "").isdigit()] or [0]
    )
    folder = posixpath.join(posixpath.dirname(listing_path), f"Sign_{number - 1}")
    signature_path, value_path = f"{folder}/Signature.xml", f"{folder}/SignedValue.dat"
    if signature_path in parts or value_path in parts:
        raise OfdError(f"the package already holds {folder}")

    signed = ET.Element(Q + "Signature")
    info = _child(signed, "SignedInfo")
    _child(info, "Provider", ProviderName=provider, Version="1.0")
    _child(info, "SignatureMethod", SM2_WITH_SM3_OID)
    _child(info, "SignatureDateTime", now.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ"))
    references = _child(info, "References", CheckMethod=SM3_OID)
    for path in sorted(p for p in parts if p != listing_path):
        reference = _child(references, "Reference", FileRef="/" + path)
        _child(reference, "CheckValue", base64.b64encode(sm3(parts[path])).decode())
    _child(info, "StampAnnot", ID="1", PageRef=pages[stamp.page], Boundary=_numbers(stamp.boundary))
    _child(signed, "SignedValue", "/" + value_path)
    signature_xml = _xml(signed)

    value = ses.sign(seal, signer_key, signer, signature_xml, "/" + signature_path, now)
    if time_stamp is not None:
        value = ses.with_time_stamp(value, time_stamp(ses.signature_value_of(value)))
    parts[signature_path], parts[value_path] = signature_xml, value
    max_id = listing.find("ofd:MaxSignId", NS)
    if max_id is None:
        max_id = _child(listing, "MaxSignId")
    max_id.text = str(number)
    _child(listing, "Signature", ID=str(number), Type="Seal", BaseLoc=f"Sign_{number - 1}/Signature.xml")
    parts[listing_path] = _xml(listing)
    return write(parts)


def _new_listing() -> ET.Element:
    return ET.Element(Q + "Signatures")


@dataclass
class OfdSignatureReport:
    """One seal of an OFD: where it is, which steps failed (GB/T 38540's and the package's), and what it said."""

    path: str
    failed: dict[str, str] = field(default_factory=dict)
    check: ses.SignatureCheck | None = None
    page: int | None = None  # 0-based
    boundary: tuple[float, ...] | None = None
    time_stamped_at: dt.datetime | None = None  # when the seal's SM2 timestamp (if any, and trusted) says
    uncovered: list[str] = field(default_factory=list)  # parts changed or added after it

    @property
    def valid(self) -> bool:
        """Whether the seal and everything it covers hold."""
        return not self.failed and not self.uncovered and self.check is not None and self.check.valid


@dataclass
class OfdReport:
    """Every seal of an OFD package, in the order the list gives them."""

    signatures: list[OfdSignatureReport]
    parts: int
    custom_data: dict[str, str] = field(default_factory=dict)  # OFD.xml's DocInfo/CustomDatas, name -> text


def verify_ofd(package: bytes, trust: ses.SealTrust, limits: Limits = LIMITS) -> OfdReport:
    """Check every seal of ``package``; OfdError if it is not an OFD package that may be read at all."""
    parts = read(package, limits)
    _, body, document_path = _document_root(parts)
    custom = {
        data.get("Name", ""): (data.text or "").strip()
        for data in body.findall("ofd:DocInfo/ofd:CustomDatas/ofd:CustomData", NS)
    }
    pages = _page_ids(parts, document_path)
    listing_loc = body.findtext("ofd:Signatures", namespaces=NS)
    if not listing_loc:
        return OfdReport([], len(parts), custom)
    listing_path = resolve(ENTRY_NAME, listing_loc)
    if listing_path not in parts:
        raise OfdError(f"OFD.xml names a signature list the package does not hold ({listing_path})")
    listing = parse_xml(parts[listing_path], listing_path)
    entries = [resolve(listing_path, s.get("BaseLoc", "")) for s in listing.findall("ofd:Signature", NS)]
    checked = [_check_one(parts, signature_path, pages, trust) for signature_path in entries]
    for index, (report, own, covered) in enumerate(checked):
        # A later seal's own files were added after this one, as they had to be; anything else it does not cover was.
        later = {path for _, later_own, _ in checked[index + 1 :] for path in later_own}
        report.uncovered = sorted(set(parts) - covered - own - later - {listing_path})
    return OfdReport([report for report, _, _ in checked], len(parts), custom)


def _check_one(
    parts: dict[str, bytes], signature_path: str, pages: list[str], trust: ses.SealTrust
) -> tuple[OfdSignatureReport, set[str], set[str]]:
    """The report on one seal, the seal's own files, and the parts its references cover."""
    report = OfdSignatureReport(signature_path)
    if signature_path not in parts:
        report.failed["format"] = "the signature list names a Signature.xml the package does not hold"
        return report, {signature_path}, set()
    signature_xml = parts[signature_path]
    try:
        signed = parse_xml(signature_xml, signature_path)
    except OfdMalformed as error:  # one broken seal, reported as such; a hostile part still refuses the file
        report.failed["format"] = str(error)
        # Which files are its own it cannot say now: those of its folder (GB/T 33190 gives each seal one), so that
        # a seal before it does not count them as added after it.
        folder = posixpath.dirname(signature_path) + "/"
        return report, {path for path in parts if path.startswith(folder)}, set()
    info = signed.find("ofd:SignedInfo", NS)
    value_loc = signed.findtext("ofd:SignedValue", namespaces=NS)
    value_path = resolve(signature_path, value_loc) if value_loc else ""
    own = {signature_path, value_path}
    if info is None or value_path not in parts:
        report.failed["format"] = "Signature.xml names no signed information or no signature value it holds"
        return report, own, set()
    if (info.findtext("ofd:SignatureMethod", namespaces=NS) or "").strip() != SM2_WITH_SM3_OID:
        report.failed["format"] = "the signature method is not SM2 with SM3"
    covered = _check_references(parts, signature_path, info, report)
    annotation = info.find("ofd:StampAnnot", NS)
    page_ref = annotation.get("PageRef", "") if annotation is not None else ""
    if annotation is not None and page_ref in pages:
        report.page = pages.index(page_ref)
        report.boundary = _boundary(annotation.get("Boundary", ""))
    else:
        report.failed["stamp"] = "the seal's picture stands on no page of the document"
    try:
        report.check = ses.check_signature(parts[value_path], signature_xml, trust)
    except ses.SesError as error:
        report.failed["format"] = str(error)
        return report, own, covered
    if report.check.property_info != "/" + signature_path:
        report.failed["property_info"] = "the sealed signature was made for another Signature.xml"
    if report.check.time_stamp is not None:
        try:
            value = ses.signature_value_of(parts[value_path])
            checked = sm2_tsa.check_token(report.check.time_stamp, value, trust.roots, trust.intermediates)
            report.time_stamped_at = checked.time
        except sm2_tsa.TokenRefused as refused:
            report.failed["timestamp"] = str(refused)
    return report, own, covered


def _check_references(parts: dict[str, bytes], referrer: str, info: ET.Element, report: OfdSignatureReport) -> set[str]:
    references = info.find("ofd:References", NS)
    if references is None or references.get("CheckMethod", "").strip() not in (SM3_OID, "SM3"):
        report.failed["references"] = "the references are not checked with SM3"
        return set()
    covered: set[str] = set()
    for reference in references.findall("ofd:Reference", NS):
        try:
            path = resolve(referrer, reference.get("FileRef", ""))
            expected = base64.b64decode(
                (reference.findtext("ofd:CheckValue", namespaces=NS) or "").strip(), validate=True
            )
        except (OfdError, ValueError):
            report.failed["references"] = "a reference cannot be read"
            continue
        if path not in parts:
            report.failed["references"] = f"{path} is referenced but not in the package"
        elif not hmac.compare_digest(sm3(parts[path]), expected):
            report.failed["references"] = f"{path} is not what was sealed"
        else:
            covered.add(path)
    return covered


def _boundary(text: str) -> tuple[float, ...] | None:
    try:
        values = tuple(float(part) for part in text.split())
    except ValueError:
        return None
    return values if len(values) == 4 else None
