"""E-licences: issue, read, list, change status, download the signed PDF."""

from __future__ import annotations

from typing import Any

from flask import Response, g, url_for

from connectors.api import Subject
from hub.errors import Forbidden, Invalid
from hub.http import person_proof
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.licences import access, issuance, versions
from hub.licences import register as licences
from hub.licences.schemas import (
    AmendmentSchema,
    HistorySchema,
    HolderArgsSchema,
    LicenceListArgsSchema,
    LicencePageSchema,
    LicenceRequestSchema,
    LicenceSchema,
    ReissueSchema,
    RenewalSchema,
    StatusChangeSchema,
)

blp = HubBlueprint("licences", __name__, url_prefix="/api/v1/licences", description="E-licences")


def _with_links(record: dict[str, Any]) -> dict[str, Any]:
    base = hub_state().settings.base_url
    links = {
        "pdf_url": base + url_for("licences.get_pdf", number=record["number"]),
        "verify_url": f"{base}/verify/{record['number']}",
    }
    if record.get("ofd_sha256"):
        links["ofd_url"] = base + url_for("licences.get_ofd", number=record["number"])
    return {**record, **links}


def named_holder(args: dict[str, Any]) -> Subject | None:
    """The holder a portal names in the query (``holder_id_type`` and ``holder_id``), if it names one; a
    portal must prove it acts for that person (the identity service's ID token in ``Applicant-Token``), as
    for the person's cases and access log: knowing a licence number and its holder's ID is not enough."""
    if not (args.get("holder_id_type") and args.get("holder_id")):
        return None
    if "portal" in g.principal.roles:
        person_proof.require_person(hub_state().settings, args["holder_id_type"], args["holder_id"])
    return Subject(args["holder_id_type"], args["holder_id"])


def reader() -> str:
    """Who reads, as the holder's access log names them."""
    return g.principal.agency or "operator"


def _issuer_scope() -> str | None:
    """The caller's agency, or None for the operator (who sees every licence)."""
    return g.principal.agency


@blp.route("", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()
@blp.arguments(LicenceRequestSchema)
@blp.response(201, LicenceSchema)
def issue_licence(data: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Issue a licence of a type this agency issues: numbered, rendered, sealed at PAdES B-LT."""
    record = _with_links(issuance.issue(hub_state(), context(), g.principal.agency, data))
    return record, 201, {"Location": url_for("licences.get_licence", number=record["number"])}


@blp.route("", methods=["GET"])
@blp.requires("agency", "operator", "portal")
@blp.arguments(LicenceListArgsSchema, location="query")
@blp.response(200, LicencePageSchema)
def list_licences(args: dict[str, Any]) -> Any:
    """Licences: an issuer's own, or a holder's (portals must name the holder they act for)."""
    holder = named_holder(args)
    if holder is None and (args.get("holder_id_type") or args.get("holder_id")):
        raise Invalid("Give holder_id_type and holder_id together.", errors={"holder_id": ["Give both or neither."]})
    roles = g.principal.roles
    if "portal" in roles and not roles & {"agency", "operator"} and holder is None:
        raise Forbidden("A portal lists the licences of the holder it acts for: give holder_id_type and holder_id.")
    scope = _issuer_scope() if "portal" not in roles or holder is None else None
    page = licences.listing(hub_state(), scope, args.get("type"), holder, args["limit"], args["cursor"])
    access.log_reads(hub_state(), page["items"], reader())
    return {**page, "items": [_with_links(record) for record in page["items"]]}


@blp.route("/<number>", methods=["GET"])
@blp.requires("agency", "operator")
@blp.response(200, LicenceSchema)
def get_licence(number: str) -> Any:
    """One licence, for its issuer or the operator."""
    record = licences.get_record(hub_state(), number)
    if _issuer_scope() not in (None, record["issuer"]):
        raise Forbidden(f"Only {record['issuer']!r} may read licence {record['number']}.")
    access.log_reads(hub_state(), [record], reader())
    return _with_links(record)


@blp.route("/<number>/status", methods=["POST"])
@blp.requires("agency", "operator")
@blp.arguments(StatusChangeSchema)
@blp.response(200, LicenceSchema)
def change_status(data: dict[str, Any], number: str) -> Any:
    """Suspend, reinstate or revoke a licence, with a reason (audited; revoked is final)."""
    return _with_links(licences.change_status(hub_state(), context(), _issuer_scope(), number, data))


@blp.route("/<number>/amendments", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()
@blp.arguments(AmendmentSchema)
@blp.response(201, LicenceSchema)
def amend(data: dict[str, Any], number: str) -> Any:
    """A new version with changed fields, under the same number; the old version is superseded."""
    return _new_version(versions.amend(hub_state(), context(), g.principal.agency, number, data))


@blp.route("/<number>/renewals", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()
@blp.arguments(RenewalSchema)
@blp.response(201, LicenceSchema)
def renew(data: dict[str, Any], number: str) -> Any:
    """A new version with a new validity period; the old version is superseded."""
    return _new_version(versions.renew(hub_state(), context(), g.principal.agency, number, data))


@blp.route("/<number>/reissues", methods=["POST"])
@blp.requires("agency")
@blp.idempotent()
@blp.arguments(ReissueSchema)
@blp.response(201, LicenceSchema)
def reissue(data: dict[str, Any], number: str) -> Any:
    """A new copy of a lost or damaged licence, same content; the old copy is void."""
    return _new_version(versions.reissue(hub_state(), context(), g.principal.agency, number, data))


def _new_version(record: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    return _with_links(record), 201, {"Location": url_for("licences.get_licence", number=record["number"])}


@blp.route("/<number>/history", methods=["GET"])
@blp.requires("agency", "operator")
@blp.response(200, HistorySchema)
def get_history(number: str) -> Any:
    """Every status change of a licence, oldest first."""
    return {"items": licences.history(hub_state(), _issuer_scope(), number)}


@blp.route("/<number>/pdf", methods=["GET"])
@blp.requires("agency", "operator", "portal")
@blp.arguments(HolderArgsSchema, location="query")
@blp.response(200, description="The sealed PDF (application/pdf)")
def get_pdf(args: dict[str, Any], number: str) -> Response:
    """The sealed PDF as issued: for its issuer, the operator, or a portal naming the holder it acts for
    (``holder_id_type`` and ``holder_id``)."""
    return _licence_file(args, number, access.pdf_for_reader, "application/pdf", "inline", "pdf", "sha256")


@blp.route("/<number>/ofd", methods=["GET"])
@blp.requires("agency", "operator", "portal")
@blp.arguments(HolderArgsSchema, location="query")
@blp.response(200, description="The sealed OFD (application/ofd), when the licence's type issues one")
def get_ofd(args: dict[str, Any], number: str) -> Response:
    """The licence as OFD (GB/T 33190) sealed with its issuer's SM2 electronic seal (GB/T 38540), for whom
    the PDF is: its issuer, the operator, or a portal naming the holder it acts for."""
    return _licence_file(args, number, access.ofd_for_reader, "application/ofd", "attachment", "ofd", "ofd_sha256")


def _licence_file(
    args: dict[str, Any], number: str, read: Any, mimetype: str, disposition: str, suffix: str, digest: str
) -> Response:
    """A licence's file for whom ``read`` allows it, the handing over in the holder's access log."""
    record, content = read(hub_state(), number, g.principal.agency, g.principal.roles, named_holder(args))
    access.log_reads(hub_state(), [record], reader())
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{record["number"]}.{suffix}"'
    response.headers["ETag"] = f'"{record[digest]}"'
    return response
