"""Running one benchmark by itself (``python -m bench.<name>``): its sections printed, its JSON written,
docs/benchmarks.md left as the last full run made it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from . import wrk
from .report import OUT_DIR, machine_facts


def main(prog: str, description: str, run: Callable[[wrk.WrkSettings], Any]) -> None:
    """Parse the round options, run the benchmark, write ``bench/out/<name>.json`` and print its sections."""
    defaults = wrk.WrkSettings()
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="measured rounds per load")
    parser.add_argument("--seconds", type=int, default=defaults.round_seconds, help="seconds of one round")
    parser.add_argument("--warmup", type=int, default=defaults.warmup_seconds, help="seconds of warm-up per load")
    options = parser.parse_args()
    wrk.ensure_wrk()
    outcome = run(
        replace(defaults, rounds=options.rounds, round_seconds=options.seconds, warmup_seconds=options.warmup)
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    document = {"name": outcome.name, "machine": machine_facts(), **outcome.as_json()}
    (OUT_DIR / f"{outcome.name}.json").write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print("\n".join(outcome.markdown()))
