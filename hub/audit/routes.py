"""The audit log: chain verification, the newest entries and the sealed checkpoints (operator only)."""

from __future__ import annotations

from typing import Any

from hub.audit import checkpoints, verification
from hub.audit import log as audit
from hub.audit.schemas import (
    AuditArgsSchema,
    AuditPageSchema,
    AuditReportSchema,
    AuditVerifyArgsSchema,
    CheckpointPageSchema,
    CheckpointRequestSchema,
    CheckpointSchema,
)
from hub.errors import Invalid
from hub.http import paging
from hub.http.blueprint import HubBlueprint
from hub.http.current import hub_state
from hub.http.paging import decode_cursor, decode_stream_cursor
from hub.http.schemas import PageArgsSchema

blp = HubBlueprint("audit", __name__, url_prefix="/api/v1/audit", description="The hash-chained audit log")


@blp.route("/verify", methods=["GET"])
@blp.requires("operator")
@blp.arguments(AuditVerifyArgsSchema, location="query")
@blp.response(200, AuditReportSchema)
def verify(args: dict[str, Any]) -> Any:
    """Recompute every hash chain and check it against the sealed checkpoints: ``intact`` and the
    number of ``entries``."""
    report = verification.verify(hub_state(), all_signatures=args["signatures"] == "all")
    return {
        "intact": report.intact,
        "entries": report.entries,
        "problems": list(report.problems),
        "checkpoints": report.checkpoints,
    }


@blp.route("/entries", methods=["GET"])
@blp.requires("operator")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditPageSchema)
def entries(args: dict[str, Any]) -> Any:
    """The newest audit entries of one chain, newest first."""
    rows = audit.page(hub_state().store, args["partition"], decode_stream_cursor(args["cursor"]), args["limit"] + 1)
    return paging.page(rows, args["limit"], lambda row: row["id"])


@blp.route("/checkpoints", methods=["GET"])
@blp.requires("operator")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, CheckpointPageSchema)
def list_checkpoints(args: dict[str, Any]) -> Any:
    """The sealed checkpoints, newest first: each document and its detached CMS signature."""
    rows = checkpoints.page(hub_state().store, _position(args["cursor"]), args["limit"] + 1)
    listing = paging.page(rows, args["limit"], lambda row: str(row[0]))
    return listing | {"items": [item for _, item in listing["items"]]}


@blp.route("/checkpoints", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(CheckpointRequestSchema)
@blp.response(201, CheckpointSchema)
def seal_checkpoint(_: dict[str, Any]) -> Any:
    """Seal a checkpoint of every chain's head now (the schedule does so every HUB_CHECKPOINT_INTERVAL)."""
    return checkpoints.seal_checkpoint(hub_state())


def _position(cursor: str | None) -> int | None:
    position = decode_cursor(cursor)
    if position is not None and not position.isdigit():
        raise Invalid("The cursor is not one this hub gave out.", errors={"cursor": ["Not a valid cursor."]})
    return None if position is None else int(position)
