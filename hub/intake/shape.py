"""What a case must be when it is filed, checked before anything is fetched or stored: an item one can apply
for (an implementation item, not an entry of the provincial catalogue), and, when the item issues a
licence, a form that carries every field that licence needs, in the form the licence type declares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.errors import Invalid
from hub.registry import service_items, types
from hub.store import keys

if TYPE_CHECKING:
    from hub.state import HubState


THIRD_PARTY = "third-party:"


class CatalogueEntry(Invalid):
    """A catalogue entry lists what the province offers; applicants apply for the items that implement it."""

    slug, title = "catalogue-entry", "Apply for an implementing item"


def check_channel(state: HubState, channel: str) -> None:
    """Invalid unless a ``third-party:<code>`` channel names a registered third-party platform (Art. 2)."""
    if not channel.startswith(THIRD_PARTY):
        return
    platform = state.store.get_json(keys.agency(channel.removeprefix(THIRD_PARTY)))
    if platform is None or platform.get("kind") != "third-party-platform":
        raise Invalid(
            f"{channel!r} names no registered third-party platform.",
            errors={"channel": ["Register the platform as an agency of kind third-party-platform first."]},
        )


def check(state: HubState, item: dict[str, Any], form: dict[str, Any]) -> None:
    """Invalid, naming what to do instead, unless ``item`` can be applied for with ``form``."""
    if item.get("entry_type") == "catalogue":
        codes = service_items.implementations_of(state.store, item["code"])
        raise CatalogueEntry(
            f"{item['name']} is an entry of the provincial catalogue, not an item one applies for; apply for "
            + (f"one that implements it: {', '.join(codes)}." if codes else "an item that implements it (none yet)."),
            errors={"service_item": ["A catalogue entry; choose an implementing item."]},
            implementations=codes,
        )
    licence_type = state.store.get_json(keys.licence_type(item["produces"])) if item.get("produces") else None
    if licence_type is None:
        return
    declared = licence_type["fields"]
    try:
        types.check_values(declared, {name: value for name, value in form.items() if name in declared})
    except Invalid as problem:
        errors = {"form." + name.removeprefix("fields."): why for name, why in (problem.errors or {}).items()}
        raise Invalid(
            f"The form lacks what the {licence_type['name']} needs: {', '.join(sorted(errors))}.", errors=errors
        ) from None
