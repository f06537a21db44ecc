"""The case a read serves: who takes part in it, whom it is about, which service item version it handles.

Every read of a person's data names its case (API "Personal data"): an application whose lead or
co-agency is the reader, one of whose parties (the applicant, or for a company its legal
representative or agent) is the subject, and whose item is the one asked about. Each material is one
party's: a read about a party covers that party's materials only. This module knows only those
facts of an application record, not the rest of intake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.store import case_keys
from hub.store.client import Store

APPLICANT, REPRESENTATIVE = "applicant", "representative"


@dataclass(frozen=True)
class Case:
    """The facts of one application that decide who may read what for it."""

    id: str
    service_item: str
    version: int
    lead: str
    co_agencies: frozenset[str]
    applicant: str  # the applicant's subject hash
    representative: str | None = None  # the representative's subject hash, if the case names one
    party_of: Mapping[str, str] | None = None  # material code -> "applicant" or "representative"

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Case:
        representative = record.get("representative")
        return cls(
            id=record["id"],
            service_item=record["service_item"],
            version=int(record["version"]),
            lead=record["agency"],
            co_agencies=frozenset(record.get("co_agencies") or ()),
            applicant=record["applicant"]["subject_hash"],
            representative=representative["subject_hash"] if representative else None,
            party_of={m["code"]: m.get("party", APPLICANT) for m in record.get("materials") or ()},
        )

    @property
    def parties(self) -> frozenset[str]:
        """The subject hashes of everyone the case is about."""
        return frozenset(p for p in (self.applicant, self.representative) if p)

    def subject_of(self, party: str) -> str:
        """The subject hash a party's materials are looked up under (without a representative: the applicant,
        who acts in person)."""
        return self.representative if party == REPRESENTATIVE and self.representative else self.applicant

    def materials_of(self, subject_hash: str) -> frozenset[str] | None:
        """The codes of the materials that are ``subject_hash``'s in this case (None: a case from before parties,
        every material)."""
        if not self.party_of:
            return None
        return frozenset(code for code, party in self.party_of.items() if self.subject_of(party) == subject_hash)

    def takes_part(self, agency: str | None) -> bool:
        """Whether ``agency`` handles this case, as its lead or as a co-agency."""
        return agency is not None and (agency == self.lead or agency in self.co_agencies)


def find(store: Store, application_id: str) -> Case | None:
    """The case of an application id, or None when there is no such application."""
    agency = case_keys.application_agency(application_id)
    record = store.get_json(case_keys.application(agency, application_id)) if agency else None
    return Case.from_record(record) if record else None
