"""The audit log: chain verification and the newest entries (operator only)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from .. import audit, keys
from ..paging import decode_stream_cursor, encode_cursor
from ..schemas.common import PageArgsSchema
from .base import HubBlueprint, hub

blp = HubBlueprint("audit", __name__, url_prefix="/api/v1/audit", description="The hash-chained audit log")


class AuditReportSchema(Schema):
    intact = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    problems = fields.List(fields.String(), metadata={"description": "where the chain breaks"})


class AuditEntrySchema(Schema):
    id = fields.String()
    seq = fields.String()
    at = fields.String()
    actor = fields.String()
    action = fields.String()
    target = fields.String()
    request_id = fields.String()
    detail = fields.String()
    prev = fields.String()
    hash = fields.String()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next = fields.String(allow_none=True, required=True)


class AuditArgsSchema(PageArgsSchema):
    partition = fields.String(load_default=keys.REGISTRY, validate=validate.Regexp(r"^[A-Za-z0-9:._-]{1,80}$"))


@blp.route("/verify", methods=["GET"])
@blp.requires("operator")
@blp.response(200, AuditReportSchema)
def verify() -> Any:
    """Recompute every hash chain: ``intact`` and the number of ``entries``."""
    report = audit.verify(hub().store)
    return {"intact": report.intact, "entries": report.entries, "problems": list(report.problems)}


@blp.route("/entries", methods=["GET"])
@blp.requires("operator")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
def entries(args: dict[str, Any]) -> Any:
    """The newest audit entries of one chain, newest first."""
    rows = audit.page(hub().store, args["partition"], decode_stream_cursor(args["cursor"]), args["limit"] + 1)
    kept = rows[: args["limit"]]
    more = len(rows) > args["limit"]
    return {"items": kept, "next": encode_cursor(kept[-1]["id"]) if more else None}
