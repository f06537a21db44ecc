"""Loading policies (validated against the schema before they take effect), failing closed, and reuse."""

from __future__ import annotations

import json

import cedarpy
import pytest

from policies import (
    DEFAULT_POLICY_DIR,
    DEFAULT_POLICY_FILES,
    SCHEMA_FILE,
    Decision,
    ItemFacts,
    PolicyEngine,
    PolicyError,
)
from policies.engine import SCHEMA_NAME, _entities

SCHEMA = SCHEMA_FILE.read_text()
DEFAULTS = {path.name: path.read_text() for path in DEFAULT_POLICY_FILES}
FIELDS = {"resident-identity": ["name", "address"], "health-certificate": ["holder_name", "valid_until"]}
ITEM = ItemFacts(
    code="440000-SCJG-001-01",
    version=3,
    lead="prov-market",
    co_agencies=frozenset({"prov-health"}),
    evidence_types=frozenset({"resident-identity", "health-certificate"}),
    needed_fields=frozenset(f"{code}/{name}" for code, names in FIELDS.items() for name in names),
)
# Valid against the schema, but overflows at run time for any version above 1.
OVERFLOW = "context.service_item.version * 9223372036854775807 > 0"


def with_defaults(**extra: str) -> dict[str, str]:
    return {**DEFAULTS, **{f"{name}.cedar": text for name, text in extra.items()}}


def problems_of(texts: dict[str, str]) -> dict[str, list[str]]:
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_texts(texts, SCHEMA)
    return caught.value.errors


def test_the_package_ships_its_default_policy_and_schema() -> None:
    assert SCHEMA_FILE.parent == DEFAULT_POLICY_DIR
    assert [path.name for path in DEFAULT_POLICY_FILES] == ["need_to_know.cedar"]
    assert all(path.is_file() for path in (SCHEMA_FILE, *DEFAULT_POLICY_FILES))
    assert cedarpy.validate_policies(DEFAULTS["need_to_know.cedar"], SCHEMA).validation_passed


def test_a_syntax_error_names_the_file_and_the_problem() -> None:
    errors = problems_of(with_defaults(broken="permit (principal, action, resource) when { context. };"))

    assert list(errors) == ["broken.cedar"]
    assert "unexpected token" in errors["broken.cedar"][0]


def test_the_error_detail_lists_every_invalid_file() -> None:
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_texts(with_defaults(a="permit (", b="forbid"), SCHEMA)

    assert caught.value.detail == "Invalid policies in a.cedar, b.cedar."
    assert set(caught.value.errors) == {"a.cedar", "b.cedar"}


def test_an_unknown_entity_type_is_refused_by_the_schema() -> None:
    errors = problems_of(with_defaults(users='@id("staff") permit (principal == User::"alice", action, resource);'))

    assert any(
        "staff: " in problem and "unrecognized entity type `User`" in problem for problem in errors["users.cedar"]
    )


def test_an_unknown_attribute_is_refused_by_the_schema() -> None:
    errors = problems_of(
        with_defaults(
            attrs='permit (principal, action == Action::"read", resource)\n'
            'when { context.service_item.region == "440000" };'
        )
    )

    assert any("attribute `region`" in problem for problem in errors["attrs.cedar"])


def test_an_ill_typed_condition_and_an_unknown_action_are_refused() -> None:
    errors = problems_of(
        with_defaults(
            typed='permit (principal, action == Action::"read_field", resource) when { resource.name == 3 };',
            action='permit (principal, action == Action::"delete", resource);',
        )
    )

    assert set(errors) == {"typed.cedar", "action.cedar"}


def test_templates_and_duplicate_ids_are_refused() -> None:
    errors = problems_of(
        with_defaults(
            template='permit (principal == ?principal, action == Action::"read", resource);',
            twice='@id("x") forbid (principal, action, resource) when { false };\n'
            '@id("x") forbid (principal, action, resource) when { false };',
        )
    )

    assert "Templates" in errors["template.cedar"][0]
    assert errors["twice.cedar"] == ["Two policies have the id 'twice.cedar:x'; make each @id unique."]


def test_an_invalid_schema_is_reported_as_such() -> None:
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_texts(DEFAULTS, "entity ;")

    assert list(caught.value.errors) == [SCHEMA_NAME]


def test_an_erroring_forbid_refuses_where_cedar_alone_would_allow() -> None:
    engine = PolicyEngine.from_texts(
        with_defaults(broken=f"forbid (principal, action, resource) when {{ {OVERFLOW} }};"), SCHEMA
    )

    decision = engine.decide("prov-market", ITEM, ["resident-identity"], FIELDS)["resident-identity"]

    assert not decision.allowed
    assert decision.fields == frozenset()
    assert len(decision.reasons) == 1
    assert decision.reasons[0].startswith("error: ") and "overflow" in decision.reasons[0]
    assert "broken.cedar:policy0" in decision.reasons[0]


