"""Plain words for the pages that show cases (the applicant's and the caseworker's): statuses, events and actors,
a refusal as a sentence, and agencies by name."""

from __future__ import annotations

from typing import Any

from hub.errors import Conflict, Forbidden, HubError, Invalid, NotFound
from hub.http.current import hub_state
from hub.intake.applications import NotOnline
from hub.registry import agencies
from hub.web.i18n import current_language, translator
from hub.web.verify import Wording


class Words(Wording):
    """Plain words for the applicant pages' codes (statuses, timeline events, actors); unknown codes verbatim."""

    def apply(self, kind: str, value: Any) -> str:
        """The name of a status, event, material status or access outcome."""
        return self._first([f"apply_{kind}_{value}"], value)

    def actor(self, actor: str | None, names: dict[str, str]) -> str:
        """Who did something, as a person reads it: an agency by name, these pages as the applicant."""
        actor = actor or ""
        if actor.startswith("applicant-pages:"):
            return self.apply("actor", "applicant")
        if actor.startswith("agency:"):
            code = actor.removeprefix("agency:").split("/", 1)[0]
            return names.get(code, code)
        return self.apply("actor", actor.split(":", 1)[0].split("/", 1)[0])


def plain_words(error: HubError) -> str:
    """A refusal as a sentence in the visitor's language, with the service's own detail after it."""
    if isinstance(error, NotOnline):
        key = "apply_error_not_online"
    elif isinstance(error, Invalid):
        key = "apply_error_invalid"
    elif isinstance(error, Conflict):
        key = "apply_error_conflict"
    elif isinstance(error, Forbidden):
        key = "apply_error_forbidden"
    elif isinstance(error, NotFound):
        key = "apply_error_not_found"
    else:
        key = "apply_error_other"
    return f"{translator(current_language())(key)} ({error.detail})"


def agency_names(codes: set[str]) -> dict[str, str]:
    """Each agency's name by code; a code the registry no longer knows stands for itself."""
    names = {}
    for code in codes:
        try:
            names[code] = agencies.get_agency(hub_state().store, code)["name"]
        except NotFound:
            names[code] = code
    return names
