"""A case's decision documents (Art. 6, 14): the acceptance notice, the one-time request for materials, the refusal
of the application and the refusal of the licence, each a PDF sealed by the lead agency (PAdES, its licence seal),
in the applicant's language, with the reasons and, for a refusal, the remedies.

The event that calls for a document queues its kind on the case (``pending_documents``) in the event's own
transaction. :func:`issue_pending` then writes each one: rendered (:mod:`certs.notices`), sealed, stored in the
blob store by content, and named in the case's ``documents`` in a transaction of its own. A crash or a seal
outage in between leaves the kind queued; the scheduled sweep issues it, and the case's archive waits for it.
Each document's reference (``<agency>-<year>-<case>-<kind letter><n>``, also its XMP identifier) names a
public record, so anyone handed the PDF can have the hub verify it is the one issued.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from typing import TYPE_CHECKING, Any

from certs.notices import TITLES, NoticeDocument, RenderedNotice, default_remedies, render_notice
from certs.pades import SealRequest
from hub.context import Context, rfc3339
from hub.errors import NotFound
from hub.intake import queues
from hub.intake.applications import audit_case
from hub.intake.cases import agency_of
from hub.licences import signing
from hub.registry import agencies
from hub.store import case_keys
from hub.store.client import Tx

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)
ACCEPTANCE, MATERIALS, REFUSAL, LICENCE_REFUSAL = "acceptance", "materials_request", "refusal", "licence_refusal"
SUFFIX = {ACCEPTANCE: "A", MATERIALS: "M", REFUSAL: "R", LICENCE_REFUSAL: "L"}
WORDS = {
    "zh": {
        ACCEPTANCE: "您于{submitted}提交的《{item}》申请，本机关已于{today}受理，将于{deadline}前作出决定。",
        MATERIALS: "经审查，您的《{item}》申请材料不齐全或者不符合法定形式。请于{until}前一次性补正下列材料：",
        REFUSAL: "经审查，您于{submitted}提交的《{item}》申请，本机关决定不予受理，理由如下：",
        LICENCE_REFUSAL: "经审查，您于{submitted}提交的《{item}》申请，本机关决定不予行政许可，理由如下：",
        "note": "说明：{reason}",
    },
    "en": {
        ACCEPTANCE: "Your application for {item}, submitted on {submitted}, was accepted on {today}; "
        "a decision is due by {deadline}.",
        MATERIALS: "Your application for {item} is incomplete or not in the form the law requires. "
        "Please supply all of the following by {until}:",
        REFUSAL: "Your application for {item}, submitted on {submitted}, is not accepted, for these reasons:",
        LICENCE_REFUSAL: "Your application for {item}, submitted on {submitted}, is refused, for these reasons:",
        "note": "Note: {reason}",
    },
}


def queue_for(record: dict[str, Any], kind: str, event: dict[str, Any]) -> None:
    """Within the event's transaction: the document ``kind`` is owed to the applicant."""
    wanted = {"kind": kind, "reason": event.get("reason")}
    if kind == MATERIALS:
        wanted["materials"] = [m["code"] for m in event.get("materials") or []]
    record.setdefault("pending_documents", []).append(wanted)


def issue_pending(state: HubState, ctx: Context, application_id: str) -> dict[str, Any]:
    """Write every document the case is owed; the case after. A failure leaves the rest owed (the sweep
    tries again) and is logged, never raised: the decision it follows stands."""
    agency = agency_of(application_id)
    record = state.store.get_json(case_keys.application(agency, application_id))
    if record is None:
        raise NotFound(f"No application {application_id!r}.")
    for owed in list(record.get("pending_documents") or []):
        try:
            document = _issue(state, ctx, record, owed, len(record.get("documents") or []) + 1)
        except Exception as error:  # a seal or blob store outage: the sweep issues it later
            log.warning("decision document deferred", extra={"case": application_id, "error": str(error)})
            return record
        record = state.store.atomic(
            lambda tx, document=document: _attach(tx, state, ctx, agency, application_id, document)
        )
    return record


def issue_all_pending(state: HubState, ctx: Context, agency: str) -> int:
    """The scheduled sweep: every document ``agency``'s cases are still owed; how many cases it settled."""
    cases = state.store.index_page(case_keys.application_documents_owed(agency), None, 10_000)
    return sum(not issue_pending(state, ctx, case).get("pending_documents") for case in cases)


