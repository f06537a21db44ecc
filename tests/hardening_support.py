"""Helpers for the hardening tests in ``tests/hub/attack/`` (rate limits, headers, upload caps, secrets in logs)."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import time
import zlib
from dataclasses import replace
from pathlib import Path

from flask import Flask

from hub import create_app
from hub.config import Settings


def limited_app(settings: Settings, **overrides: object) -> Flask:
    """A second hub on the test session's store with its own settings (small rate limits, say); the
    ``app`` fixture, asked for alongside, empties the store first."""
    return create_app(settings=replace(settings, **overrides))


def kill_embedded_redis(data_dir: Path) -> int:
    """SIGKILL the embedded Redis of a data directory; its pid."""
    pid = int((data_dir / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        time.sleep(0.05)
    raise AssertionError(f"Redis {pid} outlived SIGKILL")


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


def flate_bomb_pdf(expanded_bytes: int) -> bytes:
    """A one-page PDF whose content stream is ``expanded_bytes`` of spaces, Flate-compressed to a few KiB."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(expanded_bytes // len(chunk))]
    stream = b"".join(parts) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
