"""Where a connector's configuration holds credentials, so they can be sealed, opened or redacted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def with_credentials(config: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """``config`` with ``change`` applied to every credential in it: header values, a TLS client key."""
    changed = dict(config)
    if config.get("headers"):
        changed["headers"] = {name: change(value) for name, value in config["headers"].items()}
    if isinstance(config.get("tls"), dict) and config["tls"].get("client_key"):
        changed["tls"] = {**config["tls"], "client_key": change(config["tls"]["client_key"])}
    return changed
