"""Fixtures of the licence tests: an issuing agency, registered through the API."""

from __future__ import annotations

import pytest


@pytest.fixture
def market(registry) -> dict:
    """The market regulator of Hangzhou, registered; its agency token's headers."""
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    return registry.token("market", "agency")
