"""What every API blueprint shares: the hub's services, the caller, and auth and idempotency decorators."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import g, request
from flask_smorest import Blueprint

from hub.context import Context
from hub.errors import Forbidden
from hub.http import authn
from hub.http.current import hub_state
from hub.http.idempotency import idempotent as _idempotent
from hub.http.parsing import HubParser
from hub.http.schemas import ProblemSchema

if TYPE_CHECKING:
    pass


def context() -> Context:
    """The actor and request id for audit entries written by this request."""
    return Context(actor=g.principal.actor, request_id=g.request_id, request_key=g.get("request_key"))


class HubBlueprint(Blueprint):
    """A flask-smorest blueprint with the hub's auth and idempotency decorators."""

    ARGUMENTS_PARSER = HubParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Callable:
        """As flask-smorest's, with a schema class made an instance once, here: webargs makes one for every request
        otherwise (a tenth of a cached read's CPU). The hub's schemas keep nothing between loads."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def requires(self, *roles: str) -> Callable:
        """Admit only bearer tokens carrying one of ``roles`` (401 without a token, 403 without the role)."""

        def decorator(view: Callable) -> Callable:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                principal = authn.authenticate(hub_state().store, request.headers.get("Authorization"))
                g.principal = principal
                if not principal.roles & set(roles):
                    raise Forbidden(f"This needs a token with the role {' or '.join(roles)}.")
                return view(*args, **kwargs)

            wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined] # read by tests and the docs
            documented = self.doc(security=[{"bearerAuth": []}])(wrapper)
            documented = self.alt_response(401, schema=ProblemSchema, description="No valid bearer token")(documented)
            return self.alt_response(403, schema=ProblemSchema, description="The token lacks the right")(documented)

        return decorator

    def idempotent(self, redact: tuple[str, ...] = ()) -> Callable:
        """Honour ``Idempotency-Key`` on a creating POST (see :mod:`hub.http.idempotency`). The kept answers are
        sealed at rest by the store, as every idempotent replay is (:mod:`hub.store.sealing`)."""

        def decorator(view: Callable) -> Callable:
            wrapped = _idempotent(lambda: hub_state().store, lambda: hub_state().settings.idempotency_ttl, redact)(view)
            return self.doc(
                parameters=[
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                        "description": "A repeat with the same key and body returns the first answer.",
                    }
                ]
            )(wrapped)

        return decorator
