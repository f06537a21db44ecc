"""The hub's touches on the generated OpenAPI document: errors are ``application/problem+json``."""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask_smorest import Api

from ..errors import PROBLEM_MEDIA_TYPE
from ..schemas.common import ProblemSchema


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
        """Every 4xx and 5xx answer of every operation."""
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if str(status)[:1] in {"4", "5"} and isinstance(response, dict):
                    _as_problem(response)


class HubApi(Api):
    """flask-smorest's Api, with RFC 9457 problems as the error schema."""

    ERROR_SCHEMA = ProblemSchema
