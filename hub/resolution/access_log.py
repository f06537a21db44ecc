"""A person's access log: who read what about them, when, for which service (regulation Art. 8, 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.http import paging
from hub.http.paging import decode_stream_cursor
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState


def page(state: HubState, id_type: str, subject_id: str, limit: int, cursor: str | None) -> dict:
    """The newest entries first, ``limit`` at a time."""
    subject_hash = state.keyring.subject_hash(id_type, subject_id)
    stream = keys.access_log(keys.event_partition(subject_hash), subject_hash)
    rows = state.store.stream_page_newest_first(stream, decode_stream_cursor(cursor), limit + 1)
    listing = paging.page(rows, limit, lambda row: row[0])
    listing["items"] = [
        {
            "at": fields["at"],
            "agency": fields["agency"],
            "service_item": fields["service_item"],
            "evidence_types": [t for t in fields["evidence_types"].split(",") if t],
            "outcome": fields["outcome"],
            "resolution": fields["resolution"] or None,
        }
        for _, fields in listing["items"]
    ]
    return listing
