"""The due-date query at 1,000, 10,000 and 100,000 open cases: a few real ones, the rest seeded.

Creating 100,000 accepted cases through the API would take longer than the whole benchmark may run,
so :data:`REAL_CASES` are made as a front-end and an agency would (submit, upload the missing
material, accept) and the rest are seeded straight into the hub's Redis, in one pipeline per batch,
in the shape the service writes: the record (``hub.intake.applications.submit`` and
``hub.intake.processing``) and its place at its deadline in the agency's due set
(``hub.intake.due.track``; an accepted case is in no other set). The seeding is checked first: a
real record must serialise exactly as the seeder serialises, a seeded twin of a real case must read back through
``GET /api/v1/applications/{id}`` exactly as the real one does, and a seeded case with its own
applicant and deadline exactly as the real one would with those values. Seeded cases have no audit
entries and no resolution record of their own (neither is part of what the query reads).
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import struct
import time
import zlib
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import requests

from hub.intake.due import score
from hub.licences.register import mask_id
from hub.store import case_keys

from . import processes, wrk
from .intake_hub import APPLICANTS, LEAD, SOURCES, UNHELD_MATERIAL, check_submission
from .resolution import record

if TYPE_CHECKING:
    from .intake_hub import IntakeHub

CASE_COUNTS = (1_000, 10_000, 100_000)
REAL_CASES = 4
PAGE = 50
DUE_WITHIN_DAYS = 21  # the query asks for cases due before today + this
SEED_BATCH = 2_000
SEQUENTIAL_SECONDS = 5  # of one query at a time, which also counts its Redis commands and CPU time
SEEDED_PREFIX = "44010630000"  # + 7 digits: the seeded applicants' resident ids


@dataclass(frozen=True)
class DuePoint:
    """The due-date query measured with ``cases`` accepted cases in the agency's due set."""

    cases: int
    seeded: int
    matching: int  # cases due before the day asked
    measured: wrk.Measurement  # with as many connections as the hub has request threads
    alone: wrk.WrkResult  # one query at a time
    redis_commands: float  # per query, one at a time
    cpu_ms: float  # CPU time of the hub's workers per query, one at a time
    body_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "seeded": self.seeded,
            "matching": self.matching,
            "redis_commands_per_query": self.redis_commands,
            "worker_cpu_ms_per_query": self.cpu_ms,
            "one_at_a_time": asdict(self.alone),
            "body_bytes": self.body_bytes,
            **self.measured.as_dict(),
        }


@dataclass(frozen=True)
class DueResult:
    """Every point, the query and the load."""

    points: list[DuePoint]
    due_before: str
    real: int
    load: wrk.WrkSettings

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": f"GET /api/v1/applications?due_before={self.due_before}&limit={PAGE}",
            "real_cases": self.real,
            "load": asdict(self.load),
            "points": [point.as_dict() for point in self.points],
        }


def dump(value: Any) -> str:
    """A record serialised as ``hub.store`` serialises it (checked against a real one before seeding)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def tiny_png() -> bytes:
    """A valid 1-by-1 grey PNG: the upload of the material nobody holds."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")
    )


def real_case(setup: IntakeHub, subject: str) -> dict[str, Any]:
    """One accepted case made through the API: submitted, completed by an upload, accepted; as the lead reads it."""
    application_id = check_submission(setup, subject)["id"]
    url = f"{setup.base}/api/v1/applications/{application_id}"
    upload = requests.post(
        f"{url}/materials",
        data={"material": UNHELD_MATERIAL},
        files={"file": ("material.png", tiny_png(), "image/png")},
        headers=setup.headers(setup.portal_token),
        timeout=30,
    )
    if upload.status_code != 201 or upload.json()["status"] != "submitted":
        raise processes.ServerError(f"upload: {upload.status_code} {upload.text[:500]}")
    lead = setup.headers(setup.province.token)
    accepted = requests.post(f"{url}/events", json={"type": "accept"}, headers=lead, timeout=30)
    if accepted.status_code != 200 or accepted.json()["status"] != "accepted" or not accepted.json()["deadline"]:
        raise processes.ServerError(f"accept: {accepted.status_code} {accepted.text[:500]}")
    return read(setup, application_id)


