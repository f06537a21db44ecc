"""The ``rest`` kind against real stand-in agency services on 127.0.0.1: every outcome, the allowlist, redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from agency_stub import RECORD, AgencyStub, FakeDns

from connectors.api import ConfigError, ConnectorError, ConnectorSpec, Environment, NotHeld, Record, Subject
from connectors.rest import KIND, RestConnector, RestKind

LOCAL = Environment(allowed_networks=("127.0.0.1/32",), max_response_bytes=100_000)
SUBJECT = Subject("resident-id", "440101199001020017")
SECRET = "s3cret-api-key-do-not-leak"


@pytest.fixture
def stub() -> Iterator[AgencyStub]:
    server = AgencyStub().start()
    yield server
    server.stop()


@pytest.fixture
def other_stub() -> Iterator[AgencyStub]:
    server = AgencyStub().start()
    yield server
    server.stop()


@pytest.fixture
def connect(stub: AgencyStub) -> Iterator:
    """Build a validated rest connector on the stub; every one is closed after the test."""
    built: list[RestConnector] = []

    def make(kind: RestKind = KIND, environment: Environment = LOCAL, **config) -> RestConnector:
        config = {"url": stub.template(), "headers": {"X-Api-Key": SECRET}, **config}
        normalised = kind.validate_config(config, environment)
        spec = ConnectorSpec("conn-1", "market", "rest", ("identity",), normalised, 2000)
        connector = kind.build(spec, environment)
        built.append(connector)
        return connector

    yield make
    for connector in built:
        connector.close()


def fails(connector: RestConnector, behaviour: str, timeout_s: float = 2.0) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        connector.fetch(behaviour, SUBJECT, timeout_s)
    assert SECRET not in caught.value.detail and SUBJECT.id not in caught.value.detail
    assert SECRET not in str(caught.value)
    return caught.value


# -- outcomes
def test_json_object_is_a_record_and_credentials_and_ids_travel(stub, connect) -> None:
    record = connect().fetch("ok", Subject("resident-id", "44/01 ?x"), 2.0)
    assert isinstance(record, Record)
    assert record.fields == {**RECORD, "subject": "44%2F01%20%3Fx"}
    sent = stub.requests[-1]
    assert sent["path"] == "/ok/resident-id/44%2F01%20%3Fx"  # quoted with safe="": no path injection
    assert sent["headers"]["X-Api-Key"] == SECRET
    assert sent["headers"]["Host"] == f"127.0.0.1:{stub.port}"


def test_field_map_renames_and_drops_unmapped_fields(connect) -> None:
    record = connect(field_map={"full_name": "name", "born": "birth_date", "absent": "x"}).fetch("ok", SUBJECT, 2)
    assert record == Record(fields={"name": "Li Wei", "birth_date": "1990-01-02"})


def test_404_is_not_held(connect) -> None:
    assert isinstance(connect().fetch("missing", SUBJECT, 2.0), NotHeld)


@pytest.mark.parametrize("behaviour", ["boom", "unavailable"])
def test_5xx_is_retryable(connect, behaviour) -> None:
    error = fails(connect(), behaviour)
    assert error.retryable and "answered 5" in error.detail


def test_other_4xx_is_not_retryable(connect) -> None:
    error = fails(connect(), "forbidden")
    assert not error.retryable and "403" in error.detail


@pytest.mark.parametrize("behaviour", ["bad-json", "html"])
def test_a_body_that_is_not_json_is_refused(connect, behaviour) -> None:
    error = fails(connect(), behaviour)
    assert not error.retryable and "not JSON" in error.detail


def test_json_that_is_not_an_object_is_refused(connect) -> None:
    error = fails(connect(), "list")
    assert not error.retryable and "list" in error.detail


@pytest.mark.parametrize("behaviour", ["huge", "huge-undeclared", "gzip-bomb"])
def test_a_body_over_max_bytes_is_refused(connect, behaviour) -> None:
    error = fails(connect(max_bytes=50_000), behaviour)
    assert not error.retryable and "50000 bytes" in error.detail


def test_a_hanging_agency_times_out_within_the_timeout(connect) -> None:
    started = time.monotonic()
    error = fails(connect(), "hang", timeout_s=0.5)
    assert error.retryable and "timed out" in error.detail
    assert time.monotonic() - started < 0.5 + 1


def test_a_trickling_body_is_cut_at_the_deadline(connect) -> None:
    # One byte every 50 ms never trips a per-read timeout; only the wall-clock cap stops it.
    started = time.monotonic()
    error = fails(connect(), "trickle", timeout_s=0.6)
    assert error.retryable and "too long" in error.detail
    assert time.monotonic() - started < 0.6 + 1


def test_a_closed_port_is_a_retryable_connection_failure(stub, connect) -> None:
    connector = connect()
    stub.stop()
    error = fails(connector, "ok")
    assert error.retryable and "could not be reached" in error.detail


# -- redirects
def test_redirect_on_the_same_host_is_followed(stub, connect) -> None:
    record = connect().fetch("redirect-same", SUBJECT, 2.0)
    assert isinstance(record, Record) and record.fields["full_name"] == "Li Wei"
    assert [r["path"].split("/")[1] for r in stub.requests] == ["redirect-same", "ok"]


def test_redirect_to_another_port_is_refused(stub, other_stub, connect) -> None:
    stub.other_url = other_stub.url
    error = fails(connect(), "redirect-other")
    assert not error.retryable and "redirected off" in error.detail
    assert other_stub.requests == []


def test_redirect_to_another_host_name_is_refused(stub, connect) -> None:
    stub.other_url = f"http://localhost:{stub.port}"
    error = fails(connect(), "redirect-other")
    assert not error.retryable and len(stub.requests) == 1


def test_redirects_stop_after_three(stub, connect) -> None:
    error = fails(connect(), "redirect-loop")
    assert not error.retryable and "more than 3" in error.detail
    assert len(stub.requests) == 4


# -- probe
def test_probe_counts_any_answer_below_500_as_up(stub, connect) -> None:
    health = connect().probe(2.0)  # "/" answers 400 on the stub
    assert health.ok and health.latency_ms >= 0
    assert stub.requests[-1]["path"] == "/"
    assert not connect(probe_url=stub.url + "/boom").probe(2.0).ok


def test_probe_of_a_dead_agency_is_down(stub, connect) -> None:
    connector = connect()
    stub.stop()
    health = connector.probe(1.0)
    assert not health.ok and SECRET not in health.detail


# -- configuration and the allowlist
def test_validate_config_normalises(stub) -> None:
    config = KIND.validate_config({"url": stub.template()}, LOCAL)
    assert config == {
        "url": stub.template(),
        "headers": {},
        "field_map": {},
        "max_bytes": LOCAL.max_response_bytes,
        "probe_url": stub.url + "/",
    }


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"url": "ftp://127.0.0.1/{subject_id}"}, "url"),
        ({"url": "http://user:pw@127.0.0.1/{subject_id}"}, "url"),
        ({"url": "http://127.0.0.1/{subject}"}, "url"),
        ({"url": "http://127.0.0.1/{subject_id!r}"}, "url"),
        ({"url": "http://{subject_id}.example/"}, "url"),
        ({"url": "http://127.0.0.1:99999/"}, "url"),
        ({"url": "http://127.0.0.1/", "max_bytes": 100_001}, "max_bytes"),
        ({"url": "http://127.0.0.1/", "max_bytes": 0}, "max_bytes"),
        ({"url": "http://127.0.0.1/", "headers": {"X-Key": 5}}, "headers"),
        ({"url": "http://127.0.0.1/", "headers": {"X-Key": "a\r\nEvil: 1"}}, "headers"),
        ({"url": "http://127.0.0.1/", "headers": {"Host": "intranet"}}, "headers"),
        ({"url": "http://127.0.0.1/", "field_map": ["a"]}, "field_map"),
        ({"url": "http://127.0.0.1/", "probe_url": "http://127.0.0.1:81/"}, "probe_url"),
        ({"url": "http://127.0.0.1/", "retries": 3}, "retries"),
    ],
)
def test_malformed_configurations_are_refused(config, key) -> None:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config(config, LOCAL)
    assert key in caught.value.errors


def test_the_connection_goes_to_the_checked_address_with_the_registered_host_name(stub, connect) -> None:
    # "agency.test" exists only in the fake DNS: the request can only succeed if it is pinned to that answer.
    kind = RestKind(resolver=FakeDns("127.0.0.1"))
    connector = connect(kind=kind, url=f"http://agency.test:{stub.port}/{{evidence_type}}/x/{{subject_id}}")
    assert isinstance(connector.fetch("ok", SUBJECT, 2.0), Record)
    assert stub.requests[-1]["headers"]["Host"] == f"agency.test:{stub.port}"


def test_the_allowlist_is_checked_again_at_fetch_time(stub, connect) -> None:
    dns = FakeDns("127.0.0.1")
    connector = connect(kind=RestKind(resolver=dns), url=f"http://agency.test:{stub.port}/{{evidence_type}}/x/y")
    dns.addresses = ["10.20.30.40"]  # rebinding after registration
    error = fails(connector, "ok")
    assert not error.retryable and "10.20.30.40" in error.detail and "agency.test" in error.detail
    assert not connector.probe(1.0).ok
    dns.addresses = []  # DNS outage: may pass, so retryable
    assert fails(connector, "ok").retryable
    assert stub.requests == []


def test_one_connector_serves_concurrent_fetches(connect) -> None:
    connector = connect()
    results: list[object] = []

    def fetch(number: int) -> None:
        results.append(connector.fetch("ok", Subject("resident-id", str(number)), 5.0))

    threads = [threading.Thread(target=fetch, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(r.fields["subject"] for r in results) == [str(n) for n in range(8)]


def test_proxy_settings_in_the_environment_are_ignored(monkeypatch, connect) -> None:
    # A proxy would make the connection somewhere the allowlist never judged.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    assert isinstance(connect().fetch("ok", SUBJECT, 2.0), Record)


def test_https_urls_are_accepted_and_keep_their_origin_for_the_probe() -> None:
    kind = RestKind(resolver=FakeDns("127.0.0.1"))
    config = kind.validate_config({"url": "https://agency.test:8443/v1/{evidence_type}?id={subject_id}"}, LOCAL)
    assert config["probe_url"] == "https://agency.test:8443/"


def test_connections_are_pooled_per_connector(stub, connect) -> None:
    connector = connect()
    for _ in range(3):
        connector.fetch("ok", SUBJECT, 2.0)
    connector.fetch("missing", SUBJECT, 2.0)
    connector.fetch("ok", SUBJECT, 2.0)
    assert len({r["client"] for r in stub.requests}) <= 2  # read answers hand their connection back


def test_a_read_asks_for_its_fields_only_and_gets_no_others(stub, connect):
    connector = connect(url=stub.url + "/ok/{id_type}/{subject_id}?fields={fields}")
    record = connector.fetch("identity", SUBJECT, 2.0, frozenset({"full_name", "born"}))
    assert stub.requests[-1]["path"].endswith("?fields=born,full_name")  # the agency is told what is wanted
    assert record == Record(fields={"full_name": "Li Wei", "born": "1990-01-02"})  # and nothing else is kept
    unbounded = connect(url=stub.url + "/ok/{id_type}/{subject_id}")
    assert set(unbounded.fetch("identity", SUBJECT, 2.0, frozenset({"born"})).fields) == {"born"}
