"""Archives (Art. 13): a concluded case's sealed package, and the register of every package filed."""

from __future__ import annotations

from typing import Any

from flask import Response, g

from hub.archives import catalogue, filing
from hub.archives.schemas import (
    ArchiveEntrySchema,
    ArchivePageSchema,
    ArchiveSearchArgsSchema,
    DisposalRequestSchema,
    DueForDisposalArgsSchema,
)
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.intake import applications

blp = HubBlueprint("archives", __name__, url_prefix="/api/v1", description="Case archives (Art. 13)")


@blp.route("/applications/<application_id>/archive", methods=["GET"])
@blp.requires("agency", "operator")
@blp.response(200, description="The case's archive package (application/zip)")
def get_package(application_id: str) -> Response:
    """The sealed zip of a concluded case (lead agency or operator): every file, ``manifest.json`` and
    ``manifest.json.p7s``; 409 while the case runs, 410 once disposed of."""
    state = hub_state()
    record = applications.get(state, application_id)
    catalogue.check_lead_or_operator(record, g.principal.agency)
    reader = g.principal.agency or "operator"
    entry, content = filing.package_of(state, context(), record, reader)
    response = Response(content, mimetype="application/zip")  # streamed from the blob store
    response.headers["Content-Length"] = str(entry["package"]["size"])
    response.headers["Content-Disposition"] = f'attachment; filename="{application_id}.zip"'
    response.headers["ETag"] = f'"{entry["package"]["sha256"]}"'
    return response


@blp.route("/archives", methods=["GET"])
@blp.requires("agency", "operator")
@blp.arguments(ArchiveSearchArgsSchema, location="query")
@blp.response(200, ArchivePageSchema)
def search(args: dict[str, Any]) -> Any:
    """Search the register by case, agency, service item, applicant and filing date, newest first
    (an agency sees the cases it led or took part in)."""
    return catalogue.search(hub_state(), g.principal.agency, args)


@blp.route("/archives/due-for-disposal", methods=["GET"])
@blp.requires("operator")
@blp.arguments(DueForDisposalArgsSchema, location="query")
@blp.response(200, ArchivePageSchema)
def due_for_disposal(args: dict[str, Any]) -> Any:
    """Archives whose retention period has ended, soonest ended first."""
    state = hub_state()
    return {"items": catalogue.due_for_disposal(state, state.today(), args["limit"]), "next": None}


@blp.route("/archives/<case>", methods=["GET"])
@blp.requires("agency", "operator")
@blp.response(200, ArchiveEntrySchema)
def get_entry(case: str) -> Any:
    """One catalogue entry, with the package's hash."""
    return catalogue.get_entry(hub_state(), case, g.principal.agency)


@blp.route("/archives/<case>/disposal", methods=["POST"])
@blp.requires("operator")
@blp.arguments(DisposalRequestSchema)
@blp.response(200, ArchiveEntrySchema)
def dispose(data: dict[str, Any], case: str) -> Any:
    """Dispose of an archive whose retention has ended (409 before): the package is deleted, the entry
    records when, by whom and why, and the disposal is audited."""
    return catalogue.dispose(hub_state(), context(), case, data["reason"])
