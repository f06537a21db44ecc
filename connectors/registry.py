"""The registry of connector kinds: every kind is found through the ``hub.connectors`` entry-point group.

Built-ins are declared in the hub's own ``pyproject.toml`` exactly as another package would declare its
kinds (``rest = "connectors.rest:KIND"``), so there is one path for both. Installed is not enabled: the
hub decides which kinds a connector may use; this module only says which exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points

from .api import ConfigError, ConnectorKind

GROUP = "hub.connectors"


class UnknownKind(ConfigError):
    """No installed kind has this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        message = f"unknown connector kind {name!r}; known kinds: {', '.join(known) or 'none'}"
        super().__init__(message, {"kind": [message]})
        self.name = name
        self.known = known


class BadKind(ConfigError):
    """An entry point that does not load, or does not name a ConnectorKind under its own name."""


def _load(name: str, reference: str | object) -> ConnectorKind:
    """The kind an entry point or ``module:attribute`` reference names, checked."""
    kind: object = reference
    if isinstance(reference, str):
        try:
            kind = EntryPoint(name=name, value=reference, group=GROUP).load()
        except (ImportError, AttributeError, ValueError) as exc:
            raise BadKind(f"connector kind {name!r} ({reference}) does not load: {exc}") from exc
    if not isinstance(kind, ConnectorKind):
        raise BadKind(f"connector kind {name!r} is not a ConnectorKind (needs name, validate_config, build)")
    if kind.name != name:
        raise BadKind(f"connector kind declared as {name!r} calls itself {kind.name!r}")
    return kind


def declared_kinds() -> dict[str, str]:
    """Kind name -> ``module:attribute`` from the entry-point group (the built-in list if the group is empty)."""
    declared: dict[str, str] = {}
    for entry_point in entry_points(group=GROUP):
        earlier = declared.setdefault(entry_point.name, entry_point.value)
        if earlier != entry_point.value:
            raise BadKind(f"connector kind {entry_point.name!r} is declared twice: {earlier} and {entry_point.value}")
    return declared


def available_kinds(declared: Mapping[str, str | ConnectorKind] | None = None) -> dict[str, ConnectorKind]:
    """Every installed kind by name; ``declared`` (name -> reference or kind) replaces the entry points."""
    sources = declared_kinds() if declared is None else declared
    return {name: _load(name, reference) for name, reference in sorted(sources.items())}


def get_kind(name: str, kinds: Mapping[str, ConnectorKind] | None = None) -> ConnectorKind:
    """The kind called ``name`` (from ``kinds``, or all installed ones); UnknownKind listing the known kinds."""
    if kinds is None:
        kinds = available_kinds()
    try:
        return kinds[name]
    except KeyError:
        raise UnknownKind(name, sorted(kinds)) from None
