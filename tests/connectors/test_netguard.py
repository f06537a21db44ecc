"""The outbound allowlist (SSRF guard) as the ``rest`` kind applies it when a connector is registered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from agency_stub import AgencyStub, FakeDns

from connectors.api import ConfigError, Environment
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
