"""The registry of connector kinds: entry points (or an explicit mapping), checked, and UnknownKind."""

from __future__ import annotations

import pytest

from connectors import csv, licences, registry, rest
from connectors.api import ConfigError, ConnectorKind
from connectors.registry import BadKind, UnknownKind, available_kinds, get_kind


def test_the_built_in_kinds_are_available() -> None:
    kinds = available_kinds()
    assert {"rest", "csv", "licences"} <= set(kinds)
    assert kinds["rest"] is rest.KIND and kinds["csv"] is csv.KIND and kinds["licences"] is licences.KIND
    assert all(isinstance(kind, ConnectorKind) for kind in kinds.values())


def test_an_explicit_mapping_takes_references_or_kinds() -> None:
    kinds = available_kinds({"rest": "connectors.rest:KIND", "licences": licences.KIND})
    assert kinds == {"licences": licences.KIND, "rest": rest.KIND}


def test_get_kind_finds_a_kind_by_name() -> None:
    assert get_kind("csv") is csv.KIND
    assert get_kind("rest", {"rest": rest.KIND}) is rest.KIND


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UnknownKind) as caught:
        get_kind("soap", {"rest": rest.KIND, "csv": csv.KIND})
    assert isinstance(caught.value, ConfigError)
    assert "'soap'" in caught.value.detail and "csv, rest" in caught.value.detail
    assert caught.value.errors == {"kind": [caught.value.detail]}


@pytest.mark.parametrize(
    "declared",
    [
        {"rest": "connectors.nowhere:KIND"},
        {"rest": "connectors.rest:NOTHING"},
        {"rest": "connectors.rest:RestConnector"},  # not a kind
        {"csv": "connectors.rest:KIND"},  # a kind under another kind's name
    ],
)
def test_a_broken_declaration_is_a_clear_error(declared) -> None:
    with pytest.raises(BadKind) as caught:
        available_kinds(declared)
    assert next(iter(declared)) in caught.value.detail


def test_entry_points_are_read_from_the_hub_group(monkeypatch) -> None:
    from importlib.metadata import EntryPoint, EntryPoints

    seen = []

    def fake_entry_points(group: str) -> EntryPoints:
        seen.append(group)
        return EntryPoints([EntryPoint("licences", "connectors.licences:KIND", group)])

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert available_kinds() == {"licences": licences.KIND}
    assert seen == ["hub.connectors"]


def test_the_built_ins_are_found_through_the_installed_entry_points() -> None:
    assert set(available_kinds()) >= {"rest", "csv", "licences"}
    assert set(registry.declared_kinds()) >= {"rest", "csv", "licences"}


def test_two_packages_declaring_one_name_differently_is_refused(monkeypatch) -> None:
    from importlib.metadata import EntryPoint, EntryPoints

    points = [EntryPoint("rest", "connectors.rest:KIND", "g"), EntryPoint("rest", "other.rest:KIND", "g")]
    monkeypatch.setattr(registry, "entry_points", lambda group: EntryPoints(points))
    with pytest.raises(BadKind, match="declared twice"):
        available_kinds()
