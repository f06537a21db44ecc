"""The one way a view, API or page, reaches the hub's state: :func:`hub_state`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from hub.state import HubState


def hub_state() -> HubState:
    """The hub's state of the current app (``app.extensions["hub"]``, put there by the app factory)."""
    return current_app.extensions["hub"]
