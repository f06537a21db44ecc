"""The public face of the PKI: trust anchors, CA certificates, CRLs, the OCSP responder and the TSA;
and the operator's seal management."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from certs.authority import RevocationReason
from certs.sm2_tsa import asks_for_sm3
from hub.errors import NotFound
from hub.http import hooks as http
from hub.http.blueprint import HubBlueprint, context
from hub.http.current import hub_state
from hub.licences.pki import Pki
from hub.licences.schemas import (
    RevocationRequestSchema,
    RevocationSchema,
    SealHistorySchema,
    SealRenewalSchema,
    SealSchema,
)
from hub.licences.sm2_pki import Sm2Pki
from hub.registry import agencies

blp = HubBlueprint("pki", __name__, url_prefix="/api/v1/pki", description="Trust anchors, CRLs, OCSP, TSA, seals")

OCSP_REQUEST = "application/ocsp-request"
TIMESTAMP_QUERY = "application/timestamp-query"


def _binary(content: bytes, mimetype: str, max_age: int) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@blp.route("/roots", methods=["GET"])
@blp.response(200, description="PEM bundle (application/x-pem-file)")
def roots() -> Response:
    """Public: the trust anchors the hub's seals and timestamps chain to."""
    return _binary(hub_state().pki.roots_pem().encode(), "application/x-pem-file", 3600)


@blp.route("/ca/<name>.crt", methods=["GET"])
@blp.response(200, description="DER certificate (application/pkix-cert)")
def ca_certificate(name: str) -> Response:
    """Public: a CA certificate (``root``, ``issuing``, ``sm2-root`` or ``sm2-issuing``), as named in AIA caIssuers."""
    return _binary(_authority_of(name).ca_certificate(name), "application/pkix-cert", 3600)


@blp.route("/crl/<name>.crl", methods=["GET"])
@blp.response(200, description="DER CRL (application/pkix-crl)")
def crl(name: str) -> Response:
    """Public: the current CRL of the ``root``, ``issuing``, ``sm2-root`` or ``sm2-issuing`` CA."""
    return _binary(_authority_of(name).crl(name), "application/pkix-crl", 300)


def _authority_of(name: str) -> Pki | Sm2Pki:
    """The P-256 authorities, or the SM2 ones for an ``sm2-`` name."""
    state = hub_state()
    return state.sm2_pki if name.startswith("sm2-") else state.pki


def _der_body(media_type: str, what: str) -> dict:
    return {
        "required": True,
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        "description": what,
    }


@blp.route("/ocsp", methods=["POST"])
@blp.doc(requestBody=_der_body(OCSP_REQUEST, "a DER OCSPRequest"))
@blp.response(200, description="DER OCSP response (application/ocsp-response)")
@http.accepts(OCSP_REQUEST)
def ocsp_post() -> Response:
    """Public: OCSP (RFC 6960) for certificates of the issuing CA."""
    return _binary(hub_state().pki.ocsp_response(request.get_data()), "application/ocsp-response", 0)


@blp.route("/tsa", methods=["POST"])
@blp.doc(requestBody=_der_body(TIMESTAMP_QUERY, "a DER TimeStampReq"))
@blp.response(200, description="DER TimeStampResp (application/timestamp-reply)")
@http.accepts(TIMESTAMP_QUERY)
def time_stamp() -> Response:
    """Public: the hub's RFC 3161 time-stamping authority; a request over an SM3 digest is answered by its SM2
    TSA, with SM2 over SM3, any other by the P-256 one."""
    state, query = hub_state(), request.get_data()
    answer = (
        state.sm2_pki.respond_der(query) if asks_for_sm3(query) else state.pki.time_stamp_authority().respond_der(query)
    )
    return _binary(answer, "application/timestamp-reply", 0)


@blp.route("/seals/<agency>", methods=["GET"])
@blp.response(200, SealSchema)
def get_seal(agency: str) -> Any:
    """Public: an agency's current seal certificate and its state."""
    seal = hub_state().seals.seal(agency)
    if seal is None:
        raise NotFound(f"agency {agency!r} has no seal")
    return seal.record()


@blp.route("/seals/<agency>/history", methods=["GET"])
@blp.response(200, SealHistorySchema)
def get_seal_history(agency: str) -> Any:
    """Public: every seal the agency has had, oldest first."""
    return {"items": hub_state().seals.seal_history(agency)}


@blp.route("/seals/<agency>/renewal", methods=["POST"])
@blp.requires("operator")
@blp.arguments(SealRenewalSchema)
@blp.response(201, SealSchema)
def renew_seal(_: dict[str, Any], agency: str) -> Any:
    """A new key and certificate for the agency's seal; what the old one sealed stays valid."""
    state = hub_state()
    return state.seals.renew_seal(agencies.get_agency(state.store, agency), context()).record(), 201


@blp.route("/seals/<agency>/revocation", methods=["POST"])
@blp.requires("operator")
@blp.arguments(RevocationRequestSchema)
@blp.response(200, RevocationSchema)
def revoke_seal(data: dict[str, Any], agency: str) -> Any:
    """Revoke the agency's seal (key compromise, say); documents it sealed earlier stay valid as of their
    timestamp, and the next sealing makes a new seal."""
    return hub_state().seals.revoke_seal(agency, RevocationReason(data["reason"]), context(), data.get("since"))


@blp.route("/seals/<agency>/sm2", methods=["GET"])
@blp.response(200, SealSchema)
def get_sm2_seal(agency: str) -> Any:
    """Public: an agency's current SM2 seal certificate (GM/T 0015), which seals its OFD licences, and its state."""
    seal = hub_state().sm2_seals.seal(agency)
    if seal is None:
        raise NotFound(f"agency {agency!r} has no SM2 seal")
    return seal


@blp.route("/seals/<agency>/sm2/renewal", methods=["POST"])
@blp.requires("operator")
@blp.arguments(SealRenewalSchema)
@blp.response(201, SealSchema)
def renew_sm2_seal(_: dict[str, Any], agency: str) -> Any:
    """A new SM2 key, seal certificate and electronic seal (GB/T 38540) for the agency; what the old one sealed
    stays valid."""
    state = hub_state()
    return state.sm2_seals.renew(agencies.get_agency(state.store, agency), context()), 201


@blp.route("/seals/<agency>/sm2/revocation", methods=["POST"])
@blp.requires("operator")
@blp.arguments(RevocationRequestSchema)
@blp.response(200, RevocationSchema)
def revoke_sm2_seal(data: dict[str, Any], agency: str) -> Any:
    """Revoke the agency's SM2 seal on the SM2 issuing CA's CRL; OFDs it sealed earlier stay valid as of their
    timestamps, and the next OFD makes a new seal."""
    return hub_state().sm2_seals.revoke(agency, RevocationReason(data["reason"]), context(), data.get("since"))
