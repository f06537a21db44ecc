"""Connector records (operator only: their config says how to reach agency systems)."""

from __future__ import annotations

from flask import url_for

from ..registry import connectors
from ..schemas.common import PageArgsSchema
from ..schemas.registry import ConnectorPageSchema, ConnectorSchema
from .base import HubBlueprint, context, hub

blp = HubBlueprint("connectors", __name__, url_prefix="/api/v1/connectors", description="Data source connectors")


@blp.route("", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(ConnectorSchema)
@blp.response(201, ConnectorSchema)
def create_connector(data):
    """Register a connector (inactive until tested and activated)."""
    record = connectors.create_connector(hub().store, context(), data)
    return record, 201, {"Location": url_for("connectors.get_connector", connector_id=record["id"])}


@blp.route("", methods=["GET"])
@blp.requires("operator")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ConnectorPageSchema)
def list_connectors(args):
    """List connectors by id."""
    return connectors.list_connectors(hub().store, args["limit"], args["cursor"])


@blp.route("/<connector_id>", methods=["GET"])
@blp.requires("operator")
@blp.response(200, ConnectorSchema)
def get_connector(connector_id):
    """One connector."""
    return connectors.get_connector(hub().store, connector_id)
