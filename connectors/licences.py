"""The ``licences`` kind: the hub's own e-licence registry as a source of proof.

A licence issued through the hub counts as proof for any service that names its type. The hub lends
``Environment.licence_lookup(evidence_type, subject)``; this kind takes no configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .api import ConnectorSpec, Environment
from .lookup import LookupConnector, refuse_unknown_keys


class LicencesKind:
    """Validates (empty) ``licences`` configurations and builds connectors over the licence registry."""

    name = "licences"

    def validate_config(self, config: Mapping[str, Any], environment: Environment) -> dict[str, Any]:
        """``{}``; ConfigError on any key."""
        refuse_unknown_keys(config, frozenset())
        return {}

    def build(self, spec: ConnectorSpec, environment: Environment) -> LookupConnector:
        """A connector reading the hub's e-licence registry."""
        self.validate_config(spec.config, environment)
        return LookupConnector("the licence registry", environment.licence_lookup)


KIND = LicencesKind()
