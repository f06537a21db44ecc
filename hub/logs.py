"""Structured JSON logs, each line carrying the request id of the request it belongs to."""

from __future__ import annotations

import logging
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


def json_formatter() -> logging.Formatter:
    """The one formatter for the hub's and gunicorn's log lines."""
    return JsonFormatter(FORMAT, rename_fields={"levelname": "level", "name": "logger"}, timestamp="time")


# pyHanko logs every failed validation with a traceback at WARNING, and warns on each sealing that
# it may not fetch revocation data (by design: the hub hands it its own); the hub reports both itself.
QUIET_LIBRARIES = ("pyhanko", "pyhanko_certvalidator", "fontTools")


def configure(level: str) -> None:
    """Send every log record to stderr as one JSON object per line."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
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