def read(setup: IntakeHub, application_id: str) -> dict[str, Any]:
    """An application through the API, as its lead agency reads it."""
    answer = requests.get(
        f"{setup.base}/api/v1/applications/{application_id}", headers=setup.headers(setup.province.token), timeout=30
    )
    if answer.status_code != 200:
        raise processes.ServerError(f"GET {application_id}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


def vary(template: dict[str, Any], application_id: str, subject: str, deadline: str) -> dict[str, Any]:
    """``template`` (a stored record or an API view of one, changed in place) as it would be for another
    applicant, id and deadline."""
    varied = template
    varied["id"] = application_id
    varied["deadline"] = deadline
    for line in varied["timeline"] + varied["notifications"]:
        if line.get("deadline"):
            line["deadline"] = deadline
    varied["applicant"]["id_masked"] = mask_id(subject)
    if "subject_hash" in varied["applicant"]:  # the hub's keyed hash is not the benchmark's to make: a stand-in
        varied["applicant"]["subject_hash"] = hashlib.sha256(f"bench:{subject}".encode()).hexdigest()
    for material in varied["materials"]:
        if material["status"] == "resolved":
            material["data"] = record(int(material["code"][1:]), subject)
    return varied


def working_days(today: date) -> list[date]:
    """Deadlines to spread the seeded cases over: weekdays from two weeks ago to ten weeks ahead."""
    days = (today + timedelta(days=offset) for offset in range(-14, 70))
    return [day for day in days if day.weekday() < 5]


def new_id() -> str:
    """An application id of the lead agency, as ``hub.intake.cases.new_id`` makes them."""
    return f"app.{LEAD}.{secrets.token_hex(10)}"


def seed(setup: IntakeHub, template: bytes, start: int, count: int, deadlines: list[date]) -> None:
    """Seed ``count`` accepted cases from the stored ``template``, numbered from ``start``, in pipelines of
    :data:`SEED_BATCH`."""
    pipe = setup.store.pipeline(transaction=False)
    for n in range(start, start + count):
        deadline = deadlines[n % len(deadlines)]
        case = vary(json.loads(template), new_id(), f"{SEEDED_PREFIX}{n:07d}", deadline.isoformat())
        key = case_keys.application(LEAD, case["id"])
        pipe.set(key, setup.codec.dump(key, case))
        pipe.zadd(case_keys.application_due(LEAD), {case["id"]: score(deadline)})
        if (n - start + 1) % SEED_BATCH == 0:
            pipe.execute()
    pipe.execute()


def check_seeding(setup: IntakeHub, real: list[dict[str, Any]]) -> bytes:
    """The stored template (opened), after checking the seeder writes records that read back like real ones."""
    real_key = case_keys.application(LEAD, real[0]["id"])
    raw = setup.codec.sealer.open(real_key, setup.store.get(real_key))
    template = json.loads(raw)
    if dump(template).encode() != raw:
        raise processes.ServerError("the seeder does not serialise a record as the hub does")
    twin = {**copy.deepcopy(template), "id": new_id()}
    twin_key = case_keys.application(LEAD, twin["id"])
    setup.store.set(twin_key, setup.codec.dump(twin_key, twin))
    setup.store.zadd(case_keys.application_due(LEAD), {twin["id"]: score(date.fromisoformat(twin["deadline"]))})
    if read(setup, twin["id"]) != {**real[0], "id": twin["id"]}:
        raise processes.ServerError("a seeded twin of a real case does not read back as the real one")
    other_id, subject, deadline = new_id(), f"{SEEDED_PREFIX}9999999", "2030-01-02"
    seeded = vary(json.loads(raw), other_id, subject, deadline)
    other_key = case_keys.application(LEAD, other_id)
    setup.store.set(other_key, setup.codec.dump(other_key, seeded))  # read back once, then removed
    try:
        if read(setup, other_id) != vary(copy.deepcopy(real[0]), other_id, subject, deadline):
            raise processes.ServerError("a seeded case does not read back as a real one with its values would")
    finally:
        setup.store.delete(case_keys.application(LEAD, other_id))
    return raw


def check_page(setup: IntakeHub, url: str, due_before: str) -> int:
    """One query must give a full page of accepted cases due before the day, soonest first; its size in bytes."""
    answer = requests.get(url, headers=setup.headers(setup.province.token), timeout=30)
    if answer.status_code != 200:
        raise processes.ServerError(f"due query: {answer.status_code} {answer.text[:500]}")
    items = answer.json()["items"]
    deadlines = [item["deadline"] for item in items]
    if (
        len(items) != PAGE
        or answer.json()["next"] != str(PAGE)
        or any(item["status"] != "accepted" for item in items)
        or deadlines != sorted(deadlines)
        or max(deadlines) >= due_before
    ):
        raise processes.ServerError(f"the due query's page is not as expected: {deadlines}")
    return len(answer.content)


def wait_for_redis(setup: IntakeHub, wait_seconds: float = 120) -> None:
    """Wait until the hub's Redis rewrites no append-only file (the seeding's writes trigger one)."""
    time.sleep(0.5)  # its cron (10 times a second) schedules the rewrite
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        persistence = setup.store.info("persistence")
        busy = ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")
        if not any(persistence.get(flag) for flag in busy):
            return
        time.sleep(0.2)
    raise processes.ServerError(f"the hub's Redis was still rewriting its append-only file after {wait_seconds} s")


def one_at_a_time(setup: IntakeHub, target: wrk.Target, load: wrk.WrkSettings) -> tuple[wrk.WrkResult, float, float]:
    """The query one at a time (``wrk -t1 -c1``): its figures, Redis commands and worker CPU milliseconds per query."""
    sequential = replace(load, threads=1, connections=1)
    wrk.measure_once(target, sequential, 1)  # warm-up
    workers = setup.province.hub_server.worker_cpu_seconds
    commands_before, cpu_before = setup.province.redis_commands(), workers()
    result = wrk.measure_once(target, sequential, SEQUENTIAL_SECONDS)
    commands, cpu_after = setup.province.redis_commands() - commands_before, workers()
    cpu_ms = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after) / result.requests * 1000
    return result, commands / result.requests, cpu_ms


