"""Drive ``wrk`` (installing the Debian package when it is missing) and parse its ``--latency`` report."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

# wrk prints durations with these units (see its stats output); values are converted to milliseconds.
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(RuntimeError):
    """wrk is unavailable, failed, or reported errors that make its figures meaningless."""


@dataclass(frozen=True)
class WrkSettings:
    """How wrk loads the server: threads, open connections, seconds of warm-up and of measurement."""

    threads: int = 2
    connections: int = 16
    warmup_seconds: int = 3
    duration_seconds: int = 15


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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


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


def _run(url: str, headers: dict[str, str], settings: WrkSettings, seconds: int) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"benchmarks only target 127.0.0.1, not {url}")
    command = [ensure_wrk(), f"-t{settings.threads}", f"-c{settings.connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with status {done.returncode}: {done.stderr or done.stdout}")
    return done.stdout


def measure(url: str, headers: dict[str, str], settings: WrkSettings) -> WrkResult:
    """Warm the server up, then measure it; WrkError if any response was an error."""
    if settings.warmup_seconds > 0:
        _run(url, headers, settings, settings.warmup_seconds)
    result = parse(_run(url, headers, settings, settings.duration_seconds))
    if result.non_2xx or result.socket_errors:
        raise WrkError(
            f"{url}: {result.non_2xx} error responses and {result.socket_errors} socket errors\n{result.raw}"
        )
    return result
