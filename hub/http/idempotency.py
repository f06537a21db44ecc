"""``Idempotency-Key`` on creating POSTs: a repeat returns the first answer and creates nothing new.

The first request claims the key (SET NX) with a fingerprint of its method, path and body, runs,
and stores its answer. A repeat with the same fingerprint gets that answer back
(``Idempotent-Replayed: true``); with another fingerprint it is 422; while the first is still
running, 409. A request that fails releases its claim, so a corrected retry may reuse the key.
Secrets in an answer (a new token) are never stored: their replay omits them.

A claim names the process that holds it. A worker killed mid-request (``kill -9``, the OOM killer,
gunicorn's timeout) cannot release its claim, so a retry that finds the claim held by a process
of this host that is gone takes it over; a claim held on another host is taken over once it is
older than any request could run (``ABANDONED_AFTER_S``). A live process whose Redis went away
mid-request cannot release its claim or record its answer at once either: its :class:`Settler`
tries that again in the background until Redis is back, so the key is not held for a day. The same goes
for a claim whose acknowledgement was lost (Redis killed between keeping it and answering): the request
cannot tell whether it holds the key, so the settler releases the claim once Redis is back if it is there;
and a claim found on a retried SET is recognised as the request's own by its nonce.

A worker killed after its work committed but before its answer was kept leaves no answer to replay:
the services that create things note what they made in the same transaction (:mod:`hub.store.outcomes`),
so the retry answers with that rather than making it again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, request

from hub.context import RequestKey
from hub.errors import Conflict, Invalid, StoreUnavailable
from hub.store import keys
from hub.store.client import Store, Tx

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# A claim held on another host, whose process this one cannot see, counts as abandoned after this long.
ABANDONED_AFTER_S = 600


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the name in parentheses may hold spaces
    if not fields or fields[0] in ("Z", "X"):  # killed, not yet reaped by its parent
        return None
    return fields[19]


def _this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "boot": _boot_id(), "pid": pid, "started": _started(pid)}


def _abandoned(claim: dict[str, Any]) -> bool:
    """True when the process that claimed a key can no longer finish its request."""
    owner = claim.get("owner") or {}
    if owner.get("host") == socket.gethostname() and owner.get("boot") == _boot_id():
        return _started(int(owner.get("pid", 0))) != owner.get("started")  # gone, or its pid reused
    claimed_at = claim.get("claimed_at")  # None: a claim older than this rule, left to its TTL
    return claimed_at is not None and time.time() - float(claimed_at) > ABANDONED_AFTER_S


def _take_over(store: Store, record_key: str, abandoned: dict[str, Any], claim: dict[str, Any], ttl: int) -> bool:
    """Replace an abandoned claim with ours, unless someone else changed it first; True if ours now."""

    def work(tx: Tx) -> bool:
        if tx.get_json(record_key) != abandoned:
            return False
        tx.set_json(record_key, claim, ttl)
        return True

    return store.atomic(work)


class Settler:
    """The end of a request's bookkeeping (release a claim, record an answer) when Redis was away as the request
    ended: tried again in the background until it lands, and only while the key still holds the claim."""

    def __init__(self, store: Store, interval_s: float = 0.5) -> None:
        self._store = store
        self._interval_s = interval_s
        self._lock = threading.Lock()
        # By key and claim: a retry whose own claim failed may queue a release of the same key as the request
        # before it, and must not replace that request's write.
        self._writes: dict[tuple[str, str | None], tuple[dict[str, Any], dict[str, Any] | None, int]] = {}
        self._thread: threading.Thread | None = None

    def write(self, record_key: str, claim: dict[str, Any], value: dict[str, Any] | None, ttl: int) -> None:
        """Replace ``claim`` (held by this request) at ``record_key`` by ``value`` (None: delete it), now or, if
        Redis is away, later."""
        try:
            if value is None:
                self._store.delete(record_key)
            else:
                self._store.set_json(record_key, value, ttl)
        except StoreUnavailable:
            self.later(record_key, claim, value, ttl)

    def later(self, record_key: str, claim: dict[str, Any], value: dict[str, Any] | None, ttl: int) -> None:
        """Replace ``claim`` at ``record_key`` by ``value`` in the background, once Redis answers, if the key
        holds that claim then (it may never have: a claim whose answer was lost may or may not have landed)."""
        with self._lock:
            self._writes[(record_key, claim.get("nonce"))] = (claim, value, ttl)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="idempotency-settler", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._interval_s)
            with self._lock:
                writes = dict(self._writes)
            for (record_key, nonce), (claim, value, ttl) in writes.items():
                try:
                    self._store.atomic(lambda tx, k=record_key, c=claim, v=value, t=ttl: _replace_claim(tx, k, c, v, t))
                except StoreUnavailable:
                    continue  # still away: next round
                except Exception:  # cannot ever land: the claim is left to its TTL
                    log.exception("an idempotency record could not be settled", extra={"key": record_key})
                with self._lock:
                    del self._writes[(record_key, nonce)]
            with self._lock:
                if not self._writes:
                    self._thread = None
                    return


def _replace_claim(tx: Tx, record_key: str, claim: dict[str, Any], value: dict[str, Any] | None, ttl: int) -> None:
    if tx.get_json(record_key) != claim:
        return  # no longer ours (its TTL ran out and someone claimed the key anew): leave it
    if value is None:
        tx.delete(record_key)
    else:
        tx.set_json(record_key, value, ttl)


def _claim(store: Store, record_key: str, claim: dict[str, Any], ttl: int) -> Response | None:
    """Claim ``record_key`` for this request (None), or the answer kept for an earlier one; Invalid for a key used
    for another request, Conflict while another request holds it."""
    if store.set_json_if_absent(record_key, claim, ttl):
        return None
    existing = store.get_json(record_key) or {}
    if existing.get("fingerprint") != claim["fingerprint"]:
        raise Invalid(
            f"This {HEADER} was used for a different request; use a new key for a new request.",
            errors={HEADER: ["Reused with another body or path."]},
        )
    if existing.get("state") == "complete":
        return _replay(existing)
    if not (_abandoned(existing) and _take_over(store, record_key, existing, claim, ttl)):
        raise Conflict(f"A request with this {HEADER} is still being processed; retry shortly.")
    return None


def settler(store: Store) -> Settler:
    """This app's settler (one per worker process: made on first use, after gunicorn forked)."""
    return current_app.extensions.setdefault("hub_idempotency_settler", Settler(store))


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        # The boundary differs on every send: fingerprint the fields and files, not the raw body.
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"field {name}={value}\n".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            digest.update(f"file {name} {hashlib.sha256(upload.stream.read()).hexdigest()}\n".encode())
            upload.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: dict[str, Any]) -> Response:
    body: str | bytes = record["body"]
    if record.get("encoding") == "base64":
        body = base64.b64decode(body)
    response = Response(body, status=record["status"], mimetype=record["mimetype"])
    if record.get("location"):
        response.headers["Location"] = record["location"]
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _is_binary(response: Response) -> bool:
    return not (response.is_json or (response.mimetype or "").startswith("text/"))


