"""The intake benchmark's figures and its two sections of docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import processes, wrk
from .intake_due import PAGE, SEED_BATCH, SEQUENTIAL_SECONDS, DueResult
from .intake_hub import APPLICANT_COUNT, SOURCES, UNHELD_MATERIAL
from .resolution import SOURCE_DELAY_S, LoadLevel


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _notes(label: str, measured: wrk.Measurement) -> list[str]:
    notes = wrk.round_notes(label, measured)
    return [" ".join(notes), ""] if notes else []


@dataclass(frozen=True)
class IntakeReport:
    """Submission throughput and the due-date query, rendered as two sections of docs/benchmarks.md."""

    levels: list[LoadLevel]  # submissions, fewest connections first (one at a time first of all)
    cpu_ms: float  # CPU time of the hub's workers per submission, one at a time
    source_calls: dict[str, int]  # outcome -> connector calls the hub made in the timed submission runs
    stored: int  # applications the hub stored in those runs
    due: DueResult
    name: str = "intake"

    def markdown(self) -> list[str]:
        return self._submission() + self._due()

    def _submission(self) -> list[str]:
        delay_ms = SOURCE_DELAY_S * 1000
        alone, full = self.levels[0], self.levels[-1]
        threads = processes.WORKERS * processes.THREADS
        served = sum(r.requests for level in self.levels for r in level.measured.rounds + level.measured.discarded)
        lines = [
            f"## Submit an application: {SOURCES} sources of {delay_ms:.0f} ms and one material nobody holds",
            "",
            f"- hub: `POST /api/v1/applications` with a portal token (an agency of its own, role `portal`), channel"
            f" `web`, for an item of {SOURCES + 1} materials: {SOURCES} evidence types each from its own REST connector"
            f" and one that no source holds, so each answer lists it in a one-time notice (status"
            " `pending_materials`); the item's lead agency may read the evidence under the default need-to-know"
            f" policy; a different applicant each request (wrk threads walk {APPLICANT_COUNT:,} resident ids from"
            " random starts); `hub serve` without the demo province",
            f"- sources: one stand-in agency service per connector (`bench/agency_runner.py`, a process each)"
            f" answering every fetch after {delay_ms:.0f} ms",
            f"- load: `wrk -t{full.load.threads} -cN -d{full.load.round_seconds}s --latency -s <POST script>` at"
            f" {full.load.connections} connections (as many as the hub has request threads),"
            f" {full.load.rounds} rounds after a"
            f" {full.load.warmup_seconds} s warm-up, each figure the median of its rounds; the first row is one"
            f" `wrk -t1 -c1 -d{alone.load.round_seconds}s` run after a 1 s warm-up: one submission at a time,"
            " latency without queueing",
            "",
            "| connections | req/s | p50 | p99 | overhead (p50 − slowest source) |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for level in self.levels:
            m = level.measured
            lines.append(
                f"| {level.load.connections} | {m.requests_per_second:,.1f} | {_ms(m.p50_ms)} | {_ms(m.p99_ms)}"
                f" | {level.overhead_ms:.1f} ms |"
            )
        lines.append("")
        for level in self.levels:
            lines += _notes(f"{level.load.connections} connections", level.measured)
        lines += [
            f"One at a time a submission costs the hub's workers {self.cpu_ms:.0f} ms of CPU. The overhead is"
            " what the hub adds to the slowest source: authentication, the idempotency wrapper, the Cedar"
            " decision, the resolution's own transaction and JWS signature, then the application record, its inbox"
            " and due-set bookkeeping and its audit entry in one more transaction, and the response schema."
            " Throughput follows from"
            f" the request threads and the latency (Little's law): {threads} threads each held about"
            f" {full.measured.p50_ms:.0f} ms allow at most {threads / (full.measured.p50_ms / 1000):.0f} req/s.",
            "",
            f"Checked: sample answers are 201 with materials m01–m{SOURCES:02d} resolved with their source's record"
            f" and {UNHELD_MATERIAL} missing and named in the notice; wrk saw no error status; in the timed runs"
            f" wrk counted {served:,} answers, the hub audited {self.stored:,} submissions and its per-source"
            f" metrics count {self.source_calls.get('record', 0):,} fetches that returned a record and"
            f" {self.source_calls.get('error', 0) + self.source_calls.get('not-held', 0)} that did not.",
            "",
        ]
        return lines

    def _due(self) -> list[str]:
        due = self.due
        load = due.load
        first, last = due.points[0], due.points[-1]
        lines = [
            "## Due-date query as open cases grow",
            "",
            f"- hub: `GET /api/v1/applications?due_before={due.due_before}&limit={PAGE}` as the lead agency (agency"
            " token): the first page of its accepted cases due before that day, soonest first, each as a summary"
            " (id, status, item, masked applicant, deadline)",
            f"- cases: {due.real} accepted through the API (submitted by the portal, the missing material uploaded,"
            " accepted by the agency); all the others **seeded** straight into the hub's Redis, in pipelines of"
            f" {SEED_BATCH:,}, in the shape the service writes (the record and its due-set entry at its deadline),"
            " their deadlines spread over the weekdays from two weeks ago to ten weeks ahead. Before seeding, the"
            " benchmark checks that a real record serialises exactly as the seeder writes, that a seeded twin of a"
            " real case reads back through `GET /api/v1/applications/{id}` identical to it but for the id, and that"
            " a seeded case with its own applicant and deadline reads back as the real one would with those values."
            " Seeded cases have no audit entries or resolution records (the query reads neither). The"
            " agency also holds the applications of the previous section, still pending materials (not in the due"
            " set)",
            f"- load: `wrk -t{load.threads} -c{load.connections} -d{load.round_seconds}s --latency` at each number"
            f" of cases (as many connections as the hub has request threads), {load.rounds} rounds after a"
            f" {load.warmup_seconds} s warm-up, each figure the median of its rounds (a round one worker served"
            f" alone is run again, at most {load.attempts} tries); before them, one query at a"
            f" time (`wrk -t1 -c1 -d{SEQUENTIAL_SECONDS}s` after a 1 s warm-up), which also gives the CPU time of"
            " the hub's workers and the Redis commands per query",
            "",
            f"| accepted cases | of them seeded | due before the day | req/s ({load.connections} conn.) | p50 | p99"
            " | one at a time: p50 | p99 | hub CPU / query | Redis commands / query | response |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for point in due.points:
            m = point.measured
            lines.append(
                f"| {point.cases:,} | {point.seeded:,} | {point.matching:,} | {m.requests_per_second:,.0f}"
                f" | {_ms(m.p50_ms)} | {_ms(m.p99_ms)} | {_ms(point.alone.p50_ms)}"
                f" | {_ms(point.alone.p99_ms)} | {_ms(point.cpu_ms)}"
                f" | {point.redis_commands:.0f}"
                f" | {point.body_bytes / 1024:,.0f} KiB |"
            )
        lines.append("")
        for point in due.points:
            lines += _notes(f"{point.cases:,} cases", point.measured)
        ratios = {
            "p50": last.measured.p50_ms / first.measured.p50_ms,
            "p99": last.measured.p99_ms / first.measured.p99_ms,
            "req/s": last.measured.requests_per_second / first.measured.requests_per_second,
            "one-at-a-time p50": last.alone.p50_ms / first.alone.p50_ms,
            "one-at-a-time p99": last.alone.p99_ms / first.alone.p99_ms,
            "hub CPU": last.cpu_ms / first.cpu_ms,
        }
        same_commands = len({round(point.redis_commands) for point in due.points}) == 1
        steady_cpu = 0.8 <= ratios["hub CPU"] <= 1.25
        lines += [
            f"{last.cases:,} cases over {first.cases:,} ({last.cases // first.cases}×): "
            + ", ".join(f"{name} {ratio:.2f}×" for name, ratio in ratios.items())
            + ". The query reads a range of the due set (`ZRANGEBYSCORE … LIMIT`, O(log N + page)) and the page's"
            " records in one `MGET`: "
            + ("the same Redis commands at every size" if same_commands else "Redis commands per query that differ")
            + (
                f", and its CPU time stays within {abs(ratios['hub CPU'] - 1):.0%} of the smallest size's."
                if steady_cpu
                else f", but its CPU time changes {ratios['hub CPU']:.2f}×."
            )
            + " Under wrk the latencies are mostly queueing for the two cores, which the hub, wrk and whatever"
            " else runs on the machine share, and the rate depends on how evenly gunicorn's two workers split the"
            " connections (one worker alone is bound by its GIL), so the one-at-a-time and CPU columns are the"
            " steadier measure. What a query does cost is its page: fifty records read and dumped as"
            " summaries through the response schema.",
            "",
            f"Raw figures and wrk's output: `bench/out/{self.name}.json`.",
            "",
        ]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "title": "Intake: submissions behind a 3-source resolution, and the due-date query",
            "servers": {"worker_class": "gthread", "workers": processes.WORKERS, "threads": processes.THREADS},
            "source_delay_ms": SOURCE_DELAY_S * 1000,
            "submission": {
                "sources": SOURCES,
                "worker_cpu_ms_per_submission_one_at_a_time": self.cpu_ms,
                "applicants": APPLICANT_COUNT,
                "levels": [level.as_dict() for level in self.levels],
                "source_calls_in_timed_runs": self.source_calls,
                "submissions_audited_in_timed_runs": self.stored,
            },
            "due_query": self.due.as_dict(),
        }
