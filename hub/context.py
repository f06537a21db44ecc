"""Who is acting, and under which request: what services record in the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


def now() -> datetime:
    """The current time in UTC (one clock for the whole hub)."""
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """``moment`` as RFC 3339 with offset, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Principal:
    """The holder of a bearer token: the operator, or an agency with some roles."""

    token_id: str
    roles: frozenset[str]
    agency: str | None = None  # None for the platform operator

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        owner = f"agency:{self.agency}" if self.agency else "operator"
        return f"{owner}/token:{self.token_id}"


@dataclass(frozen=True)
class Context:
    """The actor and request id that every audited change records."""

    actor: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def system(cls, what: str) -> Context:
        """A context for work the hub does on its own behalf (start-up, CLI)."""
        return cls(actor=f"system:{what}")
