"""The OFD container of GB/T 33190: a ZIP of XML parts and resources, written the same way every time and read
from strangers with caps.

An uploaded OFD is hostile until shown otherwise: :func:`read` refuses more entries, bigger entries, a bigger
whole or a higher compression ratio than a licence could need (a zip bomb), names that climb out of the
package or repeat, and encrypted entries, and it stops reading an entry past its cap whatever the ZIP header
claimed. :func:`parse_xml` parses a part with ``defusedxml``: no DTD, no entity, nothing external.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from .api import CertsError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element  # nosec B405

OFD_NAMESPACE = "http://www.ofdspec.org/2016"
NS = {"ofd": OFD_NAMESPACE}
ENTRY_NAME = "OFD.xml"
FIXED_TIME = (2000, 1, 1, 0, 0, 0)  # every entry's time: the same document makes the same bytes
STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".dat")  # compressed already, or binary that deflate does not help


class OfdError(CertsError):
    """Bytes that are not an OFD package this module will read, or a part that cannot be parsed."""


class OfdMalformed(OfdError):
    """A part that is not well-formed XML: broken, not hostile (a hostile part is an OfdError only)."""


@dataclass(frozen=True)
class Limits:
    """What an OFD package may hold before it is refused unread."""

    max_package_bytes: int = 20 * 1024 * 1024
    max_entries: int = 256
    max_entry_bytes: int = 16 * 1024 * 1024
    max_total_bytes: int = 48 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed, per entry
    max_name_chars: int = 255
    max_xml_bytes: int = 4 * 1024 * 1024


LIMITS = Limits()


def write(parts: Mapping[str, bytes]) -> bytes:
    """The package holding ``parts`` (path inside the package -> bytes), ``OFD.xml`` first, then in name order."""
    if ENTRY_NAME not in parts:
        raise OfdError("an OFD package needs its OFD.xml")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(parts, key=lambda name: (name != ENTRY_NAME, name)):
            info = zipfile.ZipInfo(_checked_name(path, LIMITS), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if path.lower().endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, parts[path])
    return out.getvalue()


def read(data: bytes, limits: Limits = LIMITS) -> dict[str, bytes]:
    """Every entry of the package (path -> bytes); OfdError naming the first cap or rule it breaks."""
    if len(data) > limits.max_package_bytes:
        raise OfdError(f"the package is larger than {limits.max_package_bytes} bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise OfdError(f"not an OFD package (not a ZIP file that can be read: {error})") from None
    if len(entries) > limits.max_entries:
        raise OfdError(f"the package has more than {limits.max_entries} entries")
    parts: dict[str, bytes] = {}
    total = 0
    with archive:
        for entry in entries:
            if entry.is_dir():
                continue
            name = _checked_name(entry.filename, limits)
            if name in parts:
                raise OfdError(f"the package holds {name} twice")
            if entry.flag_bits & 0x1:
                raise OfdError(f"{name} is encrypted")
            if entry.file_size > limits.max_entry_bytes or total + entry.file_size > limits.max_total_bytes:
                raise OfdError(f"{name} is larger than an OFD part may be")
            if entry.file_size > limits.max_ratio * max(entry.compress_size, 1) and entry.file_size > 64 * 1024:
                raise OfdError(f"{name} is compressed past {limits.max_ratio}:1 (a zip bomb?)")
            parts[name] = _bounded(archive, entry, min(limits.max_entry_bytes, limits.max_total_bytes - total))
            total += len(parts[name])
    if ENTRY_NAME not in parts:
        raise OfdError("not an OFD package (no OFD.xml at its root)")
    return parts


def _bounded(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, cap: int) -> bytes:
    """The entry's bytes, read no further than ``cap`` + 1 whatever its header claimed."""
    try:
        with archive.open(entry) as stream:
            content = stream.read(cap + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as error:  # a method zipfile lacks
        raise OfdError(f"{entry.filename} cannot be read ({type(error).__name__})") from None
    if len(content) > cap or len(content) != entry.file_size:
        raise OfdError(f"{entry.filename} is not the size its header says")
    return content


def _checked_name(name: str, limits: Limits) -> str:
    """``name`` as a path inside the package; OfdError if it is absolute, climbs out, or is odd."""
    if not name or len(name) > limits.max_name_chars or "\\" in name or "\x00" in name or ":" in name:
        raise OfdError(f"the package holds an entry with a name it may not have: {name[:80]!r}")
    normal = posixpath.normpath(name)
    if name.startswith("/") or normal.startswith("..") or normal != name.rstrip("/"):
        raise OfdError(f"the package holds an entry outside itself: {name[:80]!r}")
    return normal


def resolve(referrer: str, location: str) -> str:
    """The package path a ``BaseLoc``-style ``location`` names from the part ``referrer``: absolute from the
    package root when it starts with ``/``, else relative to the referrer's folder; OfdError if it leaves the
    package."""
    location = location.strip()
    joined = location.lstrip("/") if location.startswith("/") else posixpath.join(posixpath.dirname(referrer), location)
    normal = posixpath.normpath(joined)
    if not location or normal.startswith("..") or normal.startswith("/") or normal == ".":
        raise OfdError(f"{referrer} points outside the package: {location[:80]!r}")
    return normal


def parse_xml(data: bytes, name: str, limits: Limits = LIMITS) -> Element:
    """The part ``name`` parsed, without DTDs, entities or anything external; OfdError otherwise."""
    if len(data) > limits.max_xml_bytes:
        raise OfdError(f"{name} is larger than an XML part may be")
    try:
        return safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise OfdError(f"{name} declares what an OFD part may not ({type(error).__name__})") from None
    except (safe_xml.ParseError, ValueError) as error:
        raise OfdMalformed(f"{name} is not well-formed XML ({error})") from None
