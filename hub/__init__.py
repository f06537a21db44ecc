"""The hub: data sharing and e-licence exchange for online government services."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so that the gunicorn config can set PROMETHEUS_MULTIPROC_DIR
    # before anything imports prometheus_client.
    if name == "create_app":
        from hub.app import create_app

        return create_app
    raise AttributeError(name)
