"""CPU time per operation of a hot path, in this process: ``python -m bench.cpu [--count N] [--only OP ...]``.

A hub is made in this process on its own embedded Redis (a fresh data directory; rate limits on, set past
the load; the INFO access log written to /dev/null), set up through its API as the licence benchmark sets
it up, and driven one request at a time: licences through Flask's test client, the two reads (``lookup``:
``GET /verify/{number}`` as JSON, no token; ``item``: the demo's service item with a bearer token;
``reverify``: one licence PDF posted again and again to ``POST /api/v1/verifications``, its report cached)
called on the WSGI app itself, so the test client's own work is not in their figures; ``resolve``: resolutions
of 1, 5 and 20 materials from stand-in agencies that answer at once (:mod:`bench.cpu_resolution`). No HTTP
server, no other request in flight. For each operation it prints the median wall time and the median CPU time
of this process per request (licence verification parses the PDF in the worker's verifier processes, whose
CPU time this process does not see: its CPU figure is the request's own share only, and its wall time
includes the verifier). These are the before/after figures of the cuts in docs/profiling.md: far less noisy
on a shared machine than rates under load.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from hub import create_app, demo
from hub.config import load_settings
from hub.identifiers import with_check_characters
from hub.store import keys

from .cpu_resolution import resolutions
from .licences import AGENCY, AGENCY_NAME, LABELS, REGION, TYPE_CODE, TYPE_NAME
from .licences_load import request_bodies

ADMIN = "bench-cpu-operator-token-0123456789"  # a throwaway hub's token
PAST_THE_LOAD = {f"HUB_RATE_LIMIT_{bucket}": "100000000/minute" for bucket in ("TOKEN", "ADDRESS", "VERIFY", "SIGN_IN")}
DEMO_ITEM = "440000-SCJG-001-01"  # the service item bench.service_item_get reads


def setup(client: Any) -> dict[str, str]:
    """The licence benchmark's agency and licence type, through the API; the agency token's headers."""
    operator = {"Authorization": f"Bearer {ADMIN}"}

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = operator) -> dict[str, Any]:
        answer = client.post(path, json=body, headers=headers)
        if answer.status_code != 201:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        return answer.get_json()

    post("/api/v1/agencies", {"code": AGENCY, "name": AGENCY_NAME, "region": REGION})
    fields = {name: {"type": "string", "required": True, "label": label} for name, label in LABELS.items()}
    licence_type = {"code": TYPE_CODE, "name": f"{TYPE_NAME[0]} ({TYPE_NAME[1]})", "issuer": AGENCY}
    post("/api/v1/licence-types", {**licence_type, "fields": fields, "validity_days": 1825})
    token = post(f"/api/v1/agencies/{AGENCY}/tokens", {"roles": ["agency"]})["token"]
    return {"Authorization": f"Bearer {token}"}


def _timed(count: int, once: Callable[[int], None]) -> dict[str, float]:
    once(-1)  # first use: seals, pools and caches made
    wall, cpu = [], []
    for n in range(count):
        started, used = time.perf_counter(), time.process_time()
        once(n)
        cpu.append((time.process_time() - used) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {"count": count, "wall_ms_p50": statistics.median(wall), "cpu_ms_p50": statistics.median(cpu)}


@contextmanager
def throwaway_hub(prefix: str, **environment: str) -> Iterator[Flask]:
    """A hub in this process on a fresh data directory (rate limits past the load, ADMIN the operator token,
    the access log to /dev/null); its embedded Redis stopped and the directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir, open(os.devnull, "w") as nowhere:
        settings = load_settings(
            {
                "HUB_DATA_DIR": data_dir,
                "HUB_ADMIN_TOKEN": ADMIN,
                "HUB_LOG_LEVEL": "INFO",
                **PAST_THE_LOAD,
                **environment,
            }
        )
        app = create_app(settings=settings)
        handler = next(h for h in logging.getLogger().handlers if getattr(h, "_hub", False))
        stream = handler.setStream(nowhere)
        try:
            yield app
        finally:
            handler.setStream(stream)
            app.extensions["hub"].store.stop_embedded_if_last()


