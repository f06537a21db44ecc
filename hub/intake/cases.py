"""A case's identity, its timeline and its events: ids that name the lead agency's partition, lines added to a
case in their own transaction, and the events subscribers hear of (shared by applications, processing and
discrepancies)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from hub.errors import NotFound
from hub.store import case_keys, outbox
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState


def new_id(agency: str) -> str:
    """A fresh application id that names its lead agency's partition (:func:`hub.store.case_keys.application_id`)."""
    return case_keys.application_id(agency, uuid.uuid4().hex[: case_keys.APPLICATION_TOKEN_LENGTH])


def agency_of(application_id: str) -> str:
    """The lead agency an id belongs to; NotFound for anything that is not an application id."""
    agency = case_keys.application_agency(application_id)
    if agency is None:
        raise NotFound(f"No application {application_id!r}.")
    return agency


def add_to_timeline(state: HubState, application_id: str, line: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Append a line to an application's timeline (and set ``extra`` fields), in its own transaction."""
    agency = agency_of(application_id)

    def work(tx: Tx) -> dict[str, Any]:
        record = tx.get_json(case_keys.application(agency, application_id))
        if record is None:
            raise NotFound(f"No application {application_id!r}.")
        record["timeline"].append(line)
        for name, value in extra.items():
            record[name] = [*record.get(name, []), *value] if isinstance(value, list) else value
        tx.set_json(case_keys.application(agency, application_id), record)
        return record

    return state.store.atomic(work)


def publish(tx: Tx, record: dict[str, Any], kind: str, at: str) -> None:
    """Queue the event ``application.<kind>`` about ``record`` in ``tx``: for the agencies working on the case and
    the portal that filed it, never the case's data (:mod:`hub.store.outbox`)."""
    body = {
        "channel": "applications",
        "application": record["id"],
        "service_item": record["service_item"],
        "agency": record["agency"],
        "status": record["status"],
        "deadline": record.get("deadline"),
        "licence": record.get("licence"),
    }
    if record.get("suspension"):
        body["until"] = record["suspension"]["until"]
    parties = [record["applicant"]["subject_hash"]]
    if record.get("representative"):
        parties.append(record["representative"]["subject_hash"])
    agencies = [record["agency"], *record["co_agencies"]]
    audience = {"agencies": agencies, "portal": record["portal"], "subjects": parties}
    outbox.record(tx, case_keys.application_partition(record["agency"]), at, f"application.{kind}", body, audience)
