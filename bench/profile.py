"""Profile the hub's hot paths served for real: ``python -m bench.profile [--seconds N] [--only PATH ...]``.

Each hot path is set up as its benchmark sets it up (a ``hub serve`` under gunicorn with its embedded
Redis, stand-in agencies where it needs them), loaded with wrk, and sampled meanwhile by
``py-spy record --subprocesses`` attached to gunicorn's master: every worker (and, for verification,
every verifier process) is sampled. The collapsed stacks go to ``bench/out/profile-<path>.txt``
(open them with speedscope or flamegraph.pl), and the frames that hold most samples — by their own
time and by time under them — are printed and written to ``bench/out/profile-<path>.md``.
docs/profiling.md reports what these showed and what was cut.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import redis

from hub.store import keys

from . import intake, intake_hub, licences, licences_load, processes, resolution, wrk
from .report import OUT_DIR

RATE = 100  # py-spy samples a second, per process
TOP = 25  # frames listed
PROJECT = tuple(f"({package}" for package in ("hub/", "certs/", "connectors/", "policies/"))


@dataclass(frozen=True)
class Load:
    """What to load while sampling: a wrk target, and something to do before each short wrk run."""

    target: wrk.Target
    master_pid: int
    connections: int
    before_each: Callable[[], None] | None = None
    chunk_seconds: int = 0  # wrk runs of this length (0: one run) with ``before_each`` before each


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(processes.VENV_BIN / "py-spy")
    if not Path(found).exists():
        raise processes.ServerError("py-spy is not installed (it is in requirements-dev.txt)")
    return found


def _master_pid(server: processes.Server) -> int:
    if server.process is None:
        raise processes.ServerError("the hub is not running")
    return server.process.pid


@contextmanager
def _service_item() -> Iterator[Load]:
    work = processes.short_tempdir("pp-")
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, work / "hub")
            token = secrets.token_urlsafe(24)
            port = processes.free_port()
            server = processes.hub_server(work / "hub", port, token, work / "hub.log")
            stack.enter_context(processes.running(server))
            base = f"http://127.0.0.1:{port}"
            server.wait_http(f"{base}/readyz")
            url = f"{base}/api/v1/service-items/440000-SCJG-001-01"
            headers = {"Authorization": f"Bearer {token}"}
            server.wait_http(url, headers)
            yield Load(wrk.Target("read", url, headers), _master_pid(server), 16)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _resolution() -> Iterator[Load]:
    with resolution.province() as setup:
        materials = resolution.THROUGHPUT_MATERIALS
        cases = resolution.open_cases(setup.base, setup.portal_token, materials)
        script = resolution.post_script(setup.work / "resolve.lua", materials, cases)
        target = wrk.Target("resolve", f"{setup.base}/api/v1/resolutions", setup.headers, script=script)
        yield Load(target, _master_pid(setup.hub_server), processes.THREADS)


@contextmanager
def _licence_hub() -> Iterator[tuple[processes.Server, str, str, Path]]:
    work = processes.short_tempdir("pl-")
    try:
        with ExitStack() as stack:
            stack.callback(processes.kill_leftover_redis, work / "hub")
            admin = secrets.token_urlsafe(24)
            port = processes.free_port()
            server = processes.hub_server(work / "hub", port, admin, work / "hub.log", demo=False)
            stack.enter_context(processes.running(server))
            base = f"http://127.0.0.1:{port}"
            server.wait_http(f"{base}/readyz")
            token = licences.setup_hub(resolution.HubApi(base, admin))
            licences.issue_more(base, token, 1)
            yield server, base, token, work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _issue() -> Iterator[Load]:
    with _licence_hub() as (server, base, token, work):
        script = licences_load.issue_script(work / "issue.lua")
        target = wrk.Target("issue", f"{base}/api/v1/licences", {"Authorization": f"Bearer {token}"}, script=script)
        yield Load(target, _master_pid(server), licences_load.JOBS_IN_FLIGHT)


@contextmanager
def _verify() -> Iterator[Load]:
    with _licence_hub() as (server, base, token, work):
        licences.issue_more(base, token, 47, offset=1)
        pdfs = licences.fetch_pdfs(base, token, work / "pdfs")
        licences.start_verifiers(base, pdfs)
        store = redis.Redis(unix_socket_path=str(work / "hub" / "redis.sock"), socket_timeout=10)

        def empty_cache() -> None:  # every verification a miss, as in the benchmark
            for key in list(store.scan_iter(match=keys.verification_cache("*"), count=1000)):
                store.delete(key)

        try:
            script = licences_load.verify_script(work / "verify.lua", pdfs, 2)
            target = wrk.Target("verify", f"{base}/api/v1/verifications", {}, script=script)
            yield Load(target, _master_pid(server), licences_load.JOBS_IN_FLIGHT, empty_cache, 2)
        finally:
            store.close()


@contextmanager
def _submit() -> Iterator[Load]:
    with intake_hub.intake_hub() as setup:
        intake_hub.check_submission(setup, intake_hub.APPLICANTS[0])
        script = intake.submit_script(setup.province.work / "submit.lua")
        target = wrk.Target(
            "submit", f"{setup.base}/api/v1/applications", setup.headers(setup.portal_token), script=script
        )
        yield Load(target, _master_pid(setup.province.hub_server), processes.THREADS)


PATHS: dict[str, Callable[[], Any]] = {
    "service_item": _service_item,
    "resolution": _resolution,
    "issue": _issue,
    "verify": _verify,
    "submit": _submit,
}


def _drive(load: Load, seconds: int) -> int:
    """Load the target for ``seconds``; the requests answered."""
    settings = replace(wrk.WrkSettings(), connections=load.connections)
    if not load.chunk_seconds:
        return licences_load.wrk_once(load.target, settings, seconds).requests
    answered = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if load.before_each:
            load.before_each()
        answered += licences_load.wrk_once(load.target, settings, load.chunk_seconds).requests
    return answered


def profile(name: str, seconds: int) -> tuple[Counter[str], Counter[str], int, int]:
    """Sample one hot path under load; its frames by own samples and by total samples, all samples, requests."""
    with PATHS[name]() as load:
        licences_load.wrk_once(load.target, replace(wrk.WrkSettings(), connections=load.connections), 2)  # warm-up
        raw = OUT_DIR / f"profile-{name}.txt"
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        command = [_py_spy(), "record", "--pid", str(load.master_pid), "--subprocesses", "--rate", str(RATE)]
        command += ["--format", "raw", "--nonblocking", "--output", str(raw), "--duration", str(seconds + 2)]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1)  # py-spy attaches
            answered = _drive(load, seconds)
            _, errors = spy.communicate(timeout=60)
        finally:
            if spy.poll() is None:
                spy.terminate()
                spy.wait()
        if spy.returncode != 0 or not raw.exists():
            raise processes.ServerError(f"py-spy failed: {errors}")
    own, total, samples = _summarise(raw.read_text())
    return own, total, samples, answered


def _summarise(collapsed: str) -> tuple[Counter[str], Counter[str], int]:
    """Frames by own samples and by samples under them (each frame counted once per stack)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        parts = stack.split(";")
        processes_ = [part for part in parts if part.startswith("process ")]
        # Only gunicorn's workers and what they start (verifier processes): not the master, nor the
        # job-queue workers running the jobs due at start.
        if len(processes_) < 2 or "gunicorn" not in processes_[1]:
            continue
        frames = parts[len(processes_) :]
        if not frames or _idle(frames[-1]):
            continue
        samples += count
        own[_short(frames[-1])] += count
        for frame in {_short(frame) for frame in frames}:
            # The project's own frames, where cuts can be made (the framework's wrappers hold ~100% each).
            if frame.partition(" ")[2].startswith(PROJECT):
                total[frame] += count
    return own, total, samples


