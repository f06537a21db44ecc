"""Fixtures of the licence tests: an issuing agency, registered through the API."""

from __future__ import annotations

from dataclasses import replace

import pytest


@pytest.fixture
def market(registry) -> dict:
    """The market regulator of Hangzhou, registered; its agency token's headers."""
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    return registry.token("market", "agency")


@pytest.fixture
def person_proof(app):
    """Proof that a portal acts for a person, as the demo's sign-in gives it ('demo <id_type>:<id>' in the
    Applicant-Token header, accepted with HUB_DEMO=1, which this turns on): the headers for a holder."""
    state = app.extensions["hub"]
    original = state.settings
    state.settings = replace(original, demo=True)
    yield lambda holder: {"Applicant-Token": f"demo {holder['id_type']}:{holder['id']}"}
    state.settings = original