def measure_due(setup: IntakeHub, load: wrk.WrkSettings) -> DueResult:
    """Make the real cases, check the seeding, then measure the query at each number of cases.

    wrk keeps as many connections open as the hub has request threads: a page of full records takes
    tens of milliseconds of CPU, and more connections would only queue (past wrk's 2 s timeout on a
    busy machine) and measure the queue rather than the query."""
    # Two tries a round, not three: the rounds here repeat the one-at-a-time figures, which no worker split skews.
    load = replace(load, connections=processes.WORKERS * processes.THREADS, attempts=min(load.attempts, 2))
    print(f"making {REAL_CASES} accepted cases through the API", flush=True)
    real = [real_case(setup, subject) for subject in APPLICANTS[-REAL_CASES:]]
    if any(m["status"] != "resolved" for case in real for m in case["materials"][:SOURCES]):
        raise processes.ServerError("a real case lost its resolved materials")
    template = check_seeding(setup, real)
    today = date.fromisoformat(real[0]["timeline"][0]["at"][:10])
    due_before = (today + timedelta(days=DUE_WITHIN_DAYS)).isoformat()
    deadlines = working_days(today)
    url = f"{setup.base}/api/v1/applications?due_before={due_before}&limit={PAGE}"
    target = wrk.Target("due", url, setup.headers(setup.province.token), setup.province.hub_server.worker_cpu_seconds)
    due_key = case_keys.application_due(LEAD)
    seeded, points = 0, []
    for cases in CASE_COUNTS:
        missing = cases - int(setup.store.zcard(due_key))
        print(f"seeding {missing:,} accepted cases (to {cases:,})", flush=True)
        seed(setup, template, seeded, missing, deadlines)
        seeded += missing
        in_set = int(setup.store.zcard(due_key))
        matching = int(setup.store.zcount(due_key, "-inf", score(date.fromisoformat(due_before)) - 1))
        if in_set != cases:
            raise processes.ServerError(f"the due set holds {in_set} cases, not {cases}")
        wait_for_redis(setup)
        body_bytes = check_page(setup, url, due_before)
        alone, commands, cpu_ms = one_at_a_time(setup, target, load)
        print(
            f"measuring the due query with {cases:,} cases ({matching:,} due before {due_before}); one at a time:"
            f" p50 {alone.p50_ms:.1f} ms, p99 {alone.p99_ms:.1f} ms, {cpu_ms:.1f} ms of worker CPU,"
            f" {commands:.0f} Redis commands",
            flush=True,
        )
        measured = wrk.measure_interleaved([target], load)["due"]
        points.append(DuePoint(cases, seeded + 1, matching, measured, alone, commands, cpu_ms, body_bytes))
    return DueResult(points, due_before, REAL_CASES, load)