def _idle(frame: str) -> bool:
    """Threads waiting (gunicorn's accept loop, pools, sockets) rather than working; py-spy's --idle is off,
    but a thread blocked in C code still shows as its Python caller."""
    return any(word in frame for word in ("wait (threading.py", "select (selectors.py", "_worker (concurrent"))


def _short(frame: str) -> str:
    """``function (path/to/module.py:line)`` with the path cut to the package and the line dropped."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


def render(name: str, own: Counter[str], total: Counter[str], samples: int, answered: int, seconds: int) -> str:
    """The top frames of one profile, as markdown."""
    lines = [
        f"### {name}: {answered:,} requests in {seconds} s, {samples:,} busy samples",
        "",
        "| own % | frame (where the samples were) | | total % | the project's frame (samples under it) |",
        "| ---: | --- | --- | ---: | --- |",
    ]
    for (own_frame, own_count), (total_frame, total_count) in zip(
        own.most_common(TOP), total.most_common(TOP), strict=False
    ):
        lines.append(f"| {own_count / samples:.1%} | `{own_frame}` | | {total_count / samples:.1%} | `{total_frame}` |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Profile the chosen hot paths; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load sampled per path")
    parser.add_argument("--only", nargs="+", choices=sorted(PATHS), help="profile these paths only")
    args = parser.parse_args(argv)
    wrk.ensure_wrk()
    for name in args.only or PATHS:
        print(f"profiling {name} for {args.seconds} s", flush=True)
        own, total, samples, answered = profile(name, args.seconds)
        text = render(name, own, total, samples, answered, args.seconds)
        (OUT_DIR / f"profile-{name}.md").write_text(text)
        (OUT_DIR / f"profile-{name}.json").write_text(
            json.dumps({"own": own.most_common(60), "total": total.most_common(60), "samples": samples}, indent=1)
        )
        print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
