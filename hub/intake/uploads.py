"""Uploaded materials: PDF, JPEG or PNG, recognised by their content (never by name or declared type), and read
in chunks, never whole: a worker holds at most a chunk of an upload of up to ``HUB_MAX_UPLOAD_BYTES``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from hub.errors import Invalid

CHUNK_BYTES = 64 * 1024

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
SIGNATURE_MARK = b"/ByteRange"  # every PDF signature dictionary has one: the upload may carry signatures
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}  # for the names files get


def media_type_of(content: bytes) -> str:
    """The media type ``content`` really is; Invalid for anything but a PDF, JPEG or PNG."""
    if not content:
        raise Invalid("The file is empty.", errors={"file": ["Empty file."]})
    head = content[:1024].lstrip() if content[:1].isspace() else content
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    raise Invalid("Only PDF, JPEG and PNG files are accepted.", errors={"file": ["Not a PDF, JPEG or PNG file."]})


@dataclass(frozen=True)
class Examined:
    """What an upload is: its type by content, its digest and its size, and whether it is a PDF that may carry
    signatures."""

    media_type: str
    sha256: str
    size: int
    signed: bool = False


def examine(stream: BinaryIO) -> Examined:
    """Read a seekable upload once, a chunk at a time, and put it back at its start."""
    head = stream.read(1024)
    media_type = media_type_of(head)
    digest, size = hashlib.sha256(head), len(head)
    signed, tail = SIGNATURE_MARK in head, head[-len(SIGNATURE_MARK) :]
    while chunk := stream.read(CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        signed = signed or SIGNATURE_MARK in tail + chunk  # a mark split between two chunks counts too
        tail = chunk[-len(SIGNATURE_MARK) :]
    stream.seek(0)
    return Examined(media_type, digest.hexdigest(), size, signed and media_type == "application/pdf")


def chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The upload from its start, a chunk at a time."""
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def set_aside(material: dict[str, Any], at: str, because: str) -> None:
    """Keep a material's upload among its earlier ones before another takes its place (asked for again, or sent
    again): the case's record, its archive and the blob store keep what the decision makers saw."""
    if material.get("file"):
        earlier = {**material["file"], "replaced_at": at, "because": because}
        material["earlier_files"] = [*(material.get("earlier_files") or []), earlier]
