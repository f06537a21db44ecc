"""The outbound allowlist (SSRF guard) as the ``rest`` kind applies it when a connector is registered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agency_stub import AgencyStub, FakeDns

from connectors.api import ConfigError, ConnectorError, ConnectorSpec, Environment, Subject
from connectors.netguard import is_allowed, parse_networks, system_resolver
from connectors.rest import KIND, RestKind

LOCAL = Environment(allowed_networks=("127.0.0.1/32",))


@pytest.fixture
def stub() -> Iterator[AgencyStub]:
    server = AgencyStub().start()
    yield server
    server.stop()


def test_the_stub_on_127_0_0_1_is_allowed_by_a_127_0_0_1_allowlist(stub) -> None:
    assert KIND.validate_config({"url": stub.template()}, LOCAL)["url"] == stub.template()


def test_ipv6_networks_match_ipv6_addresses_only() -> None:
    networks = parse_networks(["::1/128", "10.0.0.0/8"])
    assert is_allowed("::1", networks) and is_allowed("10.1.2.3", networks)
    assert not is_allowed("127.0.0.1", networks) and not is_allowed("fe80::1", networks)


def test_an_empty_allowlist_refuses_everything(stub) -> None:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": stub.template()}, Environment())
    assert "127.0.0.1" in caught.value.detail and "outside the allowed networks" in caught.value.detail


def test_localhost_is_judged_by_the_address_it_resolves_to() -> None:
    addresses = system_resolver("localhost", 80)
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": "http://localhost/"}, Environment(allowed_networks=("192.0.2.0/24",)))
    assert "host localhost resolves to" in caught.value.detail and addresses[0] in caught.value.detail


@pytest.mark.parametrize(
    ("addresses", "allowed"),
    [
        (["::1"], False),  # localhost resolving to ::1 against an IPv4-only allowlist
        (["127.0.0.1", "10.0.0.5"], False),  # every address must be inside, not just one
        (["169.254.169.254"], False),  # the metadata service
        (["::ffff:10.0.0.1"], False),  # IPv4-mapped IPv6 is judged as the IPv4 address
        (["127.0.0.1"], True),
    ],
)
def test_every_resolved_address_must_be_inside_the_allowlist(addresses, allowed) -> None:
    kind = RestKind(resolver=FakeDns(*addresses))
    config = {"url": "http://agency.test/{subject_id}"}
    if allowed:
        assert kind.validate_config(config, LOCAL)["url"] == config["url"]
        return
    with pytest.raises(ConfigError) as caught:
        kind.validate_config(config, LOCAL)
    assert "agency.test" in caught.value.detail and addresses[-1] in caught.value.detail


def test_a_malformed_allowlist_is_a_config_error(stub) -> None:
    with pytest.raises(ConfigError):
        KIND.validate_config({"url": stub.template()}, Environment(allowed_networks=("not-a-cidr",)))


def test_a_host_that_does_not_resolve_is_refused_at_registration() -> None:
    with pytest.raises(ConfigError) as caught:
        RestKind(resolver=FakeDns()).validate_config({"url": "http://agency.test/"}, LOCAL)
    assert "agency.test does not resolve" in caught.value.detail


# -- spellings of the hub's own addresses, and places no allowlist opens
AGENCY_NETWORK = Environment(allowed_networks=("192.0.2.0/24",))
EVERYWHERE = Environment(allowed_networks=("0.0.0.0/0", "::/0"))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "0x7f.1", "2130706433", "017700000001", "127.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]
)
def test_every_spelling_of_loopback_is_judged_as_127_0_0_1(host) -> None:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": f"http://{host}:8080/{{subject_id}}"}, AGENCY_NETWORK)
    assert "outside the allowed networks" in caught.value.detail and "127.0.0.1" in caught.value.detail


@pytest.mark.parametrize(
    "host",
    [
        "0.0.0.0",  # noqa: S104 -- an address to refuse, not to bind
        "0",
        "[::]",
        "169.254.169.254",
        "[fe80::1]",
        "224.0.0.1",
        "255.255.255.255",
        "127.0.0.1",
        "[::1]",
    ],
)
def test_this_host_link_local_metadata_and_loopback_are_refused_even_by_an_allowlist_of_everything(host) -> None:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": f"http://{host}/{{subject_id}}"}, EVERYWHERE)
    assert "outside the allowed networks" in caught.value.detail


def test_loopback_passes_only_when_a_loopback_block_is_named() -> None:
    assert not is_allowed("127.0.0.1", parse_networks(["0.0.0.0/0"]))
    assert not is_allowed("127.0.0.2", parse_networks(["127.0.0.1/32"]))
    assert is_allowed("127.0.0.2", parse_networks(["127.0.0.0/8"])) and is_allowed("::1", parse_networks(["::1/128"]))
    assert is_allowed("10.20.30.40", parse_networks(["0.0.0.0/0"]))  # a wide block still opens ordinary hosts


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "ftp://127.0.0.1/",
        "dict://127.0.0.1:11211/",
        "ws://127.0.0.1/",
        "//127.0.0.1/x",
        "http:///x",
    ],
)
def test_only_http_and_https_with_a_host_are_taken(url) -> None:
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": url}, LOCAL)
    assert caught.value.errors and "url" in caught.value.errors


@pytest.mark.parametrize(
    "url",
    [
        "http://agency.test@127.0.0.1/{subject_id}",
        "http://agency.test:pw@127.0.0.1/{subject_id}",
        "http://127.0.0.1\\@agency.test/{subject_id}",
        "http://agency.test%40127.0.0.1/{subject_id}",
    ],
)
def test_userinfo_tricks_are_refused(url) -> None:
    with pytest.raises(ConfigError):  # credentials in the URL, or a "host" no resolver knows
        KIND.validate_config({"url": url}, AGENCY_NETWORK)


def test_a_fragment_cannot_hide_the_real_host() -> None:
    """``http://127.0.0.1/#@agency.test`` is a request to 127.0.0.1, and is judged as one."""
    with pytest.raises(ConfigError) as caught:
        KIND.validate_config({"url": "http://127.0.0.1/#@agency.test/{subject_id}"}, AGENCY_NETWORK)
    assert "host 127.0.0.1 resolves to 127.0.0.1" in caught.value.detail


