"""Benchmark: intake (``POST /api/v1/applications``) behind a 3-source resolution, and the due-date query.

The hub (``hub serve`` without the demo province) is set up through its API as the operator would:
a lead agency, a portal agency with a ``portal`` token, three holder agencies each with a REST
connector to its own stand-in agency service (:mod:`bench.agency_runner`, a process each) answering
after ``SOURCE_DELAY_S``, and a service item of four materials: three of those evidence types and one
that nobody holds, so every answer carries a one-time notice naming it. The default need-to-know
policy lets the item's lead agency read the three evidence types.

Two measurements, one hub:

1. Submission throughput: wrk POSTs applications through the portal, a different applicant each
   request (every one of :data:`APPLICANTS` has a record at every source), one at a time and with as
   many connections as the hub has request threads; the overhead is p50 minus the slowest source.
2. The due-date query ``GET /api/v1/applications?due_before=...&limit=50`` as the lead agency with
   1,000, 10,000 and 100,000 accepted cases (:mod:`bench.intake_due`): a few made through the API,
   the rest seeded into the hub's Redis in the shape the service writes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from . import processes, wrk
from .intake_due import measure_due
from .intake_hub import APPLICANT_COUNT, APPLICANTS, SOURCES, IntakeHub, check_submission, intake_hub
from .intake_hub import submission as submission_body
from .intake_report import IntakeReport
from .resolution import LoadLevel


def submit_script(path: Path) -> Path:
    """A wrk Lua script POSTing applications, each wrk thread walking the applicants from a random start."""
    head, tail = json.dumps(submission_body("@ID@")).split("@ID@")
    applicants = ",\n  ".join(f'"{subject}"' for subject in APPLICANTS)  # ids that fit: Lua has no check of its own
    path.write_text(
        f"""-- written by bench/intake.py
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local head, tail = [[{head}]], [[{tail}]]
local threads = {{}}
local count = 0

function setup(thread)
  math.randomseed(os.time() + #threads)
  thread:set("start", math.random(0, {APPLICANT_COUNT - 1}))
  table.insert(threads, thread)
end

local applicants = {{
  {applicants}
}}

function request()
  count = count + 1
  local n = (start + count) % {APPLICANT_COUNT}
  return wrk.format(nil, nil, nil, head .. applicants[n + 1] .. tail)
end
"""
    )
    return path


def measure_submission(setup: IntakeHub, load: wrk.WrkSettings) -> tuple[list[LoadLevel], float, dict[str, int], int]:
    """Submissions one at a time and under load: the levels, the hub's CPU per submission (one at a time),
    the hub's source calls and the submissions audited in the timed runs."""
    for subject in APPLICANTS[:4]:
        check_submission(setup, subject)
    target = wrk.Target(
        "submit",
        f"{setup.base}/api/v1/applications",
        setup.headers(setup.portal_token),
        setup.province.hub_server.worker_cpu_seconds,
        submit_script(setup.province.work / "submit.lua"),
    )
    calls_before, stored_before = setup.province.api.source_calls(), setup.applications()
    print("measuring submissions one at a time", flush=True)
    sequential = replace(load, threads=1, connections=1)
    wrk.measure_once(target, sequential, 1)  # warm-up
    workers = setup.province.hub_server.worker_cpu_seconds
    cpu_before = workers()
    alone = wrk.measure_once(target, sequential, load.round_seconds)
    cpu_after = workers()
    cpu_ms = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after) / alone.requests * 1000
    print(
        f"  one at a time: p50 {alone.p50_ms:.2f} ms, p99 {alone.p99_ms:.2f} ms, worker CPU {cpu_ms:.1f} ms", flush=True
    )
    levels = [LoadLevel(sequential, wrk.Measurement([alone]))]
    connections = processes.WORKERS * processes.THREADS  # as many as the hub has request threads
    print(f"measuring submissions, {connections} connections", flush=True)
    level_load = replace(load, connections=connections)
    levels.append(LoadLevel(level_load, wrk.measure_interleaved([target], level_load)["submit"]))
    calls_after, stored = setup.province.api.source_calls(), setup.applications() - stored_before
    calls = {outcome: calls_after[outcome] - calls_before[outcome] for outcome in ("record", "not-held", "error")}
    served = sum(r.requests for level in levels for r in level.measured.rounds + level.measured.discarded)
    if calls["error"] or calls["not-held"] or calls["record"] < served * SOURCES or stored < served:
        raise processes.ServerError(
            f"{served} submissions answered, {stored} stored, source calls {calls}: not every one was complete"
        )
    return levels, cpu_ms, calls, stored


def run(load: wrk.WrkSettings) -> IntakeReport:
    """Start the agencies and the hub, set it up, measure, and stop every process however the run ends."""
    with intake_hub() as setup:
        try:
            levels, cpu_ms, calls, stored = measure_submission(setup, load)
            due = measure_due(setup, load)
        except (wrk.WrkError, processes.ServerError):
            print(f"--- the end of the hub's log:\n{setup.province.hub_server.log_tail()}", file=sys.stderr)
            raise
    return IntakeReport(levels=levels, cpu_ms=cpu_ms, source_calls=calls, stored=stored, due=due)


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.intake", __doc__.splitlines()[0], run)
