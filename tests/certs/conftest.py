"""Fixtures of the certs tests: one test PKI (root, issuing CA, TSA, OCSP, a seal) per module."""

from __future__ import annotations

import pytest
from certs_support import TestPki


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki()
