"""Benchmark: issuing and verifying e-licences through the hub, each beside pyHanko doing the same work in-process.

The hub (``hub serve`` without the demo province) is set up through its API: an agency, a licence
type it issues, and an agency token. Three measurements, one hub:

1. Issuance: ``POST /api/v1/licences`` loaded by wrk (a new holder id every request), in rounds taking
   turns with the in-process side rendering and sealing the same licences (:mod:`bench.licences_inprocess`)
   at the same concurrency, on as many processes as gunicorn has workers.
2. Verification: ``POST /api/v1/verifications`` of licence PDFs the hub issued in step 1, beside
   ``certs.verify.verify_pdf`` on the same files with the hub's own trust material. The hub caches
   reports by the file's SHA-256, so before every wrk run the cache keys are deleted from the hub's
   Redis, every run has more distinct PDFs than it makes requests, and afterwards the cache must hold at
   least as many reports as the run had answers: each one was a miss.
3. Cached re-verification: one PDF posted again and again (the cache answers), with the default load.

wrk must see only 2xx answers, and every verification answer must say ``"verdict": "valid"`` (the wrk
script counts the others); the in-process side checks that every signature it verified passed.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
import requests

from hub.identifiers import with_check_characters
from hub.store import keys

from . import processes, wrk
from .licences_inprocess import InProcess, IssueWork, LicenceKind, VerifyWork, verify_from_der
from .licences_load import (
    AGENCY,
    AGENCY_NAME,
    JOBS_IN_FLIGHT,
    LABELS,
    REGION,
    TYPE_CODE,
    TYPE_NAME,
    HubMeter,
    Phase,
    check_verdicts,
    compare,
    issue_script,
    request_bodies,
    verify_script,
)
from .licences_report import LicenceReport
from .resolution import HubApi

CACHE_PATTERN = keys.verification_cache("*")  # a glob matching the cached report of every document


def setup_hub(api: HubApi) -> str:
    """The agency and its licence type; an agency token."""
    api.post("/api/v1/agencies", {"code": AGENCY, "name": AGENCY_NAME, "region": REGION})
    api.post(
        "/api/v1/licence-types",
        {
            "code": TYPE_CODE,
            "name": f"{TYPE_NAME[0]} ({TYPE_NAME[1]})",
            "issuer": AGENCY,
            "fields": {name: {"type": "string", "required": True, "label": label} for name, label in LABELS.items()},
            "validity_days": 1825,
        },
    )
    return api.post(f"/api/v1/agencies/{AGENCY}/tokens", {"roles": ["agency"]})["token"]


def fetch_pdfs(base: str, token: str, folder: Path) -> list[Path]:
    """Every licence the hub holds, its PDF written to ``folder``."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    folder.mkdir(exist_ok=True)
    paths, cursor = [], None
    while True:
        page = session.get(f"{base}/api/v1/licences", params={"limit": 100, "cursor": cursor}, timeout=30)
        page.raise_for_status()
        for licence in page.json()["items"]:
            pdf = session.get(f"{base}/api/v1/licences/{licence['number']}/pdf", timeout=30)
            pdf.raise_for_status()
            path = folder / f"{len(paths):05d}.pdf"
            path.write_bytes(pdf.content)
            paths.append(path)
        cursor = page.json()["next"]
        if not cursor:
            return paths


