"""CPU time per operation of a hot path, in this process: ``python -m bench.cpu [--count N] [--only OP ...]``.

A hub is made in this process on its own embedded Redis (a fresh data directory), set up through its
API as the licence benchmark sets it up, and driven one request at a time with Flask's test client:
no HTTP server, no other request in flight. For each operation it prints the median wall time and
the median CPU time of this process per request (licence verification parses the PDF in the
worker's verifier processes, whose CPU time this process does not see: its CPU figure is the
request's own share only, and its wall time includes the verifier). These are the before/after
figures of the cuts in docs/profiling.md: far less noisy on a shared machine than rates under load.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from hub import create_app
from hub.config import load_settings
from hub.identifiers import with_check_characters
from hub.store import keys

from .licences import AGENCY, AGENCY_NAME, LABELS, REGION, TYPE_CODE, TYPE_NAME
from .licences_load import request_bodies

ADMIN = "bench-cpu-operator-token-0123456789"  # a throwaway hub's token


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
def throwaway_hub(prefix: str) -> Iterator[Flask]:
    """A hub in this process on a fresh data directory (rate limits off, ADMIN the operator token);
    its embedded Redis stopped and the directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as data_dir:
        settings = load_settings(
            {"HUB_DATA_DIR": data_dir, "HUB_ADMIN_TOKEN": ADMIN, "HUB_LOG_LEVEL": "WARNING", "HUB_RATE_LIMITS": "0"}
        )
        app = create_app(settings=settings)
        try:
            yield app
        finally:
            app.extensions["hub"].store.stop_embedded_if_last()


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

        if not only or "issue" in only or "verify" in only:
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

        def read(n: int) -> None:
            answer = client.get(f"/verify/{issued[n % len(issued)]}", headers={"Accept": "application/json"})
            if answer.status_code != 200:
                raise RuntimeError(f"read: {answer.status_code}")

        if not only or "read" in only:
            figures["read"] = _timed(count * 10, read)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Print the figures; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="requests timed per operation (reads: ten times)")
    parser.add_argument("--only", nargs="+", choices=["issue", "verify", "read"], help="these operations only")
    args = parser.parse_args(argv)
    for name, figure in measure(args.count, args.only).items():
        print(
            f"{name}: {figure['count']} one at a time, wall p50 {figure['wall_ms_p50']:.1f} ms,"
            f" CPU p50 {figure['cpu_ms_p50']:.1f} ms",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