def _issue(state: HubState, ctx: Context, record: dict[str, Any], owed: dict[str, Any], number: int) -> dict[str, Any]:
    kind, language = owed["kind"], record.get("language", "zh")
    language = language if language in WORDS else "zh"
    agency = agencies.get_agency(state.store, record["agency"])
    today = state.today()
    reference = reference_for(record, today, f"{SUFFIX[kind]}{number}")
    paragraphs, items = _body(record, owed, language, today)
    refusal = kind in (REFUSAL, LICENCE_REFUSAL)
    remedies = default_remedies(language, agency["name"]) if refusal else None
    rendered = printed(state, record, agency, kind, language, reference, paragraphs, items, remedies)
    title = TITLES[(kind, language)]
    request = SealRequest(box=rendered.seal_box, page=rendered.page, reason=title, location=agency["name"])
    sealed = signing.seal_as(state, ctx, agency, rendered.pdf, request)
    return kept(state, sealed, kind, title, reference, language)


def reference_for(record: dict[str, Any], today: date, suffix: str) -> str:
    """A document's reference: ``<agency>-<year>-<case>-<suffix>``, also its XMP identifier."""
    return f"{record['agency']}-{today.year}-{record['id'].rsplit('.', 1)[-1][:8]}-{suffix}"


def printed(
    state: HubState,
    record: dict[str, Any],
    agency: dict[str, Any],
    kind: str,
    language: str,
    reference: str,
    paragraphs: tuple[str, ...],
    items: tuple[str, ...],
    remedies: str | None = None,
) -> RenderedNotice:
    """A document of the case rendered for its applicant, before it is sealed or signed."""
    return render_notice(
        NoticeDocument(
            kind=kind,
            language=language,
            reference=reference,
            case_id=record["id"],
            service_item=record["service_item_name"],
            applicant_name=record["applicant"]["name"],
            applicant_id_masked=record["applicant"]["id_masked"],
            agency_name=agency["name"],
            agency_region=agency["region"],
            issued_on=state.today(),
            paragraphs=paragraphs,
            items=items,
            remedies=remedies,
            verify_url=f"{state.settings.base_url}/verify",
        ),
        state.settings.licence_font,
    )


def kept(state: HubState, pdf: bytes, kind: str, title: str, reference: str, language: str) -> dict[str, Any]:
    """A finished document stored in the blob store by content; what the case names it by."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    state.store.put_document(sha256, [pdf])
    at = rfc3339(state.clock.now())
    return {"kind": kind, "title": title, "reference": reference, "language": language, "sha256": sha256, "at": at}


def publish_record(tx: Tx, agency: str, document: dict[str, Any]) -> None:
    """The document's public record, what a verifier is told of it (in the case's transaction)."""
    public = {k: document[k] for k in ("kind", "title", "reference", "language", "sha256", "at")}
    tx.set_json(case_keys.decision_document(agency, document["reference"]), public | {"agency": agency})


def _body(
    record: dict[str, Any], owed: dict[str, Any], language: str, today: date
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words, kind, reason = WORDS[language], owed["kind"], owed.get("reason")
    values = {
        "item": record["service_item_name"],
        "submitted": record["created_at"][:10],
        "today": today.isoformat(),
        "deadline": record.get("deadline") or "",
        "until": record.get("materials_deadline") or "",
    }
    paragraphs = [words[kind].format(**values)]
    if kind == MATERIALS:
        names = {m["code"]: m["name"] for m in record["materials"]}
        items = tuple(names.get(code, code) for code in owed.get("materials") or [])
        if reason:
            paragraphs.append(words["note"].format(reason=reason))
        return tuple(paragraphs), items
    if kind in (REFUSAL, LICENCE_REFUSAL):
        return tuple(paragraphs), (reason or "",)
    return tuple(paragraphs), ()


def _attach(
    tx: Tx, state: HubState, ctx: Context, agency: str, application_id: str, document: dict[str, Any]
) -> dict[str, Any]:
    record = tx.get_json(case_keys.application(agency, application_id))
    owed = record.get("pending_documents") or []
    if owed:
        owed.pop(0)
    record["documents"] = [*(record.get("documents") or []), document]
    tx.set_json(case_keys.application(agency, application_id), record)
    public = {k: document[k] for k in ("kind", "title", "reference", "language", "sha256", "at")}
    tx.set_json(case_keys.decision_document(agency, document["reference"]), public | {"agency": agency})
    queues.track(tx, state, agency, record)
    detail = {k: document[k] for k in ("kind", "reference", "sha256")}
    audit_case(tx, agency, ctx, "application.document", application_id, detail)
    return record
