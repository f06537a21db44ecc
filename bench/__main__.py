"""``python -m bench`` (``make bench``): run every benchmark, then write docs/benchmarks.md and bench/out/*.json."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from collections.abc import Callable

from . import archives, backup, intake, licences, report, resolution, service_item_get, wrk

# Each benchmark starts and stops its own servers and returns one comparison for the report.
BENCHMARKS: list[Callable[[wrk.WrkSettings], report.Result]] = [
    service_item_get.run,
    resolution.run,
    licences.run,
    intake.run,
    archives.run,
    backup.run,
]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write their report; the exit status."""
    defaults = wrk.WrkSettings()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="measured rounds per server")
    parser.add_argument("--seconds", type=int, default=defaults.round_seconds, help="seconds of one round")
    parser.add_argument("--warmup", type=int, default=defaults.warmup_seconds, help="seconds of warm-up per server")
    args = parser.parse_args(argv)
    load = wrk.WrkSettings(warmup_seconds=args.warmup, rounds=args.rounds, round_seconds=args.seconds)
    # A SIGTERM (say, from a CI timeout) unwinds like Ctrl-C, so every server is still stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    wrk.ensure_wrk()
    facts = report.machine_facts()
    options = sys.argv[1:] if argv is None else argv
    facts["command"] = f".venv/bin/python -m bench {shlex.join(options)}" if options else report.COMMAND
    results = [benchmark(load) for benchmark in BENCHMARKS]
    facts["loadavg_1min_after"] = os.getloadavg()[0]  # other work on the machine shows here
    for path in report.write_all(results, facts):
        print(f"wrote {path.relative_to(report.REPO)}")
    print(report.DOC_PATH.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
