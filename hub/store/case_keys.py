"""The Redis keys of cases: applications, their queues and clocks, discrepancies (Art. 9) and archives (Art. 13).

Each lives in its lead agency's partition (``app:<agency>``), or for a discrepancy in the data owner's
(``disc:<agency>``), so a case's changes commit in one transaction of one Redis Cluster slot. The key
scheme itself (:func:`hub.store.keys.key`) and the families sealed at rest are in :mod:`hub.store.keys`.
"""

from __future__ import annotations

from hub.store.keys import key


# -- intake: one partition per lead agency holds its applications, their due dates and its audit chain
def application_partition(agency: str) -> str:
    return "app:" + agency


def application(agency: str, application_id: str) -> str:
    return key(application_partition(agency), "application", application_id)


APPLICATION_ID_PREFIX = "app"
APPLICATION_TOKEN_LENGTH = 20


def application_id(agency: str, token: str) -> str:
    """An application id that names its lead agency's partition: ``app.<agency>.<random>``."""
    return f"{APPLICATION_ID_PREFIX}.{agency}.{token}"


def application_agency(application_id: str) -> str | None:
    """The lead agency an application id names, or None for anything that is not an application id."""
    prefix, _, rest = application_id.partition(".")
    agency, _, token = rest.rpartition(".")
    if prefix != APPLICATION_ID_PREFIX or not agency or len(token) != APPLICATION_TOKEN_LENGTH:
        return None
    return agency


def application_due(agency: str) -> str:
    """Sorted set of the agency's running cases, scored by deadline (days since 1970-01-01)."""
    return key(application_partition(agency), "due")


def application_received(agency: str) -> str:
    """Sorted set of every case the lead agency received, scored by when it was filed (epoch ms, the hub's clock)."""
    return key(application_partition(agency), "received")


def application_decided(agency: str) -> str:
    """Sorted set of the lead agency's decided cases, scored by when the decision was made (epoch ms)."""
    return key(application_partition(agency), "decided")


def application_outcomes(agency: str, service_item: str) -> str:
    """Sorted set of the concluded applications of one item, scored by decision time (epoch ms)."""
    return key(application_partition(agency), "outcomes", service_item)


def application_inbox(agency: str) -> str:
    """Sorted set of the lead agency's submitted cases awaiting acceptance, scored by the acceptance clock's
    deadline (days since 1970-01-01)."""
    return key(application_partition(agency), "inbox")


def application_waiting(agency: str) -> str:
    """Sorted set of the lead agency's cases waiting for the applicant's materials, scored by the day the
    applicant's time to supply them ends."""
    return key(application_partition(agency), "waiting")


def application_suspended(agency: str) -> str:
    """Sorted set of the lead agency's suspended cases, scored by the last day of the suspension."""
    return key(application_partition(agency), "suspended")


def application_unavailable(agency: str) -> str:
    """Lexicographic index of the lead agency's open cases with a material whose source failed: the sweep
    fetches those again."""
    return key(application_partition(agency), "unavailable")


def decision_document(agency: str, reference: str) -> str:
    """A sealed decision document's public record (what a verifier is told), under its issuing agency."""
    return key(application_partition(agency), "decision-document", reference)


def application_documents_owed(agency: str) -> str:
    """Lexicographic index of the lead agency's cases owed a decision document not yet written."""
    return key(application_partition(agency), "documents-owed")


def application_tasks(lead: str, co_agency: str) -> str:
    """Sorted set of the open co-agency tasks of ``co_agency`` in cases ``lead`` leads, scored by each task's
    deadline; kept in the lead's partition so it changes with the case."""
    return key(application_partition(lead), "tasks-of", co_agency)


def task_leads(co_agency: str) -> str:
    """Lexicographic index of the lead agencies whose cases ever gave ``co_agency`` a task."""
    return key(application_partition(co_agency), "task-leads")


def deadline_alerts(agency: str) -> str:
    """Hash of the lead agency's raised deadline alerts: case id -> {level, deadline, raised_at} (JSON)."""
    return key(application_partition(agency), "deadline-alerts")


# -- discrepancies (Art. 9): one partition per providing agency, with its own audit chain
def discrepancy_partition(agency: str) -> str:
    return "disc:" + agency


def discrepancy(agency: str, discrepancy_id: str) -> str:
    return key(discrepancy_partition(agency), "discrepancy", discrepancy_id)


def discrepancy_open(agency: str) -> str:
    """The agency's open discrepancies (lexicographic index)."""
    return key(discrepancy_partition(agency), "open")


# -- archives (Art. 13): each concluded case's package record lives in its lead agency's partition,
# beside the application, so filing it is one transaction; every agency involved indexes it.
def archive(agency: str, application_id: str) -> str:
    """The catalogue entry of one case's archive package (in the lead agency's partition)."""
    return key(application_partition(agency), "archive", application_id)


def archives_of(agency: str) -> str:
    """Sorted set of the archived cases an agency led or took part in, scored by filing time (epoch ms)."""
    return key(application_partition(agency), "archives")


def archives_by_item(agency: str, service_item: str) -> str:
    """The lead agency's archived cases of one service item, scored by filing time (epoch ms)."""
    return key(application_partition(agency), "archives-of-item", service_item)


def archives_by_subject(agency: str, subject_hash: str) -> str:
    """The lead agency's archived cases of one applicant, scored by filing time (epoch ms)."""
    return key(application_partition(agency), "archives-of-subject", subject_hash)


def archives_by_retention(agency: str) -> str:
    """The lead agency's archives kept for a period, scored by the day it ends (days since 1970-01-01)."""
    return key(application_partition(agency), "archives-retention")


def archives_pending(agency: str) -> str:
    """The lead agency's concluded cases whose package is not filed yet, scored by conclusion (epoch ms)."""
    return key(application_partition(agency), "archives-pending")


def application_audit(agency: str, application_id: str) -> str:
    """List of the audit entries about one case, copied as they were chained: the case's audit extract."""
    return key(application_partition(agency), "application-audit", application_id)
