"""``python -m bench`` (``make bench``): run every benchmark, then write docs/benchmarks.md and bench/out/*.json.

``--only NAME ...`` runs some of them (their JSON written and their sections printed, the report left
alone unless ``--output`` names where to write one); ``--rounds 1 --seconds 2 --warmup 1`` makes short
rounds for trying the flow out; ``--output DIR`` writes the report and its plots under DIR instead of docs/.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from . import (
    archives,
    backup,
    credentials,
    documents,
    intake,
    licences,
    ofd_licences,
    report,
    resolution,
    scaling_records,
    scaling_workers,
    service_item_get,
    status_lookup,
    wrk,
)

# Each benchmark starts and stops its own servers and returns one result for the report, by name.
BENCHMARKS: dict[str, Callable[[wrk.WrkSettings], report.Result]] = {
    "service_item_get": service_item_get.run,
    "status_lookup": status_lookup.run,
    "resolution": resolution.run,
    "licences": licences.run,
    "ofd": ofd_licences.run,
    "intake": intake.run,
    "archives": archives.run,
    "backup": backup.run,
    "documents": documents.run,
    "credentials": credentials.run,
    "scaling_workers": scaling_workers.run,
    "scaling_records": scaling_records.run,
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write their report; the exit status."""
    defaults = wrk.WrkSettings()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="measured rounds per server")
    parser.add_argument("--seconds", type=int, default=defaults.round_seconds, help="seconds of one round")
    parser.add_argument("--warmup", type=int, default=defaults.warmup_seconds, help="seconds of warm-up per server")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME", help="run these only")
    parser.add_argument(
        "--output", type=Path, help="write the report to DIR/benchmarks.md and its plots to DIR/benchmarks/"
    )
    parser.add_argument(
        "--licences-up-to",
        type=int,
        default=scaling_records.LARGEST,
        help=f"licences on record at the last step of scaling_records (default {scaling_records.LARGEST:,})",
    )
    args = parser.parse_args(argv)
    load = wrk.WrkSettings(warmup_seconds=args.warmup, rounds=args.rounds, round_seconds=args.seconds)
    scaling_records.set_largest(args.licences_up_to)
    # A SIGTERM (say, from a CI timeout) unwinds like Ctrl-C, so every server is still stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    wrk.ensure_wrk()
    facts = report.machine_facts()
    options = sys.argv[1:] if argv is None else argv
    facts["command"] = f".venv/bin/python -m bench {shlex.join(options)}" if options else report.COMMAND
    results = []
    for name in args.only or BENCHMARKS:
        print(f"== {name}", flush=True)
        results.append(BENCHMARKS[name](load))
    facts["loadavg_1min_after"] = os.getloadavg()[0]  # other work on the machine shows here
    if args.output is not None:
        doc_path: Path | None = args.output / report.DOC_PATH.name
    else:
        doc_path = None if args.only else report.DOC_PATH
    for path in report.write_all(results, facts, doc_path):
        print(f"wrote {path.relative_to(report.REPO) if path.is_relative_to(report.REPO) else path}")
    if doc_path is not None:
        print(doc_path.read_text())
    else:
        for result in results:
            print("\n".join(result.markdown()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
