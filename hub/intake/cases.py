"""A case's identity and its timeline: ids that name the lead agency's partition, and lines added to a
case in their own transaction (shared by applications, processing and discrepancies)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from hub.errors import NotFound
from hub.store import keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

ID_PREFIX = "app"


def new_id(agency: str) -> str:
    """An application id that names its lead agency's partition: ``app.<agency>.<random>``."""
    return f"{ID_PREFIX}.{agency}.{uuid.uuid4().hex[:20]}"


def agency_of(application_id: str) -> str:
    """The lead agency an id belongs to; NotFound for anything that is not an application id."""
    prefix, _, rest = application_id.partition(".")
    agency, _, token = rest.rpartition(".")
    if prefix != ID_PREFIX or not agency or len(token) != 20:
        raise NotFound(f"No application {application_id!r}.")
    return agency


def add_to_timeline(state: HubState, application_id: str, line: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Append a line to an application's timeline (and set ``extra`` fields), in its own transaction."""
    agency = agency_of(application_id)

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(keys.application(agency, application_id))
        if record is None:
            raise NotFound(f"No application {application_id!r}.")
        record["timeline"].append(line)
        for name, value in extra.items():
            record[name] = [*record.get(name, []), *value] if isinstance(value, list) else value
        tx.set_json(keys.application(agency, application_id), record)
        return record

    return state.store.atomic(work)
