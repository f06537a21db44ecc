"""The hub's state: settings, store, clock and the services built on them, one per app (``app.extensions["hub"]``).

This is where the rooms are wired together: it is above every room in the import layers (README, "Where
things are"), and no room imports it but for type hints. Services that hold state across requests (the
signing key, parsed policies, connectors with their circuit breakers, the pool that calls sources) are
made once per process, on first use.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from hub.archives import filing
from hub.clock import Clock, SystemClock
from hub.config import Settings
from hub.context import Context
from hub.intake.workdays import Calendars
from hub.licences import register as licences
from hub.licences.pki import Pki
from hub.licences.seals import Seals
from hub.licences.sm2_pki import Sm2Pki
from hub.licences.sm2_seals import Sm2Seals
from hub.licences.status_lists import StatusListService
from hub.licences.verification import Verifier
from hub.resolution.policy import Policies
from hub.sources.fetching import Sources
from hub.store.client import Store
from hub.store.keyring import Keyring


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

        return Keyring(self.settings, self.store)

    @cached_property
    def pki(self) -> Pki:

        return Pki(self.settings, self.store, self.keyring)

    @cached_property
    def sm2_pki(self) -> Sm2Pki:

        return Sm2Pki(self.pki)

    @cached_property
    def sm2_seals(self) -> Sm2Seals:

        return Sm2Seals(self.settings, self.store, self.sm2_pki, self.pki.key_passphrase)

    @cached_property
    def seals(self) -> Seals:

        return Seals(self.settings, self.store, self.pki)

    @cached_property
    def calendars(self) -> Calendars:
        """The working-day calendar (statutory holidays and make-up days), kept in step with the store."""

        return Calendars(self.store)

    @cached_property
    def verifier(self) -> Verifier:

        return Verifier(self.settings.verify_processes, self.settings.verify_timeout)

    @cached_property
    def status_lists(self) -> StatusListService:
        """Signed licence status lists, each kept in this worker while it is current."""
        return StatusListService(self)

    @cached_property
    def policies(self) -> Policies:

        return Policies(self.store, self.settings.policy_dir)

    @cached_property
    def sources(self) -> Sources:

        return Sources(
            self.settings,
            self.store,
            self.keyring,
            licence_lookup=lambda evidence_type, subject: licences.lookup_for_resolution(self, evidence_type, subject),
        )

    def file_archive(self, ctx: Context, application_id: str) -> dict[str, Any]:
        """File a concluded case's archive package now; what its record keeps of it."""
        return filing.link_to(filing.file_case(self, ctx, application_id))

    @cached_property
    def executor(self) -> ThreadPoolExecutor:
        """The pool that calls sources; sized so one resolution's calls all run at once."""
        return ThreadPoolExecutor(max_workers=self.settings.resolution_threads, thread_name_prefix="source")
