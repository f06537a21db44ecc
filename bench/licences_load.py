"""What the licence benchmarks send and how their rounds run: the licence, the wrk scripts, the turns.

Both sides get the same work: the issuance requests rotate over :data:`HOLDERS`, each with a holder
id of its own, and the verification runs rotate over distinct PDFs the hub issued. The hub's rounds
run wrk with a longer timeout than its 2 s default (a seal takes a good part of a second of CPU, and
a busy 2-core machine queues them), and a hub round that one gunicorn worker served (nearly) alone is
run again, as :func:`bench.wrk.measure_interleaved` does.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from . import processes, wrk
from .licences_inprocess import InProcess, IssueWork, VerifyWork

AGENCY = "bench-market"
AGENCY_NAME = "杭州市市场监督管理局"
REGION = "330100"
TYPE_CODE = "bench-food"
TYPE_NAME = ("食品经营许可证", "Food business licence")
LABELS = {
    "operator_name": "经营者名称",
    "credit_code": "社会信用代码",
    "premises": "经营场所",
    "main_business": "主体业态",
}
HOLDERS = [
    ("杭州西湖小吃店", "西湖区文三路 1 号", "餐饮服务"),
    ("拱墅区运河面馆", "拱墅区湖墅南路 88 号", "餐饮服务"),
    ("上城区清河坊茶楼", "上城区河坊街 120 号", "饮品店"),
    ("滨江区星光便利店", "滨江区江南大道 3588 号", "食品销售"),
    ("余杭区良渚烘焙坊", "余杭区良渚街道古墩路 16 号", "糕点店"),
    ("萧山区湘湖农家菜馆", "萧山区湘湖路 9 号", "餐饮服务"),
    ("西湖区龙井茶社", "西湖区龙井路 2 号", "饮品店"),
    ("钱塘区海鲜排档", "钱塘区下沙路 500 号", "餐饮服务"),
]
BOUNDARY = "bench-licences-5f0e2c"
# Connections for issuance and verification, and jobs at a time in-process: two per gunicorn worker keep
# every worker's GIL and both of its verifier processes (HUB_VERIFY_PROCESSES) busy; more would only queue.
JOBS_IN_FLIGHT = 2 * processes.WORKERS
WRK_TIMEOUT_S = 10
NOT_VALID = re.compile(r"^bench: answers not valid: (\d+)$", re.MULTILINE)


def request_bodies() -> list[dict[str, Any]]:
    """The issuance requests both sides rotate over; ``@ID@`` is each request's own holder id."""
    return [
        {
            "type": TYPE_CODE,
            "holder": {"id_type": "credit-code", "id": "@ID@", "name": name},
            "fields": {"operator_name": name, "credit_code": "@ID@", "premises": premises, "main_business": business},
        }
        for name, premises, business in HOLDERS
    ]


@dataclass(frozen=True)
class Phase:
    """One operation measured on the hub and in-process in alternating rounds."""

    hub: wrk.Measurement
    inprocess: wrk.Measurement
    load: wrk.WrkSettings
    hub_cpu_ms: list[float]  # CPU time of all the hub's processes per operation, each kept round
    inprocess_cpu_ms: list[float]  # CPU time of the in-process side per job, each round

    @property
    def ratio(self) -> float:
        """hub / in-process, operations per second."""
        return self.hub.requests_per_second / self.inprocess.requests_per_second

    @property
    def cpu_ms(self) -> tuple[float, float]:
        """Median CPU milliseconds per operation: hub, in-process."""
        return statistics.median(self.hub_cpu_ms), statistics.median(self.inprocess_cpu_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "load": asdict(self.load),
            "hub": self.hub.as_dict(),
            "inprocess": self.inprocess.as_dict(),
            "ratio_hub_over_inprocess": self.ratio,
            "cpu_ms_per_operation": {"hub_rounds": self.hub_cpu_ms, "inprocess_rounds": self.inprocess_cpu_ms},
        }


