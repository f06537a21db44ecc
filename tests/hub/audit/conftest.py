"""Fixtures of the audit tests: the operator's verdict on the whole log, as the API gives it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from testbed import OPERATOR


@pytest.fixture
def audit_verdict(client) -> Callable[..., dict]:
    """``audit_verdict(signatures="latest"|"all")``: GET /api/v1/audit/verify as the operator (200 or fail)."""

    def verdict(signatures: str = "latest") -> dict:
        response = client.get(f"/api/v1/audit/verify?signatures={signatures}", headers=OPERATOR)
        assert response.status_code == 200
        return response.get_json()

    return verdict
