"""Helpers for the hardening tests in ``tests/hub/attack/`` (rate limits, headers, upload caps, secrets in logs)."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import struct
import time
import zlib
from dataclasses import replace
from pathlib import Path

from flask import Flask

from hub import create_app
from hub.config import Settings
from hub.store import embedded as embedded_redis


def limited_app(settings: Settings, **overrides: object) -> Flask:
    """A second hub on the test session's store with its own settings (small rate limits, say); the
    ``app`` fixture, asked for alongside, empties the store first."""
    return create_app(settings=replace(settings, **overrides))


def start_redis(directory: Path) -> str:
    """A Redis server of the bundled binary on a Unix socket in ``directory``; its ``REDIS_URL``. Hubs given that
    URL treat it as external: none restarts it, so a test can keep it down (see :func:`kill_redis`)."""
    server = embedded_redis.attach_or_start(directory)
    return f"unix://{server.socket_path}"


def kill_redis(directory: Path) -> int:
    """SIGKILL the Redis server running on ``directory``; its pid."""
    pid = int((directory / "redis.pid").read_text())
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # started by this process (start_redis): reap it
    except ChildProcessError:  # another process's child: wait until it is gone
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return pid
            time.sleep(0.05)
        raise AssertionError(f"Redis {pid} outlived SIGKILL") from None
    except ProcessLookupError:
        pass  # already gone
    return pid


def spellings(secret: str) -> set[str]:
    """A secret as it could leak into a log: as is, base64 (Basic auth, PEM bodies), and JSON-escaped."""
    raw = secret.encode()
    forms = {secret, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    forms.add(json.dumps(secret, ensure_ascii=True)[1:-1])
    return {form for form in forms if len(form) >= 8}


def nested_json(depth: int) -> bytes:
    """``[[[...]]]``, ``depth`` deep: small on the wire, deep for a recursive parser."""
    return b"[" * depth + b"]" * depth


def wide_csv(columns: int) -> bytes:
    """A CSV whose header has ``columns`` columns (a subject_id first) and one row."""
    header = "subject_id," + ",".join(f"f{i}" for i in range(columns - 1))
    row = "1," + ",".join("x" for _ in range(columns - 1))
    return (header + "\n" + row + "\n").encode()


def flate_bomb(prefix: bytes, expanded_bytes: int) -> bytes:
    """zlib data that inflates to ``prefix`` and then ``expanded_bytes`` of spaces, built in well under a second:
    each MiB is deflated once, after a full flush, so every later MiB compresses to the same bytes."""
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    count = expanded_bytes // len(chunk)
    checksum = zlib.adler32(prefix)
    for _ in range(count):
        checksum = zlib.adler32(chunk, checksum)
    return b"\x78\xda" + head + block * count + deflate.flush() + struct.pack(">I", checksum)


def flate_bomb_pdf(expanded_bytes: int) -> bytes:
    """A one-page PDF whose cross-reference stream, which any reader must inflate to find the objects, and whose
    page content each inflate to ``expanded_bytes`` (about 1 MiB on the wire per GiB, deflate's limit)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        _stream(b"", flate_bomb(b"", expanded_bytes)),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows = [struct.pack(">BIH", 0, 0, 0xFFFF)]
    for number, body in enumerate(objects, start=1):
        rows.append(struct.pack(">BIH", 1, out.tell(), 0))
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref_number = len(objects) + 1
    rows.append(struct.pack(">BIH", 1, out.tell(), 0))
    xref_data = flate_bomb(b"".join(rows), expanded_bytes)
    dictionary = b"/Type /XRef /W [1 4 2] /Size %d /Root 1 0 R" % (xref_number + 1)
    start = out.tell()
    out.write(b"%d 0 obj\n" % xref_number + _stream(dictionary, xref_data) + b"\nendobj\n")
    out.write(b"startxref\n%d\n%%%%EOF\n" % start)
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
