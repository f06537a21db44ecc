"""Who may have a licence's sealed PDF: the one rule the API and the applicant pages both apply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.api import Subject
from hub.errors import Forbidden
from hub.licences import register

if TYPE_CHECKING:
    from hub.state import HubState


def pdf_for_reader(
    state: HubState, number: str, agency: str | None, roles: frozenset[str], holder: Subject | None
) -> tuple[dict[str, Any], bytes]:
    """A licence's record and sealed PDF, for its issuer, the operator (no agency), or a portal acting for
    ``holder``; Forbidden for anyone else (another agency naming the holder too: it did not issue it)."""
    record = register.get_record(state, number)
    issuer_or_operator = bool(roles & {"agency", "operator"}) and agency in (None, record["issuer"])
    for_holder = "portal" in roles and holder is not None and register.held_by(state, record, holder.id_type, holder.id)
    if not issuer_or_operator and not for_holder:
        raise Forbidden(f"Licence {record['number']} is for its issuer, or a portal acting for its holder.")
    return record, register.pdf(state, number)
