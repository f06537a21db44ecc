"""The hub's touches on the generated OpenAPI document: errors are ``application/problem+json``."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask_smorest import Api

from hub.http.problems import PROBLEM_MEDIA_TYPE
from hub.http.schemas import ProblemSchema


def _as_problem(response: dict[str, Any]) -> dict[str, Any]:
    content = response.get("content")
    if isinstance(content, dict) and "application/json" in content:
        response["content"] = {PROBLEM_MEDIA_TYPE: content.pop("application/json"), **content}
    return response


class ProblemContentPlugin(BasePlugin):
    """Documents every error answer with the media type the hub really sends (RFC 9457)."""

    def response_helper(self, response: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Component responses (flask-smorest's DEFAULT_ERROR, UNPROCESSABLE_ENTITY) are all errors."""
        return _as_problem(response)

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        """Every 4xx and 5xx answer of every operation, including those the hub gives on any route of a kind."""
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status, reason in _common_errors(path or "", operation).items():
                if status not in responses and int(status) not in responses:
                    responses[status] = {"description": reason, "content": {PROBLEM_MEDIA_TYPE: _PROBLEM_REF}}
            for status, response in responses.items():
                if str(status)[:1] in {"4", "5"} and isinstance(response, dict):
                    _as_problem(response)


_PROBLEM_REF = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _common_errors(path: str, operation: dict[str, Any]) -> dict[str, str]:
    """The errors hub.http, the parser and the store give whatever the view (flask-smorest lists only
    the view's own, and a ``default`` that would let a client expect anything)."""
    errors: dict[str, str] = {}
    if "requestBody" in operation:
        errors |= {
            "400": "The body is malformed (not JSON, or not a readable form)",
            "413": "The body is larger than the route takes",
            "415": "The body is not of a media type the route takes",
        }
        if path.startswith("/api/"):
            errors |= {
                "404": "A record the path or the body names does not exist",
                "409": "The request conflicts with the current state (a record that exists, a state that forbids "
                "it, the same Idempotency-Key still in progress)",
            }
    if "{" in path:
        errors.setdefault("404", "Nothing is found under this path")
    if path.startswith("/api/"):
        errors["429"] = "Too many requests from this token or address; see Retry-After"
        errors["503"] = "The store cannot be reached; nothing was done"
    return errors


class HubApi(Api):
    """flask-smorest's Api, with RFC 9457 problems as the error schema."""

    ERROR_SCHEMA = ProblemSchema
