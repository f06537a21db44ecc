"""Rate limit settings (``HUB_RATE_LIMIT_*``): the forms the README names parse to (requests, seconds), and
anything else stops the hub at start with the variable named."""

from __future__ import annotations

import pytest

from hub.config import load_settings
from hub.rate_limits import RateLimit, parse_rate_limits


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("300/minute", (RateLimit(300, 60),)),
        ("10/second;600/hour", (RateLimit(10, 1), RateLimit(600, 3600))),
        ("100 per 5 minutes", (RateLimit(100, 300),)),
        ("5/Day, 2/hours", (RateLimit(5, 86400), RateLimit(2, 3600))),
    ],
)
def test_the_readmes_forms_parse(text, limits):
    assert parse_rate_limits(text) == limits


@pytest.mark.parametrize("text", ["", "300", "0/minute", "5/fortnight", "5/0 minutes", "-1/second", "1/minute;"])
def test_anything_else_stops_the_hub_naming_the_variable(text):
    with pytest.raises(ValueError, match=r"^HUB_RATE_LIMIT_VERIFY: not a rate limit like 300/minute: "):
        load_settings({"HUB_RATE_LIMIT_VERIFY": text or " "})
