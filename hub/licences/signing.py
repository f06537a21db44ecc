"""The signing service for agencies: seal any PDF at PAdES B-LT, or sign JSON evidence as JWS."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from certs import jws
from certs.pades import NotAPdf, SealRequest, seal_pdf
from hub.audit import log as audit
from hub.context import Context, now
from hub.errors import Invalid
from hub.registry import agencies
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState

STAMP_BOX = (36.0, 36.0, 256.0, 96.0)  # bottom left of page 1, in points


def seal_as(state: HubState, ctx: Context, agency: dict[str, Any], pdf: bytes, request: SealRequest) -> bytes:
    """``pdf`` sealed with ``agency``'s seal at PAdES B-LT as ``request`` says (NotAPdf if it cannot be)."""
    material = state.seals.sealing_material(agency, ctx)
    return seal_pdf(pdf, material.signer, material.timestamper, material.trust, request)


def seal_document(state: HubState, ctx: Context, agency_code: str, pdf: bytes, visible: bool) -> bytes:
    """``pdf`` sealed by the agency, earlier signatures kept (incremental update)."""
    agency = agencies.get_agency(state.store, agency_code)
    moment = state.local_time(now()).strftime("%Y-%m-%d %H:%M %Z")
    request = SealRequest(
        field_name="AgencySeal",
        box=STAMP_BOX if visible else None,
        stamp_text=f"{agency['name']}\n电子印章 Electronic seal\n{moment}" if visible else None,
        font_path=str(state.settings.licence_font),
        reason="电子印章 Electronic seal",
        location=agency["name"],
    )
    try:
        sealed = seal_as(state, ctx, agency, pdf, request)
    except NotAPdf as error:
        raise Invalid(str(error), errors={"file": ["Not a PDF that can be sealed."]}) from None
    _audit(state, ctx, "signature.pdf", hashlib.sha256(sealed).hexdigest(), agency_code)
    return sealed


def sign_json(state: HubState, ctx: Context, agency_code: str, payload: dict[str, Any]) -> str:
    """A compact JWS (ES256) by the agency's seal over ``payload``, chain in ``x5c``."""
    agency = agencies.get_agency(state.store, agency_code)
    key, chain = state.seals.agency_jws_key(agency, ctx)
    token = jws.sign_compact(payload, key, chain, {"typ": "JOSE"})
    _audit(state, ctx, "signature.jws", hashlib.sha256(token.encode()).hexdigest(), agency_code)
    return token


def _audit(state: HubState, ctx: Context, action: str, digest: str, agency_code: str) -> None:
    partition = keys.event_partition(digest)
    detail = {"sha256": digest, "agency": agency_code}
    state.store.atomic(lambda tx: audit.append(tx, partition, ctx, action, f"document:{digest[:16]}", detail))
