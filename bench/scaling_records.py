"""Benchmark: reading a licence by number and issuing one, with 10^3, 10^4, 10^5 and 10^6 licences on record.

One ``hub serve`` (without the demo province, :data:`processes.WORKERS` workers) is set up as the
licence benchmark sets it up and issues one licence for real. Issuing a million that way is out of
reach (about a quarter of a second of CPU each), so the store is filled step by step up to each
size with licences written the way issuance writes them: :func:`hub.licences.write_record` (the
record, its number in the type's index and in its holder's index, its first history line) queued on
a :meth:`hub.store.Store.bulk` pipeline, :data:`SEED_BATCH` licences a round trip. Each seeded record
is the real one with its own well-formed number (the type's next sequence numbers, the sequence then
set past them), its own holder (a random subject hash, a name and masked id from the benchmark's
holders) and its own fields; all of them share the real licence's PDF blob (its sha256), and none
has an audit entry of its own.

At each size: ``GET /verify/{number}`` with ``Accept: application/json`` (the public read by number)
over 2,000 numbers drawn at random from those on record, loaded by wrk, and ``POST /api/v1/licences``
(issuance, which reserves the next number past all of them), with the used memory of the hub's
Redis. The fill stops early if Redis would pass :data:`MEMORY_CAP_BYTES`.
"""

from __future__ import annotations

import json
import random
import secrets
import shutil
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import redis

from certs import numbering
from hub.config import Settings
from hub.identifiers import with_check_characters
from hub.licences import issuance as hub_licences
from hub.store import keys
from hub.store.client import Store, Tx
from hub.store.secret import hub_secret

from . import processes, wrk
from .licences import issue_more, setup_hub
from .licences_load import HOLDERS, JOBS_IN_FLIGHT, TYPE_CODE, WRK_TIMEOUT_S, issue_script, wrk_once
from .plots import over
from .resolution import HubApi

NAME = "scaling_records"
SIZES = [1_000, 10_000, 100_000, 1_000_000]
LARGEST = SIZES[-1]
SEED_BATCH = 2_000
SAMPLED_NUMBERS = 2_000
MEMORY_CAP_BYTES = 8 << 30  # a third of this machine's RAM
_largest = LARGEST


def set_largest(count: int) -> None:
    """Stop at ``count`` licences (``python -m bench --licences-up-to``), for short trial runs."""
    global _largest
    _largest = count


def sizes() -> list[int]:
    """The sizes measured: the powers of ten up to the largest asked for, and that one."""
    chosen = [size for size in SIZES if size < _largest]
    return [*chosen, _largest]


@dataclass(frozen=True)
class Point:
    """The figures at one number of licences on record."""

    licences: int
    seed_seconds: float  # to write the licences added since the previous point
    redis_used_bytes: int
    operations: dict[str, wrk.Measurement]

    def as_dict(self) -> dict[str, Any]:
        return {
            "licences": self.licences,
            "seed_seconds": self.seed_seconds,
            "redis_used_bytes": self.redis_used_bytes,
            "operations": {name: measured.as_dict() for name, measured in self.operations.items()},
        }


