"""What every ``hub`` subcommand shares: the settings, and the hub's state opened for one command with its
errors turned into plain messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from certs.api import CertsError
from hub.config import Settings, load_settings
from hub.errors import HubError
from hub.state import HubState
from hub.store.client import Store


def settings_or_fail() -> Settings:
    """The settings from the environment, or a plain message saying what is wrong with them."""
    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from None


@contextmanager
def open_state() -> Iterator[HubState]:
    """The store for one command, with hub errors turned into plain messages."""
    settings = settings_or_fail()
    try:
        store = Store(settings)
    except Exception as exc:  # the embedded server could not start, or REDIS_URL is unreachable
        raise click.ClickException(f"cannot reach the store: {exc}") from None
    try:
        yield HubState(settings, store)
    except HubError as exc:
        lines = [exc.detail]
        for field, messages in (exc.errors or {}).items():
            lines.extend(f"  {field}: {message}" for message in messages)
        raise click.ClickException("\n".join(lines)) from None
    except CertsError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.stop_embedded_if_last()
        store.close()
