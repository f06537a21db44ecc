"""The case a read serves: who takes part in it, whom it is about, which service item version it handles.

Every read of a person's data names its case (API "Personal data"): an application whose lead or
co-agency is the reader, whose applicant is the subject and whose item is the one asked about. This
module knows only those facts of an application record, not the rest of intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.store import keys
from hub.store.client import Store


@dataclass(frozen=True)
class Case:
    """The facts of one application that decide who may read what for it."""

    id: str
    service_item: str
    version: int
    lead: str
    co_agencies: frozenset[str]
    applicant: str  # the applicant's subject hash

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Case:
        return cls(
            id=record["id"],
            service_item=record["service_item"],
            version=int(record["version"]),
            lead=record["agency"],
            co_agencies=frozenset(record.get("co_agencies") or ()),
            applicant=record["applicant"]["subject_hash"],
        )

    def takes_part(self, agency: str | None) -> bool:
        """Whether ``agency`` handles this case, as its lead or as a co-agency."""
        return agency is not None and (agency == self.lead or agency in self.co_agencies)


def find(store: Store, application_id: str) -> Case | None:
    """The case of an application id, or None when there is no such application."""
    agency = keys.application_agency(application_id)
    record = store.get_json(keys.application(agency, application_id)) if agency else None
    return Case.from_record(record) if record else None
