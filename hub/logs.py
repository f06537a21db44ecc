"""Structured JSON logs, each line carrying the request id of the request it belongs to, with anything shaped
like a secret or a resident ID masked."""

from __future__ import annotations

import logging
import re
import sys

from flask import g, has_request_context
from pythonjsonlogger.json import JsonFormatter

FORMAT = "%(levelname)s %(name)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = getattr(g, "request_id", None)
        return True


# The last line of defence: what a secret or a person's ID looks like, masked in every line written, whoever
# logged it. The hub itself logs neither; a library's message or an exception's text might.
REDACTIONS = (
    (re.compile(r"(?i)\b(bearer|basic)(\s+|%20)[A-Za-z0-9._~+/=%-]+"), r"\1 [redacted]"),
    (re.compile(r"\bhub_[A-Za-z0-9_-]{16,}"), "hub_[redacted]"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S), "[private key]"),
    (re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])"), "[id]"),  # resident ID (GB 11643)
)
# What each pattern cannot match without (lower-cased text): a substring test is a tenth of a regex search, and
# most lines hold none of them (every request writes one).
_NEEDLES = (("bearer", "basic"), ("hub_",), ("private key",), ("",))


def redact(text: str) -> str:
    """``text`` with anything shaped like a token, credential, private key or resident ID masked."""
    lowered = text.lower()
    for (pattern, replacement), needles in zip(REDACTIONS, _NEEDLES, strict=True):
        if any(needle in lowered for needle in needles):
            text = pattern.sub(replacement, text)
    return text


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines, each passed through :func:`redact` once formatted (tracebacks and extra fields included)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def json_formatter() -> logging.Formatter:
    """The one formatter for the hub's and gunicorn's log lines."""
    return RedactingJsonFormatter(FORMAT, rename_fields={"levelname": "level", "name": "logger"}, timestamp="time")


# pyHanko logs every failed validation with a traceback at WARNING, and warns on each sealing that
# it may not fetch revocation data (by design: the hub hands it its own); the hub reports both itself.
QUIET_LIBRARIES = ("pyhanko", "pyhanko_certvalidator", "fontTools")
# At DEBUG these name every URL they fetch, and connector URLs carry the subject's ID: INFO at most.
NEVER_DEBUG = ("urllib3", "requests")


def configure(level: str) -> None:
    """Send every log record to stderr as one JSON object per line."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    for name in NEVER_DEBUG:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
    root = logging.getLogger()
    if any(getattr(h, "_hub", False) for h in root.handlers):
        root.setLevel(level.upper())
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    handler._hub = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


def gunicorn_logconfig(level: str) -> dict:
    """A ``logconfig_dict`` that makes gunicorn's own lines JSON too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "hub.logs.json_formatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": []},  # the app adds its own handler, with request ids
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
