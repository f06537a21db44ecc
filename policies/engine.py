"""The Cedar policy engine around ``cedarpy``.

Model (see ``hub.cedarschema``): the principal is an ``Agency``; action ``"read"`` on an
``EvidenceType`` decides whether the agency may have that evidence at all; action ``"read_field"``
on an ``EvidenceField`` (child of its evidence type) decides which fields it sees, and is asked only
for evidence types ``"read"`` allowed. The context carries the ``ServiceItem`` being handled and
the subject's id type. Default deny is Cedar's own; a ``forbid`` always wins.

Policies are validated against the schema and parsed once, in :meth:`PolicyEngine.from_texts`;
:meth:`PolicyEngine.decide` is the hot path (one call per resolution) and fails closed: any
evaluation error refuses. The hub does the file reading: this package ships its default files in
:data:`DEFAULT_POLICY_DIR`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cedarpy

from .api import Decision, ItemFacts, PolicyError

DEFAULT_POLICY_DIR = Path(__file__).parent
SCHEMA_FILE = DEFAULT_POLICY_DIR / "hub.cedarschema"
DEFAULT_POLICY_FILES = (DEFAULT_POLICY_DIR / "need_to_know.cedar",)
SCHEMA_NAME = "hub.cedarschema"  # the key schema problems are reported under in PolicyError.errors

READ = {"type": "Action", "id": "read"}
READ_FIELD = {"type": "Action", "id": "read_field"}
Outcome = tuple[bool, tuple[str, ...]]  # (allowed, reasons) of one Cedar request


class PolicyEngine:
    """A validated, parsed set of Cedar policies that decides evidence reads."""

    def __init__(self, texts: Mapping[str, str], schema_text: str, policies: Any) -> None:
        self.texts = dict(texts)
        self.schema_text = schema_text
        self._policies = policies

    @classmethod
    def from_texts(cls, texts: Mapping[str, str], schema_text: str) -> PolicyEngine:
        """An engine over these policy files (name -> Cedar text); PolicyError if any is invalid."""
        try:
            schema = cedarpy.Schema.from_str(schema_text)
        except ValueError as error:
            raise PolicyError("The Cedar schema is invalid.", {SCHEMA_NAME: [str(error)]}) from error
        errors: dict[str, list[str]] = {}
        static: dict[str, Any] = {}
        for name, text in texts.items():
            problems = _problems(text, schema)
            if problems:
                errors[name] = problems
                continue
            parsed = json.loads(cedarpy.policies_to_json_str(text))
            if parsed["templates"]:
                errors[name] = ["Templates (policies with ?principal or ?resource) are not supported."]
                continue
            for cedar_id, policy in parsed["staticPolicies"].items():
                policy_id = f"{name}:{policy.get('annotations', {}).get('id') or cedar_id}"
                if policy_id in static:
                    errors.setdefault(name, []).append(f"Two policies have the id {policy_id!r}; make each @id unique.")
                static[policy_id] = policy
        if errors:
            raise PolicyError(f"Invalid policies in {', '.join(sorted(errors))}.", errors)
        merged = {"templates": {}, "staticPolicies": static, "templateLinks": []}
        policies = cedarpy.PolicySet.from_json_str(json.dumps(merged))
        return cls(texts, schema_text, policies)

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
        wanted = list(dict.fromkeys(evidence_types))
        entities = _entities(service_item, wanted, fields_of)
        context = {
            "service_item": {"__entity": {"type": "ServiceItem", "id": service_item.code}},
            "subject_id_type": subject_id_type,
        }
        principal = {"type": "Agency", "id": agency}
        reads = [
            {"principal": principal, "action": READ, "resource": _uid("EvidenceType", code), "context": context}
            for code in wanted
        ]
        outcomes = self._evaluate(reads, entities)
        decisions: dict[str, Decision] = {}
        for code, (allowed, reasons) in zip(wanted, outcomes, strict=True):
            fields = frozenset(fields_of.get(code, ())) if allowed else frozenset()
            decisions[code] = Decision(allowed, fields, reasons)
        field_reads = [
            (code, field)
            for code, decision in decisions.items()
            if decision.allowed
            for field in dict.fromkeys(fields_of.get(code, ()))
        ]
        requests = [
            {"principal": principal, "action": READ_FIELD, "resource": _field_uid(code, field), "context": context}
            for code, field in field_reads
        ]
        shown: dict[str, set[str]] = {code: set() for code, decision in decisions.items() if decision.allowed}
        withheld_by: dict[str, list[str]] = {code: [] for code in shown}
        for (code, field), (allowed, reasons) in zip(field_reads, self._evaluate(requests, entities), strict=True):
            if allowed:
                shown[code].add(field)
            else:
                withheld_by[code].extend(reasons)
        for code in shown:
            reasons = tuple(dict.fromkeys((*decisions[code].reasons, *withheld_by[code])))
            decisions[code] = Decision(True, frozenset(shown[code]), reasons)
        return decisions

    def _evaluate(self, requests: list[dict[str, Any]], entities: list[dict[str, Any]]) -> list[Outcome]:
        """(allowed, reasons) per request: the permits that allowed it, or the forbids or errors that refused it."""
        if not requests:
            return []
        try:
            results = cedarpy.is_authorized_batch(requests, self._policies, entities)
        except Exception as error:  # fail closed on anything the binding raises
            return [(False, (f"error: {error}",))] * len(requests)
        outcomes: list[Outcome] = []
        for result in results:
            errors = tuple(f"error: {message}" for message in result.diagnostics.errors)
            if errors:
                # Cedar skips a policy that errors, so a broken forbid would silently allow: refuse instead.
                outcomes.append((False, errors))
            else:
                outcomes.append((result.allowed, tuple(result.diagnostics.reasons)))
        return outcomes


def _problems(text: str, schema: Any) -> list[str]:
    """Parse and schema-validation errors of one policy file, each naming its policy where known."""
    result = cedarpy.validate_policies(text, schema)
    if result.validation_passed:
        return []
    labels = result.id_annotations_by_policy_id
    problems = []
    for error in result.errors:
        label = labels.get(error.policy_id) or error.policy_id
        problems.append(f"{label}: {error.error}" if label else error.error)
    return problems


def _uid(entity_type: str, entity_id: str) -> dict[str, str]:
    return {"type": entity_type, "id": entity_id}


def _field_uid(evidence_type: str, field: str) -> dict[str, str]:
    # Registry codes and field names never contain "/", so the id is unambiguous.
    return _uid("EvidenceField", f"{evidence_type}/{field}")


def _entities(
    item: ItemFacts, evidence_types: Sequence[str], fields_of: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """The Cedar entities of one request: the service item, the evidence types asked for and their fields."""
    entities: list[dict[str, Any]] = [
        {
            "uid": _uid("ServiceItem", item.code),
            "attrs": {
                "code": item.code,
                "version": item.version,
                "lead": {"__entity": _uid("Agency", item.lead)},
                "co_agencies": [{"__entity": _uid("Agency", code)} for code in sorted(item.co_agencies)],
                "evidence_types": [{"__entity": _uid("EvidenceType", code)} for code in sorted(item.evidence_types)],
                "needed_fields": [{"__entity": _uid("EvidenceField", uid)} for uid in sorted(item.needed_fields)],
            },
            "parents": [],
        }
    ]
    for code in evidence_types:
        entities.append({"uid": _uid("EvidenceType", code), "attrs": {}, "parents": []})
        entities.extend(
            {"uid": _field_uid(code, field), "attrs": {"name": field}, "parents": [_uid("EvidenceType", code)]}
            for field in dict.fromkeys(fields_of.get(code, ()))
        )
    return entities
