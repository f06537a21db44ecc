"""The audit log: chain verification and the newest entries (operator only)."""

from __future__ import annotations

from typing import Any

from .. import audit, paging
from ..paging import decode_stream_cursor
from ..schemas.audit import AuditArgsSchema, AuditPageSchema, AuditReportSchema
from .base import HubBlueprint, hub

blp = HubBlueprint("audit", __name__, url_prefix="/api/v1/audit", description="The hash-chained audit log")


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
    return paging.page(rows, args["limit"], lambda row: row["id"])