def wrk_once(target: wrk.Target, load: wrk.WrkSettings, seconds: int) -> wrk.WrkResult:
    """One wrk run of ``seconds`` with a timeout of :data:`WRK_TIMEOUT_S`; WrkError on any error answer."""
    if not target.url.startswith("http://127.0.0.1:"):
        raise wrk.WrkError(f"benchmarks only target 127.0.0.1, not {target.url}")
    command = [wrk.ensure_wrk(), f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", f"{WRK_TIMEOUT_S}s"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    if target.script is not None:
        command += ["-s", str(target.script)]
    done = subprocess.run([*command, target.url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise wrk.WrkError(f"wrk exited with status {done.returncode}: {done.stderr or done.stdout}")
    result = wrk.parse(done.stdout)
    if result.non_2xx or result.socket_errors:
        raise wrk.WrkError(
            f"{target.url}: {result.non_2xx} error answers, {result.socket_errors} socket errors\n{done.stdout}"
        )
    return result


def check_verdicts(result: wrk.WrkResult) -> None:
    """ServerError unless the verify script counted no answer other than ``valid``."""
    found = NOT_VALID.search(result.raw)
    if found is None or int(found.group(1)):
        raise processes.ServerError(f"verification answers that were not 'valid': {result.raw}")


# -- wrk scripts
# A unified social credit code from its first 16 characters (GB 11714 organisation check, then GB 32100's
# last character), as hub.identifiers.with_check_characters makes it: the hub refuses codes that do not check.
CREDIT_CODE_LUA = """local alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
local credit_weights = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
local organisation_weights = {3, 7, 9, 10, 5, 8, 4, 2}
local function credit_code(body)
  local sum = 0
  for i = 1, 8 do
    local c = body:sub(8 + i, 8 + i)
    local v = c:match("%d") and tonumber(c) or (string.byte(c) - 55)
    sum = sum + v * organisation_weights[i]
  end
  local check = 11 - sum % 11
  local first = body .. (check == 10 and "X" or (check == 11 and "0" or tostring(check)))
  local total = 0
  for i = 1, 17 do
    total = total + (alphabet:find(first:sub(i, i), 1, true) - 1) * credit_weights[i]
  end
  local last = (31 - total % 31) % 31
  return first .. alphabet:sub(last + 1, last + 1)
end
"""


def issue_script(path: Path) -> Path:
    """A wrk Lua script that POSTs the issuance requests, each with a holder id of its own."""
    pieces = [json.dumps(body, ensure_ascii=False).split("@ID@") for body in request_bodies()]
    lua_pieces = ",\n  ".join("{" + ", ".join(f"[[{piece}]]" for piece in parts) + "}" for parts in pieces)
    path.write_text(
        f"""-- written by bench/licences.py
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local pieces = {{
  {lua_pieces}
}}
local threads = {{}}
local count = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

{CREDIT_CODE_LUA}
function request()
  count = count + 1
  local holder = credit_code(string.format("9133010%02d%07d", id, count))
  return wrk.format(nil, nil, nil, table.concat(pieces[(count % #pieces) + 1], holder))
end
""",
        encoding="utf-8",
    )
    return path


def verify_script(path: Path, pdfs: list[Path], threads: int) -> Path:
    """A wrk Lua script that uploads the PDFs, each wrk thread its own share, and counts answers not ``valid``."""
    lua_paths = ",\n  ".join(f"[[{pdf}]]" for pdf in pdfs)
    path.write_text(
        f"""-- written by bench/licences.py
wrk.method = "POST"
local boundary = "{BOUNDARY}"
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
local paths = {{
  {lua_paths}
}}
local threads = {{}}
local bodies = {{}}
local count = 0
not_valid = 0
first_not_valid = ""

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for n = 1, #paths do
    if #paths < {threads} or (n - 1) % {threads} == id then
      local file = assert(io.open(paths[n], "rb"))
      local pdf = file:read("*a")
      file:close()
      bodies[#bodies + 1] = "--" .. boundary .. "\\r\\n"
        .. 'Content-Disposition: form-data; name="file"; filename="licence.pdf"\\r\\n'
        .. "Content-Type: application/pdf\\r\\n\\r\\n" .. pdf .. "\\r\\n--" .. boundary .. "--\\r\\n"
    end
  end
end

function request()
  count = count + 1
  return wrk.format(nil, nil, nil, bodies[((count - 1) % #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"verdict":%s*"valid"') then
    not_valid = not_valid + 1
    if first_not_valid == "" then
      first_not_valid = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local total, example = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_valid")
    if example == "" then
      example = thread:get("first_not_valid")
    end
  end
  io.write(string.format("bench: answers not valid: %d\\n", total))
  if example ~= "" then
    io.write("bench: the first of them: " .. example .. "\\n")
  end
end
"""
    )
    return path


# -- running the rounds
class HubMeter:
    """CPU time of all the hub's processes (gunicorn, verifier processes, embedded Redis) and its work done."""

    def __init__(self, server: processes.Server, data_dir: Path, done: Callable[[], int]) -> None:
        self.server = server
        self.data_dir = data_dir
        self.done = done  # operations the hub has completed so far, as its store shows them

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the processes of the hub's group and its Redis server."""
        from hub.store import embedded as embedded_redis

        if self.server.process is None:
            return 0.0
        group, redis_pid, tick = self.server.process.pid, embedded_redis.server_pid(self.data_dir), _CLOCK_TICK
        used = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile
            if int(fields[2]) == group or int(entry.name) == redis_pid:  # pgrp
                used += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        return used

    def settle(self, wait_seconds: float = 20) -> None:
        """Wait until the hub is idle: the requests wrk left in flight have been answered."""
        deadline = time.monotonic() + wait_seconds
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.cpu_seconds()
            if now - last < 0.02:
                return
            last = now


_CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def _hub_run(
    target: wrk.Target,
    meter: HubMeter,
    load: wrk.WrkSettings,
    seconds: int,
    prepare: Callable[[], None],
    check: Callable[[wrk.WrkResult], None],
) -> tuple[wrk.WrkResult, float]:
    """One wrk run and the hub's CPU milliseconds per operation it completed (in flight at the end included)."""
    prepare()
    cpu_before, done_before = meter.cpu_seconds(), meter.done()
    before = target.worker_cpu() if target.worker_cpu else {}
    result = wrk_once(target, load, seconds)
    meter.settle()
    shares = wrk.cpu_shares(before, target.worker_cpu() if target.worker_cpu else {})
    done = meter.done() - done_before
    cpu_ms = (meter.cpu_seconds() - cpu_before) / done * 1000 if done else math.nan
    balanced = not shares or min(shares) >= load.min_fair_share / len(shares)
    result = replace(result, worker_shares=shares, balanced=balanced)
    check(result)
    return result, cpu_ms


def compare(
    label: str,
    target: wrk.Target,
    meter: HubMeter,
    inprocess: InProcess,
    work: IssueWork | VerifyWork,
    load: wrk.WrkSettings,
    prepare: Callable[[], None] = lambda: None,
    check: Callable[[wrk.WrkResult], None] = lambda result: None,
) -> Phase:
    """Warm both sides up, then measure them in alternating rounds (an unbalanced hub round is run again)."""

    def in_process_round(seconds: int) -> tuple[wrk.WrkResult, float]:
        outcome = inprocess.round(work, load.connections, seconds)
        if outcome.failures:
            raise processes.ServerError(f"{label} in-process: {outcome.failures} jobs failed")
        if seconds == load.round_seconds and not outcome.figures.requests:
            raise processes.ServerError(f"{label} in-process: no job finished in a round of {seconds} s")
        return outcome.figures, outcome.cpu_ms_per_job

    if load.warmup_seconds > 0:
        _hub_run(target, meter, load, load.warmup_seconds, prepare, check)
        in_process_round(load.warmup_seconds)
    kept: dict[str, list[wrk.WrkResult]] = {"hub": [], "in-process": []}
    cpu_ms: dict[str, list[float]] = {"hub": [], "in-process": []}
    discarded: list[wrk.WrkResult] = []
    for number in range(load.rounds):
        for side in ("hub", "in-process") if number % 2 == 0 else ("in-process", "hub"):
            for attempt in range(1, load.attempts + 1):
                if side == "hub":
                    result, cpu = _hub_run(target, meter, load, load.round_seconds, prepare, check)
                else:
                    result, cpu = in_process_round(load.round_seconds)
                split = "/".join(f"{share:.0%}" for share in result.worker_shares) or "?"
                print(
                    f"  round {number + 1}/{load.rounds} {label} {side}: {result.requests_per_second:,.1f}/s,"
                    f" p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms, CPU {cpu:.0f} ms each, split {split}",
                    flush=True,
                )
                if side == "in-process" or result.balanced or attempt == load.attempts:
                    kept[side].append(result)
                    cpu_ms[side].append(cpu)
                    break
                print("    one worker took (nearly) all connections; running the round again", flush=True)
                discarded.append(result)
    return Phase(
        wrk.Measurement(kept["hub"], discarded),
        wrk.Measurement(kept["in-process"]),
        load,
        cpu_ms["hub"],
        cpu_ms["in-process"],
    )
