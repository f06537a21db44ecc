"""Rate limits on the hub's own Redis: per bearer token, and per client address otherwise.

A request carrying a valid bearer token counts against that token's bucket (``HUB_RATE_LIMIT_TOKEN``,
every route together); any other request counts against its client address (``HUB_RATE_LIMIT_ADDRESS``).
PDF verifications (``HUB_RATE_LIMIT_VERIFY``) and failed sign-ins (``HUB_RATE_LIMIT_SIGN_IN``) have
tighter buckets per address of their own. Liveness, readiness, metrics and static assets are never limited.

The client address is ``request.remote_addr``: the peer, or, with ``HUB_TRUSTED_PROXIES=n``, what the
n-th proxy from the hub saw (``ProxyFix``); an ``X-Forwarded-For`` nobody vouches for changes nothing.
IPv6 clients are counted per /64, the block one subscriber gets.

The buckets live in the hub's Redis, so every worker and every hub sharing a store count together; each
request is one script there, which also reads the bearer token's record for the view's authentication
(:mod:`hub.store.request_counts`, which also says what happens while Redis cannot be reached). The hub
owns this rather than using Flask-Limiter, whose evaluation and separate round trips were a third of a
cached read's CPU (docs/profiling.md).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request

from hub.config import Settings
from hub.errors import HubError
from hub.http import authn
from hub.http.current import hub_state
from hub.rate_limits import RateLimit, parse_rate_limits
from hub.store.request_counts import Counted, ReadAhead

UNLIMITED_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics_view", "static", "docs_assets"})
VERIFY_ENDPOINTS = frozenset({"documents.verify", "verify_pages.check"})
SIGN_IN_ENDPOINTS = frozenset({"console.sign_in", "desk.sign_in", "apply_pages.sign_in"})


class RateLimited(HubError):
    status, slug, title = 429, "rate-limited", "Too many requests"


@dataclass(frozen=True)
class Buckets:
    """The limits of each bucket, parsed once from the settings."""

    token: tuple[RateLimit, ...]
    address: tuple[RateLimit, ...]
    verify: tuple[RateLimit, ...]
    sign_in: tuple[RateLimit, ...]

    @classmethod
    def of(cls, settings: Settings) -> Buckets:
        return cls(
            token=parse_rate_limits(settings.rate_limit_token),
            address=parse_rate_limits(settings.rate_limit_address),
            verify=parse_rate_limits(settings.rate_limit_verify),
            sign_in=parse_rate_limits(settings.rate_limit_sign_in),
        )


def client_address() -> str:
    """The caller's address as the hub can vouch for it; IPv6 as its /64."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _bearer_hash() -> str | None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return authn.hash_token(secret.strip())
    return None


def read_with_count(read_of: Callable[..., ReadAhead | None]) -> Callable:
    """Mark a public view whose first read, a whole hash, may ride in the round trip that counts the request:
    ``read_of(**view_args)`` names it (None: nothing to read ahead). The view finds what was read in
    :func:`reads_with_count`, or reads it itself when it is not there (a Redis Cluster, Redis away)."""

    def mark(view: Callable) -> Callable:
        view.read_with_count = read_of  # type: ignore[attr-defined]
        return view

    return mark


def reads_with_count() -> dict[str, Any]:
    """What was read with this request's count, by key: a hash's fields ({} for no such hash)."""
    return g.get("reads_with_count", {})


def _read_ahead() -> ReadAhead | None:
    view = current_app.view_functions.get(request.endpoint or "")
    read_of = getattr(view, "read_with_count", None)
    if read_of is None:
        return None
    try:
        return read_of(**(request.view_args or {}))
    except Exception:  # a malformed path, say: reading ahead is only a saving, and the view says what is wrong
        return None


def _keep_read(read: ReadAhead | None, counted: Counted | None) -> None:
    if read is not None and counted is not None and counted.read is not None:
        g.reads_with_count = {read.key: counted.read}


def _refuse(counted: Counted | None, what: str) -> None:
    if counted is not None and counted.refused_by is not None:
        g.rate_limit_refusal = counted
        raise RateLimited(f"Too many {what}; wait for the number of seconds in Retry-After, then try again.")


def _check(buckets: Buckets) -> None:
    """Count the request in its buckets (before the view); RateLimited if one is full."""
    endpoint = request.endpoint
    if endpoint in UNLIMITED_ENDPOINTS:
        return
    store, now, address = hub_state().store, time.time(), client_address()
    token_hash, read = _bearer_hash(), _read_ahead()
    counted: Any = None
    if token_hash is not None:
        # A digest of the stored hash names the bucket: its Redis key names neither the token nor its lookup key.
        bucket = "token:" + hashlib.sha256(token_hash.encode()).hexdigest()[:32]
        token_key = authn.token_key(token_hash)
        counted = store.count_requests(bucket, buckets.token, now, token_key=token_key, read_ahead=read)
        if counted is None or isinstance(counted.token, dict):
            authn.remember_token(token_hash, None if counted is None else counted.token)
        _keep_read(read, counted)
        if counted is not None:
            _refuse(counted, "requests with this token")
    if counted is None:  # no token, or no such token: the address pays
        counted = store.count_requests("address:" + address, buckets.address, now, read_ahead=read)
        _keep_read(read, counted)
        _refuse(counted, "requests from this address")
    if request.method == "POST" and endpoint in VERIFY_ENDPOINTS:
        _refuse(store.count_requests("verify:" + address, buckets.verify, now), "verifications from this address")
    if request.method == "POST" and endpoint in SIGN_IN_ENDPOINTS:  # counted only if it fails (_after)
        refused = store.count_requests("sign-in:" + address, buckets.sign_in, now, cost=0)
        _refuse(refused, "failed sign-ins from this address")


def _after(buckets: Buckets, response: Response) -> Response:
    """Count a failed sign-in; on a 429, Retry-After and RateLimit-* (draft-ietf-httpapi-ratelimit-headers).
    Other answers carry no RateLimit-* headers: a client needs them only when refused."""
    if request.method == "POST" and request.endpoint in SIGN_IN_ENDPOINTS and response.status_code >= 400:
        if response.status_code != 429:
            hub_state().store.count_requests("sign-in:" + client_address(), buckets.sign_in, time.time())
    refusal = g.get("rate_limit_refusal")
    if refusal is None or response.status_code != 429 or refusal.refused_by is None:
        return response
    limit, wait = refusal.refused_by, max(1, math.ceil(refusal.retry_after_s))
    response.headers["RateLimit-Limit"] = str(limit.amount)
    response.headers["RateLimit-Remaining"] = "0"
    response.headers["RateLimit-Reset"] = str(wait)
    response.headers["RateLimit-Policy"] = f"{limit.amount};w={limit.seconds}"
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Install the limits (nothing when ``HUB_RATE_LIMITS=0``)."""
    if not settings.rate_limits:
        return
    buckets = Buckets.of(settings)
    app.before_request(lambda: _check(buckets))
    app.after_request(lambda response: _after(buckets, response))
