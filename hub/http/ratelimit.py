"""Rate limits (Flask-Limiter on the hub's own Redis): per bearer token, and per client address otherwise.

A request carrying a valid bearer token counts against that token's bucket (``HUB_RATE_LIMIT_TOKEN``,
every route together); any other request counts against its client address (``HUB_RATE_LIMIT_ADDRESS``).
PDF verifications (``HUB_RATE_LIMIT_VERIFY``) and failed sign-ins (``HUB_RATE_LIMIT_SIGN_IN``) have
tighter buckets per address of their own. Liveness, readiness, metrics and static assets are never limited.

The client address is ``request.remote_addr``: the peer, or, with ``HUB_TRUSTED_PROXIES=n``, what the
n-th proxy from the hub saw (``ProxyFix``); an ``X-Forwarded-For`` nobody vouches for changes nothing.
IPv6 clients are counted per /64, the block one subscriber gets.

The buckets live in the hub's Redis, so every worker and every hub sharing a store count together. If
Redis cannot be reached, limits go on per worker in memory, with a warning, until it answers again
(Flask-Limiter's fallback, checked with a growing back-off): requests are neither refused nor unlimited.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from flask import Flask, Response, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from hub.config import Settings
from hub.errors import HubError
from hub.http import authn
from hub.http.current import hub_state
from hub.http.problems import handle_hub_error
from hub.store.client import Store

if TYPE_CHECKING:
    from flask_limiter._limits import RuntimeLimit  # what a limit yields; not exported

log = logging.getLogger(__name__)
KEY_PREFIX = "hub-ratelimit"  # every counter's Redis key starts with it (outside the hub's own hub: keys)
STORAGE_TIMEOUT_S = 1.0  # a stalled Redis must cost the limiter a second, not a request's whole budget
UNLIMITED_ENDPOINTS = frozenset({"ops.healthz", "ops.readyz", "ops.metrics_view", "static", "docs_assets"})
VERIFY_ENDPOINTS = frozenset({"documents.verify", "verify_pages.check"})
SIGN_IN_ENDPOINTS = frozenset({"console.sign_in", "desk.sign_in", "apply_pages.sign_in"})


class RateLimited(HubError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class _ParsedOnce(ApplicationLimit):
    """An application-wide limit whose string (``"6000/minute"``) is parsed once. Flask-Limiter parses it
    again for every request (a tenth of a cached read's CPU in a profile); ours are fixed strings, and what
    parsing gives holds nothing of a request."""

    def __iter__(self) -> Iterator[RuntimeLimit]:
        parsed = self.__dict__.get("_parsed")
        if parsed is None:
            parsed = self.__dict__["_parsed"] = tuple(super().__iter__())
        return iter(parsed)


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


def _caller() -> tuple[str, str]:
    """("token", a digest of it) for a valid bearer token, ("address", the address) for anyone else."""
    cached = g.get("rate_limit_caller")
    if cached is not None:
        return cached
    caller = ("address", client_address())
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        token_hash = authn.hash_token(secret.strip())
        if authn.principal_for_hash(hub_state().store, token_hash) is not None:
            # A digest of the stored hash: the Redis key names neither the token nor its lookup key.
            caller = ("token", hashlib.sha256(token_hash.encode()).hexdigest()[:32])
    g.rate_limit_caller = caller
    return caller


def _by_token() -> str:
    return "token:" + _caller()[1]


def _by_address() -> str:
    return "address:" + client_address()


def _not_a_token_caller() -> bool:
    return _caller()[0] != "token"


def _not_an_address_caller() -> bool:
    return _caller()[0] != "address"


def _not_a_verification() -> bool:
    return request.endpoint not in VERIFY_ENDPOINTS


def _not_a_sign_in() -> bool:
    return request.endpoint not in SIGN_IN_ENDPOINTS


def _sign_in_failed(response: Response) -> bool:
    return response.status_code >= 400


def _message(what: str) -> str:
    return f"Too many {what}; wait for the number of seconds in Retry-After, then try again."


def storage_target(settings: Settings, store: Store) -> tuple[str, dict]:
    """The ``limits`` storage URI and options that reach the same Redis as ``store``."""
    options: dict = {
        "key_prefix": KEY_PREFIX,
        "socket_timeout": STORAGE_TIMEOUT_S,
        "socket_connect_timeout": STORAGE_TIMEOUT_S,
        "retry": None,  # redis-py: no retries (its default backs off for seconds); the fallback takes over
    }
    if store.embedded is not None:
        return f"redis+unix://{store.embedded.socket_path}", options
    url = urlsplit(settings.redis_url or "")
    if settings.redis_cluster:
        del options["retry"]  # a cluster client takes no retry object
        if url.scheme == "rediss":
            options["ssl"] = True
        return urlunsplit(("redis+cluster", url.netloc, "", "", "")), options
    if settings.redis_sentinel_master:
        # The hub's form names the Sentinels and the db; the password is the master's, which Sentinels
        # themselves may not require (limits would send it to them too unless told not to).
        userinfo, _, hosts = url.netloc.rpartition("@")
        options.update(
            db=int(url.path.strip("/") or 0),
            password=unquote(userinfo.partition(":")[2]) or None,
            use_replicas=False,
            sentinel_kwargs={"password": None, "username": None, "socket_timeout": STORAGE_TIMEOUT_S},
        )
        return f"redis+sentinel://{hosts}/{quote(settings.redis_sentinel_master, safe='')}", options
    if url.scheme == "unix":  # urlunsplit would drop the "//" of an empty host, which redis-py needs
        return f"redis+unix://{url.netloc}{url.path}" + (f"?{url.query}" if url.query else ""), options
    return settings.redis_url or "", options


def _headers(limiter: Limiter, response: Response) -> Response:
    """Retry-After and RateLimit-* (draft-ietf-httpapi-ratelimit-headers) on a 429. Not on other answers:
    reading a bucket's window costs a second Redis round trip, a tenth of a cached read's CPU."""
    current = limiter.current_limit
    if current is None or response.status_code != 429:
        return response
    try:
        reset_in = max(0, int(current.reset_at - time.time()))
        remaining = current.remaining
    except Exception as exc:  # the storage went away after the check: the answer stands without the headers
        log.warning("rate limit headers left out", extra={"error": type(exc).__name__})
        return response
    item = current.limit
    response.headers["RateLimit-Limit"] = str(item.amount)
    response.headers["RateLimit-Remaining"] = str(remaining)
    response.headers["RateLimit-Reset"] = str(reset_in)
    response.headers["RateLimit-Policy"] = f"{item.amount};w={item.get_expiry()}"
    response.headers["Retry-After"] = str(max(1, reset_in))
    return response


def init_app(app: Flask, settings: Settings, store: Store) -> Limiter | None:
    """Install the limits (nothing when ``HUB_RATE_LIMITS=0``)."""
    if not settings.rate_limits:
        return None
    uri, options = storage_target(settings, store)
    limits = [
        _ParsedOnce(
            settings.rate_limit_token,
            key_function=_by_token,
            scope="token",
            exempt_when=_not_a_token_caller,
            error_message=_message("requests with this token"),
        ),
        _ParsedOnce(
            settings.rate_limit_address,
            key_function=_by_address,
            scope="address",
            exempt_when=_not_an_address_caller,
            error_message=_message("requests from this address"),
        ),
        _ParsedOnce(
            settings.rate_limit_verify,
            key_function=_by_address,
            scope="verify",
            methods=["POST"],
            exempt_when=_not_a_verification,
            error_message=_message("verifications from this address"),
        ),
        _ParsedOnce(
            settings.rate_limit_sign_in,
            key_function=_by_address,
            scope="sign-in",
            methods=["POST"],
            exempt_when=_not_a_sign_in,
            deduct_when=_sign_in_failed,
            error_message=_message("failed sign-ins from this address"),
        ),
    ]
    limiter = Limiter(
        _by_address,
        application_limits=limits,
        storage_uri=uri,
        storage_options=options,
        strategy="sliding-window-counter",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=False,  # written by _headers, in the standard's names
        request_identifier=lambda: request.endpoint or "unmatched",  # 404s count too: no free scanning
    )
    limiter.request_filter(lambda: request.endpoint in UNLIMITED_ENDPOINTS)
    limiter.init_app(app)
    app.after_request(lambda response: _headers(limiter, response))
    app.register_error_handler(RateLimitExceeded, lambda error: handle_hub_error(RateLimited(error.description)))
    app.extensions["hub_limiter"] = limiter
    return limiter