@dataclass(frozen=True)
class RecordsResult:
    """Every point, with the load each operation ran at."""

    points: list[Point]
    read_load: wrk.WrkSettings
    issue_load: wrk.WrkSettings
    name: str = NAME

    def as_json(self) -> dict[str, Any]:
        return {
            "title": "Licences on record: read by number and issuance",
            "servers": {"worker_class": "gthread", "workers": processes.WORKERS, "threads": processes.THREADS},
            "read_load": asdict(self.read_load),
            "issue_load": asdict(self.issue_load),
            "points": [point.as_dict() for point in self.points],
        }

    def markdown(self) -> list[str]:
        read, issue = self.read_load, self.issue_load
        lines = [
            "## Licences on record: 10^3 to 10^6",
            "",
            f"- hub: `hub serve` without the demo province, {processes.WORKERS} workers × {processes.THREADS} threads;"
            " one licence issued for real, the rest written into its Redis **as seeded records, not issued**:"
            " each the real record with its own well-formed number, holder and fields, written by"
            " `hub.licences.write_record` (record, type and holder indexes, first history line) on"
            f" `Store.bulk` pipelines of {SEED_BATCH:,}; **all share the real licence's PDF blob** and have no audit"
            " entry of their own (issuing a million for real would take about three days of CPU here)",
            f"- read: `GET /verify/{{number}}` with `Accept: application/json`, {SAMPLED_NUMBERS:,} numbers drawn at"
            f" random from those on record; `wrk -t{read.threads} -c{read.connections} -d{read.round_seconds}s"
            f" --latency`, {read.rounds} round(s) after a {read.warmup_seconds} s warm-up",
            f"- issue: `POST /api/v1/licences` as in the licence benchmark (the next number past all those on"
            f" record); `wrk -t{issue.threads} -c{issue.connections} -d{issue.round_seconds}s --timeout"
            f" {WRK_TIMEOUT_S}s --latency`, {issue.rounds} round(s) after a {issue.warmup_seconds} s warm-up",
            "- seeding time: writing the licences added since the size before, from this benchmark's process (one"
            " core's worth of Python packing Redis commands is most of it)",
            "",
            "| licences on record | read req/s | read p50 | read p99 | issue /s | issue p50 | issue p99"
            " | Redis used memory | seeding time |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for point in self.points:
            r, i = point.operations["read by number"], point.operations["issue"]
            lines.append(
                f"| {point.licences:,} | {r.requests_per_second:,.0f} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms"
                f" | {i.requests_per_second:.1f} | {i.p50_ms:,.0f} ms | {i.p99_ms:,.0f} ms"
                f" | {point.redis_used_bytes / (1 << 20):,.0f} MiB | {point.seed_seconds:.0f} s |"
            )
        first, last = self.points[0], self.points[-1]
        r0, r1 = first.operations["read by number"], last.operations["read by number"]
        i0, i1 = first.operations["issue"], last.operations["issue"]
        per = (last.redis_used_bytes - first.redis_used_bytes) / max(last.licences - first.licences, 1)
        lines += [
            "",
            f"From {first.licences:,} to {last.licences:,} licences the read's median goes from {r0.p50_ms:.1f} ms to"
            f" {r1.p50_ms:.1f} ms ({over(r1.p50_ms, r0.p50_ms):.2f}×) and issuance's from {i0.p50_ms:,.0f} ms to"
            f" {i1.p50_ms:,.0f} ms ({over(i1.p50_ms, i0.p50_ms):.2f}×): a read is a few key lookups and issuance"
            " reserves the next number from the type's sequence, so neither walks the records; what grows is Redis's"
            f" memory, about {per:,.0f} bytes a seeded licence (without its PDF: a real one adds its own ~55 kB"
            " blob).",
            "",
            f"Raw figures and wrk's output: `bench/out/{NAME}.json`.",
            "",
        ]
        return lines


def read_script(path: Path, numbers: list[str]) -> Path:
    """A wrk Lua script that GETs /verify/{number} for numbers picked at random from ``numbers``."""
    listed = ",\n  ".join(f'"{number}"' for number in numbers)
    path.write_text(
        f"""-- written by bench/scaling_records.py
wrk.headers["Accept"] = "application/json"
local numbers = {{
  {listed}
}}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("seed", #threads)
end

function init(args)
  math.randomseed(os.time() + seed)
end

function request()
  return wrk.format("GET", "/verify/" .. numbers[math.random(#numbers)])
end
"""
    )
    return path


class Seeder:
    """Writes licences like the real one into the hub's Redis, through the hub's store code."""

    def __init__(self, hub_data: Path, real_number: str) -> None:
        # The hub's own secret (made in its data directory), so that the licences are sealed as the hub seals them.
        secret = hub_secret(Settings(data_dir=hub_data)).decode()
        self.store = Store(Settings(redis_url=f"unix://{hub_data / 'redis.sock'}", secret_key=secret))
        self.real = self.store.get_json(keys.licence(TYPE_CODE, numbering.canonical(real_number)))
        if self.real is None:
            raise processes.ServerError(f"the issued licence {real_number} is not in the store")
        self.year = date.fromisoformat(self.real["valid_from"]).year
        self.region = self.real["region"]
        self.count = 1  # the real one, sequence 1
        self.numbers: list[str] = [self.real["number"]]
        self.random = random.Random(7)  # test data, not secrets

    def close(self) -> None:
        self.store.close()

    def seed_to(self, total: int) -> float:
        """Write licences until ``total`` are on record; the seconds it took."""
        started = time.monotonic()
        while self.count < total:
            batch = min(SEED_BATCH, total - self.count)
            first = self.count + 1
            self.store.bulk(lambda tx, first=first, batch=batch: self._write(tx, first, batch))
            self.count += batch
            if self.count % 100_000 < SEED_BATCH:
                print(f"  {self.count:,} licences on record", flush=True)
        return time.monotonic() - started

    def _write(self, tx: Tx, first: int, batch: int) -> None:
        for sequence in range(first, first + batch):
            number = numbering.make_number(TYPE_CODE, self.region, self.year, sequence)
            name, premises, business = HOLDERS[sequence % len(HOLDERS)]
            credit_code = with_check_characters("credit-code", f"913301006{sequence:07d}")
            record = self.real | {
                "number": number,
                "holder": self.real["holder"]
                | {"name": name, "id_masked": hub_licences.mask_id(credit_code), "subject_hash": self._hash()},
                "fields": self.real["fields"]
                | {"operator_name": name, "credit_code": credit_code, "premises": premises, "main_business": business},
            }
            hub_licences.write_record(tx, record)
            if len(self.numbers) < SAMPLED_NUMBERS * 4 or self.random.random() < 0.01:
                self.numbers.append(number)
        # Issuance continues after the seeded numbers, as it would after issuing them.
        tx.set_json(keys.licence_sequence(TYPE_CODE, self.region, self.year), first + batch - 1)

    def _hash(self) -> str:
        return f"{self.random.getrandbits(256):064x}"

    def sample(self, count: int) -> list[str]:
        """``count`` numbers on record, drawn at random from all sizes seeded so far."""
        return self.random.sample(self.numbers, min(count, len(self.numbers)))

    def used_memory(self) -> int:
        client = redis.Redis(unix_socket_path=self.store.settings.redis_url.removeprefix("unix://"))
        try:
            return int(client.info("memory")["used_memory"])
        finally:
            client.close()


def _measure(target: wrk.Target, load: wrk.WrkSettings) -> wrk.Measurement:
    if load.warmup_seconds:
        wrk_once(target, load, load.warmup_seconds)
    rounds = []
    for number in range(load.rounds):
        result = wrk_once(target, load, load.round_seconds)
        print(
            f"  round {number + 1}/{load.rounds} {target.name}: {result.requests_per_second:,.1f} req/s,"
            f" p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms",
            flush=True,
        )
        rounds.append(result)
    return wrk.Measurement(rounds)


def run(load: wrk.WrkSettings) -> RecordsResult:
    """Fill the hub step by step, measuring at each size; every process stopped however the run ends."""
    work = processes.short_tempdir("hs-")
    hub_data = work / "hub"
    # One round of issuance a size: it reserves the next number from a counter whatever the count (the
    # figures show it), and four sizes of full rounds would add minutes to make bench.
    issue_load = replace(load, connections=JOBS_IN_FLIGHT, rounds=1)
    points = []
    server: processes.Server | None = None
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, hub_data)
            admin = secrets.token_urlsafe(24)
            port = processes.free_port()
            base = f"http://127.0.0.1:{port}"
            server = processes.hub_server(hub_data, port, admin, work / "hub.log", demo=False)
            stack.enter_context(processes.running(server))
            server.wait_http(f"{base}/readyz")
            token = setup_hub(HubApi(base, admin))
            issue_more(base, token, 1)
            headers = {"Authorization": f"Bearer {token}"}
            listed = processes.http_get(f"{base}/api/v1/licences?limit=1", headers)[1]
            seeder = Seeder(hub_data, json.loads(listed)["items"][0]["number"])
            stack.callback(seeder.close)
            issue = wrk.Target("issue", f"{base}/api/v1/licences", headers, script=issue_script(work / "issue.lua"))
            for size in sizes():
                print(f"filling the store to {size:,} licences", flush=True)
                seconds = seeder.seed_to(size)
                used = seeder.used_memory()
                if used > MEMORY_CAP_BYTES:
                    raise processes.ServerError(f"Redis uses {used:,} bytes, over the cap of {MEMORY_CAP_BYTES:,}")
                numbers = seeder.sample(SAMPLED_NUMBERS)
                status, body = processes.http_get(f"{base}/verify/{numbers[-1]}", {"Accept": "application/json"})
                if status != 200 or json.loads(body)["number"] != numbers[-1]:
                    raise processes.ServerError(f"a seeded licence does not read back: {status} {body[:300]!r}")
                read = wrk.Target("read by number", base + "/", script=read_script(work / "read.lua", numbers))
                print(f"measuring at {size:,} licences ({used / (1 << 20):,.0f} MiB in Redis)", flush=True)
                operations = {"read by number": _measure(read, load), "issue": _measure(issue, issue_load)}
                points.append(Point(seeder.count, seconds, used, operations))
                seeder.count = _on_record(seeder)  # issuance added some
    except (wrk.WrkError, processes.ServerError):
        if server is not None:
            print(f"--- the end of the hub's log:\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RecordsResult(points, load, issue_load)


def _on_record(seeder: Seeder) -> int:
    """Licences on record now, and the seeder's next sequence past the numbers issuance took."""
    sequence = seeder.store.get_json(keys.licence_sequence(TYPE_CODE, seeder.region, seeder.year))
    return int(sequence)


if __name__ == "__main__":
    from .alone import main

    main("python -m bench.scaling_records", __doc__.splitlines()[0], run)
