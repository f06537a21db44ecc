"""Benchmark: throughput and p50 with 1, 2 and 4 gunicorn workers (``HUB_WORKERS``), each of 4 threads.

One data directory serves every step: ``hub serve`` with the demo province is set up as the licence
benchmark sets it up and issues the licences the verification rounds need, then is stopped and
started again on the same data with 1, 2 and 4 workers. At each step, with the same load:

- read one service item: ``GET /api/v1/service-items/{code}`` as in the service-item benchmark;
- verify a licence PDF: ``POST /api/v1/verifications`` over distinct PDFs the hub issued, its
  verification cache emptied before every run, so every verification that fits in the run is a miss
  (a run that answered more requests than there are PDFs is flagged in the JSON);
- issue a licence: ``POST /api/v1/licences`` as in the licence benchmark.

The machine's cores bound what more workers can give: with 2 cores shared by wrk and the hub, the
steps past 2 workers show the cost of more processes as much as their gain.
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import redis

from hub.store import keys

from . import processes, wrk
from .licences import fetch_pdfs, issue_more, setup_hub, verify_once
from .licences_load import check_verdicts, issue_script, verify_script, wrk_once
from .plots import over
from .resolution import HubApi
from .service_item_get import ITEM_CODE

NAME = "scaling_workers"
WORKER_COUNTS = [1, 2, 4]
HEAVY_CONNECTIONS = 8  # verification and issuance: two per worker at the most workers
WARMUP_HEAVY_S = 5
VERIFICATIONS_PER_SECOND = 30  # more than 2 cores manage; sizes the pool of distinct PDFs


@dataclass(frozen=True)
class Step:
    """The figures with one number of workers."""

    workers: int
    operations: dict[str, wrk.Measurement]
    verify_cache_hits: int  # verification answers beyond the distinct PDFs (0: every one a miss)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "verify_cache_hits_at_most": self.verify_cache_hits,
            "operations": {name: measured.as_dict() for name, measured in self.operations.items()},
        }


@dataclass(frozen=True)
class WorkersResult:
    """Every step and the loads."""

    steps: list[Step]
    read_load: wrk.WrkSettings
    heavy_load: wrk.WrkSettings
    pdfs: int
    name: str = NAME

    def as_json(self) -> dict[str, Any]:
        return {
            "title": "Scaling with gunicorn workers",
            "threads_per_worker": processes.THREADS,
            "read_load": asdict(self.read_load),
            "heavy_load": asdict(self.heavy_load),
            "distinct_pdfs": self.pdfs,
            "points": [step.as_dict() for step in self.steps],
        }

    def markdown(self) -> list[str]:
        read, heavy = self.read_load, self.heavy_load
        operations = list(self.steps[0].operations)
        lines = [
            "## Scaling with gunicorn workers: 1, 2, 4",
            "",
            "- hub: `hub serve` with the demo province, `HUB_WORKERS` ="
            f" {', '.join(str(s.workers) for s in self.steps)}, {processes.THREADS} threads each, restarted on the"
            " same data for each step",
            f"- read one service item: `GET /api/v1/service-items/{ITEM_CODE}`, `wrk -t{read.threads}"
            f" -c{read.connections} -d{read.round_seconds}s --latency`",
            f"- verify: `POST /api/v1/verifications` over {self.pdfs} distinct PDFs the hub issued, its cache emptied"
            " before every run; issue: `POST /api/v1/licences` as in the licence benchmark; both"
            f" `wrk -t{heavy.threads} -c{heavy.connections} -d{heavy.round_seconds}s --latency`",
            f"- {read.rounds} round(s) of each after a warm-up ({read.warmup_seconds} s for the read,"
            f" {max(heavy.warmup_seconds, WARMUP_HEAVY_S)} s for the others, long enough for every worker to start its"
            " verifier processes); each figure the median of its rounds",
            "",
            "| workers | " + " | ".join(f"{op} /s | {op} p50" for op in operations) + " |",
            "| ---: | " + " | ".join("---: | ---:" for _ in operations) + " |",
        ]
        for step in self.steps:
            cells = [
                f"{step.operations[op].requests_per_second:,.1f} | {step.operations[op].p50_ms:,.1f} ms"
                for op in operations
            ]
            lines.append(f"| {step.workers} | " + " | ".join(cells) + " |")
        hits = [step for step in self.steps if step.verify_cache_hits]
        first, last = self.steps[0], self.steps[-1]
        gains = ", ".join(
            f"{op} {over(last.operations[op].requests_per_second, first.operations[op].requests_per_second):.2f}×"
            for op in operations
        )
        lines += [
            "",
            *(
                [
                    "Some verification runs answered more requests than there were distinct PDFs: "
                    + ", ".join(f"{s.workers} worker(s): up to {s.verify_cache_hits} cache hits" for s in hits)
                    + ".",
                    "",
                ]
                if hits
                else []
            ),
            f"Throughput with {last.workers} workers against {first.workers}: {gains}. With"
            f" {len(os.sched_getaffinity(0))} cores shared by wrk and the hub, a second worker gives"
            " the read a second GIL; past the cores, more workers only add processes that take turns (and, for"
            " verification, more verifier processes per worker). Verification and issuance are CPU-bound"
            " (pyHanko), so they stop gaining once the cores are busy.",
            "",
            f"Raw figures and wrk's output: `bench/out/{NAME}.json`.",
            "",
        ]
        return lines


def _measure(target: wrk.Target, load: wrk.WrkSettings, before_each: Any = None, after_each: Any = None) -> Any:
    if load.warmup_seconds:
        if before_each:
            before_each()
        wrk_once(target, load, load.warmup_seconds)
    rounds = []
    for number in range(load.rounds):
        if before_each:
            before_each()
        result = wrk_once(target, load, load.round_seconds)
        if after_each:
            after_each(result)
        print(
            f"  round {number + 1}/{load.rounds} {target.name}: {result.requests_per_second:,.1f} req/s,"
            f" p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms",
            flush=True,
        )
        rounds.append(result)
    return wrk.Measurement(rounds)


def _serve(work: Path, admin: str, workers: int) -> tuple[processes.Server, str]:
    port = processes.free_port()
    server = processes.hub_server(work / "hub", port, admin, work / f"hub-{workers}.log", HUB_WORKERS=str(workers))
    return server, f"http://127.0.0.1:{port}"


def run(load: wrk.WrkSettings) -> WorkersResult:
    """Set the hub up once, then measure with each number of workers; every process stopped however it ends."""
    work = processes.short_tempdir("hw-")
    heavy = replace(load, connections=HEAVY_CONNECTIONS)
    admin = secrets.token_urlsafe(24)
    steps = []
    try:
        # Set up, and issue the PDFs verification needs (each run must have more than it can verify).
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, work / "hub")
            server, base = _serve(work, admin, processes.WORKERS)
            stack.enter_context(processes.running(server))
            server.wait_http(f"{base}/readyz")
            token = setup_hub(HubApi(base, admin))
            longest = max(load.round_seconds, load.warmup_seconds, WARMUP_HEAVY_S)
            needed = math.ceil(VERIFICATIONS_PER_SECOND * longest) + 8
            print(f"issuing {needed} licences to verify", flush=True)
            issue_more(base, token, needed)
            pdfs = fetch_pdfs(base, token, work / "pdfs")
        for workers in WORKER_COUNTS:
            print(f"measuring with {workers} worker(s)", flush=True)
            with ExitStack() as stack:
                stack.callback(processes.kill_leftover_redis, work / "hub")
                server, base = _serve(work, admin, workers)
                stack.enter_context(processes.running(server))
                try:
                    steps.append(_step(server, base, token, pdfs, workers, load, heavy, work))
                except (wrk.WrkError, processes.ServerError):
                    print(f"--- the end of the hub's log:\n{server.log_tail()}", file=sys.stderr)
                    raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return WorkersResult(steps, load, heavy, len(pdfs))


def _start_verifiers(base: str, pdfs: list[Path], workers: int) -> None:
    """Verify batches of PDFs, each on fresh connections, until the batches come back quickly: every
    worker has started its verifier processes (seconds each on a busy machine, which the rounds must
    not include). Gives up quietly after a while: the warm-up run comes next anyway."""
    at_once = 4 * workers
    quick = 0
    with ThreadPoolExecutor(at_once) as pool:
        for batch in range(30):
            started = time.monotonic()
            chosen = [pdfs[(batch * at_once + n) % len(pdfs)] for n in range(at_once)]
            verdicts = list(pool.map(lambda path: verify_once(base, path.read_bytes())["verdict"], chosen))
            if set(verdicts) != {"valid"}:
                raise processes.ServerError(f"licences the hub issued did not verify as valid: {verdicts}")
            quick = quick + 1 if time.monotonic() - started < 2 * workers else 0
            if quick == 3:
                return


def _step(
    server: processes.Server,
    base: str,
    token: str,
    pdfs: list[Path],
    workers: int,
    load: wrk.WrkSettings,
    heavy: wrk.WrkSettings,
    work: Path,
) -> Step:
    server.wait_http(f"{base}/readyz")
    admin_headers = {"Authorization": f"Bearer {server.env['HUB_ADMIN_TOKEN']}"}
    read = wrk.Target("read one service item", f"{base}/api/v1/service-items/{ITEM_CODE}", admin_headers)
    server.wait_http(read.url, admin_headers)
    _start_verifiers(base, pdfs, workers)
    store = redis.Redis(unix_socket_path=str(work / "hub" / "redis.sock"), socket_timeout=10)
    hits = 0

    def empty_cache() -> None:
        for key in list(store.scan_iter(match=keys.verification_cache("*"), count=1000)):
            store.delete(key)

    def count_hits(result: wrk.WrkResult) -> None:
        nonlocal hits
        check_verdicts(result)
        hits = max(hits, result.requests - len(pdfs))

    try:
        verify = wrk.Target(
            "verify a licence PDF",
            f"{base}/api/v1/verifications",
            script=verify_script(work / "verify.lua", pdfs, heavy.threads),
        )
        issue = wrk.Target(
            "issue a licence",
            f"{base}/api/v1/licences",
            {"Authorization": f"Bearer {token}"},
            script=issue_script(work / "issue.lua"),
        )
        # A worker starts its verifier processes on its first verification, which takes seconds on a
        # busy machine: a longer warm-up makes sure every worker has them before the rounds.
        warm = replace(heavy, warmup_seconds=max(heavy.warmup_seconds, WARMUP_HEAVY_S))
        operations = {
            "read": _measure(read, load),
            "verify": _measure(verify, warm, empty_cache, count_hits),
            "issue": _measure(issue, warm),
        }
    finally:
        store.close()
    return Step(workers, operations, hits)


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.scaling_workers", __doc__.splitlines()[0], run)
