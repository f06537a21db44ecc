"""Uploaded materials: PDF, JPEG or PNG, recognised by their content (never by name or declared type)."""

from __future__ import annotations

from hub.errors import Invalid

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def media_type_of(content: bytes) -> str:
    """The media type ``content`` really is; Invalid for anything but a PDF, JPEG or PNG."""
    if not content:
        raise Invalid("The file is empty.", errors={"file": ["Empty file."]})
    head = content[:1024].lstrip() if content[:1].isspace() else content
    for signature, media_type in SIGNATURES:
        if head.startswith(signature):
            return media_type
    raise Invalid("Only PDF, JPEG and PNG files are accepted.", errors={"file": ["Not a PDF, JPEG or PNG file."]})