def issue_more(base: str, token: str, count: int, offset: int = 0) -> None:
    """Issue ``count`` more licences through the API, a few at a time; every answer must be 201."""
    bodies = request_bodies()

    def issue(n: int) -> None:
        body = json.loads(
            json.dumps(bodies[n % len(bodies)]).replace(
                "@ID@", with_check_characters("credit-code", f"913301009{n:07d}")
            )
        )
        answer = requests.post(
            f"{base}/api/v1/licences", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        if answer.status_code != 201:
            raise processes.ServerError(f"issuing a licence: {answer.status_code} {answer.text[:500]}")

    with ThreadPoolExecutor(JOBS_IN_FLIGHT) as pool:
        list(pool.map(issue, range(offset, offset + count)))


def start_verifiers(base: str, pdfs: list[Path]) -> None:
    """Verify a few PDFs at a time until the answers come quickly: every worker has started its verifier processes.

    Each worker starts its pool of verifier processes (from a forkserver, importing pyHanko) on its
    first verification, which takes seconds on a busy machine; that belongs to neither warm-up nor rounds.
    """
    quick = 0
    with ThreadPoolExecutor(JOBS_IN_FLIGHT) as pool:
        for batch in range(12):
            started = time.monotonic()
            chosen = [pdfs[(batch * JOBS_IN_FLIGHT + n) % len(pdfs)] for n in range(JOBS_IN_FLIGHT)]
            verdicts = list(pool.map(lambda path: verify_once(base, path.read_bytes())["verdict"], chosen))
            if set(verdicts) != {"valid"}:
                raise processes.ServerError(f"licences the hub issued did not verify as valid: {verdicts}")
            quick = quick + 1 if time.monotonic() - started < 2 else 0
            if quick == 2:
                return
    raise processes.ServerError("the hub's verifier processes did not settle")


def verify_once(base: str, pdf: bytes) -> dict[str, Any]:
    """The hub's verdict on one PDF."""
    answer = requests.post(f"{base}/api/v1/verifications", files={"file": ("licence.pdf", pdf)}, timeout=60)
    answer.raise_for_status()
    return answer.json()


def run(load: wrk.WrkSettings) -> LicenceReport:
    """Start the hub and the in-process pool, measure, and stop every process however the run ends."""
    work = processes.short_tempdir("hl-")
    hub_data = work / "hub"
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, hub_data)  # runs after the hub has stopped
            admin_token = secrets.token_urlsafe(24)
            port = processes.free_port()
            base = f"http://127.0.0.1:{port}"
            hub_server = processes.hub_server(hub_data, port, admin_token, work / "hub.log", demo=False)
            stack.enter_context(processes.running(hub_server))
            inprocess = stack.enter_context(InProcess(processes.WORKERS, processes.THREADS))
            try:
                issuance, verification, cached, pdfs, misses = _measure(
                    hub_server, base, admin_token, inprocess, load, work
                )
            except (wrk.WrkError, processes.ServerError):
                print(f"--- the end of the hub's log:\n{hub_server.log_tail()}", file=sys.stderr)
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return LicenceReport(issuance, verification, cached, load, pdfs, misses)


def _measure(
    hub_server: processes.Server, base: str, admin_token: str, inprocess: InProcess, load: wrk.WrkSettings, work: Path
) -> tuple[Phase, Phase, wrk.Measurement, int, list[tuple[int, int]]]:
    """Set the hub up and measure the three operations; the figures, distinct PDFs and verification-cache counts."""
    hub_server.wait_http(f"{base}/readyz")
    token = setup_hub(HubApi(base, admin_token))
    issue_more(base, token, 1)  # the answer is checked; the agency's seal is made now
    store = redis.Redis(unix_socket_path=str(work / "hub" / "redis.sock"), socket_timeout=10)
    try:
        return _phases(hub_server, base, token, inprocess, load, work, store)
    finally:
        store.close()


