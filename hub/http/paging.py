"""Opaque cursors for ``?limit=&cursor=`` paging."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from hub.errors import Invalid

_STREAM_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


def encode_cursor(position: str) -> str:
    """The cursor that resumes after ``position``."""
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The position a cursor resumes after; Invalid if it was not made by :func:`encode_cursor`."""
    if cursor is None:
        return None
    try:
        position = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = None
    if position is None or encode_cursor(position) != cursor:
        raise Invalid("The cursor is not one this hub gave out.", errors={"cursor": ["Not a valid cursor."]})
    return position


def decode_stream_cursor(cursor: str | None) -> str | None:
    """A cursor over a Redis stream: it must hold a stream entry id."""
    position = decode_cursor(cursor)
    if position is not None and not _STREAM_ID.match(position):
        raise Invalid("The cursor is not one this hub gave out.", errors={"cursor": ["Not a valid cursor."]})
    return position


def page(items: list, limit: int, position_of: Callable[[Any], str]) -> dict:
    """The listing answer: ``items`` cut to ``limit`` and the cursor after the last one kept.

    Callers fetch ``limit + 1`` items so that a full last page does not advertise an empty next one.
    """
    kept = items[:limit]
    more = len(items) > limit
    return {"items": kept, "next": encode_cursor(position_of(kept[-1])) if more and kept else None}
