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
class RequestKey:
    """The ``Idempotency-Key`` a request runs under: what lets a service know a retry of work it did."""

    actor: str
    key: str
    fingerprint: str  # of the request's method, path and body
    ttl_seconds: int  # how long the hub answers a repeat


@dataclass(frozen=True)
class Context:
    """The actor and request id that every audited change records, and the request's idempotency key."""

    actor: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    request_key: RequestKey | None = None

    @classmethod
    def system(cls, what: str) -> Context:
        """A context for work the hub does on its own behalf (start-up, CLI)."""
        return cls(actor=f"system:{what}")