def _wsgi_call(app: Flask, environ: dict[str, Any], body: bytes, what: str) -> Callable[[int], None]:
    """One request of ``environ`` (and ``body``) straight through the WSGI app, which must answer 200."""

    def once(n: int) -> None:
        statuses: list[str] = []
        start = lambda status, headers, exc_info=None: statuses.append(status)  # noqa: E731
        answer = app.wsgi_app({**environ, "wsgi.input": io.BytesIO(body)}, start)
        try:
            b"".join(answer)
        finally:
            getattr(answer, "close", lambda: None)()
        if not statuses[0].startswith("200"):
            raise RuntimeError(f"{what}: {statuses[0]}")

    return once


def wsgi_get(app: Flask, path: str, headers: dict[str, str]) -> Callable[[int], None]:
    """One GET of ``path`` straight through the WSGI app, which must answer 200."""
    return _wsgi_call(app, EnvironBuilder(path=path, headers=headers).get_environ(), b"", f"GET {path}")


def wsgi_post_file(app: Flask, path: str, pdf: bytes) -> Callable[[int], None]:
    """One multipart POST of ``pdf`` to ``path`` straight through the WSGI app, which must answer 200."""
    environ = EnvironBuilder(path=path, method="POST", data={"file": (io.BytesIO(pdf), "licence.pdf")}).get_environ()
    return _wsgi_call(app, environ, environ["wsgi.input"].read(), f"POST {path}")


def measure(count: int, only: list[str] | None) -> dict[str, dict[str, float]]:
    """Median wall and CPU milliseconds per operation, for each operation chosen."""
    figures: dict[str, dict[str, float]] = {}
    with throwaway_hub("hub-bench-cpu-") as app:
        state = app.extensions["hub"]
        client = app.test_client()
        agency = setup(client)
        bodies = request_bodies()
        issued: list[str] = []

        def issue(n: int) -> None:
            body = json.loads(
                json.dumps(bodies[n % len(bodies)]).replace(
                    "@ID@", with_check_characters("credit-code", f"913301008{n + 1:07d}")
                )
            )
            answer = client.post("/api/v1/licences", json=body, headers=agency)
            if answer.status_code != 201:
                raise RuntimeError(f"issue: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
            issued.append(answer.get_json()["number"])

        if not only or {"issue", "verify", "lookup", "reverify"} & set(only):
            figures["issue"] = _timed(count, issue)
        pdfs = [client.get(f"/api/v1/licences/{number}/pdf", headers=agency).data for number in issued]

        def verify(n: int) -> None:
            for key in list(state.store.keys_matching(keys.verification_cache("*"))):
                state.store.delete(key)
            answer = client.post("/api/v1/verifications", data={"file": (io.BytesIO(pdfs[n % len(pdfs)]), "l.pdf")})
            if answer.status_code != 200 or answer.get_json()["verdict"] != "valid":
                raise RuntimeError(f"verify: {answer.status_code} {answer.get_data(as_text=True)[:300]}")

        if not only or "verify" in only:
            figures["verify"] = _timed(count, verify)

        if not only or "reverify" in only:
            figures["reverify"] = _timed(count * 20, wsgi_post_file(app, "/api/v1/verifications", pdfs[-1]))

        if not only or "lookup" in only:
            lookup = wsgi_get(app, f"/verify/{issued[-1]}", {"Accept": "application/json"})
            figures["lookup"] = _timed(count * 100, lookup)
    if not only or "resolve" in only:
        with throwaway_hub("hub-bench-cpu-res-", HUB_CONNECTOR_ALLOWLIST="127.0.0.1/32") as app:
            with resolutions(app, ADMIN) as resolve:
                for name, once in resolve.items():
                    figures[name] = _timed(count * 5, once)
    if not only or "item" in only:
        with throwaway_hub("hub-bench-cpu-demo-", HUB_DEMO="1") as app:
            demo.load(app.extensions["hub"])
            item = wsgi_get(app, f"/api/v1/service-items/{DEMO_ITEM}", {"Authorization": f"Bearer {ADMIN}"})
            figures["item"] = _timed(count * 100, item)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="requests timed per operation (reads: 100 times)")
    parser.add_argument(
        "--only", nargs="+", choices=["issue", "verify", "reverify", "lookup", "item", "resolve"], help="these only"
    )
    args = parser.parse_args(argv)
    for name, figure in measure(args.count, args.only).items():
        print(
            f"{name}: {figure['count']} one at a time, wall p50 {figure['wall_ms_p50']:.3f} ms,"
            f" CPU p50 {figure['cpu_ms_p50']:.3f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
