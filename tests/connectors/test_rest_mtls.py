"""The ``rest`` kind with mutual-TLS client credentials, against a real HTTPS stand-in agency on 127.0.0.1.

A throwaway PKI is made here with ``cryptography``: the agency's CA (which signs the server's certificate for
127.0.0.1 and agency.test, and the hub's client certificate), and a stranger CA whose client certificate the
agency must refuse.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from agency_stub import RECORD, FakeDns
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connectors import tls
from connectors.api import ConfigError, ConnectorError, ConnectorSpec, Environment, Record, Subject
from connectors.rest import KIND, RestConnector, RestKind

LOCAL = Environment(allowed_networks=("127.0.0.1/32",), max_response_bytes=100_000)
SUBJECT = Subject("resident-id", "440101199001020017")
SEALED_KEY = "sealed:v1:" + "A" * 80  # what the hub stores; only the hub can open it
SERVER_NAME = "agency.test"  # on the server's certificate beside 127.0.0.1; only FakeDns resolves it


# -- a throwaway PKI
@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: Any

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self, fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(common_name: str, issuer: Issued | None, extensions: list[x509.ExtensionType], key: Any = None) -> Issued:
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.cert.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key((issuer.key if issuer else key).public_key()),
            critical=False,
        )
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=isinstance(extension, x509.BasicConstraints))
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def make_ca(common_name: str) -> Issued:
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)  # keyCertSign, cRLSign
    return _issue(common_name, None, [x509.BasicConstraints(ca=True, path_length=0), usage])


def make_leaf(common_name: str, ca: Issued, purpose: x509.ObjectIdentifier, key: Any = None) -> Issued:
    extensions: list[x509.ExtensionType] = [
        x509.BasicConstraints(ca=False, path_length=None),
        x509.ExtendedKeyUsage([purpose]),
    ]
    if purpose == ExtendedKeyUsageOID.SERVER_AUTH:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName(SERVER_NAME)]
        extensions.append(x509.SubjectAlternativeName(names))
    return _issue(common_name, ca, extensions, key)


@dataclass(frozen=True)
class Pki:
    agency_ca: Issued
    server: Issued
    client: Issued
    rsa_client: Issued
    stranger: Issued  # a client certificate from a CA the agency does not know


@pytest.fixture(scope="module")
def pki() -> Pki:
    agency_ca = make_ca("Agency Test CA")
    stranger_ca = make_ca("Stranger CA")
    client_auth = ExtendedKeyUsageOID.CLIENT_AUTH
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Pki(
        agency_ca=agency_ca,
        server=make_leaf("agency.test", agency_ca, ExtendedKeyUsageOID.SERVER_AUTH),
        client=make_leaf("hub-client", agency_ca, client_auth),
        rsa_client=make_leaf("hub-client-rsa", agency_ca, client_auth, key=rsa_key),
        stranger=make_leaf("hub-client", stranger_ca, client_auth),
    )


def secret_lines(key_pem: str) -> list[str]:
    """The base64 lines of a PEM key: none of them may appear in any error or repr."""
    return [line for line in key_pem.splitlines() if line and not line.startswith("-----")]


def assert_no_key_material(text: str, key_pem: str) -> None:
    assert key_pem not in text
    for line in secret_lines(key_pem):
        assert line[8:40] not in text


# -- an HTTPS stand-in agency that requires a client certificate signed by its CA
class _TlsServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, context: ssl.SSLContext, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context
        self.handshake_failures: list[str] = []

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        sock.settimeout(5)  # a safety net for handler threads
        # The handshake runs in the handler's thread, so a slow or failing client never stalls accept().
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.handshake_failures.append(getattr(exc, "reason", None) or type(exc).__name__)
            return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up mid-answer are expected; tests assert on what was served


class HttpsAgency:
    """Answers ``GET /ok/<id_type>/<id>`` with a JSON record, noting the client certificate's common name."""

    def __init__(self, pki: Pki, directory: Path) -> None:
        (directory / "server.pem").write_text(pki.server.cert_pem + pki.server.key_pem())
        (directory / "agency-ca.pem").write_text(pki.agency_ca.cert_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(directory / "server.pem")
        context.load_verify_locations(cafile=directory / "agency-ca.pem")
        self.server_names: list[str | None] = []  # the name each client asked for in its TLS hello (SNI)
        context.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        self.clients: list[str] = []
        self.hosts: list[str] = []  # each request's Host header
        self.server = _TlsServer(context, self._handler())
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def template(self) -> str:
        return self.url + "/{evidence_type}/{id_type}/{subject_id}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # joins every handler thread
        self._thread.join(5)
        assert not self._thread.is_alive()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        agency = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive handler to wake at stop

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                agency.hosts.append(self.headers.get("Host", ""))
                peer = self.connection.getpeercert() or {}
                agency.clients.extend(
                    value for rdn in peer.get("subject", ()) for name, value in rdn if name == "commonName"
                )
                if not self.path.startswith("/ok/"):
                    self.send_error(404)
                    return
                body = json.dumps({**RECORD, "subject": self.path.rsplit("/", 1)[-1]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture(scope="module")
def agency(pki: Pki) -> Iterator[HttpsAgency]:
    with tempfile.TemporaryDirectory(prefix="mtls-agency-") as directory:
        server = HttpsAgency(pki, Path(directory))
        yield server
        server.stop()


@pytest.fixture
def connect(agency: HttpsAgency) -> Iterator[Callable[..., RestConnector]]:
    """Build validated rest connectors on the HTTPS agency; every one is closed after the test."""
    built: list[RestConnector] = []

    def make(**config: Any) -> RestConnector:
        normalised = KIND.validate_config({"url": agency.template(), **config}, LOCAL)
        connector = KIND.build(ConnectorSpec("conn-mtls", "market", "rest", ("identity",), normalised, 2000), LOCAL)
        built.append(connector)
        return connector

    yield make
    for connector in built:
        connector.close()


def tls_config(pki: Pki, client: Issued | None = None, **overrides: Any) -> dict[str, Any]:
    client = client or pki.client
    return {"client_cert": client.cert_pem, "client_key": client.key_pem(), "ca": pki.agency_ca.cert_pem, **overrides}


def fails(connector: RestConnector, *secrets: str) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("ok", SUBJECT, 2.0)
    for secret in secrets:
        assert_no_key_material(caught.value.detail + str(caught.value) + repr(caught.value), secret)
    assert SUBJECT.id not in caught.value.detail
    return caught.value


def refusal(config: dict[str, Any], *secrets: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config(config, LOCAL)
    for secret in secrets:
        assert_no_key_material(f"{caught.value} {caught.value.detail} {caught.value.errors!r}", secret)
    return caught.value


# -- the handshake
@pytest.mark.parametrize("key_format", ["pkcs8", "traditional-rsa"])
def test_the_right_client_certificate_and_ca_fetch_a_record(pki, agency, connect, key_format) -> None:
    if key_format == "pkcs8":
        client, key_pem = pki.client, pki.client.key_pem()
    else:
        client, key_pem = pki.rsa_client, pki.rsa_client.key_pem(serialization.PrivateFormat.TraditionalOpenSSL)
        assert key_pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    connector = connect(tls=tls_config(pki, client, client_key=key_pem))
    record = connector.fetch("ok", SUBJECT, 2.0)
    assert isinstance(record, Record) and record.fields == {**RECORD, "subject": SUBJECT.id}
    assert agency.clients[-1] == client.cert.subject.rfc4514_string().removeprefix("CN=")
    assert connector.probe(2.0).ok  # the probe presents the certificate too (404 on "/" is an answer)


def test_without_tls_config_the_handshake_is_refused_and_not_retried(connect) -> None:
    # The agency's server certificate chains to a private CA the system store does not hold, so the hub
    # refuses the server before it could even be asked for a client certificate. A refused handshake is not
    # retryable: every attempt with the same configuration meets the same certificates and fails the same way,
    # so retrying would only spend the caller's deadline; the operator must fix the credentials.
    error = fails(connect())
    assert not error.retryable
    assert "TLS handshake refused" in error.detail and "CERTIFICATE_VERIFY_FAILED" in error.detail


def test_a_client_certificate_from_another_ca_is_refused_by_the_agency(pki, agency, connect) -> None:
    served = len(agency.clients)
    failures = len(agency.server.handshake_failures)
    stranger_key = pki.stranger.key_pem()
    error = fails(connect(tls=tls_config(pki, pki.stranger)), stranger_key)
    # The hub trusted the server (right ca); the agency refused the client certificate with an alert, which
    # under TLS 1.3 the client sometimes cannot read before the agency closes: both are refusals, not retried.
    assert not error.retryable and "TLS handshake refused" in error.detail
    assert "ALERT_UNKNOWN_CA" in error.detail or "closed during the handshake" in error.detail
    assert len(agency.clients) == served  # no request was served
    # The agency's server thread records its side of the failed handshake a moment after the client sees it.
    deadline = time.monotonic() + 5
    while len(agency.server.handshake_failures) <= failures and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(agency.server.handshake_failures) > failures
    health = connect(tls=tls_config(pki, pki.stranger)).probe(2.0)
    assert not health.ok and "TLS handshake refused" in health.detail
    assert_no_key_material(health.detail, stranger_key)


def by_name(agency: HttpsAgency, dns: FakeDns, name: str, pki: Pki) -> RestConnector:
    """A connector on ``https://<name>:<port>/...``, ``name`` resolved by ``dns``."""
    kind = RestKind(resolver=dns)
    url = agency.template().replace("127.0.0.1", name)
    config = kind.validate_config({"url": url, "tls": tls_config(pki)}, LOCAL)
    return kind.build(ConnectorSpec("conn-named", "market", "rest", ("identity",), config, 2000), LOCAL)


def test_https_goes_to_the_address_checked_and_still_verifies_the_name(pki, agency) -> None:
    # No DNS server knows agency.test: the request reaches the agency only because the connector connects to
    # the address its allowlist check resolved, while TLS asks for, and verifies, the name in the URL.
    dns = FakeDns("127.0.0.1")
    connector = by_name(agency, dns, SERVER_NAME, pki)
    try:
        assert isinstance(connector.fetch("ok", SUBJECT, 2.0), Record)
        port = agency.server.server_address[1]
        assert agency.server_names[-1] == SERVER_NAME and agency.hosts[-1] == f"{SERVER_NAME}:{port}"
        served, hellos = len(agency.hosts), len(agency.server_names)
        dns.addresses = ["10.0.0.5"]  # the name now points into the hub's network: refused before connecting
        error = fails(connector)
        assert "10.0.0.5" in error.detail and not error.retryable
        assert (len(agency.hosts), len(agency.server_names)) == (served, hellos)  # not even a TLS hello went out
        dns.addresses = ["127.0.0.1"]
        assert isinstance(connector.fetch("ok", SUBJECT, 2.0), Record)  # and back, on the pooled connection
    finally:
        connector.close()


def test_a_pinned_address_does_not_lend_its_certificate_to_another_name(pki, agency) -> None:
    # other.test resolves to the agency's address, but the agency's certificate is not for other.test.
    connector = by_name(agency, FakeDns("127.0.0.1"), "other.test", pki)
    try:
        error = fails(connector)
        assert not error.retryable and "TLS handshake refused" in error.detail
        assert "CERTIFICATE_VERIFY_FAILED" in error.detail
        assert agency.server_names[-1] == "other.test"
    finally:
        connector.close()


def test_the_ca_replaces_the_system_store(pki, connect) -> None:
    # A ca that did not sign the agency's server: the hub refuses the server, even with a good client cert.
    error = fails(connect(tls=tls_config(pki, ca=make_ca("Unrelated CA").cert_pem)), pki.client.key_pem())
    assert not error.retryable and "CERTIFICATE_VERIFY_FAILED" in error.detail


# -- configuration
def test_the_normalised_config_keeps_the_pem_texts_unchanged(pki, agency) -> None:
    given = tls_config(pki)
    assert KIND.validate_config({"url": agency.template(), "tls": given}, LOCAL)["tls"] == given
    without_ca = {k: v for k, v in given.items() if k != "ca"}
    assert KIND.validate_config({"url": agency.template(), "tls": without_ca}, LOCAL)["tls"] == without_ca
    assert "tls" not in KIND.validate_config({"url": agency.template()}, LOCAL)  # stored configs stay as they were


def test_tls_needs_an_https_url(pki, agency) -> None:
    url = agency.template().replace("https://", "http://")
    error = refusal({"url": url, "tls": tls_config(pki)}, pki.client.key_pem())
    assert list(error.errors) == ["tls"] and "https" in error.errors["tls"][0]


def _garbage_key() -> str:
    return "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCBzb21lIHRleHQ=\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        (
            {"client_cert": "-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n"},
            "client_cert",
            "parses",
        ),
        ({"client_cert": "not a pem at all"}, "client_cert", "parses"),
        ({"client_cert": ""}, "client_cert", "non-empty"),
        ({"client_key": _garbage_key()}, "client_key", "parses"),
        ({"client_key": 42}, "client_key", "non-empty PEM string"),
        ({"client_key": None}, "client_key", "required"),
        ({"ca": "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"}, "ca", "parses"),
        ({"extra": "x"}, "extra", "unknown"),
    ],
)
def test_malformed_tls_is_refused_per_key(pki, agency, overrides, key, words) -> None:
    error = refusal({"url": agency.template(), "tls": tls_config(pki, **overrides)}, pki.client.key_pem())
    assert list(error.errors) == [f"tls.{key}"] and words in error.errors[f"tls.{key}"][0]


def test_a_key_that_does_not_match_the_certificate_is_refused(pki, agency) -> None:
    other_key = pki.stranger.key_pem()
    error = refusal({"url": agency.template(), "tls": tls_config(pki, client_key=other_key)}, other_key)
    assert list(error.errors) == ["tls.client_key"] and "does not match" in error.errors["tls.client_key"][0]


def test_an_encrypted_key_is_refused(pki, agency) -> None:
    encrypted = pki.client.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    error = refusal({"url": agency.template(), "tls": tls_config(pki, client_key=encrypted)}, encrypted)
    assert "encrypted" in error.errors["tls.client_key"][0]


@pytest.mark.parametrize("field", ["client_cert", "ca"])
def test_a_private_key_pasted_beside_certificates_is_refused(pki, agency, field) -> None:
    # Only tls.client_key is sealed at rest: a key hidden in a certificate field would be stored in the clear.
    key_pem = pki.client.key_pem()
    given = tls_config(pki)
    config = {"url": agency.template(), "tls": {**given, field: given[field] + key_pem}}
    error = refusal(config, key_pem)
    assert list(error.errors) == [f"tls.{field}"] and "certificates only" in error.errors[f"tls.{field}"][0]


def test_a_sealed_key_passes_validation_unparsed_but_not_build(pki, agency) -> None:
    config = {"url": agency.template(), "tls": tls_config(pki, client_key=SEALED_KEY)}
    assert KIND.validate_config(config, LOCAL)["tls"]["client_key"] == SEALED_KEY  # kept as the hub stored it
    # The certificates are still checked while the key is sealed.
    refusal({**config, "tls": {**config["tls"], "client_cert": "garbage"}})
    spec = ConnectorSpec("conn-mtls", "market", "rest", ("identity",), config, 2000)
    with pytest.raises(ConfigError) as caught:
        KIND.build(spec, LOCAL)  # the hub opens the key first; a sealed one is a hub fault, not a PEM to write
    assert list(caught.value.errors) == ["tls.client_key"] and "sealed" in caught.value.detail


def test_the_sealed_prefix_is_the_hubs() -> None:
    from hub.store.keyring import SEALED_PREFIX

    assert tls.SEALED_PREFIX == SEALED_PREFIX


# -- key material and files
def test_key_material_is_never_in_a_repr(pki, connect) -> None:
    connector = connect(tls=tls_config(pki))
    text = repr(connector.config) + repr(connector.config.tls) + repr(connector)
    assert_no_key_material(text, pki.client.key_pem())
    assert "client_cert=" in text  # the certificate is public


def test_the_client_key_is_on_disk_only_while_the_connector_is_built(pki, connect, monkeypatch) -> None:
    # OpenSSL reads keys from files only: they are written privately for it, and gone once it has read them.
    written: dict[str, tuple[int, int, str]] = {}
    real_write = tls._write

    def watching_write(directory: str, name: str, text: str) -> str:
        path = real_write(directory, name, text)
        modes = stat.S_IMODE(os.stat(directory).st_mode), stat.S_IMODE(os.stat(path).st_mode)
        written[name] = (*modes, directory)
        return path

    monkeypatch.setattr(tls, "_write", watching_write)
    connector = connect(tls=tls_config(pki))
    assert sorted(written) == ["ca.pem", "client-cert.pem", "client-key.pem"]
    assert {modes[:2] for modes in written.values()} == {(0o700, 0o600)}
    directory = Path(written["client-key.pem"][2])
    assert not directory.exists()  # before the first fetch, not at close
    assert isinstance(connector.fetch("ok", SUBJECT, 2.0), Record)  # new connections use the key read then
    connector.close()
    connector.close()  # twice is harmless
    error = fails(connector, pki.client.key_pem())  # a closed connector refuses plainly
    assert not error.retryable and "closed" in error.detail


def test_a_build_that_fails_midway_leaves_no_files(pki, agency, monkeypatch) -> None:
    made: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made.append(real_mkdtemp(*args, **kwargs))
        return made[-1]

    def failing_write(directory: str, name: str, text: str) -> str:
        if name == "client-key.pem":
            raise OSError("disk full")
        return real_write(directory, name, text)

    real_write = tls._write
    monkeypatch.setattr(tls.tempfile, "mkdtemp", recording_mkdtemp)
    monkeypatch.setattr(tls, "_write", failing_write)
    normalised = KIND.validate_config({"url": agency.template(), "tls": tls_config(pki)}, LOCAL)
    with pytest.raises(OSError, match="disk full"):
        KIND.build(ConnectorSpec("conn-mtls", "market", "rest", ("identity",), normalised, 2000), LOCAL)
    assert made and not any(os.path.exists(path) for path in made)