def _stored_body(response: Response, redact: tuple[str, ...]) -> str:
    if _is_binary(response):
        return base64.b64encode(response.get_data()).decode()  # a sealed PDF, say
    if not redact or not response.is_json:
        return response.get_data(as_text=True)
    body = response.get_json()
    for name in redact:
        body.pop(name, None)
    return response.json_module.dumps(body)


def idempotent(
    get_store: Callable[[], Store],
    ttl_seconds: Callable[[], int],
    redact: tuple[str, ...] = (),
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Decorate a creating view so that it honours ``Idempotency-Key``. The answers kept for replays may hold
    personal data (a resolution's evidence, a licence's holder): the store seals them at rest."""

    def decorator(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            idempotency_key = request.headers.get(HEADER)
            if idempotency_key is None:
                return view(*args, **kwargs)
            if not 0 < len(idempotency_key) <= MAX_KEY_LENGTH or not idempotency_key.isprintable():
                raise Invalid(
                    f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable characters.",
                    errors={HEADER: ["Not a valid key."]},
                )
            store = get_store()
            record_key = keys.idempotency(g.principal.actor, idempotency_key)
            fingerprint = _fingerprint()
            claim = {
                "state": "pending",
                "fingerprint": fingerprint,
                "request_id": g.request_id,
                # This request's own (a client may send the same request id twice): a claim whose answer was lost
                # and that redis-py sent again is found as ours (Store.set_json_if_absent).
                "nonce": secrets.token_hex(8),
                "owner": _this_process(),
                "claimed_at": time.time(),
            }
            try:
                replay = _claim(store, record_key, claim, ttl_seconds())
            except StoreUnavailable:
                # The claim may have landed and only its answer been lost (Redis killed just after): release it
                # once Redis is back, if it is there, or the key would answer 409 until its TTL ran out.
                settler(store).later(record_key, claim, None, ttl_seconds())
                raise
            if replay is not None:
                return replay
            # Services note what they create under this key (hub.outcomes): a retry after a crash finds it.
            g.request_key = RequestKey(g.principal.actor, idempotency_key, fingerprint, ttl_seconds())
            try:
                response = view(*args, **kwargs)
            except BaseException:
                settler(store).write(record_key, claim, None, ttl_seconds())
                raise
            if response.status_code >= 400:
                settler(store).write(record_key, claim, None, ttl_seconds())
                return response
            # The work is done and committed: the answer stands even if Redis is away to record it just now.
            settler(store).write(
                record_key,
                claim,
                {
                    "state": "complete",
                    "fingerprint": fingerprint,
                    "status": response.status_code,
                    "mimetype": response.mimetype,
                    "body": _stored_body(response, redact),
                    "encoding": "base64" if _is_binary(response) else "text",
                    "location": response.headers.get("Location"),
                },
                ttl_seconds(),
            )
            return response

        return wrapper

    return decorator
