"""The per-application hub object kept in ``app.extensions["hub"]``: settings, store and services.

Services that hold state across requests (the signing key, parsed policies, connectors with their
circuit breakers, the pool that calls sources) are made once per process, on first use.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .clock import Clock, SystemClock
from .config import Settings
from .store import Store

if TYPE_CHECKING:
    from .keyring import Keyring
    from .pki import Pki
    from .policy import Policies
    from .seals import Seals
    from .sources import Sources
    from .verification import Verifier
    from .workdays import Calendars


@dataclass
class HubState:
    """What views and commands need to reach the hub's services."""

    settings: Settings
    store: Store
    clock: Clock = field(default_factory=SystemClock)

    def today(self) -> date:
        """Today's date where the province is (HUB_TIMEZONE), by the hub's clock."""
        return self.clock.now().astimezone(ZoneInfo(self.settings.timezone)).date()

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.settings.timezone))

    @cached_property
    def keyring(self) -> Keyring:
        from .keyring import Keyring

        return Keyring(self.settings, self.store)

    @cached_property
    def pki(self) -> Pki:
        from .pki import Pki

        return Pki(self.settings, self.store, self.keyring)

    @cached_property
    def seals(self) -> Seals:
        from .seals import Seals

        return Seals(self.settings, self.store, self.pki)

    @cached_property
    def calendars(self) -> Calendars:
        """The working-day calendar (statutory holidays and make-up days), kept in step with the store."""
        from .workdays import Calendars

        return Calendars(self.store)

    @cached_property
    def verifier(self) -> Verifier:
        from .verification import Verifier

        return Verifier(self.settings.verify_processes, self.settings.verify_timeout)

    @cached_property
    def policies(self) -> Policies:
        from .policy import Policies

        return Policies(self.store, self.settings.policy_dir)

    @cached_property
    def sources(self) -> Sources:
        from . import licences
        from .sources import Sources

        return Sources(
            self.settings,
            self.store,
            self.keyring,
            licence_lookup=lambda evidence_type, subject: licences.lookup_for_resolution(self, evidence_type, subject),
        )

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        """The pool that calls sources; sized so one resolution's calls all run at once."""
        return ThreadPoolExecutor(max_workers=self.settings.resolution_threads, thread_name_prefix="source")
