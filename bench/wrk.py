"""Drive ``wrk`` (installing the Debian package when it is missing) and parse its ``--latency`` report."""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

# wrk prints durations with these units (see its stats output); values are converted to milliseconds.
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(RuntimeError):
    """wrk is unavailable, failed, or reported errors that make its figures meaningless."""


@dataclass(frozen=True)
class WrkSettings:
    """How wrk loads a server: threads, open connections, warm-up seconds, and rounds of measured seconds."""

    threads: int = 2
    connections: int = 16
    warmup_seconds: int = 2
    rounds: int = 3
    round_seconds: int = 6
    # A round in which some worker did less than this share of a fair split of the work is run again
    # (at most ``attempts`` times in all): see the note on kept-alive connections in measure_interleaved.
    min_fair_share: float = 0.5
    attempts: int = 3


@dataclass(frozen=True)
class WrkResult:
    """The figures of one measured wrk run."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    raw: str
    worker_shares: list[float] = field(default_factory=list)  # each worker's share of the CPU, largest first
    balanced: bool = True


@dataclass(frozen=True)
class Target:
    """A URL to load, with the headers to send, a name for the report, and how to read its workers' CPU time."""

    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    worker_cpu: Callable[[], dict[int, float]] | None = None
    script: Path | None = None  # a wrk Lua script (say, one that POSTs a body)


@dataclass(frozen=True)
class Measurement:
    """The rounds measured on one target; its figures are the medians over the rounds."""

    rounds: list[WrkResult]
    discarded: list[WrkResult] = field(default_factory=list)  # unbalanced rounds that were run again

    @property
    def requests_per_second(self) -> float:
        """Median requests/s over the rounds."""
        return statistics.median(r.requests_per_second for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        """Median over the rounds of the 50th-percentile latency, in milliseconds."""
        return statistics.median(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        """Median over the rounds of the 99th-percentile latency, in milliseconds."""
        return statistics.median(r.p99_ms for r in self.rounds)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures: the medians, then every round with wrk's own output."""
        return {
            "requests_per_second": self.requests_per_second,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "rounds": [asdict(r) for r in self.rounds],
            "discarded_unbalanced_rounds": [asdict(r) for r in self.discarded],
        }


def ensure_wrk() -> str:
    """Path of ``wrk``; installs the Debian package first if it is not on PATH (needs root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed; run: apt-get install wrk")
    print("installing wrk (Debian package)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise WrkError("apt-get installed wrk but it is not on PATH")
    return found


def _milliseconds(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse(output: str) -> WrkResult:
    """The figures in wrk's ``--latency`` output; WrkError if a line is missing."""
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(rf"^\s+50(?:\.0+)?%\s+{_DURATION}", output, re.MULTILINE)
    p99 = re.search(rf"^\s+99(?:\.0+)?%\s+{_DURATION}", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if not (rate and p50 and p99 and total):
        raise WrkError(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=_milliseconds(*p50.groups()),
        p99_ms=_milliseconds(*p99.groups()),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        raw=output,
    )


def _run(url: str, headers: dict[str, str], settings: WrkSettings, seconds: int, script: Path | None = None) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"benchmarks only target 127.0.0.1, not {url}")
    command = [ensure_wrk(), f"-t{settings.threads}", f"-c{settings.connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with status {done.returncode}: {done.stderr or done.stdout}")
    return done.stdout


def _checked(target: Target, output: str) -> WrkResult:
    result = parse(output)
    if result.non_2xx or result.socket_errors:
        raise WrkError(
            f"{target.url}: {result.non_2xx} error responses and {result.socket_errors} socket errors\n{output}"
        )
    return result


def cpu_shares(before: dict[int, float], after: dict[int, float]) -> list[float]:
    """Each worker's share of the CPU its server used in between, largest first; [] if workers changed."""
    if not before or set(before) != set(after):
        return []
    used = [after[pid] - before[pid] for pid in before]
    total = sum(used)
    return sorted((u / total for u in used), reverse=True) if total > 0 else []


def _round(target: Target, settings: WrkSettings) -> WrkResult:
    before = target.worker_cpu() if target.worker_cpu else {}
    output = _run(target.url, target.headers, settings, settings.round_seconds, target.script)
    after = target.worker_cpu() if target.worker_cpu else {}
    shares = cpu_shares(before, after)
    balanced = not shares or min(shares) >= settings.min_fair_share / len(shares)
    return replace(_checked(target, output), worker_shares=shares, balanced=balanced)


def measure_interleaved(targets: list[Target], settings: WrkSettings) -> dict[str, Measurement]:
    """Warm each target up, then measure them in alternating rounds (the order reversed every other round).

    Interleaving spreads any background load on the machine over all targets alike, which keeps their
    ratios meaningful on a shared box.

    gunicorn's workers do not share kept-alive connections: all of wrk's connections are opened at
    the start of a run, and when one worker happens to get (nearly) all of them (on one shared socket,
    the one that woke first; on a socket each, the kernel's hash, which with few connections can favour
    one), it alone serves the whole run at about half the throughput. Such a round says more about that race than about
    the server, so it is run again, up to ``settings.attempts`` times; the last attempt is kept
    whatever its split. WrkError if any response was an error.
    """
    for target in targets:
        if settings.warmup_seconds > 0:
            _checked(target, _run(target.url, target.headers, settings, settings.warmup_seconds, target.script))
    kept: dict[str, list[WrkResult]] = {target.name: [] for target in targets}
    discarded: dict[str, list[WrkResult]] = {target.name: [] for target in targets}
    for number in range(settings.rounds):
        for target in targets if number % 2 == 0 else reversed(targets):
            for attempt in range(1, settings.attempts + 1):
                result = _round(target, settings)
                split = "/".join(f"{share:.0%}" for share in result.worker_shares) or "?"
                print(
                    f"  round {number + 1}/{settings.rounds} {target.name}: {result.requests_per_second:,.0f} req/s,"
                    f" p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, worker CPU split {split}",
                    flush=True,
                )
                if result.balanced or attempt == settings.attempts:
                    kept[target.name].append(result)
                    break
                print("    one worker took (nearly) all connections; running the round again", flush=True)
                discarded[target.name].append(result)
    return {name: Measurement(kept[name], discarded[name]) for name in kept}


def measure_once(target: Target, settings: WrkSettings, seconds: int) -> WrkResult:
    """One wrk run of ``seconds`` on ``target``, without warm-up or the worker-balance check."""
    return _checked(target, _run(target.url, target.headers, settings, seconds, target.script))


def round_notes(label: str, measured: Measurement) -> list[str]:
    """Sentences saying which of a measurement's rounds were run again, or kept though one worker served them."""
    unbalanced = sum(not r.balanced for r in measured.rounds)
    notes = []
    if measured.discarded:
        notes.append(f"{label}: {len(measured.discarded)} round(s) run again because one worker took the load.")
    if unbalanced:
        notes.append(f"{label}: {unbalanced} kept round(s) were still served by mostly one worker.")
    return notes