def _phases(
    hub_server: processes.Server,
    base: str,
    token: str,
    inprocess: InProcess,
    load: wrk.WrkSettings,
    work: Path,
    store: redis.Redis,
) -> tuple[Phase, Phase, wrk.Measurement, int, list[tuple[int, int]]]:
    """The three measurements, on a hub that is set up and has issued its first licence."""
    concurrent = replace(load, connections=JOBS_IN_FLIGHT)
    headers = {"Authorization": f"Bearer {token}"}

    def cached_reports() -> int:
        return sum(1 for _ in store.scan_iter(match=CACHE_PATTERN, count=1000))

    # 1. issuance
    print("measuring licence issuance, hub and in-process", flush=True)
    kind = LicenceKind(TYPE_CODE, *TYPE_NAME, LABELS, AGENCY_NAME, REGION, base)
    issue_target = wrk.Target(
        "issue",
        f"{base}/api/v1/licences",
        headers,
        hub_server.worker_cpu_seconds,
        issue_script(work / "issue.lua"),
    )
    issued = HubMeter(hub_server, work / "hub", lambda: int(store.zcard(keys.licence_index(TYPE_CODE))))
    issuance = compare("issue", issue_target, issued, inprocess, IssueWork(kind, request_bodies()), concurrent)

    # 2. verification of distinct PDFs, the cache emptied before every run
    pdfs = fetch_pdfs(base, token, work / "pdfs")
    trust = {
        "roots": [processes.http_get(f"{base}/api/v1/pki/ca/root.crt")[1]],
        "intermediates": [processes.http_get(f"{base}/api/v1/pki/ca/issuing.crt")[1]],
        "crls": [processes.http_get(f"{base}/api/v1/pki/crl/{ca}.crl")[1] for ca in ("issuing", "root")],
    }
    first = pdfs[0].read_bytes()
    if verify_once(base, first)["verdict"] != "valid" or not verify_from_der(first, **trust):
        raise processes.ServerError("a licence the hub issued did not verify as valid")
    needed = _pdfs_needed(inprocess, trust, pdfs, concurrent)
    if needed > len(pdfs):
        print(f"  issuing {needed - len(pdfs)} more licences to verify", flush=True)
        issue_more(base, token, needed - len(pdfs), offset=1)
        pdfs = fetch_pdfs(base, token, work / "pdfs")
    misses: list[tuple[int, int]] = []

    def empty_cache() -> None:
        for key in list(store.scan_iter(match=CACHE_PATTERN, count=1000)):
            store.delete(key)

    def check_verification(result: wrk.WrkResult) -> None:
        cached = cached_reports()
        misses.append((result.requests, cached))
        check_verdicts(result)
        if cached < result.requests:
            raise processes.ServerError(f"{result.requests} verifications but only {cached} cache misses")

    print(f"measuring licence verification of {len(pdfs)} distinct PDFs, hub and in-process", flush=True)
    start_verifiers(base, pdfs)
    verify_target = wrk.Target(
        "verify",
        f"{base}/api/v1/verifications",
        {},
        hub_server.worker_cpu_seconds,
        verify_script(work / "verify.lua", pdfs, concurrent.threads),
    )
    verify_work = VerifyWork([str(path) for path in pdfs], **trust)
    verified = HubMeter(hub_server, work / "hub", cached_reports)  # the cache is emptied before each run
    verification = compare(
        "verify", verify_target, verified, inprocess, verify_work, concurrent, empty_cache, check_verification
    )

    # 3. cached re-verification of one PDF
    print("measuring cached re-verification of one PDF", flush=True)
    cached_target = wrk.Target(
        "re-verify",
        f"{base}/api/v1/verifications",
        {},
        hub_server.worker_cpu_seconds,
        verify_script(work / "reverify.lua", pdfs[:1], load.threads),
    )
    cached = wrk.measure_interleaved([cached_target], load)["re-verify"]
    for result in cached.rounds + cached.discarded:
        check_verdicts(result)
    return issuance, verification, cached, len(pdfs), misses


def _pdfs_needed(inprocess: InProcess, trust: dict[str, list[bytes]], pdfs: list[Path], load: wrk.WrkSettings) -> int:
    """Distinct PDFs enough for one verification run, with room: as many as every core could verify in it.

    The bound comes from the CPU time one verification takes in-process, which other load on the
    machine hardly changes, and the hub's verifications take more.
    """
    probe = inprocess.round(VerifyWork([str(path) for path in pdfs], **trust), load.connections, 2)
    fastest = len(os.sched_getaffinity(0)) / (probe.cpu_ms_per_job / 1000)  # verifications a second
    longest = max(load.round_seconds, load.warmup_seconds)
    return math.ceil(fastest * longest * 1.25) + load.connections


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.licences", __doc__.splitlines()[0], run)
