"""A/B figures of the kept connector list: ``python -m bench.connector_listing [--connectors N] [--calls N]``.

A hub is made in this process (as :mod:`bench.cpu` makes it) with N active ``licences`` connectors,
all providing one evidence type, and asks ``Sources.providers`` for it, as every resolution does:
alternately with the worker's kept list dropped first (the list and every record read again and
each record's built connector found by its hash, as before) and kept (one GET of the change
marker). It prints the median and mean wall time of each side (docs/profiling.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from .cpu import ADMIN, setup, throwaway_hub
from .licences import AGENCY, TYPE_CODE


def main(argv: list[str] | None = None) -> int:
    """Print the A/B figures; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.connector_listing", description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=200, help="active connectors registered")
    parser.add_argument("--calls", type=int, default=600, help="provider look-ups, half with the list dropped")
    args = parser.parse_args(argv)
    with throwaway_hub("hub-bench-listing-") as app:
        state = app.extensions["hub"]
        client = app.test_client()
        setup(client)
        operator = {"Authorization": f"Bearer {ADMIN}"}
        for n in range(args.connectors):
            connector = {"id": f"own-{n:04d}", "agency": AGENCY, "kind": "licences", "provides": [TYPE_CODE]}
            for path, body in (
                ("/api/v1/connectors", {**connector, "config": {}, "timeout_ms": 1000}),
                (f"/api/v1/connectors/{connector['id']}/test", {}),
                (f"/api/v1/connectors/{connector['id']}/activation", {"active": True}),
            ):
                answer = client.post(path, json=body, headers=operator)
                if answer.status_code not in (200, 201):
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        sources = state.sources
        sources.providers([TYPE_CODE])  # first use: connectors built
        spent: dict[str, list[float]] = {"read every time": [], "kept": []}
        for n in range(args.calls):
            kept = n % 2 == 1
            if not kept:
                sources._listing = None  # the A side: what every resolution did before
            started = time.perf_counter()
            found = sources.providers([TYPE_CODE])
            spent["kept" if kept else "read every time"].append((time.perf_counter() - started) * 1000)
            if len(found[TYPE_CODE]) != args.connectors:
                raise RuntimeError(f"{len(found[TYPE_CODE])} providers, not {args.connectors}")
    for side, values in spent.items():
        print(
            f"{args.connectors} connectors, {side}: {len(values)} look-ups, median {statistics.median(values):.3f} ms,"
            f" mean {statistics.mean(values):.3f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
