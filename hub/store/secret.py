"""The hub's one secret: ``HUB_SECRET_KEY``, or a secret made once per data directory (mode 0600).

Subject hashes, the keys that seal personal data at rest and the keys that seal credentials are
all derived from it, so every hub sharing a store must share it (the keyring checks).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hub.config import Settings

SECRET_FILE = "secret.key"  # noqa: S105 - a file name


def _secret_from_data_dir(data_dir: Path) -> str:
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def hub_secret(settings: Settings) -> bytes:
    """The secret of the hub ``settings`` describe."""
    return (settings.secret_key or _secret_from_data_dir(settings.data_dir)).encode()
