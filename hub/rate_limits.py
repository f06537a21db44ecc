"""Rate limits as the settings write them (``300/minute``, ``10 per second``, ``100/5 minutes``), parsed."""

from __future__ import annotations

import re
from typing import NamedTuple

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE_LIMIT = re.compile(r"(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?")


class RateLimit(NamedTuple):
    amount: int  # requests
    seconds: int  # in any window this long


def parse_rate_limits(text: str) -> tuple[RateLimit, ...]:
    """``300/minute``, ``10 per second``, ``100/5 minutes``; ``;`` or ``,`` joins several. ValueError if not."""
    limits = []
    for part in re.split(r"[;,]", text):
        match = _RATE_LIMIT.fullmatch(part.strip().lower())
        if match is None or int(match[1]) < 1 or match[2] == "0":
            raise ValueError(f"not a rate limit like 300/minute: {text!r}")
        limits.append(RateLimit(int(match[1]), int(match[2] or 1) * _PERIODS[match[3]]))
    return tuple(limits)
