"""The licence benchmarks' section of docs/benchmarks.md and their raw figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from . import processes, wrk
from .licences_load import TYPE_NAME, WRK_TIMEOUT_S, Phase


@dataclass(frozen=True)
class LicenceReport:
    """Issuance, verification and cached re-verification, rendered as one section of docs/benchmarks.md."""

    issuance: Phase
    verification: Phase
    cached: wrk.Measurement
    cached_load: wrk.WrkSettings
    pdfs: int  # distinct licence PDFs the verification rounds rotated over
    cache_misses: list[tuple[int, int]]  # per verification run: (answers, reports in the cache afterwards)
    name: str = "licences"

    def markdown(self) -> list[str]:
        issue, verify, cached, load = self.issuance, self.verification, self.cached, self.issuance.load
        jobs = load.connections
        lines = [
            "## Issue and verify e-licences",
            "",
            f"- hub: `POST /api/v1/licences` of a {TYPE_NAME[0]} with four fields, a new holder id every"
            " request, as the issuing agency (agency bearer token): number, render, seal at PAdES B-LT by the"
            " agency's seal with the hub's TSA, store, audit; `POST /api/v1/verifications` of licences the hub"
            " issued (multipart upload, about 55 kB), every answer checked to say `valid`; `hub serve` without"
            " the demo province",
            f"- in-process: the same work with no server, {jobs} jobs at a time on {processes.WORKERS} processes"
            f" (`bench/licences_inprocess.py`): `certs.render.render_licence` + `certs.pades.seal_pdf` with a PKI"
            " made in memory by `certs.authority` (the hub's key types; CRLs and OCSP answers made once, as the hub"
            " caches them), and `certs.verify.verify_pdf` of the hub's PDFs with the hub's roots, issuing CA and CRLs",
            f"- load: `wrk -t{load.threads} -c{jobs} -d{load.round_seconds}s --timeout {WRK_TIMEOUT_S}s --latency -s"
            f" <POST script>`: {jobs // processes.WORKERS} connections a worker keep its GIL and both of its verifier"
            " processes busy (more would only queue); the in-process side runs as many jobs at a time;"
            f" {load.rounds} round{'s' if load.rounds != 1 else ''} each after a"
            f" {load.warmup_seconds} s warm-up, hub and in-process taking turns; each figure the median of its rounds",
            f"- verification cache: deleted from the hub's Redis before every wrk run, which rotates over"
            f" {self.pdfs} distinct PDFs; each run made at most"
            f" {max(answers for answers, _ in self.cache_misses)} requests and left at least as many reports"
            " cached as it had answers, so every timed verification was a cache miss",
            "",
            "| operation | hub /s | p50 | p99 | CPU each | in-process /s | p50 | p99 | CPU each | hub / in-process"
            " | by CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for label, phase in (("issue a licence", issue), ("verify a licence PDF", verify)):
            hub, base = phase.hub, phase.inprocess
            hub_cpu, base_cpu = phase.cpu_ms
            lines.append(
                f"| {label} | {hub.requests_per_second:.1f} | {_ms(hub.p50_ms)} | {_ms(hub.p99_ms)} | {_ms(hub_cpu)}"
                f" | {base.requests_per_second:.1f} | {_ms(base.p50_ms)} | {_ms(base.p99_ms)} | {_ms(base_cpu)}"
                f" | {phase.ratio:.2f}× | {base_cpu / hub_cpu:.2f}× |"
            )
        again = self.cached_load
        lines += [
            f"| re-verify one PDF (cache hit) | {cached.requests_per_second:,.0f} | {_ms(cached.p50_ms)}"
            f" | {_ms(cached.p99_ms)} | | | | | | | |",
            "",
            "CPU each: the CPU time of all the hub's processes (gunicorn workers, verifier processes, embedded"
            " Redis) per operation, counting the ones wrk left in flight, and of the in-process side's processes"
            " per job (medians of the rounds); other load on the machine moves it less than it moves the rates."
            " hub / in-process is the ratio of the rates; by CPU, in-process CPU each over the hub's: the ratio"
            " the rates would have if both sides had the cores to themselves.",
            "",
            f"Cached re-verification posts one PDF again and again with the default load (`wrk -t{again.threads}"
            f" -c{again.connections} -d{again.round_seconds}s --latency`, {again.rounds}"
            f" round{'s' if again.rounds != 1 else ''} after a"
            f" {again.warmup_seconds} s warm-up): the signature reports come from the cache.",
            "",
            *_notes("issuance", issue.hub),
            *_notes("verification", verify.hub),
            *_notes("cached re-verification", cached),
            _meaning(self),
            "",
            f"Raw figures and wrk's output: `bench/out/{self.name}.json`.",
            "",
        ]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "title": "E-licence issuance and verification, hub and in-process",
            "servers": {"worker_class": "gthread", "workers": processes.WORKERS, "threads": processes.THREADS},
            "inprocess": {"processes": processes.WORKERS, "jobs_in_flight": self.issuance.load.connections},
            "issuance": self.issuance.as_dict(),
            "verification": {
                **self.verification.as_dict(),
                "distinct_pdfs": self.pdfs,
                "runs_answers_and_cached_reports": self.cache_misses,
            },
            "cached_reverification": {"load": asdict(self.cached_load), **self.cached.as_dict()},
        }


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _notes(label: str, measured: wrk.Measurement) -> list[str]:
    notes = wrk.round_notes(label, measured)
    return [" ".join(notes), ""] if notes else []


ISSUANCE_OWN_WORK = (
    "HTTP and the request schema, the token lookup, reserving the number and committing the record, its indexes and"
    " the audit entry (two Redis transactions), the seal's revocation data and storing the PDF"
)


def _own_work(hub_ms: float, alone_ms: float) -> str:
    if hub_ms >= alone_ms:
        return f"{hub_ms - alone_ms:.0f} ms is the hub's own work — {ISSUANCE_OWN_WORK}"
    # The in-process side makes a time stamper for every licence, as the hub did before it kept one per thread.
    return (
        f"the hub spends {alone_ms - hub_ms:.0f} ms less, its own work ({ISSUANCE_OWN_WORK}) included: it keeps one"
        " time stamper per thread, where the in-process side makes one for each licence and pyHanko its dummy"
        " timestamp again with it (cut 1 in docs/profiling.md)"
    )


def _meaning(report: LicenceReport) -> str:
    issue, verify = report.issuance, report.verification
    (issue_hub, issue_alone), (verify_hub, verify_alone) = issue.cpu_ms, verify.cpu_ms
    return (
        f"The hub issues licences at {issue.ratio:.0%} of the rate of pyHanko rendering and sealing them alone, and"
        f" verifies them at {verify.ratio:.0%} of its rate. Per licence its processes spend {issue_hub:.0f} ms of"
        f" CPU against {issue_alone:.0f} ms for the rendering and sealing: {_own_work(issue_hub, issue_alone)}."
        " Per verification it spends"
        f" {verify_hub:.0f} ms against {verify_alone:.0f} ms: the multipart upload, handing the file to a verifier"
        " process and the report back, the cache write, the"
        " licence lookup and the audit entry. A cached re-verification skips the signature work: what is left is"
        " the upload, its SHA-256, the cache read, the licence lookup and the audit entry."
    )
