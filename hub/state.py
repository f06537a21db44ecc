"""The per-application hub object kept in ``app.extensions["hub"]``: settings and the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .config import Settings
from .context import now
from .store import Store


@dataclass
class HubState:
    """What views and commands need to reach the hub's services."""

    settings: Settings
    store: Store

    def today(self) -> date:
        """Today's date where the province is (HUB_TIMEZONE)."""
        return now().astimezone(ZoneInfo(self.settings.timezone)).date()

    def local_time(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.settings.timezone))
