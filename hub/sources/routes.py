"""Connector records, their tests and activation (operator only: configs say how to reach agencies)."""

from __future__ import annotations

from typing import Any

from flask import g, url_for

from hub.errors import Conflict, Forbidden
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.http.hooks import MULTIPART, accepts
from hub.http.schemas import PageArgsSchema
from hub.registry import connectors, types
from hub.registry.schemas import (
    ActivationSchema,
    ConnectorHealthSchema,
    ConnectorPageSchema,
    ConnectorSchema,
    ConnectorTestRequestSchema,
    ConnectorTestSchema,
    DatasetSchema,
    DatasetUploadSchema,
)
from hub.sources import datasets, health, probes

blp = HubBlueprint("connectors", __name__, url_prefix="/api/v1/connectors", description="Data source connectors")


@blp.route("", methods=["POST"])
@blp.requires("operator")
@blp.idempotent()
@blp.arguments(ConnectorSchema)
@blp.response(201, ConnectorSchema)
def create_connector(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Register a connector; its kind checks the config. It stays inactive until tested and activated."""
    state = hub_state()
    connectors.check_references(state.store, data)
    data = state.sources.checked(data)
    record = connectors.create_connector(state.store, context(), data)
    return record, 201, {"Location": url_for("connectors.get_connector", connector_id=record["id"])}


@blp.route("", methods=["GET"])
@blp.requires("operator")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, ConnectorPageSchema)
def list_connectors(args: dict[str, Any]) -> Any:
    """List connectors by id."""
    return connectors.list_connectors(hub_state().store, args["limit"], args["cursor"])


@blp.route("/<connector_id>", methods=["GET"])
@blp.requires("operator")
@blp.response(200, ConnectorSchema)
def get_connector(connector_id: str) -> Any:
    """One connector."""
    return connectors.get_connector(hub_state().store, connector_id)


@blp.route("/<connector_id>/test", methods=["POST"])
@blp.requires("operator")
@blp.arguments(ConnectorTestRequestSchema)
@blp.response(200, ConnectorTestSchema)
def test_connector(args: dict[str, Any], connector_id: str) -> Any:
    """Probe the source's health and, if a subject is given, fetch a sample (field names only are shown)."""
    return probes.test_connector(
        hub_state(), context(), connector_id, args["evidence_type"], args["subject_id_type"], args["subject_id"]
    )


@blp.route("/<connector_id>/activation", methods=["POST"])
@blp.requires("operator")
@blp.arguments(ActivationSchema)
@blp.response(200, ConnectorSchema)
def set_activation(data: dict[str, Any], connector_id: str) -> Any:
    """Let the connector serve resolution (it must have passed its last test), or take it out."""
    return connectors.set_active(hub_state().store, context(), connector_id, data["active"])


@blp.route("/<connector_id>/health", methods=["GET"])
@blp.requires("operator")
@blp.response(200, ConnectorHealthSchema)
def connector_health(connector_id: str) -> Any:
    """The last hour of calls: count, errors, p50/p95 latency, a five-minute series, circuit state."""
    state = hub_state()
    record = connectors.get_connector(state.store, connector_id)
    extra = {
        "active": record["active"],
        "last_test": record["last_test"],
        "last_probe": probes.last_probe(state, connector_id),
    }
    return health.summary(state.store, connector_id) | extra


@blp.route("/<connector_id>/dataset", methods=["PUT"])
@blp.requires("operator", "agency")
@blp.arguments(DatasetUploadSchema, location="files")
@blp.response(200, DatasetSchema)
@accepts(MULTIPART)
def put_dataset(files: dict[str, Any], connector_id: str) -> Any:
    """Replace a csv connector's dataset (the operator, or a token of the connector's agency)."""
    state = hub_state()
    record = connectors.get_connector(state.store, connector_id)
    if g.principal.agency is not None and g.principal.agency != record["agency"]:
        raise Forbidden(f"Only {record['agency']!r} may upload the dataset of {connector_id!r}.")
    if record["kind"] != "csv":
        raise Conflict(f"{connector_id!r} is a {record['kind']} connector; only csv connectors take datasets.")
    content = files["file"].read()
    evidence = {code: types.get_evidence_type(state.store, code) for code in record["provides"]}
    rows = datasets.parse(content, record, evidence, state.keyring)
    return datasets.replace(state.store, context(), connector_id, rows, content)
