"""The ``rest`` kind: an agency's HTTP JSON service, one GET per evidence type and subject.

Configuration: ``url`` (a template with ``{evidence_type}``, ``{subject_id}``, ``{id_type}`` and ``{fields}``, the
comma-separated fields the read may have, empty when it says none; whatever the agency answers, only those are
kept), optional
``headers`` (credentials such as an API key), ``tls`` (mutual-TLS client credentials, see :mod:`connectors.tls`),
``field_map`` (agency name -> evidence field name), ``max_bytes`` and ``probe_url``. Every request goes to an
address just checked against the operator's allowlist (over HTTPS too, the certificate still checked against the
URL's host name); redirects are followed only on the registered scheme, host and port. Error
details name the host, never the URL (it carries the subject's ID) nor the headers or client key (secrets).
"""

from __future__ import annotations

import json
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import urllib3

from .api import ConfigError, ConnectorError, ConnectorSpec, Environment, Health, NotHeld, Record, Subject
from .netguard import HostRefused, HostUnresolvable, Network, Resolver, allowed_addresses, parse_networks
from .netguard import system_resolver as default_resolver
from .tls import TlsConfig, client_context, handshake_refusal, parse_tls

PLACEHOLDERS = frozenset({"evidence_type", "subject_id", "id_type", "fields"})
CONFIG_KEYS = frozenset({"url", "headers", "field_map", "max_bytes", "probe_url", "tls"})
MAX_REDIRECTS = 3
CHUNK_BYTES = 65_536
Origin = tuple[str, str, int]


def _refuse(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}", {key: [message]})


def _origin(url: str) -> Origin:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)


