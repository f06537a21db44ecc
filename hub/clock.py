"""The hub's clock for case work: the dates that deadlines, validity periods and retention count from.

One object, kept on the hub's state, answers "what time is it" for everything the law counts in days:
applications and their timelines, working-day deadlines, licence validity, archive retention and the
date a service item version takes effect. Production runs on the system clock; tests set their own so
that no test depends on the day it runs. Cryptographic times (certificates, timestamps, OCSP answers)
always follow the system clock, since other parties check them against theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Where the hub reads the present moment from."""

    def now(self) -> datetime:
        """The present moment, timezone-aware."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The present moment, from the system clock."""
        return datetime.now(UTC)
