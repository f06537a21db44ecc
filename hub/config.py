"""Every setting the hub reads from its environment, declared once with its type and default.

Nothing else in the hub reads ``os.environ``; tests pass overrides to ``create_app``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hub.rate_limits import parse_rate_limits


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


PATH_SETTINGS = {"data_dir", "licence_font", "backup_dir"}


@dataclass(frozen=True)
class Settings:
    """The hub's configuration; each field names the environment variable it comes from."""

    port: int = field(default=8000, metadata={"env": "HUB_PORT", "doc": "TCP port to serve on"})
    host: str = field(default="127.0.0.1", metadata={"env": "HUB_HOST", "doc": "address to bind"})
    data_dir: Path = field(
        default=Path("./var"),
        metadata={"env": "HUB_DATA_DIR", "doc": "embedded Redis data, metrics files, demo tokens"},
    )
    redis_url: str | None = field(
        default=None, metadata={"env": "REDIS_URL", "doc": "external Redis; unset = embedded server"}
    )
    redis_cluster: bool = field(
        default=False, metadata={"env": "REDIS_CLUSTER", "doc": "REDIS_URL names a cluster node"}
    )
    redis_sentinel_master: str | None = field(
        default=None,
        metadata={"env": "REDIS_SENTINEL_MASTER", "doc": "REDIS_URL names Sentinels watching this master"},
    )
    redis_appendfsync: str = field(
        default="everysec",
        metadata={"env": "HUB_REDIS_APPENDFSYNC", "doc": "embedded server: everysec or always (fsync each write)"},
    )
    public_url: str | None = field(
        default=None,
        metadata={"env": "HUB_PUBLIC_URL", "doc": "base of public links (default http://127.0.0.1:PORT)"},
    )
    admin_token: str | None = field(
        default=None, metadata={"env": "HUB_ADMIN_TOKEN", "doc": "seeds an operator bearer token"}
    )
    demo: bool = field(default=False, metadata={"env": "HUB_DEMO", "doc": "load the demo province"})
    workers: int = field(default=2, metadata={"env": "HUB_WORKERS", "doc": "gunicorn worker processes"})
    threads: int = field(default=8, metadata={"env": "HUB_THREADS", "doc": "threads per worker"})
    timeout: int = field(
        default=30, metadata={"env": "HUB_TIMEOUT", "doc": "seconds before a silent worker is restarted"}
    )
    graceful_timeout: int = field(
        default=20,
        metadata={"env": "HUB_GRACEFUL_TIMEOUT", "doc": "seconds to finish requests after SIGTERM"},
    )
    max_body_bytes: int = field(
        default=1_048_576, metadata={"env": "HUB_MAX_BODY_BYTES", "doc": "largest request body (413 past it)"}
    )
    max_upload_bytes: int = field(
        default=20_971_520,
        metadata={"env": "HUB_MAX_UPLOAD_BYTES", "doc": "largest file upload (multipart; datasets, PDFs)"},
    )
    idempotency_ttl: int = field(
        default=86_400, metadata={"env": "HUB_IDEMPOTENCY_TTL", "doc": "seconds an Idempotency-Key is kept"}
    )
    blob_url: str | None = field(
        default=None,
        metadata={
            "env": "HUB_BLOB_URL",
            "doc": "where documents are kept: file:///path, or s3://bucket/prefix (default: HUB_BLOB_DIR)",
        },
    )
    blob_dir: Path | None = field(
        default=None,
        metadata={"env": "HUB_BLOB_DIR", "doc": "the directory documents are kept in (default HUB_DATA_DIR/blobs)"},
    )
    record_key_version: int = field(
        default=1,
        metadata={
            "env": "HUB_RECORD_KEY_VERSION",
            "doc": "the version of the key personal data is sealed under at rest; raise it to rotate",
        },
    )
    secret_key: str | None = field(
        default=None,
        metadata={
            "env": "HUB_SECRET_KEY",
            "doc": "keys subject hashes and the signing key at rest (default: made once in HUB_DATA_DIR)",
        },
    )
    connector_allowlist: str = field(
        default="",
        metadata={"env": "HUB_CONNECTOR_ALLOWLIST", "doc": "comma-separated CIDRs REST connectors may reach"},
    )
    policy_dir: Path | None = field(
        default=None, metadata={"env": "HUB_POLICY_DIR", "doc": "directory of operators' extra .cedar policy files"}
    )
    resolution_deadline_ms: int = field(
        default=5000, metadata={"env": "HUB_RESOLUTION_DEADLINE_MS", "doc": "overall deadline of one resolution"}
    )
    resolution_threads: int = field(
        default=32, metadata={"env": "HUB_RESOLUTION_THREADS", "doc": "concurrent source calls per worker"}
    )
    timezone: str = field(
        default="Asia/Shanghai", metadata={"env": "HUB_TIMEZONE", "doc": "the province's time zone (dates, days)"}
    )
    key_passphrase: str | None = field(
        default=None,
        metadata={
            "env": "HUB_KEY_PASSPHRASE",
            "doc": "encrypts the PKI's private keys at rest (PKCS#8; default: derived from HUB_SECRET_KEY)",
        },
    )
    pkcs11_module: str | None = field(
        default=None,
        metadata={"env": "HUB_PKCS11_MODULE", "doc": "PKCS#11 library: agency seal keys are made on that token"},
    )
    pkcs11_token: str = field(default="hub", metadata={"env": "HUB_PKCS11_TOKEN", "doc": "PKCS#11 token label"})
    pkcs11_pin: str | None = field(default=None, metadata={"env": "HUB_PKCS11_PIN", "doc": "PKCS#11 user PIN"})
    sm2_software_keys: bool = field(
        default=False,
        metadata={
            "env": "HUB_SM2_SOFTWARE_KEYS",
            "doc": "with HUB_PKCS11_MODULE: let agencies' SM2 seal keys (OFD licences) be encrypted software keys, "
            "as no PKCS#11 token holds SM2; unset, OFD licences are refused on such a hub",
        },
    )
    tsa_url: str | None = field(
        default=None,
        metadata={"env": "HUB_TSA_URL", "doc": "external RFC 3161 TSA for signature timestamps (default: the hub's)"},
    )
    licence_font: Path = field(
        default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
        metadata={"env": "HUB_LICENCE_FONT", "doc": "TrueType font (Chinese and Latin) embedded in licences"},
    )
    verify_timeout: int = field(
        default=20, metadata={"env": "HUB_VERIFY_TIMEOUT", "doc": "seconds one PDF verification may take"}
    )
    verify_processes: int = field(
        default=2, metadata={"env": "HUB_VERIFY_PROCESSES", "doc": "verifier processes per worker (parse isolation)"}
    )
    applicant_portal: str | None = field(
        default=None,
        metadata={
            "env": "HUB_APPLICANT_PORTAL",
            "doc": "agency code the hub's own applicant pages (/apply) submit as (demo: prov-gov-service)",
        },
    )
    oidc_issuer: str | None = field(
        default=None,
        metadata={
            "env": "HUB_OIDC_ISSUER",
            "doc": "the province identity service (OpenID Connect issuer URL) applicants sign in to /apply with",
        },
    )
    oidc_client_id: str | None = field(
        default=None, metadata={"env": "HUB_OIDC_CLIENT_ID", "doc": "the hub's client id at that identity service"}
    )
    oidc_client_secret: str | None = field(
        default=None, metadata={"env": "HUB_OIDC_CLIENT_SECRET", "doc": "the hub's client secret there"}
    )
    oidc_id_claim: str = field(
        default="id_number",
        metadata={"env": "HUB_OIDC_ID_CLAIM", "doc": "the ID token claim that holds the applicant's identifier"},
    )
    oidc_portal_audiences: str = field(
        default="",
        metadata={
            "env": "HUB_OIDC_PORTAL_AUDIENCES",
            "doc": "client ids (comma-separated) of portals whose ID tokens prove a person to the hub, beside its own",
        },
    )
    oidc_agency_claim: str = field(
        default="agency",
        metadata={
            "env": "HUB_OIDC_AGENCY_CLAIM",
            "doc": "the claim naming a member of staff's agency (its code): who may sign in to /desk that way",
        },
    )
    oidc_id_type_claim: str = field(
        default="id_type",
        metadata={
            "env": "HUB_OIDC_ID_TYPE_CLAIM",
            "doc": "the claim that holds its type (resident-id, passport, ...; resident-id when absent)",
        },
    )
    session_ttl: int = field(
        default=28_800,
        metadata={
            "env": "HUB_SESSION_TTL",
            "doc": "seconds a console or /apply session lives on the server after its last change",
        },
    )
    backup_dir: Path | None = field(
        default=None,
        metadata={"env": "HUB_BACKUP_DIR", "doc": "where backups are written (default HUB_DATA_DIR/backups)"},
    )
    backup_interval: int = field(
        default=86_400, metadata={"env": "HUB_BACKUP_INTERVAL", "doc": "seconds between scheduled backups (0: none)"}
    )
    backup_keep: int = field(
        default=7, metadata={"env": "HUB_BACKUP_KEEP", "doc": "scheduled backups kept; older ones are deleted"}
    )
    checkpoint_interval: int = field(
        default=3600,
        metadata={"env": "HUB_CHECKPOINT_INTERVAL", "doc": "seconds between sealed audit checkpoints (0: none)"},
    )
    archive_sweep_interval: int = field(
        default=600,
        metadata={"env": "HUB_ARCHIVE_SWEEP_INTERVAL", "doc": "seconds between runs filing pending case archives"},
    )
    blob_collection_interval: int = field(
        default=86_400,
        metadata={
            "env": "HUB_BLOB_COLLECTION_INTERVAL",
            "doc": "seconds between collections of stored files no record names (each waits this long first)",
        },
    )
    deadline_sweep_interval: int = field(
        default=3600,
        metadata={"env": "HUB_DEADLINE_SWEEP_INTERVAL", "doc": "seconds between sweeps raising deadline alerts"},
    )
    notify_interval: int = field(
        default=10,
        metadata={"env": "HUB_NOTIFY_INTERVAL", "doc": "seconds between rounds of webhook deliveries to subscribers"},
    )
    status_list_max_age: int = field(
        default=300,
        metadata={
            "env": "HUB_STATUS_LIST_MAX_AGE",
            "doc": "seconds a fetched licence status list may be cached (its Cache-Control max-age and ttl)",
        },
    )
    probe_interval: int = field(
        default=300,
        metadata={"env": "HUB_PROBE_INTERVAL", "doc": "seconds between health probes of every active connector"},
    )
    queue_url: str | None = field(
        default=None,
        metadata={"env": "HUB_QUEUE_URL", "doc": "Redis for the job queue (default: the hub's; needed on a cluster)"},
    )
    queue_workers: int = field(
        default=1,
        metadata={"env": "HUB_QUEUE_WORKERS", "doc": "job-queue workers hub serve starts (0: run hub worker yourself)"},
    )
    log_level: str = field(default="INFO", metadata={"env": "HUB_LOG_LEVEL", "doc": "logging level"})
    trusted_proxies: int = field(
        default=0,
        metadata={"env": "HUB_TRUSTED_PROXIES", "doc": "reverse proxies whose X-Forwarded-* to trust"},
    )
    rate_limits: bool = field(default=True, metadata={"env": "HUB_RATE_LIMITS", "doc": "rate limits on (1) or off (0)"})
    rate_limit_token: str = field(
        default="6000/minute",
        metadata={"env": "HUB_RATE_LIMIT_TOKEN", "doc": "requests per bearer token (every route together)"},
    )
    rate_limit_address: str = field(
        default="300/minute",
        metadata={"env": "HUB_RATE_LIMIT_ADDRESS", "doc": "requests per client address without a valid token"},
    )
    rate_limit_verify: str = field(
        default="30/minute",
        metadata={"env": "HUB_RATE_LIMIT_VERIFY", "doc": "PDF verifications per client address"},
    )
    rate_limit_sign_in: str = field(
        default="10/minute",
        metadata={"env": "HUB_RATE_LIMIT_SIGN_IN", "doc": "failed sign-ins per client address (console, /apply)"},
    )

    @property
    def oidc(self) -> bool:
        """Whether applicants sign in through the province's identity service (OpenID Connect)."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def base_url(self) -> str:
        """The public base URL without a trailing slash."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def blob_store_url(self) -> str:
        """Where documents are kept, as a blob store URL."""
        return self.blob_url or (self.blob_dir or self.data_dir / "blobs").resolve().as_uri()

    @property
    def backups(self) -> Path:
        """The directory backups are written to."""
        return self.backup_dir or self.data_dir / "backups"

    @property
    def sm2_keys_allowed(self) -> bool:
        """Whether SM2 seal keys may be made (in software): always, unless seal keys belong on a PKCS#11 token."""
        return not self.pkcs11_module or self.sm2_software_keys

    @property
    def embedded_redis(self) -> bool:
        """True when the hub runs its own Redis server."""
        return not self.redis_url

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """Return a copy with some fields replaced (used by tests and the CLI)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        values = {k: (Path(v) if k in PATH_SETTINGS and v is not None else v) for k, v in overrides.items()}
        return replace(self, **values)


def _convert(kind: Any, text: str) -> Any:
    if kind in (bool, "bool"):
        return _bool(text)
    if kind in (int, "int"):
        return int(text)
    if kind in (Path, "Path"):
        return Path(text)
    return text


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment; raise ValueError naming a malformed variable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for spec in fields(Settings):
        name = spec.metadata["env"]
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        kind = str(spec.type).replace(" | None", "")
        try:
            values[spec.name] = _convert(kind, raw)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    settings = Settings(**values)
    if settings.demo and not settings.connector_allowlist:
        # The demo's stand-in agency runs on loopback; a real deployment names its agencies' networks.
        settings = replace(settings, connector_allowlist="127.0.0.1/32")
    if settings.demo and not settings.applicant_portal:
        settings = replace(settings, applicant_portal="prov-gov-service")  # the demo's online hall
    check_applicant_sign_in(settings)
    if settings.admin_token is not None and len(settings.admin_token) < 16:
        raise ValueError("HUB_ADMIN_TOKEN: use at least 16 characters")
    if settings.redis_appendfsync not in {"everysec", "always"}:
        raise ValueError("HUB_REDIS_APPENDFSYNC: must be everysec or always")
    for name in RATE_LIMIT_SETTINGS:
        try:
            parse_rate_limits(getattr(settings, name))
        except ValueError as exc:
            raise ValueError(f"{next(f.metadata['env'] for f in fields(Settings) if f.name == name)}: {exc}") from None
    return settings


OIDC_SETTINGS = {
    "oidc_issuer": "HUB_OIDC_ISSUER",
    "oidc_client_id": "HUB_OIDC_CLIENT_ID",
    "oidc_client_secret": "HUB_OIDC_CLIENT_SECRET",
}


def check_applicant_sign_in(settings: Settings) -> None:
    """The applicant pages need a sign-in that proves who the applicant is: OpenID Connect, or the demo's."""
    given = [env for name, env in OIDC_SETTINGS.items() if getattr(settings, name)]
    if given and len(given) < len(OIDC_SETTINGS):
        missing = [env for env in OIDC_SETTINGS.values() if env not in given]
        raise ValueError(f"{', '.join(missing)}: OpenID Connect sign-in needs {', '.join(OIDC_SETTINGS.values())}")
    if settings.applicant_portal and not settings.oidc and not settings.demo:
        raise ValueError(
            "HUB_APPLICANT_PORTAL: the applicant pages need a sign-in that proves who the applicant is; set "
            "HUB_OIDC_ISSUER, HUB_OIDC_CLIENT_ID and HUB_OIDC_CLIENT_SECRET (the province's identity service), "
            "or HUB_DEMO=1 for the demo sign-in"
        )


RATE_LIMIT_SETTINGS = ("rate_limit_token", "rate_limit_address", "rate_limit_verify", "rate_limit_sign_in")


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, for the README and `hub --help`."""
    rows = []
    for spec in fields(Settings):
        default = spec.default
        rows.append((spec.metadata["env"], "" if default is None else str(default), spec.metadata["doc"]))
    return rows
