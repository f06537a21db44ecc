"""The demo province: loaded from ``province.yaml`` through the catalogue import, with demo tokens.

The tokens are made once per data directory and kept in ``demo-tokens.json`` (mode 0600) beside
the data, since the store keeps only their hashes; later starts print the same tokens again.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from .. import auth, keys
from ..context import Context
from ..registry import catalogue
from ..store import Store

PROVINCE_FILE = Path(__file__).with_name("province.yaml")
TOKENS_FILE = "demo-tokens.json"
# Who gets a demo token, with which roles. The government service centre runs the online hall.
DEMO_HOLDERS = {
    "operator": (None, ["operator"]),
    "prov-gov-service": ("prov-gov-service", ["portal", "agency"]),
    "prov-market": ("prov-market", ["agency"]),
    "prov-health": ("prov-health", ["agency"]),
    "prov-public-security": ("prov-public-security", ["agency"]),
    "prov-civil-affairs": ("prov-civil-affairs", ["agency"]),
    "city-housing": ("city-housing", ["agency"]),
}


def load(store: Store, data_dir: Path, today: date) -> dict[str, str]:
    """Import the demo province and return holder -> demo token, making the tokens on first use."""
    ctx = Context.system("demo")
    catalogue.import_document(store, ctx, catalogue.read_file(PROVINCE_FILE), today)
    tokens_path = Path(data_dir) / TOKENS_FILE
    if tokens_path.exists():
        tokens = json.loads(tokens_path.read_text())
        if all(store.get_json(keys.token(auth.hash_token(secret))) for secret in tokens.values()):
            return tokens
    tokens = {}
    for holder, (agency, roles) in DEMO_HOLDERS.items():
        tokens[holder] = auth.create_token(store, ctx, agency, roles)["token"]
    descriptor = os.open(tokens_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(tokens, handle, indent=2)
    return tokens


def banner(tokens: dict[str, str], base_url: str) -> str:
    """The text printed at start-up: where the hub is and the demo tokens."""
    lines = [f"The hub serves the demo province at {base_url}  (API docs: {base_url}/docs)", "Demo bearer tokens:"]
    width = max(len(holder) for holder in tokens)
    lines += [f"  {holder.ljust(width)}  {secret}" for holder, secret in tokens.items()]
    return "\n".join(lines)
