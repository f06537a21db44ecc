"""A/B figures of the profiling cuts: ``python -m bench.cuts CUT [--count N]``.

A hub is made in this process (as :mod:`bench.cpu` makes it) and issues licences one at a time,
the cut switched off for even-numbered requests and on for odd ones, so both sides share the
machine's load alike; it prints the median and mean CPU time of this process per licence each way
(the first two requests left out). Cuts (docs/profiling.md):

- ``timestamper``: off makes a new time stamper for every seal (``Pki.timestamper``), as before;
- ``size``: off lets pyHanko size every signature container by a trial signature, as before;
- ``parsed``: off parses the trust material from DER for every seal, as before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from certs import pades
from hub.identifiers import with_check_characters
from hub.licences import pki as hub_pki

from .cpu import setup, throwaway_hub
from .licences_load import request_bodies


class _Forgetful(dict):  # type: ignore[type-arg]
    """A signature-size cache that never keeps anything: pyHanko sizes every signature itself."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def _switches(state: Any) -> dict[str, Callable[[bool], None]]:
    kept_sizes, kept_parser = pades._RESERVED, pades.parsed

    def timestamper(on: bool) -> None:
        if not on:
            state.pki._timestampers.kept = None  # this (the only) thread makes a new one next seal

    def size(on: bool) -> None:
        pades._RESERVED = kept_sizes if on else _Forgetful()

    def parsed(on: bool) -> None:
        chosen = kept_parser if on else (lambda kind, der: kind.load(der))
        pades.parsed = hub_pki.parsed = chosen  # type: ignore[assignment]

    return {"timestamper": timestamper, "size": size, "parsed": parsed}


def main(argv: list[str] | None = None) -> int:
    """Print the A/B figures of one cut; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.cuts", description=__doc__.splitlines()[0])
    parser.add_argument("cut", choices=["timestamper", "size", "parsed"])
    parser.add_argument("--count", type=int, default=40, help="licences issued, half with the cut off")
    args = parser.parse_args(argv)
    with throwaway_hub("hub-bench-cuts-") as app:
        state = app.extensions["hub"]
        client = app.test_client()
        agency = setup(client)
        bodies = request_bodies()
        switch = _switches(state)[args.cut]
        used: dict[str, list[float]] = {"off": [], "on": []}
        for n in range(args.count):
            on = n % 2 == 1
            switch(on)
            body = json.loads(
                json.dumps(bodies[n % len(bodies)]).replace(
                    "@ID@", with_check_characters("credit-code", f"913301005{n:07d}")
                )
            )
            started = time.process_time()
            answer = client.post("/api/v1/licences", json=body, headers=agency)
            spent = (time.process_time() - started) * 1000
            if answer.status_code != 201:
                raise RuntimeError(f"issue: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
            if n >= 2:
                used["on" if on else "off"].append(spent)
        switch(True)
    for side, values in used.items():
        print(
            f"{args.cut} {side}: {len(values)} licences, CPU per licence median {statistics.median(values):.1f} ms,"
            f" mean {statistics.mean(values):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
