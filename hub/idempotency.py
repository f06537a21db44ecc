"""``Idempotency-Key`` on creating POSTs: a repeat returns the first answer and creates nothing new.

The first request claims the key (SET NX) with a fingerprint of its method, path and body, runs,
and stores its answer. A repeat with the same fingerprint gets that answer back
(``Idempotent-Replayed: true``); with another fingerprint it is 422; while the first is still
running, 409. A request that fails releases its claim, so a corrected retry may reuse the key.
Secrets in an answer (a new token) are never stored: their replay omits them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, g, request

from . import keys
from .errors import Conflict, Invalid
from .keyring import Keyring
from .store import Store

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


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


def _replay(record: dict[str, Any], keyring: Keyring | None) -> Response:
    body: str | bytes = keyring.decrypt(record["body"]) if keyring is not None else record["body"]
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


def _sealed(body: str, get_keyring: Callable[[], Keyring] | None) -> str:
    return get_keyring().encrypt(body) if get_keyring else body


def idempotent(
    get_store: Callable[[], Store],
    ttl_seconds: Callable[[], int],
    redact: tuple[str, ...] = (),
    get_keyring: Callable[[], Keyring] | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Decorate a creating view so that it honours ``Idempotency-Key``.

    With ``get_keyring``, the kept answer is sealed (it holds personal data) and opened on replay.
    """

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
            claim = {"state": "pending", "fingerprint": fingerprint, "request_id": g.request_id}
            if not store.set_json_if_absent(record_key, claim, ttl_seconds()):
                existing = store.get_json(record_key) or {}
                if existing.get("fingerprint") != fingerprint:
                    raise Invalid(
                        f"This {HEADER} was used for a different request; use a new key for a new request.",
                        errors={HEADER: ["Reused with another body or path."]},
                    )
                if existing.get("state") != "complete":
                    raise Conflict(f"A request with this {HEADER} is still being processed; retry shortly.")
                return _replay(existing, get_keyring() if get_keyring else None)
            try:
                response = view(*args, **kwargs)
            except BaseException:
                store.delete(record_key)
                raise
            if response.status_code >= 400:
                store.delete(record_key)
                return response
            store.set_json(
                record_key,
                {
                    "state": "complete",
                    "fingerprint": fingerprint,
                    "status": response.status_code,
                    "mimetype": response.mimetype,
                    "body": _sealed(_stored_body(response, redact), get_keyring),
                    "encoding": "base64" if _is_binary(response) else "text",
                    "location": response.headers.get("Location"),
                },
                ttl_seconds(),
            )
            return response

        return wrapper

    return decorator
