"""The outbound allowlist: which addresses a connector may reach (the guard against SSRF into the hub's network).

A host passes only when *every* address it resolves to lies inside one of the operator's CIDR blocks;
an empty allowlist refuses everything. Connectors check at registration and again before each request,
because DNS answers can change after a connector was registered, and connect to the address they checked.

Some addresses are never an agency's service, whatever the allowlist says (``0.0.0.0/0`` included):
"this host" (0.0.0.0/8, ``::``, which reach the hub itself), link-local (169.254.0.0/16 with the cloud
metadata service, fe80::/10), multicast and reserved blocks. Loopback passes only when the allowlist
names a loopback block itself (the demo's ``127.0.0.1/32``), never by way of a wider one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

from .api import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class HostRefused(ConfigError):
    """The host resolves (at least partly) to addresses outside the allowlist."""


class HostUnresolvable(ConfigError):
    """The host does not resolve at all (which may pass: DNS outages are transient)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, through the system resolver, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # IPv6 link-local answers carry a zone ("fe80::1%eth0"), which ip_address() does not take.
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """The operator's CIDR strings as networks; a malformed one is a ConfigError."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError as exc:
            message = f"allowed network {cidr!r} is not a CIDR block"
            raise ConfigError(message, {"allowed_networks": [str(exc)]}) from exc
    return tuple(networks)


def _normalised(address: str) -> Address:
    ip = ipaddress.ip_address(address)
    # "::ffff:10.0.0.1" reaches 10.0.0.1: judge it as the IPv4 address it is.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


THIS_HOST = ipaddress.ip_network("0.0.0.0/8")
LOOPBACK: dict[int, Network] = {4: ipaddress.ip_network("127.0.0.0/8"), 6: ipaddress.ip_network("::1/128")}


def _never(ip: Address) -> bool:
    """Addresses no allowlist opens: the hub itself under another name, link-local, multicast, reserved."""
    return (
        ip.is_unspecified
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or (ip.version == 4 and ip in THIS_HOST)
    )


def is_allowed(address: str, networks: Iterable[Network]) -> bool:
    """Whether one address lies inside one of the networks (and is not one that no allowlist opens)."""
    ip = _normalised(address)
    inside = [network for network in networks if ip.version == network.version and ip in network]
    if ip.is_loopback:  # before the reserved blocks: ::1 lies in ::/8
        return any(network.subnet_of(LOOPBACK[ip.version]) for network in inside)  # type: ignore[arg-type]
    return bool(inside) and not _never(ip)


def allowed_addresses(host: str, port: int, networks: tuple[Network, ...], resolver: Resolver) -> list[str]:
    """The addresses of ``host``, all inside ``networks``; HostRefused or HostUnresolvable otherwise."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise HostUnresolvable(f"host {host} does not resolve", {"url": [f"host {host} does not resolve"]}) from exc
    if not addresses:
        raise HostUnresolvable(f"host {host} does not resolve", {"url": [f"host {host} does not resolve"]})
    try:
        outside = [address for address in addresses if not is_allowed(address, networks)]
    except ValueError as exc:
        raise HostRefused(f"host {host} resolves to an unreadable address", {"url": [str(exc)]}) from exc
    if outside:
        message = (
            f"host {host} resolves to {', '.join(addresses)}; {', '.join(outside)} "
            f"{'is' if len(outside) == 1 else 'are'} outside the allowed networks"
        )
        raise HostRefused(message, {"url": [message]})
    return addresses
