"""The policy interface: what the hub tells the engine about a request, and what it answers.

The engine decides, per evidence type, whether an agency may read it while handling one service
item version, and which of its fields it sees. It does no I/O: the hub reads the policy files and
the schema and passes their text in (see :mod:`policies.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ItemFacts:
    """What policies may know about a service item version: who handles it, what it names, what it needs.

    ``needed_fields`` holds ``"<evidence type>/<field>"`` for every field a material of the item
    needs: the fields a material lists, or every field of its evidence type when it lists none.
    """

    code: str
    version: int
    lead: str
    co_agencies: frozenset[str] = frozenset()
    evidence_types: frozenset[str] = frozenset()
    needed_fields: frozenset[str] = frozenset()

    @classmethod
    def from_record(cls, record: Mapping[str, Any], fields_of: Mapping[str, Sequence[str]] | None = None) -> ItemFacts:
        """The facts of a service item record as the registry stores it; ``fields_of`` gives each evidence
        type's fields, for the materials that need all of them."""
        materials = [m for m in record.get("materials") or () if m.get("evidence_type")]
        return cls(
            code=record["code"],
            version=int(record["version"]),
            lead=record["agency"],
            co_agencies=frozenset(record.get("co_agencies") or ()),
            evidence_types=frozenset(material["evidence_type"] for material in materials),
            needed_fields=frozenset(
                f"{material['evidence_type']}/{name}"
                for material in materials
                for name in needed_by(material, fields_of or {})
            ),
        )


def needed_by(material: Mapping[str, Any], fields_of: Mapping[str, Sequence[str]]) -> Sequence[str]:
    """The fields of its evidence type one material needs: those it lists, or all of them."""
    listed = material.get("fields")
    return listed if listed is not None else fields_of.get(material["evidence_type"], ())


@dataclass(frozen=True)
class Decision:
    """The answer for one evidence type.

    ``fields`` are the fields the agency may see (empty when refused). ``reasons`` are the ids
    (``"<file>:<@id or policyN>"``) of the policies that decided: the permits that allowed it and
    any forbids that withheld fields, or the forbids that refused it; empty when nothing permitted
    it (Cedar's default deny). An evaluation error refuses, and appears as ``"error: ..."``.
    """

    allowed: bool
    fields: frozenset[str] = frozenset()
    reasons: tuple[str, ...] = ()


class PolicyError(ValueError):
    """Policies or the schema are refused; ``errors`` maps each file name to its problems."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class PolicyDecider(Protocol):
    """Decides which evidence an agency may read for a service item, and which fields of it."""

    def decide(
        self,
        agency: str,
        service_item: ItemFacts,
        evidence_types: Sequence[str],
        fields_of: Mapping[str, Sequence[str]],
        *,
        subject_id_type: str = "",
    ) -> dict[str, Decision]:
        """One decision per evidence type asked for; never raises, and refuses on any error."""
        ...
