"""The bare baseline: a minimal Flask app whose one endpoint does a single Redis GET of a JSON value.

Served by gunicorn with the hub's worker settings, it shows what Flask, gunicorn and one Redis
round trip cost on this machine, so the hub's own figures can be read against it. It is configured
by ``BENCH_REDIS_SOCKET`` (the Unix socket of the Redis to read from) and ``BENCH_KEY``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import redis
from flask import Flask, abort

app = Flask(__name__)
# Gunicorn imports this module in each worker after the fork, so each worker has its own pool.
_client = redis.Redis(unix_socket_path=os.environ["BENCH_REDIS_SOCKET"], socket_timeout=10)
_key = os.environ["BENCH_KEY"]


@app.get("/value")
def value() -> dict[str, Any]:
    """The JSON document stored under ``BENCH_KEY``, decoded and encoded again as the hub does."""
    raw = _client.get(_key)
    if raw is None:
        abort(404)
    return json.loads(raw)
