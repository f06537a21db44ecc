"""What a benchmark returns (a :class:`Result`, such as a hub-versus-baseline comparison) and the writers.

``write_all`` renders every result of a run into ``docs/benchmarks.md`` (rewritten each run): first a
table of every ratio against a baseline measured in the same run, then each benchmark's section with
its plot (``docs/benchmarks/<name>.png``, drawn by :mod:`bench.plots`). Each one's raw figures go to
``bench/out/<name>.json`` (git-ignored).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from . import plots
from .processes import REPO, THREADS, WORKERS
from .wrk import Measurement, WrkSettings, round_notes

DOC_PATH = REPO / "docs" / "benchmarks.md"
OUT_DIR = REPO / "bench" / "out"
PLOT_DIR = REPO / "docs" / "benchmarks"


COMMAND = "make bench  # runs .venv/bin/python -m bench"  # what rewrote docs/benchmarks.md, with default settings


class Result(Protocol):
    """What each benchmark returns: its section(s) of docs/benchmarks.md and its raw figures."""

    @property
    def name(self) -> str:
        """File name stem of the JSON output, e.g. ``service_item_get``."""
        ...

    def markdown(self) -> list[str]:
        """Lines of its section(s) of docs/benchmarks.md, each under a ``##`` heading."""
        ...

    def as_json(self) -> dict[str, Any]:
        """Its raw figures for ``bench/out/<name>.json``."""
        ...


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

    def markdown(self) -> list[str]:
        """Its section of docs/benchmarks.md."""
        return _section(self)

    def as_json(self) -> dict[str, Any]:
        """Its raw figures."""
        return {
            "title": self.title,
            "servers": {"worker_class": "gthread", "workers": WORKERS, "threads": THREADS},
            "load": asdict(self.load),
            "hub": {"request": self.hub_request, **self.hub.as_dict()},
            "baseline": {"request": self.baseline_request, **self.baseline.as_dict()},
            "ratios_hub_over_baseline": self.ratios(),
        }

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
    notes = round_notes("hub", comparison.hub) + round_notes("baseline", comparison.baseline)
    return [" ".join(notes), ""] if notes else []


def _section(comparison: Comparison) -> list[str]:
    hub, base, ratios, load = comparison.hub, comparison.baseline, comparison.ratios(), comparison.load
    return [
        f"## {comparison.title}",
        "",
        f"- hub: {comparison.hub_request}",
        f"- baseline: {comparison.baseline_request}",
        f"- load: `wrk -t{load.threads} -c{load.connections} -d{load.round_seconds}s --latency`, {load.rounds} rounds"
        f" per server after a {load.warmup_seconds} s warm-up, the servers taking turns (one loaded at a time);"
        " each figure is the median of its rounds",
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


def _ratio_table(documents: list[dict[str, Any]]) -> list[str]:
    rows = [row for doc in documents for row in plots.ratios(doc["name"], doc)]
    if not rows:
        return []
    lines = [
        "## Ratios against the baselines of the same run",
        "",
        "Each row sets a figure of the hub beside its baseline's, both measured in this run on this machine;"
        " the sections below say how.",
        "",
        "| benchmark | figure | hub | baseline | hub / baseline | baseline |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row.benchmark} | {row.measure} | {row.hub} | {row.baseline} | {_times(row.ratio)}"
            f" | {row.baseline_name} |"
        )
    return [*lines, ""]


def _times(ratio: float) -> str:
    return f"{ratio:.2f}×" if math.isfinite(ratio) else "n/a"


def _with_plot(result: Result, plotted: set[str]) -> list[str]:
    """The result's section(s), its plot shown under the first heading."""
    lines = result.markdown()
    if result.name not in plotted:
        return lines
    image = f"![{result.name}](benchmarks/{result.name}.png)"
    heading = next((n for n, line in enumerate(lines) if line.startswith("## ")), None)
    if heading is None:
        return [image, "", *lines]
    return [*lines[: heading + 1], "", image, *lines[heading + 1 :]]


def render_markdown(
    results: list[Result],
    facts: dict[str, Any],
    documents: list[dict[str, Any]] | None = None,
    plotted: set[str] | None = None,
) -> str:
    """docs/benchmarks.md for one run: ``documents`` are the results' raw documents (for the ratio table),
    ``plotted`` the names of those whose plot was drawn."""
    settings = WrkSettings()
    lines = [
        "# Benchmarks",
        "",
        "Throughput and latency of the hub served for real — `hub serve` under gunicorn with its embedded",
        "Redis. Reads are measured beside a bare baseline in the same run: a minimal Flask app under gunicorn",
        "with the same worker settings whose one endpoint does a single Redis GET. The baseline is the floor",
        "for this stack on this machine; the hub / baseline ratios are what the hub's own work costs, and they",
        "travel between machines better than the absolute figures do. Once-only resolution is measured",
        "against stand-in agency services that answer after a set delay, so the hub's own overhead is its",
        "latency beyond the slowest source. E-licence issuance and verification are measured beside pyHanko",
        "doing the same rendering, sealing and verifying in-process, in the same run, on as many processes.",
        "",
        "This file is rewritten by each run of:",
        "",
        "```sh",
        facts.get("command", COMMAND),
        "```",
        "",
        f"- date: {facts['date']}",
        f"- machine: {facts['nproc']} CPUs (nproc), {facts['cpu_model']}, Python {facts['python']}",
        f"- servers: gunicorn gthread, {WORKERS} workers × {THREADS} threads each, on 127.0.0.1",
        "- gunicorn's workers do not share kept-alive connections; each listens on a socket of its own",
        "  (`reuse_port`), which the kernel spreads new connections over by a hash, so with few connections",
        "  one worker may still get most of them and serve the round alone, at about half the rate; a round of several",
        f"  connections in which a worker did less than {settings.min_fair_share / WORKERS:.0%} of the work is run"
        f" again (at most {settings.attempts} tries),",
        "  and the JSON keeps every round with its workers' CPU split",
        f"- load average before the run: {facts['loadavg_1min']:.2f} (1 min)"
        + (f", after it: {facts['loadavg_1min_after']:.2f}" if "loadavg_1min_after" in facts else ""),
        f"- wrk, the servers and the stand-in agencies share the same {facts['nproc']} cores, so every absolute",
        "  figure is lower than it would be with the load generator on another machine",
        "- how the hot paths were profiled, what the profiles showed and what was cut: [profiling.md](profiling.md)",
        "",
        *_ratio_table(documents or []),
    ]
    for result in results:
        lines += _with_plot(result, plotted or set())
    return "\n".join(lines).rstrip() + "\n"


def write_all(results: list[Result], facts: dict[str, Any], doc_path: Path | None = DOC_PATH) -> list[Path]:
    """Write one JSON file per result and, unless ``doc_path`` is None, the report there (docs/benchmarks.md)
    with its plots in the ``benchmarks`` folder beside it; the paths written."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written, documents, plotted = [], [], set()
    for result in results:
        path = OUT_DIR / f"{result.name}.json"
        document = {"name": result.name, "machine": facts, **result.as_json()}
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        written.append(path)
        documents.append(document)
        if doc_path is not None:
            image = doc_path.parent / PLOT_DIR.name / f"{result.name}.png"
            if plots.draw(result.name, document, image):
                plotted.add(result.name)
                written.append(image)
    if doc_path is not None:
        doc_path.parent.mkdir(parents=True, exist_ok=True)
        doc_path.write_text(render_markdown(results, facts, documents, plotted))
        written.append(doc_path)
    return written
