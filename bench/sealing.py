"""What sealing personal data at rest costs a store write and read: ``python -m bench.sealing [--count N]``.

A case record of the usual size (five resolved materials, a timeline, the signed envelope) is
serialised and read back through the store's codec, plain and sealed (AES-256-GCM,
:mod:`hub.store.sealing`), alternating so both share the machine's load; it prints the median
microseconds of each, and the bytes each stores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from hub.store import case_keys
from hub.store.sealing import Sealer
from hub.store.transaction import Codec

CASE_ID = "app.bench.0123456789abcdef0123"


def case_record() -> dict[str, Any]:
    """A case record shaped like the intake benchmark's."""
    evidence = {"holder": "Bench Applicant", "address": "广州市天河区体育西路 1 号", "issued": "2024-05-01"}
    return {
        "id": CASE_ID,
        "applicant": {"id_type": "resident-id", "id_masked": "4401**********1235", "name": "Bench Applicant"},
        "materials": [{"code": f"m{n:02d}", "status": "resolved", "data": evidence} for n in range(5)],
        "timeline": [{"at": "2026-12-07T09:30:00+08:00", "type": "submit", "by": "portal", "reason": None}] * 10,
        "evidence_envelope": "e" * 1500,
    }


def _median_us(run: Any, count: int) -> float:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sealing", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="writes and reads timed each way")
    args = parser.parse_args(argv)
    key, record = case_keys.application("bench", CASE_ID), case_record()
    for name, codec in (("plain", Codec(None)), ("sealed", Codec(Sealer(lambda: b"bench-secret" * 4)))):
        stored = codec.dump(key, record)
        raw = stored if isinstance(stored, bytes) else stored.encode()
        write = _median_us(lambda codec=codec: codec.dump(key, record), args.count)
        read = _median_us(lambda codec=codec, raw=raw: codec.load(key, raw), args.count)
        print(f"{name}: {len(raw)} bytes stored, write {write:.1f} us, read {read:.1f} us (median of {args.count})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
