"""The ``csv`` kind: a dataset an agency uploads (for agencies without a service), read through the hub.

The hub indexes each upload by ``key_column`` (default ``subject_id``) and lends
``Environment.dataset_lookup(connector_id, evidence_type, subject)``; this kind only reads through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .api import ConfigError, ConnectorSpec, Environment, Subject
from .lookup import LookupConnector, refuse_unknown_keys


class CsvKind:
    """Validates ``csv`` configurations and builds connectors over the hub's dataset lookup."""

    name = "csv"

    def validate_config(self, config: Mapping[str, Any], environment: Environment) -> dict[str, Any]:
        """``{"key_column": ...}``, defaulted; ConfigError on unknown keys or an empty column name."""
        refuse_unknown_keys(config, frozenset({"key_column"}))
        key_column = config.get("key_column", "subject_id")
        if not isinstance(key_column, str) or not key_column.strip():
            raise ConfigError("key_column: must be a non-empty string", {"key_column": ["must be a non-empty string"]})
        return {"key_column": key_column}

    def build(self, spec: ConnectorSpec, environment: Environment) -> LookupConnector:
        """A connector reading connector ``spec.id``'s dataset."""
        key_column = self.validate_config(spec.config, environment)["key_column"]
        dataset_lookup = environment.dataset_lookup
        if dataset_lookup is None:
            return LookupConnector(f"dataset {spec.id}", None)

        def lookup(evidence_type: str, subject: Subject) -> Mapping[str, Any] | None:
            return dataset_lookup(spec.id, evidence_type, subject)

        return LookupConnector(f"dataset {spec.id}", lookup, key_column)


KIND = CsvKind()
