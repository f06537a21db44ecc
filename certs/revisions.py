"""Every byte after a document's signed revision must belong to a complete, well-formed incremental update.

A reader that rebuilds a damaged file's cross-references finds objects wherever their headers stand, so
bytes that no cross-reference section points at can change what such a reader shows (a new page saying
"suspended") while every signature still checks and the difference analysis, which only sees revisions,
finds nothing. So after the last signed revision the file must be exactly a sequence of updates, each:

- objects one after another, each at the offset its update's cross-reference section gives it, each
  ending where its syntax says (a stream's data is skipped by its direct ``/Length``);
- then its cross-reference table and trailer, or its cross-reference stream;
- then ``startxref``, the offset of that section, and ``%%EOF``;

with whitespace between them and nothing else: no object the section does not list, no comment, no
half-written section, no bytes after the last ``%%EOF`` but line ends. Every entry a section lists must be
an object the walk found (not an offset into the signed part, or inside another object), numbered below
the section's ``/Size``; and nothing after the signed revision may look like an object's header anywhere
but where an object begins (inside a stream's data, a string or a trailer, a rebuilding reader would
take it for one). The updates themselves are the
ones pyHanko found by following ``/Prev`` back from the last ``startxref``; an update the chain skips is
bytes no update accounts for. What the updates change is the difference analysis's to judge.
"""

from __future__ import annotations

import re

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefSectionType

TRAILING_DATA = "unsigned_trailing_data"
WHITESPACE = b" \t\r\n\f\x00"
MAX_OBJECTS = 8_388_607  # PDF's implementation limit on indirect objects (ISO 32000-1, annex C)
STARTXREF = re.compile(rb"startxref[ \t\r\n\f\x00]+(\d+)[ \t\r\n\f\x00]+%%EOF")
OBJECT_HEADER = re.compile(rb"(?<!\d)(\d+)[ \t\r\n\f\x00]+(\d+)[ \t\r\n\f\x00]+obj(?![A-Za-z0-9])")
# What a lenient reader rebuilding cross-references might take for an object's header: any whitespace at all.
ANY_HEADER = re.compile(rb"(?<!\d)\d+[\s\x00]+\d+[\s\x00]*obj(?![A-Za-z0-9])")
BODY_END = re.compile(rb"(?<![A-Za-z0-9])(endobj|stream)(?![A-Za-z0-9])")
DIRECT_LENGTH = re.compile(rb"/Length[ \t\r\n\f\x00]+(\d+)(?![ \t\r\n\f\x00]+\d+[ \t\r\n\f\x00]+R)")
STREAM_TAIL = re.compile(rb"[ \t\r\n\f\x00]*endstream[ \t\r\n\f\x00]*endobj(?![A-Za-z0-9])")
STREAM_EOL = re.compile(rb"\r\n|\n|\r")


def _skip_space(pdf: bytes, position: int, limit: int) -> int:
    while position < limit and pdf[position] in WHITESPACE:
        position += 1
    return position


def _object_end(pdf: bytes, position: int, limit: int) -> int | None:
    """Where the object whose header is at ``position`` ends (after ``endobj``), or None if its syntax does
    not say so before ``limit``."""
    header = OBJECT_HEADER.match(pdf, position)
    if header is None:
        return None
    keyword = BODY_END.search(pdf, header.end(), limit)
    if keyword is None:
        return None
    if keyword[1] == b"endobj":
        return keyword.end()
    length = DIRECT_LENGTH.findall(pdf, header.end(), keyword.start())
    eol = STREAM_EOL.match(pdf, keyword.end())
    if len(length) != 1 or eol is None:
        return None  # an indirect or repeated /Length, or no line end after 'stream': not for us to guess
    tail = STREAM_TAIL.match(pdf, eol.end() + int(length[0]))
    return tail.end() if tail is not None and tail.end() <= limit else None


def unaccounted_bytes(reader: PdfFileReader, pdf: bytes, signed_end: int) -> str | None:
    """None when every byte of ``pdf`` after ``signed_end`` (the end of the last signed revision) belongs to
    a complete update; else a sentence saying what does not."""
    xrefs = reader.xrefs
    position = signed_end
    visited: set[int] = set()  # where the objects of the updates begin, as the walk found them
    for revision in range(xrefs.total_revisions):
        info = xrefs.get_xref_container_info(revision)
        if info.declared_startxref < signed_end:
            continue  # a signed revision, or one before it
        trailer = STARTXREF.search(pdf, info.end_location)
        if trailer is None or int(trailer[1]) != info.declared_startxref:
            return f"update {revision} does not end in its startxref and %%EOF"
        if not 0 < info.size <= MAX_OBJECTS:
            return f"update {revision} declares {info.size} objects"
        listed = {}
        for ref in xrefs.explicit_refs_in_revision(revision):
            offset = xrefs.get_historical_ref(ref, revision)
            if ref.idnum >= info.size:
                return f"update {revision} lists object {ref.idnum}, past its /Size {info.size}"
            if isinstance(offset, int):
                listed[offset] = (ref.idnum, ref.generation)
        position = _skip_space(pdf, position, len(pdf))
        section = info.declared_startxref
        while position < section:
            header = OBJECT_HEADER.match(pdf, position)
            if header is None or listed.get(position) != (int(header[1]), int(header[2])):
                return f"bytes at {position} are no object that update {revision} lists"
            end = _object_end(pdf, position, section)
            if end is None:
                return f"the object at offset {position} does not end where its syntax says"
            visited.add(position)
            position = _skip_space(pdf, end, section)
        if info.xref_section_type is not XRefSectionType.STANDARD:
            visited.add(section)  # the cross-reference stream, itself an object
        strays = sorted(set(listed) - visited - {section})
        if strays:
            return f"update {revision} lists an object at byte {strays[0]}, and no object begins there"
        if position != section:
            return f"update {revision}'s cross-reference section is not where its startxref says"
        if info.xref_section_type is XRefSectionType.STANDARD:
            if not pdf.startswith(b"xref", section) or OBJECT_HEADER.search(pdf, section, trailer.start()):
                return f"update {revision}'s cross-reference table or trailer holds more than they should"
            after_section = _skip_space(pdf, info.end_location, trailer.start())
            if not pdf.startswith(b"<<", after_section):
                return f"update {revision} has no trailer"
        else:
            end = _object_end(pdf, section, trailer.start())
            if end is None or _skip_space(pdf, end, trailer.start()) != trailer.start():
                return f"update {revision}'s cross-reference stream is followed by more than startxref"
        position = trailer.end()
    if pdf[position:].strip(b"\r\n"):
        return f"{len(pdf) - position} bytes after the last %%EOF belong to no update"
    for header in ANY_HEADER.finditer(pdf, signed_end):  # inside a stream, a string or a trailer, say
        if header.start() not in visited:
            return f"an object header at offset {header.start()} is inside something else"
    return None
