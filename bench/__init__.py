"""Benchmarks of the hub served for real (gunicorn, embedded Redis) beside bare baselines; run with ``make bench``.

Each benchmark in ``bench.__main__.BENCHMARKS`` starts its own processes on 127.0.0.1, loads them
with ``wrk`` and returns a result; the report module writes all of them to ``docs/benchmarks.md``
(a table of ratios first, a plot per benchmark from :mod:`bench.plots`) and their raw numbers to
``bench/out/<name>.json``. ``python -m bench --only NAME`` runs some of them; :mod:`bench.profile`,
:mod:`bench.cpu` and :mod:`bench.cuts` are the profiling tools of docs/profiling.md.
"""
