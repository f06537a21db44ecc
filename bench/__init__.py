"""Benchmarks of the hub served for real (gunicorn, embedded Redis) beside bare baselines; run with ``make bench``.

Each benchmark in ``bench.__main__.BENCHMARKS`` starts its own processes on 127.0.0.1, loads them
with ``wrk`` and returns a :class:`bench.report.Comparison`; the report module writes all of them
to ``docs/benchmarks.md`` and their raw numbers to ``bench/out/<name>.json``.
"""
