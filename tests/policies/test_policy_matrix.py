"""The policy test matrix: who may read which evidence, for which service item, and which fields."""

from __future__ import annotations

import pytest

from policies import DEFAULT_POLICY_FILES, SCHEMA_FILE, Decision, ItemFacts, PolicyEngine

FIELDS = {
    "resident-identity": ["name", "id_number", "birth_date", "address"],
    "business-licence": ["enterprise_name", "credit_code"],
    "health-certificate": ["holder_name", "valid_until", "fit_for_work"],
    "marriage-record": ["status", "registered_on"],
}


def needing_every_field(*evidence_types: str) -> frozenset[str]:
    return frozenset(f"{code}/{name}" for code in evidence_types for name in FIELDS[code])


FOOD_LICENCE = ItemFacts(
    code="440000-SCJG-001-01",
    version=2,
    lead="prov-market",
    co_agencies=frozenset({"prov-health"}),
    evidence_types=frozenset({"resident-identity", "business-licence", "health-certificate"}),
    needed_fields=needing_every_field("resident-identity", "business-licence", "health-certificate"),
)
PASSPORT = ItemFacts(
    code="440000-GA-007",
    version=1,
    lead="prov-public-security",
    evidence_types=frozenset({"resident-identity"}),
    needed_fields=needing_every_field("resident-identity"),
)
ALL_TYPES = list(FIELDS)


def make_engine(**extra: str) -> PolicyEngine:
    """The default policies plus operator files given as name=text (the name gets '.cedar')."""
    texts = {path.name: path.read_text() for path in DEFAULT_POLICY_FILES}
    texts.update({f"{name}.cedar": text for name, text in extra.items()})
    return PolicyEngine.from_texts(texts, SCHEMA_FILE.read_text())


@pytest.fixture(scope="module")
def default_engine() -> PolicyEngine:
    return make_engine()


def test_lead_agency_reads_every_type_its_item_names_with_all_fields(default_engine: PolicyEngine) -> None:
    decisions = default_engine.decide("prov-market", FOOD_LICENCE, ALL_TYPES, FIELDS)

    assert set(decisions) == set(ALL_TYPES)
    for code in FOOD_LICENCE.evidence_types:
        assert decisions[code] == Decision(True, frozenset(FIELDS[code]), ("need_to_know.cedar:need-to-know",))


def test_co_agency_reads_the_same_types(default_engine: PolicyEngine) -> None:
    decisions = default_engine.decide("prov-health", FOOD_LICENCE, ["health-certificate", "resident-identity"], FIELDS)

    assert decisions["health-certificate"].allowed
    assert decisions["health-certificate"].fields == {"holder_name", "valid_until", "fit_for_work"}
    assert decisions["resident-identity"].allowed


def test_unrelated_agency_is_refused_by_default_deny(default_engine: PolicyEngine) -> None:
    decisions = default_engine.decide("prov-civil-affairs", FOOD_LICENCE, ["resident-identity"], FIELDS)

    assert decisions["resident-identity"] == Decision(False, frozenset(), ())


def test_lead_is_refused_a_type_its_item_does_not_name(default_engine: PolicyEngine) -> None:
    decisions = default_engine.decide("prov-market", FOOD_LICENCE, ["marriage-record"], FIELDS)

    assert decisions["marriage-record"] == Decision(False, frozenset(), ())


def test_being_lead_of_another_item_grants_nothing_here(default_engine: PolicyEngine) -> None:
    decisions = default_engine.decide("prov-public-security", FOOD_LICENCE, ["resident-identity"], FIELDS)
    own_item = default_engine.decide("prov-public-security", PASSPORT, ["resident-identity"], FIELDS)

    assert not decisions["resident-identity"].allowed
    assert own_item["resident-identity"].allowed


def test_an_operator_forbid_overrides_the_default_permit() -> None:
    engine = make_engine(
        narrow="""
        @id("health-no-identity")
        forbid (
          principal == Agency::"prov-health",
          action == Action::"read",
          resource == EvidenceType::"resident-identity"
        )
        when { context.service_item.code == "440000-SCJG-001-01" };
        """
    )

    refused = engine.decide("prov-health", FOOD_LICENCE, ["resident-identity", "health-certificate"], FIELDS)
    lead = engine.decide("prov-market", FOOD_LICENCE, ["resident-identity"], FIELDS)

    assert refused["resident-identity"] == Decision(False, frozenset(), ("narrow.cedar:health-no-identity",))
    assert refused["health-certificate"].allowed
    assert lead["resident-identity"].allowed


