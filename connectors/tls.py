"""Mutual-TLS client credentials for the ``rest`` kind: checked at registration, loaded into a TLS context to build.

The ``tls`` object (optional, https URLs only) holds ``client_cert`` (a PEM certificate chain, the client's own
certificate first), ``client_key`` (its PEM private key, unencrypted PKCS#8 or traditional) and ``ca`` (optional: a
PEM bundle of the CAs to trust for the agency's server instead of the default store, certifi's CA bundle). The PEM
texts are kept as given.

The key is a credential. The hub stores it sealed (``sealed:v1:...``) and opens it before ``build``, as it does
header values; :func:`parse_tls` is also called on stored configurations whose key is still sealed (a catalogue
re-imported, a record checked again), so with ``allow_sealed`` a sealed key is accepted without being parsed, and
the check that it matches the certificate is skipped (it was made when the key arrived in the clear). ``build``
accepts only an opened key, and parses and matches it again. No error message and no repr here carries key material.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import certifi
import urllib3
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from .api import ConfigError

SEALED_PREFIX = "sealed:v1:"  # the hub's marker for a value sealed at rest (hub.keyring.SEALED_PREFIX)
TLS_KEYS = frozenset({"client_cert", "client_key", "ca"})
MAX_PEM_CHARS = 1_048_576
SIGNING_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
_PEM_LABEL = re.compile(r"-----BEGIN ([^-\r\n]*)-----")
# OpenSSL's reasons for a connection cut off (see handshake_refusal for when that counts as a refusal).
_EOF_REASONS = frozenset({"UNEXPECTED_EOF_WHILE_READING", "EOF_OCCURRED_IN_VIOLATION_OF_PROTOCOL"})


def _refuse(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}", {key: [message]})


@dataclass(frozen=True)
class TlsConfig:
    """Validated client credentials; ``client_key`` is never shown in the repr."""

    client_cert: str
    client_key: str = field(repr=False)
    ca: str | None = None

    @property
    def sealed(self) -> bool:
        """Whether the key is still sealed (the hub has not opened it)."""
        return self.client_key.startswith(SEALED_PREFIX)

    def as_dict(self) -> dict[str, Any]:
        """The ``tls`` object as stored, PEM texts unchanged."""
        stored = {"client_cert": self.client_cert, "client_key": self.client_key}
        return stored if self.ca is None else {**stored, "ca": self.ca}


def _pem_text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse(key, "must be a non-empty PEM string")
    if len(value) > MAX_PEM_CHARS:
        raise _refuse(key, f"is longer than {MAX_PEM_CHARS} characters")
    return value


def _certificates(key: str, value: Any) -> list[x509.Certificate]:
    text = _pem_text(key, value)
    if "PRIVATE KEY" in text or set(_PEM_LABEL.findall(text)) - {"CERTIFICATE"}:
        # A key pasted here would be stored in the clear: only tls.client_key is sealed.
        raise _refuse(key, "must hold PEM certificates only (the private key belongs in tls.client_key)")
    try:
        return x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        pass
    raise _refuse(key, "is not a PEM certificate or bundle that parses")


def _private_key(value: Any) -> SigningKey | None:
    """The parsed key, or None when it is still sealed."""
    key = "tls.client_key"
    text = _pem_text(key, value)
    if text.startswith(SEALED_PREFIX):
        return None
    message = "is not a PEM private key that parses (unencrypted PKCS#8 or traditional)"
    try:
        private_key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:
        message = "is encrypted; give it unencrypted (the hub stores it sealed)"
    except (ValueError, UnsupportedAlgorithm):
        pass
    else:
        if isinstance(private_key, SIGNING_KEYS):
            return private_key
        message = "must be an RSA, EC, Ed25519 or Ed448 key"
    raise _refuse(key, message)  # outside the except blocks: no chained exception near the key text


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def parse_tls(value: Any, scheme: str, allow_sealed: bool) -> TlsConfig:
    """The ``tls`` object checked; a sealed key passes only with ``allow_sealed`` (and is then not matched)."""
    if not isinstance(value, Mapping):
        raise _refuse("tls", "must be an object with client_cert, client_key and optionally ca")
    unknown = sorted(set(value) - TLS_KEYS)
    if unknown:
        raise ConfigError(f"unknown tls keys {unknown}", {f"tls.{name}": ["unknown key"] for name in unknown})
    if scheme != "https":
        raise _refuse("tls", "client certificates need an https url")
    for name in ("client_cert", "client_key"):
        if value.get(name) is None:
            raise _refuse(f"tls.{name}", "is required")
    chain = _certificates("tls.client_cert", value["client_cert"])
    ca = value.get("ca")
    if ca is not None:
        _certificates("tls.ca", ca)
    private_key = _private_key(value["client_key"])
    if private_key is None and not allow_sealed:
        raise _refuse("tls.client_key", "is still sealed; the hub opens it before building the connector")
    if private_key is not None:
        try:
            certified = _spki(chain[0].public_key())
        except (ValueError, UnsupportedAlgorithm):
            raise _refuse("tls.client_cert", "has a public key of an unsupported type") from None
        if certified != _spki(private_key.public_key()):
            raise _refuse("tls.client_key", "does not match the public key of the first certificate in client_cert")
    return TlsConfig(value["client_cert"], value["client_key"], ca)


def _write(directory: str, name: str, text: str) -> str:
    path = os.path.join(directory, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)  # whatever the umask
        handle.write(text)
    return path


class _CredentialFiles:
    """The credentials written for OpenSSL, which loads keys from files only: a private directory (0700) with
    files (0600), removed when the ``with`` block ends, however it ends."""

    def __init__(self, config: TlsConfig) -> None:
        if config.sealed:
            raise _refuse("tls.client_key", "is still sealed; the hub opens it before building the connector")
        self._config = config
        self.directory = ""

    def __enter__(self) -> _CredentialFiles:
        self.directory = tempfile.mkdtemp(prefix="hub-mtls-")
        try:
            os.chmod(self.directory, 0o700)
            self.cert_path = _write(self.directory, "client-cert.pem", self._config.client_cert)
            self.key_path = _write(self.directory, "client-key.pem", self._config.client_key)
            self.ca_path = None if self._config.ca is None else _write(self.directory, "ca.pem", self._config.ca)
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def client_context(config: TlsConfig | None) -> ssl.SSLContext:
    """The TLS settings of a connector's connections, made once: urllib3's defaults (TLS 1.2 or later, the
    server's certificate required), trusting the ``ca`` given or else the CA bundle of ``certifi`` (what
    requests trusted), and presenting the client certificate when there is one. The host name is checked by
    urllib3 against the connector's host (``server_hostname``).

    The client key is on disk only while OpenSSL reads it: the files are gone before this returns."""
    context = urllib3.util.ssl_.create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    if config is None:
        context.load_verify_locations(cafile=certifi.where())
        return context
    with _CredentialFiles(config) as files:
        context.load_verify_locations(cafile=files.ca_path or certifi.where())
        context.load_cert_chain(files.cert_path, files.key_path)
    return context


def handshake_refusal(exc: BaseException) -> str | None:
    """Why the TLS handshake behind ``exc`` (a urllib3 error) failed, or None when TLS is not the cause.

    Refused certificates (the agency's by us, ours by the agency) fail the same way on every attempt: the caller
    should not retry. An error while the connection is set up (urllib3's ``SSLError``) is taken as a refusal even
    when it is a bare EOF: under TLS 1.3 an agency refusing our certificate often closes before its alert is read.
    Later, only an explicit alert counts; an EOF or reset there may be transient.
    """
    during_setup = isinstance(exc, urllib3.exceptions.SSLError)
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            reason = getattr(current, "reason", None)
            closed = isinstance(current, ssl.SSLEOFError | ssl.SSLZeroReturnError) or reason in _EOF_REASONS
            if not closed:
                return str(reason or type(current).__name__)
            return "connection closed during the handshake" if during_setup else None
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None), *current.args])
    return "connection closed during the handshake" if during_setup else None
