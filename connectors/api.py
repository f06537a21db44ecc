"""The connector protocol: fetch one evidence type for one subject, and probe health.

A *kind* (``rest``, ``csv``, ``licences``, or one from another package) validates a connector's
configuration and builds a :class:`Connector` from it. Kinds are found through the
``hub.connectors`` entry-point group (see :mod:`connectors.registry`), built-ins included.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Subject:
    """Whom the evidence is about: a resident (``resident-id``) or an organisation (``credit-code``)."""

    id_type: str
    id: str


@dataclass(frozen=True)
class Record:
    """Evidence a source holds: the evidence type's fields, already mapped to the hub's names."""

    fields: Mapping[str, Any]

    def only(self, wanted: Collection[str] | None) -> Record:
        """This record with only the ``wanted`` fields (None: all of them)."""
        if wanted is None:
            return self
        return Record(fields={name: value for name, value in self.fields.items() if name in wanted})


@dataclass(frozen=True)
class NotHeld:
    """The source answered, and holds nothing for this subject."""

    detail: str = ""


@dataclass(frozen=True)
class Health:
    """The result of a probe."""

    ok: bool
    latency_ms: float
    detail: str = ""


class ConnectorError(Exception):
    """A fetch or probe failed; ``retryable`` when trying again may help (timeouts, 5xx, resets)."""

    def __init__(self, detail: str, retryable: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable


class ConfigError(ValueError):
    """A connector's configuration is refused; ``errors`` maps config keys to messages."""

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


@dataclass(frozen=True)
class Environment:
    """What the hub lends every connector: limits set by the operator and lookups into its own data.

    ``allowed_networks`` are the CIDR blocks outbound connectors may reach (empty: none).
    ``dataset_lookup(connector_id, evidence_type, subject)`` reads an uploaded dataset (``csv`` kind).
    ``licence_lookup(evidence_type, subject)`` reads the hub's e-licence registry (``licences`` kind).
    """

    allowed_networks: tuple[str, ...] = ()
    max_response_bytes: int = 1_048_576
    dataset_lookup: Callable[[str, str, Subject], Mapping[str, Any] | None] | None = None
    licence_lookup: Callable[[str, Subject], Mapping[str, Any] | None] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectorSpec:
    """A registered connector record, as the hub stores it (secrets already decrypted)."""

    id: str
    agency: str
    kind: str
    provides: tuple[str, ...]
    config: Mapping[str, Any]
    timeout_ms: int


@runtime_checkable
class Connector(Protocol):
    """One data source."""

    def fetch(
        self, evidence_type: str, subject: Subject, timeout_s: float, fields: frozenset[str] | None = None
    ) -> Record | NotHeld:
        """The evidence this source holds, NotHeld, or raise ConnectorError; never longer than ``timeout_s``.

        ``fields`` are the only fields the read may have (None: every field): a source asks its agency for
        no more where it can, and returns no others.
        """
        ...

    def probe(self, timeout_s: float) -> Health:
        """Whether the source is reachable and answering."""
        ...


@runtime_checkable
class ConnectorKind(Protocol):
    """A kind of connector: validates configurations and builds connectors from them."""

    name: str

    def validate_config(self, config: Mapping[str, Any], environment: Environment) -> dict[str, Any]:
        """The configuration, normalised; raise ConfigError naming what is wrong."""
        ...

    def build(self, spec: ConnectorSpec, environment: Environment) -> Connector:
        """A connector for a registered record."""
        ...
