"""What a benchmark returns (a hub-versus-baseline comparison) and the writers of its results.

``write_all`` renders every comparison of a run into ``docs/benchmarks.md`` (rewritten each run)
and writes each one's raw figures to ``bench/out/<name>.json`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .processes import REPO, THREADS, WORKERS
from .wrk import Measurement, WrkSettings

DOC_PATH = REPO / "docs" / "benchmarks.md"
OUT_DIR = REPO / "bench" / "out"


@dataclass(frozen=True)
class Comparison:
    """One endpoint of the hub measured beside a bare baseline under the same load."""

    name: str  # file name stem of the JSON output, e.g. "service_item_get"
    title: str
    hub_request: str  # what the hub was asked, in words, for the report
    baseline_request: str  # what the baseline does, in words
    hub: Measurement
    baseline: Measurement
    load: WrkSettings
    meaning: str  # a sentence on what the figures mean

    def ratios(self) -> dict[str, float]:
        """hub / baseline for req/s, p50 and p99."""
        return {
            "requests_per_second": self.hub.requests_per_second / self.baseline.requests_per_second,
            "p50": self.hub.p50_ms / self.baseline.p50_ms,
            "p99": self.hub.p99_ms / self.baseline.p99_ms,
        }


def machine_facts() -> dict[str, Any]:
    """When and on what the benchmarks ran."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "loadavg_1min": os.getloadavg()[0],
    }


def _ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def _round_notes(comparison: Comparison) -> list[str]:
    notes = []
    for label, measured in (("hub", comparison.hub), ("baseline", comparison.baseline)):
        unbalanced = sum(not r.balanced for r in measured.rounds)
        if measured.discarded:
            notes.append(f"{label}: {len(measured.discarded)} round(s) run again because one worker took the load.")
        if unbalanced:
            notes.append(f"{label}: {unbalanced} kept round(s) were still served by mostly one worker.")
    return [" ".join(notes), ""] if notes else []


def _section(comparison: Comparison) -> list[str]:
    hub, base, ratios = comparison.hub, comparison.baseline, comparison.ratios()
    return [
        f"## {comparison.title}",
        "",
        f"- hub: {comparison.hub_request}",
        f"- baseline: {comparison.baseline_request}",
        "",
        "| server | req/s | p50 | p99 |",
        "| --- | ---: | ---: | ---: |",
        f"| hub | {hub.requests_per_second:,.0f} | {_ms(hub.p50_ms)} | {_ms(hub.p99_ms)} |",
        f"| baseline | {base.requests_per_second:,.0f} | {_ms(base.p50_ms)} | {_ms(base.p99_ms)} |",
        f"| hub / baseline | {ratios['requests_per_second']:.2f}× | {ratios['p50']:.2f}× | {ratios['p99']:.2f}× |",
        "",
        *_round_notes(comparison),
        comparison.meaning,
        "",
        f"Raw figures and wrk's output: `bench/out/{comparison.name}.json`.",
        "",
    ]


def render_markdown(comparisons: list[Comparison], facts: dict[str, Any]) -> str:
    """docs/benchmarks.md for one run."""
    load = comparisons[0].load if comparisons else WrkSettings()
    lines = [
        "# Benchmarks",
        "",
        "Throughput and latency of the hub served for real — `hub serve` under gunicorn with its embedded",
        "Redis — each measured beside a bare baseline in the same run: a minimal Flask app under gunicorn",
        "with the same worker settings whose one endpoint does a single Redis GET. The baseline is the floor",
        "for this stack on this machine; the hub / baseline ratios are what the hub's own work costs, and they",
        "travel between machines better than the absolute figures do.",
        "",
        "This file is rewritten by each run of:",
        "",
        "```sh",
        "make bench",
        "```",
        "",
        f"- date: {facts['date']}",
        f"- machine: {facts['nproc']} CPUs (nproc), {facts['cpu_model']}, Python {facts['python']}",
        f"- servers: gunicorn gthread, {WORKERS} workers × {THREADS} threads each, on 127.0.0.1",
        f"- load: `wrk -t{load.threads} -c{load.connections} -d{load.round_seconds}s --latency`, {load.rounds} rounds"
        f" per server after a {load.warmup_seconds} s warm-up, the servers taking turns (one loaded at a time);"
        " each figure is the median of its rounds",
        "- gunicorn's workers do not share kept-alive connections, and now and then one worker accepts all",
        "  of wrk's connections and serves a whole round alone, at about half the rate; a round in which a worker",
        f"  did less than {load.min_fair_share / WORKERS:.0%} of the work is run again (at most {load.attempts} tries),"
        " and the JSON keeps every round with its workers' CPU split",
        f"- load average before the run: {facts['loadavg_1min']:.2f} (1 min)",
        f"- wrk and the servers share the same {facts['nproc']} cores, so every absolute figure is lower than it",
        "  would be with the load generator on another machine; both rows pay that tax alike",
        "",
    ]
    for comparison in comparisons:
        lines += _section(comparison)
    return "\n".join(lines).rstrip() + "\n"


def comparison_json(comparison: Comparison, facts: dict[str, Any]) -> dict[str, Any]:
    """The raw figures of one comparison."""
    return {
        "name": comparison.name,
        "title": comparison.title,
        "machine": facts,
        "servers": {"worker_class": "gthread", "workers": WORKERS, "threads": THREADS},
        "load": asdict(comparison.load),
        "hub": {"request": comparison.hub_request, **comparison.hub.as_dict()},
        "baseline": {"request": comparison.baseline_request, **comparison.baseline.as_dict()},
        "ratios_hub_over_baseline": comparison.ratios(),
    }


def write_all(comparisons: list[Comparison], facts: dict[str, Any]) -> list[Path]:
    """Write docs/benchmarks.md and one JSON file per comparison; the paths written."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for comparison in comparisons:
        path = OUT_DIR / f"{comparison.name}.json"
        path.write_text(json.dumps(comparison_json(comparison, facts), indent=2, ensure_ascii=False) + "\n")
        written.append(path)
    DOC_PATH.write_text(render_markdown(comparisons, facts))
    written.append(DOC_PATH)
    return written
