"""The benchmark report: a PNG plot under each benchmark's heading and the table of ratios at the top."""

from __future__ import annotations

from pathlib import Path

from bench import report, scaling_records, wrk


def _measured(rate: float, p50: float) -> wrk.Measurement:
    result = wrk.WrkResult(rate, p50, p50 * 2, int(rate * 6), 0, 0, "raw output")
    return wrk.Measurement([result])


def test_report_has_ratio_table_and_a_plot_per_benchmark(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(report, "OUT_DIR", tmp_path / "out")
    load = wrk.WrkSettings()
    comparison = report.Comparison(
        "service_item_get", "Read one service item", "GET item", "GET value",
        _measured(800, 20), _measured(2000, 8), load, "Meaning.",
    )  # fmt: skip
    points = [
        scaling_records.Point(
            count, 1.0, count * 2000, {"read by number": _measured(400, 40), "issue": _measured(7, ms)}
        )
        for count, ms in ((1_000, 500), (1_000_000, 550))
    ]
    records = scaling_records.RecordsResult(points, load, load)
    facts = report.machine_facts() | {"command": "python -m bench --only x"}
    doc = tmp_path / "docs" / "benchmarks.md"

    written = report.write_all([comparison, records], facts, doc)

    text = doc.read_text()
    for name in ("service_item_get", "scaling_records"):
        image = doc.parent / "benchmarks" / f"{name}.png"
        assert image in written
        assert image.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert f"![{name}](benchmarks/{name}.png)" in text
    table = text.split("## Ratios against the baselines of the same run", 1)[1].split("\n## ", 1)[0]
    assert "| read one service item | req/s | 800/s | 2,000/s | 0.40× |" in table
    assert "| issue, 1,000,000 licences | p50 | 550 ms | 500 ms | 1.10× |" in table
    assert text.index("## Ratios") < text.index("## Read one service item") < text.index("## Licences on record")
    assert (tmp_path / "out" / "scaling_records.json").exists()
