"""How request bodies are read: webargs' Flask parser, hardened against bodies that crash a JSON decoder.

A number with thousands of digits, arrays nested a hundred thousand deep and lone surrogates that
cannot be stored are all malformed input: 400, never 500. A body over the route's size limit is
413 even when it arrived chunked, without a length to refuse it by up front.
"""

from __future__ import annotations

import json
from typing import Any

import flask
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge


class HubParser(FlaskParser):
    """The parser every HubBlueprint uses; ``multipart`` reads a form's fields and files together."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: flask.Request, schema: Any) -> Any:
        """The fields and files of a multipart form, as one mapping (one request body in the spec)."""
        return self._makeproxy(req.form.copy() | req.files, schema)

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        limit = req.max_content_length
        if req.content_length is None and limit is not None and len(body) >= limit:
            raise RequestEntityTooLarge()  # a chunked body cut off at the limit
        try:
            value = json.loads(body.decode("utf-8"))
            # Lone surrogates decode but cannot be stored as UTF-8: refuse them here, not on write.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError, UnicodeError) as exc:
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]
        return value
