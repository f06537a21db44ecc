"""Stand-in agency services for the resolution benchmark, in a process of their own.

``python -m bench.agency_runner PLAN`` reads a JSON plan ``{"delay_s": 0.1, "agencies": [{"port": 8101,
"records": {dataset: {subject_id: {evidence_type: record}}}}, ...]}`` and serves each agency with
:class:`hub.demo.agency.StandInAgency` on 127.0.0.1, every dataset answering after ``delay_s``, until
SIGTERM. Running the agencies apart from the benchmark keeps their GIL away from the one that
drives wrk and reads the results.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from hub.demo.agency import StandInAgency


def main(argv: list[str] | None = None) -> int:
    """Serve the agencies of the plan until SIGTERM or SIGINT; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.agency_runner", description=__doc__)
    parser.add_argument("plan", type=Path, help="JSON file: delay_s and the agencies (port, records)")
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    agencies = []
    try:
        for entry in plan["agencies"]:
            agency = StandInAgency(entry["records"], port=entry["port"])
            # socketserver listens with a backlog of 5; the hub opens a connection per call, many at once.
            agency.server.socket.listen(128)
            for dataset in entry["records"]:
                agency.behaviour[dataset] = {"delay_s": plan["delay_s"]}
            agencies.append(agency.start())
            print(f"stand-in agency at {agency.url} serving {sorted(entry['records'])}", flush=True)
        stop.wait()
    finally:
        for agency in agencies:
            agency.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