def test_an_operator_permit_lets_a_statistics_agency_read_one_type_for_one_item() -> None:
    engine = make_engine(
        statistics="""
        permit (
          principal == Agency::"prov-stats",
          action == Action::"read",
          resource == EvidenceType::"health-certificate"
        )
        when { context.service_item == ServiceItem::"440000-SCJG-001-01" };

        permit (
          principal == Agency::"prov-stats",
          action == Action::"read_field",
          resource in EvidenceType::"health-certificate"
        )
        when { context.service_item == ServiceItem::"440000-SCJG-001-01" };
        """
    )

    decisions = engine.decide("prov-stats", FOOD_LICENCE, ["health-certificate", "resident-identity"], FIELDS)
    other_item = engine.decide("prov-stats", PASSPORT, ["health-certificate"], FIELDS)

    assert decisions["health-certificate"] == Decision(
        True, frozenset(FIELDS["health-certificate"]), ("statistics.cedar:policy0",)
    )
    assert not decisions["resident-identity"].allowed
    assert not other_item["health-certificate"].allowed


def test_a_field_forbid_withholds_only_those_fields() -> None:
    engine = make_engine(
        minimise="""
        @id("health-sees-no-id-number-or-address")
        forbid (
          principal == Agency::"prov-health",
          action == Action::"read_field",
          resource in EvidenceType::"resident-identity"
        )
        when { ["id_number", "address"].contains(resource.name) };
        """
    )

    health = engine.decide("prov-health", FOOD_LICENCE, ["resident-identity", "health-certificate"], FIELDS)
    lead = engine.decide("prov-market", FOOD_LICENCE, ["resident-identity"], FIELDS)

    assert health["resident-identity"] == Decision(
        True,
        frozenset({"name", "birth_date"}),
        ("need_to_know.cedar:need-to-know", "minimise.cedar:health-sees-no-id-number-or-address"),
    )
    assert health["health-certificate"].fields == set(FIELDS["health-certificate"])
    assert lead["resident-identity"].fields == set(FIELDS["resident-identity"])


def test_an_allow_list_of_fields_written_as_forbid_unless() -> None:
    engine = make_engine(
        only_name="""
        forbid (
          principal == Agency::"prov-health",
          action == Action::"read_field",
          resource == EvidenceField::"resident-identity/address"
        );
        forbid (principal, action == Action::"read_field", resource in EvidenceType::"business-licence")
        unless { principal == context.service_item.lead || resource.name == "enterprise_name" };
        """
    )

    health = engine.decide("prov-health", FOOD_LICENCE, ["resident-identity", "business-licence"], FIELDS)

    assert health["resident-identity"].fields == {"name", "id_number", "birth_date"}
    assert health["business-licence"].fields == {"enterprise_name"}
    assert health["business-licence"].reasons[-1] == "only_name.cedar:policy1"


def test_a_refused_type_gets_no_fields_even_when_field_rules_exist() -> None:
    engine = make_engine(noop='forbid (principal, action == Action::"read_field", resource) when { false };')

    decisions = engine.decide("prov-civil-affairs", FOOD_LICENCE, ["resident-identity"], FIELDS)

    assert decisions["resident-identity"] == Decision(False, frozenset(), ())


def test_policies_can_use_the_subject_id_type() -> None:
    engine = make_engine(
        people_only="""
        forbid (principal == Agency::"prov-health", action == Action::"read", resource)
        when { context.subject_id_type == "credit-code" };
        """
    )

    person = engine.decide("prov-health", FOOD_LICENCE, ["health-certificate"], FIELDS, subject_id_type="resident-id")
    company = engine.decide("prov-health", FOOD_LICENCE, ["health-certificate"], FIELDS, subject_id_type="credit-code")

    assert person["health-certificate"].allowed
    assert not company["health-certificate"].allowed


def test_policies_can_use_the_item_version() -> None:
    engine = make_engine(
        old_versions="""
        forbid (principal, action == Action::"read", resource == EvidenceType::"business-licence")
        when { context.service_item.version < 2 };
        """
    )

    current = engine.decide("prov-market", FOOD_LICENCE, ["business-licence"], FIELDS)
    first = engine.decide(
        "prov-market", ItemFacts(**{**FOOD_LICENCE.__dict__, "version": 1}), ["business-licence"], FIELDS
    )

    assert current["business-licence"].allowed
    assert not first["business-licence"].allowed


def test_duplicates_are_decided_once_and_nothing_asked_is_nothing_answered(default_engine: PolicyEngine) -> None:
    assert default_engine.decide("prov-market", FOOD_LICENCE, [], FIELDS) == {}
    decisions = default_engine.decide("prov-market", FOOD_LICENCE, ["business-licence", "business-licence"], {})
    assert decisions == {"business-licence": Decision(True, frozenset(), ("need_to_know.cedar:need-to-know",))}
