"""The ``csv`` and ``licences`` kinds, reading through plain callables standing in for the hub's lookups."""

from __future__ import annotations

import pytest

from connectors.api import ConfigError, ConnectorError, ConnectorSpec, Environment, NotHeld, Record, Subject
from connectors.csv import KIND as CSV
from connectors.licences import KIND as LICENCES

SUBJECT = Subject("credit-code", "91440101MA59ABCD1D")


def spec(kind: str, config: dict) -> ConnectorSpec:
    return ConnectorSpec("dataset-7", "market", kind, ("biz-registration",), config, 500)


def test_csv_config_defaults_the_key_column_and_refuses_the_rest() -> None:
    assert CSV.validate_config({}, Environment()) == {"key_column": "subject_id"}
    assert CSV.validate_config({"key_column": "credit_code"}, Environment()) == {"key_column": "credit_code"}
    for bad in ({"key_column": ""}, {"key_column": 3}, {"url": "http://x/"}):
        with pytest.raises(ConfigError):
            CSV.validate_config(bad, Environment())


def test_csv_reads_the_connectors_own_dataset() -> None:
    calls = []
    rows = {SUBJECT.id: {"credit_code": SUBJECT.id, "name": "Pearl River Tea Co."}}

    def dataset_lookup(connector_id: str, evidence_type: str, subject: Subject):
        calls.append((connector_id, evidence_type, subject))
        return rows.get(subject.id)

    environment = Environment(dataset_lookup=dataset_lookup)
    connector = CSV.build(spec("csv", {"key_column": "credit_code"}), environment)
    assert connector.fetch("biz-registration", SUBJECT, 1.0) == Record(fields=rows[SUBJECT.id])
    assert calls == [("dataset-7", "biz-registration", SUBJECT)]
    assert isinstance(connector.fetch("biz-registration", Subject("credit-code", "other"), 1.0), NotHeld)
    assert connector.probe(1.0).ok


def test_csv_never_passes_on_another_subjects_row() -> None:
    environment = Environment(dataset_lookup=lambda *_: {"subject_id": "someone-else", "name": "X"})
    connector = CSV.build(spec("csv", {}), environment)
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("biz-registration", SUBJECT, 1.0)
    assert not caught.value.retryable


def test_a_failing_lookup_is_a_retryable_failure() -> None:
    def broken(*_):
        raise ConnectionError("storage down")

    connector = CSV.build(spec("csv", {}), Environment(dataset_lookup=broken))
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("biz-registration", SUBJECT, 1.0)
    assert caught.value.retryable and "ConnectionError" in caught.value.detail


@pytest.mark.parametrize(("kind", "config"), [(CSV, {}), (LICENCES, {})])
def test_a_missing_lookup_is_a_connector_error(kind, config) -> None:
    connector = kind.build(spec(kind.name, config), Environment())
    with pytest.raises(ConnectorError) as caught:
        connector.fetch("biz-registration", SUBJECT, 1.0)
    assert not caught.value.retryable and "no lookup" in caught.value.detail
    assert not connector.probe(1.0).ok


def test_licences_takes_no_configuration() -> None:
    assert LICENCES.validate_config({}, Environment()) == {}
    with pytest.raises(ConfigError) as caught:
        LICENCES.validate_config({"url": "http://x/"}, Environment())
    assert "url" in caught.value.errors


def test_licences_reads_the_licence_registry() -> None:
    held = {("biz-licence", SUBJECT): {"licence_number": "GD-2026-000123", "holder": "Pearl River Tea Co."}}
    environment = Environment(licence_lookup=lambda evidence_type, subject: held.get((evidence_type, subject)))
    connector = LICENCES.build(spec("licences", {}), environment)
    assert connector.fetch("biz-licence", SUBJECT, 1.0) == Record(fields=held[("biz-licence", SUBJECT)])
    assert isinstance(connector.fetch("food-licence", SUBJECT, 1.0), NotHeld)
