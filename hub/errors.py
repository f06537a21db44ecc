"""The hub's exceptions: one tree, each error carrying its HTTP status and the domain data a caller needs.

Services raise :class:`HubError` subclasses; :mod:`hub.http.problems` turns them, and every HTTP-level
error, into ``application/problem+json`` (or a page for a browser). Nothing else writes error bodies.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of every error the hub reports to a caller."""

    status = 500
    slug = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Invalid(HubError):
    status, slug, title = 422, "validation", "Invalid request"


class UnknownReference(Invalid):
    """A body names an agency, evidence type or other record that does not exist."""

    slug, title = "unknown-reference", "Unknown reference"


class NotFound(HubError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(HubError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(HubError):
    """Something that existed and can no longer be used: an expired, used-up or revoked grant."""

    status, slug, title = 410, "gone", "No longer available"


class Unauthorized(HubError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(HubError):
    status, slug, title = 403, "forbidden", "Forbidden"


class StoreUnavailable(HubError):
    """Redis cannot be reached; callers fail closed."""

    status, slug, title = 503, "store-unavailable", "Storage unavailable"


class SealUnavailable(HubError):
    """A seal cannot sign now: its key is unreachable, or its chain or revocation data cannot be checked."""

    status, slug, title = 503, "seal-unavailable", "Seal unavailable"


class Unprintable(Invalid):
    """A licence's content cannot be rendered (a character the font lacks, or too much for one page)."""

    slug, title = "unprintable", "Cannot be printed"
