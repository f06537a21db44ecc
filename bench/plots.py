"""A plot per benchmark (PNG, matplotlib's Agg backend) and the row(s) each adds to the table of ratios.

Both are drawn from a benchmark's raw figures, the document written to ``bench/out/<name>.json``, so
the report of a run and any later redraw from those files come out the same. A benchmark with no
entry here simply has no plot or no ratio row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

HUB, BASE, THIRD = "#1f6f8b", "#b0b0b0", "#e08a2c"  # the hub, its baseline, a further series
Document = dict[str, Any]


@dataclass(frozen=True)
class Ratio:
    """One row of the summary table: a figure of the hub beside its baseline's from the same run."""

    benchmark: str
    measure: str
    hub: str
    baseline: str
    ratio: float
    baseline_name: str


def _figure(title: str, panels: int) -> tuple[Figure, list[Axes]]:
    figure, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.4), squeeze=False)
    figure.suptitle(title, fontsize=11)
    return figure, list(axes[0])


def _bars(axis: Axes, labels: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    """Grouped bars: one group per label, one bar per series, each bar labelled with its value."""
    colours = [HUB, BASE, THIRD]
    width = 0.8 / len(series)
    for n, (name, values) in enumerate(series.items()):
        positions = [x + (n - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = axis.bar(positions, values, width, label=name, color=colours[n % len(colours)])
        axis.bar_label(bars, fmt="%.3g", fontsize=7, padding=1)
    axis.set_xticks(range(len(labels)), labels, fontsize=8)
    axis.set_ylabel(ylabel)
    axis.margins(y=0.15)
    if len(series) > 1:
        axis.legend(fontsize=7)


def _lines(
    axis: Axes,
    x: list[float],
    series: dict[str, list[float]],
    xlabel: str,
    ylabel: str,
    log_x: bool,
    log_y: bool = False,
) -> None:
    colours = [HUB, THIRD, BASE, "#6a3d9a"]
    for n, (name, values) in enumerate(series.items()):
        axis.plot(x, values, marker="o", label=name, color=colours[n % len(colours)])
    if log_x:
        axis.set_xscale("log")
    axis.set_xticks(x, [_tick(value) for value in x], fontsize=8)
    axis.minorticks_off()
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if not log_y:
        axis.set_ylim(bottom=0)
    else:
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)


def _tick(value: float) -> str:
    """1,000 as 10³ and so on; other values as they are."""
    power = math.log10(value) if value > 0 else 0.5
    return f"$10^{{{power:.0f}}}$" if value >= 1000 and power.is_integer() else f"{value:,.0f}"


# -- one function per benchmark: its figure from its raw document
def _service_item_get(doc: Document, title: str = "Read one service item") -> Figure:
    figure, (rate, latency) = _figure(f"{title}: hub and one-Redis-GET baseline", 2)
    hub, base = doc["hub"], doc["baseline"]
    _bars(rate, ["req/s"], {"hub": [hub["requests_per_second"]], "baseline": [base["requests_per_second"]]}, "req/s")
    _bars(
        latency,
        ["p50", "p99"],
        {"hub": [hub["p50_ms"], hub["p99_ms"]], "baseline": [base["p50_ms"], base["p99_ms"]]},
        "ms",
    )
    return figure


def _resolution(doc: Document) -> Figure:
    figure, (load, growth) = _figure("Once-only resolution, sources answering after 100 ms", 2)
    levels = doc["throughput"]["levels"]
    labels = [str(level["load"]["connections"]) for level in levels]
    _bars(
        load,
        [f"{label} conn." for label in labels],
        {"p50": [level["p50_ms"] for level in levels], "p99": [level["p99_ms"] for level in levels]},
        f"ms ({doc['throughput']['materials']} materials)",
    )
    load.axhline(doc["source_delay_ms"], color=BASE, linestyle="--", linewidth=1)
    points = doc["growth"]
    _lines(
        growth,
        [point["materials"] for point in points],
        {
            "p50": [point["p50_ms"] for point in points],
            "p99": [point["p99_ms"] for point in points],
            "slowest source": [doc["source_delay_ms"]] * len(points),
        },
        "materials (one source each)",
        "ms, one at a time",
        log_x=False,
    )
    return figure


def _licences(doc: Document) -> Figure:
    figure, (rate, cpu) = _figure("E-licences: the hub beside pyHanko in-process", 2)
    phases = {"issue": doc["issuance"], "verify": doc["verification"]}
    _bars(
        rate,
        list(phases),
        {
            "hub": [phase["hub"]["requests_per_second"] for phase in phases.values()],
            "in-process": [phase["inprocess"]["requests_per_second"] for phase in phases.values()],
        },
        "operations/s",
    )

    def median(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[len(ordered) // 2]

    _bars(
        cpu,
        list(phases),
        {
            "hub": [median(phase["cpu_ms_per_operation"]["hub_rounds"]) for phase in phases.values()],
            "in-process": [median(phase["cpu_ms_per_operation"]["inprocess_rounds"]) for phase in phases.values()],
        },
        "CPU ms per operation",
    )
    return figure


def _intake(doc: Document) -> Figure:
    figure, (submit, due) = _figure("Intake: submission, and the due-date query as cases grow", 2)
    levels = doc["submission"]["levels"]
    _bars(
        submit,
        [f"{level['load']['connections']} conn." for level in levels],
        {"p50": [level["p50_ms"] for level in levels], "p99": [level["p99_ms"] for level in levels]},
        "ms per submission",
    )
    submit.axhline(doc["source_delay_ms"], color=BASE, linestyle="--", linewidth=1)
    points = doc["due_query"]["points"]
    _lines(
        due,
        [point["cases"] for point in points],
        {
            "p50 (8 conn.)": [point["p50_ms"] for point in points],
            "p50 one at a time": [point["one_at_a_time"]["p50_ms"] for point in points],
        },
        "accepted cases",
        "ms",
        log_x=True,
    )
    return figure


def _archives(doc: Document) -> Figure:
    figure, (axis,) = _figure("Archive build time per case", 1)
    axis.boxplot([doc["hub_ms"], doc["baseline_ms"]], showfliers=True)
    axis.set_xticks([1, 2], ["hub: from Redis", "baseline: from memory"], fontsize=8)
    axis.set_ylabel("ms per case")
    axis.set_ylim(bottom=0)
    return figure


def _ofd(doc: Document) -> Figure:
    figure, (axis,) = _figure("OFD licences beside PAdES, one at a time", 1)
    series = list(doc["ms"])
    axis.boxplot([doc["ms"][name] for name in series], showfliers=True)
    axis.set_xticks(range(1, len(series) + 1), series, fontsize=8)
    axis.set_ylabel("ms per request")
    axis.set_ylim(bottom=0)
    return figure


def _backup(doc: Document) -> Figure:
    figure, (axis,) = _figure(f"Backup and restore of {doc['licences']:,} licences", 1)
    _bars(
        axis,
        ["create", "verify", "restore"],
        {"seconds": [doc["create_seconds"], doc["verify_seconds"], doc["restore_seconds"]]},
        "seconds",
    )
    return figure


def _workers(doc: Document) -> Figure:
    figure, (rate, latency) = _figure("Scaling with gunicorn workers (HUB_WORKERS)", 2)
    workers = [point["workers"] for point in doc["points"]]
    operations = list(doc["points"][0]["operations"])
    _lines(
        rate,
        workers,
        {op: [point["operations"][op]["requests_per_second"] for point in doc["points"]] for op in operations},
        "workers",
        "req/s",
        log_x=False,
        log_y=True,
    )
    _lines(
        latency,
        workers,
        {op: [point["operations"][op]["p50_ms"] for point in doc["points"]] for op in operations},
        "workers",
        "p50 ms",
        log_x=False,
        log_y=True,
    )
    return figure


def _records(doc: Document) -> Figure:
    figure, (rate, latency) = _figure("Licences on record: reads by number and issuance", 2)
    counts = [point["licences"] for point in doc["points"]]
    operations = list(doc["points"][0]["operations"])
    _lines(
        rate,
        counts,
        {op: [point["operations"][op]["requests_per_second"] for point in doc["points"]] for op in operations},
        "licences on record",
        "req/s",
        log_x=True,
        log_y=True,
    )
    _lines(
        latency,
        counts,
        {op: [point["operations"][op]["p50_ms"] for point in doc["points"]] for op in operations},
        "licences on record",
        "p50 ms",
        log_x=True,
        log_y=True,
    )
    return figure


def _credentials(doc: Document) -> Figure:
    figure, (checks, sizes) = _figure(f"{doc['credentials']:,} licence checks; status lists of 1,000,000", 2)
    _bars(
        checks,
        ["offline\n(in process)", "offline\n(hub verify-offline)", "online\n(/verify)"],
        {"seconds": [doc["offline_seconds"], doc["offline_cli_seconds"], doc["online_seconds"]]},
        "seconds for all",
    )
    shares = [f"{size['not_valid_share']:.0%}" for size in doc["sizes"]]
    _bars(sizes, shares, {"signed lists, KB": [size["token_bytes"] / 1024 for size in doc["sizes"]]}, "KB")
    sizes.axhline(300, color=THIRD, linestyle="--", linewidth=1)
    sizes.set_xlabel("licences not valid")
    return figure


DRAWINGS: dict[str, Callable[[Document], Figure]] = {
    "service_item_get": _service_item_get,
    "status_lookup": lambda doc: _service_item_get(doc, "Public status look-up"),
    "resolution": _resolution,
    "licences": _licences,
    "intake": _intake,
    "archives": _archives,
    "ofd": _ofd,
    "backup": _backup,
    "scaling_workers": _workers,
    "scaling_records": _records,
    "credentials": _credentials,
}


def draw(name: str, doc: Document, path: Path) -> bool:
    """Write the plot of benchmark ``name`` to ``path``; False if it has none."""
    drawing = DRAWINGS.get(name)
    if drawing is None:
        return False
    figure = drawing(doc)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


# -- the summary table's rows
def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def _rate(value: float) -> str:
    return f"{value:,.1f}/s" if value < 100 else f"{value:,.0f}/s"


def over(value: float, base: float) -> float:
    """value / base, or NaN when there is no base (a run too short to answer anything)."""
    return value / base if base else math.nan


def ratios(name: str, doc: Document) -> list[Ratio]:
    """The summary rows of benchmark ``name`` (none for one without a baseline)."""
    rows: list[Ratio] = []
    if name in ("service_item_get", "status_lookup"):
        hub, base = doc["hub"], doc["baseline"]
        baseline = "Flask + one Redis GET"
        what = "read one service item" if name == "service_item_get" else "public status look-up"
        rows += [
            Ratio(what, "req/s", _rate(hub["requests_per_second"]),
                  _rate(base["requests_per_second"]), over(hub["requests_per_second"], base["requests_per_second"]),
                  baseline),
            Ratio(what, "p50", _ms(hub["p50_ms"]), _ms(base["p50_ms"]),
                  over(hub["p50_ms"], base["p50_ms"]), baseline),
        ]  # fmt: skip
    elif name == "resolution":
        alone = doc["source_alone"]
        for level in doc["throughput"]["levels"]:
            rows.append(
                Ratio(f"resolve 5 materials, {level['load']['connections']} conn.", "p50", _ms(level["p50_ms"]),
                      _ms(alone["p50_ms"]), over(level["p50_ms"], alone["p50_ms"]),
                      "one stand-in source loaded directly")
            )  # fmt: skip
    elif name == "licences":
        for label, phase in (("issue a licence", doc["issuance"]), ("verify a licence PDF", doc["verification"])):
            hub, base = phase["hub"], phase["inprocess"]
            rows.append(
                Ratio(label, "per second", _rate(hub["requests_per_second"]), _rate(base["requests_per_second"]),
                      over(hub["requests_per_second"], base["requests_per_second"]), "pyHanko in-process")
            )  # fmt: skip
    elif name == "intake":
        level = doc["submission"]["levels"][0]
        delay = doc["source_delay_ms"]
        rows.append(
            Ratio("submit an application, one at a time", "p50", _ms(level["p50_ms"]), _ms(delay),
                  over(level["p50_ms"], delay), "the slowest source's delay")
        )  # fmt: skip
    elif name == "archives":
        rows.append(
            Ratio("build a case's archive", "p50", _ms(doc["hub_p50_ms"]), _ms(doc["baseline_p50_ms"]),
                  over(doc["hub_p50_ms"], doc["baseline_p50_ms"]), "the same zip and seal from memory")
        )  # fmt: skip
    elif name == "ofd":
        p50 = doc["p50_ms"]
        for label, series, baseline in (
            ("issue a licence as PDF and OFD", "issue PDF + OFD", "issue PDF"),
            ("verify a licence OFD", "verify OFD", "verify PDF"),
        ):
            rows.append(
                Ratio(label, "p50", _ms(p50[series]), _ms(p50[baseline]), over(p50[series], p50[baseline]),
                      f"{baseline}, the same licences")
            )  # fmt: skip
    elif name == "scaling_workers":
        first, last = doc["points"][0], doc["points"][-1]
        for op in first["operations"]:
            one, many = first["operations"][op], last["operations"][op]
            rows.append(
                Ratio(f"{op}, {last['workers']} workers", "req/s", _rate(many["requests_per_second"]),
                      _rate(one["requests_per_second"]), over(many["requests_per_second"], one["requests_per_second"]),
                      f"the same with {first['workers']} worker")
            )  # fmt: skip
    elif name == "scaling_records":
        first, last = doc["points"][0], doc["points"][-1]
        for op in first["operations"]:
            few, many = first["operations"][op], last["operations"][op]
            rows.append(
                Ratio(f"{op}, {last['licences']:,} licences", "p50", _ms(many["p50_ms"]), _ms(few["p50_ms"]),
                      over(many["p50_ms"], few["p50_ms"]), f"the same with {first['licences']:,} on record")
            )  # fmt: skip
    return rows