def _check_url(key: str, url: Any, placeholders: frozenset[str]) -> str:
    if not isinstance(url, str) or not url:
        raise _refuse(key, "must be a non-empty string")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(url) if name is not None]
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError as exc:
        raise _refuse(key, f"is not a valid URL template ({exc})") from exc
    unknown = sorted({name for name, _, _ in fields} - placeholders)
    if unknown:
        raise _refuse(key, f"unknown placeholders {unknown}; allowed: {sorted(placeholders)}")
    if any(spec or conv for _, spec, conv in fields):
        raise _refuse(key, "placeholders take no format spec or conversion")
    if parts.scheme not in ("http", "https"):
        raise _refuse(key, "must be an http or https URL")
    if "{" in parts.netloc or "}" in parts.netloc:
        raise _refuse(key, "placeholders may not appear in the host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(key, "may not carry credentials (user:password@); use headers")
    if not parts.hostname:
        raise _refuse(key, "has no host")
    return url


def _check_str_map(key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _refuse(key, "must map strings to strings")
    return dict(value)


@dataclass(frozen=True)
class RestConfig:
    """A validated ``rest`` configuration."""

    url: str
    headers: Mapping[str, str] = field(repr=False)  # credentials
    field_map: Mapping[str, str]
    max_bytes: int
    probe_url: str
    tls: TlsConfig | None = None

    def as_dict(self) -> dict[str, Any]:
        """The configuration as stored (``tls`` only when given)."""
        stored = {
            "url": self.url,
            "headers": dict(self.headers),
            "field_map": dict(self.field_map),
            "max_bytes": self.max_bytes,
            "probe_url": self.probe_url,
        }
        return stored if self.tls is None else {**stored, "tls": self.tls.as_dict()}


def parse_config(config: Mapping[str, Any], environment: Environment, allow_sealed: bool = False) -> RestConfig:
    """The configuration checked for shape (no DNS); ConfigError naming what is wrong.

    ``allow_sealed``: accept a ``tls.client_key`` still sealed by the hub (see :func:`connectors.tls.parse_tls`).
    """
    if not isinstance(config, Mapping):
        raise ConfigError("configuration must be an object")
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"unknown configuration keys {unknown}", {key: ["unknown key"] for key in unknown})
    url = _check_url("url", config.get("url"), PLACEHOLDERS)
    headers = _check_str_map("headers", config.get("headers"))
    for name, value in headers.items():
        if not name or any(c in name for c in " :\r\n") or "\r" in value or "\n" in value:
            raise _refuse("headers", f"header {name!r} has a malformed name or value")
        if name.lower() == "host":
            raise _refuse("headers", "the Host header is set by the hub")
    max_bytes = config.get("max_bytes", environment.max_response_bytes)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or not 0 < max_bytes:
        raise _refuse("max_bytes", "must be a positive integer")
    if max_bytes > environment.max_response_bytes:
        raise _refuse("max_bytes", f"may not exceed the operator's limit of {environment.max_response_bytes}")
    scheme, host, port = _origin(url)
    probe_url = config.get("probe_url") or f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/"
    _check_url("probe_url", probe_url, frozenset())
    if _origin(probe_url) != (scheme, host, port):
        raise _refuse("probe_url", "must be on the same scheme, host and port as url")
    field_map = _check_str_map("field_map", config.get("field_map"))
    tls = None if config.get("tls") is None else parse_tls(config["tls"], scheme, allow_sealed)
    return RestConfig(url, headers, field_map, max_bytes, probe_url, tls)


class RestKind:
    """Validates ``rest`` configurations (allowlist included) and builds connectors from them."""

    name = "rest"

    def __init__(self, resolver: Resolver = default_resolver) -> None:
        self.resolver = resolver

    def validate_config(self, config: Mapping[str, Any], environment: Environment) -> dict[str, Any]:
        """The configuration, normalised; ConfigError if malformed or if its host is outside the allowlist.

        The hub also calls this on stored configurations, whose ``tls.client_key`` may still be sealed
        (``sealed:v1:...``): such a key is accepted unparsed and not matched against the certificate (the hub
        opens it before :meth:`build`, which accepts only an opened key). A key in the clear is parsed and matched.
        """
        parsed = parse_config(config, environment, allow_sealed=True)
        networks = parse_networks(environment.allowed_networks)
        for url in {parsed.url, parsed.probe_url}:
            _, host, port = _origin(url)
            allowed_addresses(host, port, networks, self.resolver)
        return parsed.as_dict()

    def build(self, spec: ConnectorSpec, environment: Environment) -> RestConnector:
        """A connector for a registered record (no DNS here: the allowlist is checked on every request)."""
        return RestConnector(spec.id, parse_config(spec.config, environment), environment, self.resolver)


class RestConnector:
    """One agency HTTP JSON service, with its own pool of kept-alive connections (urllib3)."""

    def __init__(self, connector_id: str, config: RestConfig, environment: Environment, resolver: Resolver) -> None:
        self.id = connector_id
        self.config = config
        self._networks: tuple[Network, ...] = parse_networks(environment.allowed_networks)
        self._resolver = resolver
        self._origin = _origin(config.url)
        self._where = f"{self._origin[1]}:{self._origin[2]}"
        self._closed = False
        # urllib3 itself, not requests: a fetch costs half the CPU (docs/profiling.md), and there is nothing of
        # requests' to switch off — no proxies or .netrc from the environment (they would bypass the guard), no
        # cookie jar (one subject's cookie must never travel with another's request), no retries of its own.
        # Over HTTPS the connection goes to the checked address while TLS sends SNI for, and checks the
        # certificate against, the connector's host name (``server_hostname``, part of every pool's key).
        self._pools = urllib3.PoolManager(
            num_pools=4,
            maxsize=16,
            retries=False,
            ssl_context=client_context(config.tls),
            server_hostname=self._origin[1] if self._origin[0] == "https" else None,
        )

    def close(self) -> None:
        """Release pooled connections; later fetches are refused."""
        self._closed = True
        self._pools.clear()

    def fetch(
        self, evidence_type: str, subject: Subject, timeout_s: float, fields: frozenset[str] | None = None
    ) -> Record | NotHeld:
        """The agency's record for the subject (only ``fields`` of it: an agency that reads ``{fields}`` in the
        URL is asked for no more), NotHeld on 404, or ConnectorError."""
        deadline = time.monotonic() + timeout_s
        url = self.config.url.format(
            evidence_type=quote(evidence_type, safe=""),
            subject_id=quote(subject.id, safe=""),
            id_type=quote(subject.id_type, safe=""),
            fields=",".join(quote(name, safe="") for name in sorted(fields or ())),
        )
        response = self._follow(url, deadline)
        with response:
            status = response.status
            if status == 404:
                return NotHeld(f"{self._where} holds no {evidence_type} for this subject")
            if status >= 500:
                raise ConnectorError(f"{self._where} answered {status}", retryable=True)
            if status != 200:
                raise ConnectorError(f"{self._where} answered {status}", retryable=False)
            body = self._read_body(response, deadline)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(f"{self._where} answered with a body that is not JSON", retryable=False) from exc
        if not isinstance(data, dict):
            raise ConnectorError(f"{self._where} answered JSON {type(data).__name__}, not an object", retryable=False)
        if self.config.field_map:
            data = {ours: data[theirs] for theirs, ours in self.config.field_map.items() if theirs in data}
        return Record(fields=data).only(fields)

    def probe(self, timeout_s: float) -> Health:
        """Up when the probe URL gives any HTTP answer below 500 within ``timeout_s``."""
        started = time.monotonic()
        try:
            with self._send(self.config.probe_url, started + timeout_s) as response:
                status = response.status
        except ConnectorError as exc:
            return Health(ok=False, latency_ms=(time.monotonic() - started) * 1000, detail=exc.detail)
        latency_ms = (time.monotonic() - started) * 1000
        return Health(ok=status < 500, latency_ms=latency_ms, detail=f"{self._where} answered {status}")

    def _follow(self, url: str, deadline: float) -> urllib3.BaseHTTPResponse:
        """The response to GET ``url``, following at most MAX_REDIRECTS redirects on the same origin."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(url, deadline)
            location = response.get_redirect_location()
            if not location:
                return response
            response.close()
            url = urljoin(url, location)
            if _origin(url) != self._origin:
                raise ConnectorError(f"{self._where} redirected off its registered host; refused", retryable=False)
        raise ConnectorError(f"{self._where} redirected more than {MAX_REDIRECTS} times", retryable=False)

    def _send(self, url: str, deadline: float) -> urllib3.BaseHTTPResponse:
        """One GET, headers only read, to an address the allowlist permits (checked now, not at registration)."""
        if self._closed:
            raise ConnectorError(f"the connector for {self._where} is closed", retryable=False)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectorError(f"{self._where} timed out", retryable=True)
        parts = urlsplit(url)
        try:
            addresses = allowed_addresses(self._origin[1], self._origin[2], self._networks, self._resolver)
        except HostUnresolvable as exc:
            raise ConnectorError(exc.detail, retryable=True) from exc
        except HostRefused as exc:
            raise ConnectorError(exc.detail, retryable=False) from exc
        # Connect to the address just checked, so a second DNS answer cannot differ from it: not even a TCP
        # connection or a TLS hello goes anywhere else (over HTTPS the adapter keeps the name for TLS).
        address = addresses[0]
        netloc = f"[{address}]:{self._origin[2]}" if ":" in address else f"{address}:{self._origin[2]}"
        host = f"[{self._origin[1]}]" if ":" in self._origin[1] else self._origin[1]
        headers = {**self.config.headers, "Host": f"{host}:{parts.port}" if parts.port else host}
        url = parts._replace(netloc=netloc).geturl()
        try:
            return self._pools.urlopen(
                "GET",
                url,
                headers=headers,
                timeout=urllib3.Timeout(connect=remaining, read=remaining),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.SSLError as exc:
            # Certificates refused, by us or by the agency: retrying cannot help.
            refusal = handshake_refusal(exc) or "the connection failed"
            raise ConnectorError(f"{self._where} TLS handshake refused ({refusal})", retryable=False) from exc
        except urllib3.exceptions.NewConnectionError as exc:  # before the timeouts: urllib3 derives it from one
            raise ConnectorError(f"{self._where} could not be reached ({type(exc).__name__})", retryable=True) from exc
        except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
            raise ConnectorError(f"{self._where} timed out", retryable=True) from exc
        except urllib3.exceptions.ProtocolError as exc:
            raise ConnectorError(f"{self._where} could not be reached ({type(exc).__name__})", retryable=True) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectorError(f"request to {self._where} failed ({type(exc).__name__})", retryable=False) from exc
        except OSError as exc:
            raise ConnectorError(f"request to {self._where} failed locally ({type(exc).__name__})", False) from exc

    def _read_body(self, response: urllib3.BaseHTTPResponse, deadline: float) -> bytes:
        """The body, read in chunks, stopped past ``max_bytes`` or past the deadline."""
        limit = self.config.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ConnectorError(f"{self._where} answered more than {limit} bytes", retryable=False)
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectorError(f"{self._where} took too long to send its answer", retryable=True)
            sock = getattr(response.connection, "sock", None)
            if sock is not None:
                sock.settimeout(remaining)  # each read waits no longer than what is left of the deadline
            try:
                chunk = response.read1(CHUNK_BYTES, decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                    raise ConnectorError(f"{self._where} took too long to send its answer", retryable=True) from exc
                raise ConnectorError(f"{self._where} broke off its answer ({type(exc).__name__})", True) from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise ConnectorError(f"{self._where} answered more than {limit} bytes", retryable=False)
            chunks.append(chunk)


KIND = RestKind()