# -- DNS rebinding and redirects, against a real stand-in agency
SUBJECT = Subject("resident-id", "440101199001020017")


def _connector(kind: RestKind, url: str, environment: Environment = LOCAL):
    normalised = kind.validate_config({"url": url}, environment)
    return kind.build(ConnectorSpec("conn-1", "market", "rest", ("identity",), normalised, 2000), environment)


def test_dns_rebinding_after_registration_is_caught_at_request_time(stub) -> None:
    dns = FakeDns("127.0.0.1")
    connector = _connector(RestKind(resolver=dns), f"http://agency.test:{stub.port}/{{evidence_type}}/{{subject_id}}")
    try:
        assert connector.fetch("ok", SUBJECT, 2.0).fields
        assert stub.requests[-1]["headers"]["Host"] == f"agency.test:{stub.port}"  # sent to the address checked
        dns.addresses = ["10.0.0.5"]  # the attacker's name now points into the hub's network
        with pytest.raises(ConnectorError) as caught:
            connector.fetch("ok", SUBJECT, 2.0)
        assert "10.0.0.5" in caught.value.detail and not caught.value.retryable
        dns.addresses = ["127.0.0.1", "169.254.169.254"]  # one good answer among bad ones is not enough
        with pytest.raises(ConnectorError):
            connector.fetch("ok", SUBJECT, 2.0)
        assert len(stub.requests) == 1
    finally:
        connector.close()


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data", "http://127.1:{port}", "http://[::ffff:127.0.0.1]:{port}"]
)
def test_redirects_to_other_spellings_or_private_addresses_are_not_followed(stub, target) -> None:
    stub.other_url = target.format(port=stub.port)
    connector = _connector(KIND, stub.template())
    try:
        with pytest.raises(ConnectorError) as caught:
            connector.fetch("redirect-other", SUBJECT, 2.0)
        assert "redirected off" in caught.value.detail and not caught.value.retryable
        assert [r["path"].split("/")[1] for r in stub.requests] == ["redirect-other"]
    finally:
        connector.close()
