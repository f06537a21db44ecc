"""Who a case is about (issue 18, item 9): the applicant (a person, or a company by its credit code) and, for a
company, its legal representative or agent (a person). Each material of an item is one party's
(``party``: ``applicant`` by default, or ``representative``), and the platform is asked about each
material under its own party: a company's food licence needs its business licence (the company's) and
its representative's identity (the person's). Without a representative the applicant acts in person,
and the representative's materials are the applicant's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.api import Subject
from hub.context import Context
from hub.licences.register import mask_id
from hub.resolution import resolver as resolution
from hub.resolution.case import APPLICANT, Case
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState


def stored(state: HubState, person: dict[str, Any]) -> dict[str, Any]:
    """What a case keeps of a party to show and to find it: the identifier masked, and its subject hash."""
    kept = {
        "id_type": person["id_type"],
        "id_masked": mask_id(person["id"]),
        "name": person["name"],
        "subject_hash": state.keyring.subject_hash(person["id_type"], person["id"]),
    }
    return kept | ({"role": person["role"]} if person.get("role") else {})


def resolve(
    state: HubState, ctx: Context, agency: str, case: Case, subjects: dict[str, Subject], language: str
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Each party's materials resolved under that party, as ``agency``; the results by material code, and the
    resolutions made (the applicant's first: it always runs, so every case has a resolution and its
    signed envelope)."""
    results: dict[str, dict[str, Any]] = {}
    made = []
    for subject_hash, subject in subjects.items():
        codes = case.materials_of(subject_hash)
        if subject_hash != case.applicant and not codes:
            continue
        found = resolution.resolve(state, ctx, agency, case, subject, language, codes)
        results |= {m["code"]: m for m in found["materials"]}
        made.append(found)
    return results, made


def note_cases(state: HubState, application_id: str, subject_hashes: list[str]) -> None:
    """Add the case to each party's own list (before the case commits: a list names a case that does not exist
    only when its commit failed, and readers pass over those)."""
    at = state.clock.now().timestamp() * 1000
    for subject_hash in subject_hashes:
        cases = keys.cases_of(keys.event_partition(subject_hash), subject_hash)
        state.store.atomic(lambda tx, cases=cases: tx.scored_add(cases, application_id, at))


def cases_of(state: HubState, subject_hash: str, before: float | None, limit: int) -> list[tuple[str, float]]:
    """The cases a person is a party to, newest first: (application id, filing time in epoch ms)."""
    return state.store.scored_newest(keys.cases_of(keys.event_partition(subject_hash), subject_hash), before, limit)


def party_of(material: dict[str, Any]) -> str:
    """Whose a material is: ``applicant`` or ``representative``."""
    return material.get("party") or APPLICANT
