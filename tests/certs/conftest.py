"""Fixtures of the certs tests: one test PKI (root, issuing CA, TSA, OCSP, a seal) per module, and OpenSSL's
command, the independent implementation the tests hold the hub's signatures to."""

from __future__ import annotations

import shutil

import pytest
from certs_support import TestPki


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki()


@pytest.fixture(scope="session")
def openssl() -> str:
    program = shutil.which("openssl")
    if program is None:
        pytest.fail("the openssl command is not installed (Debian package openssl)")
    return program