def test_an_erroring_field_rule_withholds_the_field() -> None:
    engine = PolicyEngine.from_texts(
        with_defaults(
            fields=f"""
            forbid (principal, action == Action::"read_field", resource == EvidenceField::"resident-identity/address")
            when {{ {OVERFLOW} }};"""
        ),
        SCHEMA,
    )

    decision = engine.decide("prov-market", ITEM, ["resident-identity"], FIELDS)["resident-identity"]

    assert decision.allowed
    assert decision.fields == {"name"}
    assert any(reason.startswith("error: ") for reason in decision.reasons)


def test_a_failing_binding_refuses_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = PolicyEngine.from_texts(DEFAULTS, SCHEMA)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cedar went away")

    monkeypatch.setattr(cedarpy, "is_authorized_batch", explode)
    decisions = engine.decide("prov-market", ITEM, ["resident-identity", "health-certificate"], FIELDS)

    assert set(decisions.values()) == {Decision(False, frozenset(), ("error: cedar went away",))}


def test_the_entities_the_engine_builds_conform_to_the_schema() -> None:
    entities = _entities(ITEM, ["resident-identity", "marriage-record"], FIELDS)

    handle = cedarpy.Entities.from_json_str(json.dumps(entities), SCHEMA)

    assert len(handle) == 1 + 2 + 2 + 2  # the item, two types, two fields, and the schema's two actions


def test_an_engine_is_built_once_and_decides_many_times() -> None:
    engine = PolicyEngine.from_texts(DEFAULTS, SCHEMA)
    agencies = ["prov-market", "prov-health", "prov-civil-affairs"]

    outcomes = {
        (agency, round_number): engine.decide(agency, ITEM, ["resident-identity", "marriage-record"], FIELDS)
        for round_number in range(100)
        for agency in agencies
    }

    for (agency, _), decisions in outcomes.items():
        assert decisions["resident-identity"].allowed is (agency != "prov-civil-affairs")
        assert not decisions["marriage-record"].allowed


def test_an_operator_rule_is_validated_by_rebuilding_from_the_engine_texts() -> None:
    engine = PolicyEngine.from_texts(DEFAULTS, SCHEMA)

    with pytest.raises(PolicyError):
        PolicyEngine.from_texts(
            {**engine.texts, "new.cedar": "permit (principal, action, resource) when { nope };"}, engine.schema_text
        )
    updated = PolicyEngine.from_texts(
        {**engine.texts, "new.cedar": 'forbid (principal == Agency::"prov-health", action, resource);'},
        engine.schema_text,
    )

    assert engine.decide("prov-health", ITEM, ["health-certificate"], FIELDS)["health-certificate"].allowed
    assert not updated.decide("prov-health", ITEM, ["health-certificate"], FIELDS)["health-certificate"].allowed


def test_item_facts_come_from_a_registry_record() -> None:
    record = {
        "code": "440000-SCJG-001-01",
        "version": 3,
        "agency": "prov-market",
        "co_agencies": ["prov-health"],
        "materials": [
            {"code": "applicant-identity", "evidence_type": "resident-identity"},
            {"code": "staff-health", "evidence_type": "health-certificate"},
            {"code": "second-identity", "evidence_type": "resident-identity"},
            {"code": "premises-layout", "evidence_type": None},
            {"code": "photo"},
        ],
    }

    assert ItemFacts.from_record(record, FIELDS) == ITEM


def test_an_item_needs_only_the_fields_its_materials_list() -> None:
    record = {
        "code": "440000-MZ-002",
        "version": 1,
        "agency": "prov-civil",
        "materials": [{"code": "identity", "evidence_type": "resident-identity", "fields": ["name"]}],
    }
    item = ItemFacts.from_record(record, FIELDS)
    assert item.needed_fields == {"resident-identity/name"}

    engine = PolicyEngine.from_texts(DEFAULTS, SCHEMA)
    decision = engine.decide("prov-civil", item, ["resident-identity"], FIELDS)["resident-identity"]

    assert decision.allowed and decision.fields == {"name"}  # "read_field" denies the address by default


def test_without_a_read_field_permit_an_allowed_type_shows_no_fields() -> None:
    only_reads = (
        'permit (principal, action == Action::"read", resource) when { principal == context.service_item.lead };'
    )
    engine = PolicyEngine.from_texts({"reads.cedar": only_reads}, SCHEMA)

    decision = engine.decide("prov-market", ITEM, ["resident-identity"], FIELDS)["resident-identity"]

    assert decision == Decision(True, frozenset(), ("reads.cedar:policy0",))
