"""The SSRF guard: a webhook goes only to a public address over https, and to exactly the address checked.

The host is resolved once; if any of its addresses is refused, so is the URL. The request then goes to the
checked address itself (the name travels in `Host` and TLS SNI), so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot send it elsewhere. `FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE` lets `http`,
loopback and private ranges through for local development; link-local (169.254.169.254, the cloud metadata
service), multicast, unspecified and reserved addresses stay refused whatever the setting.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048
# Let through only with FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE (besides loopback).
PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7",
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The URL may not receive webhooks; the message says why, for a 422 or an attempt's error."""


@dataclass(frozen=True)
class Destination:
    """Where a checked URL may be sent: only to these addresses, in this order."""

    url: httpx.URL
    addresses: tuple[str, ...]
    host_header: str  # the name (and port), for the Host header
    server_name: str  # the name, for TLS SNI and the certificate check

    def url_at(self, address: str) -> httpx.URL:
        """The URL with its host replaced by one checked address: the request goes there and nowhere else."""
        return self.url.copy_with(host=address)


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64): it must pass the checks itself."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """Why this address may not receive webhooks, or None when it may."""
    ip = _embedded_v4(ip) or ip
    if ip.is_loopback:  # before is_reserved: ::1 counts as reserved too
        kind = "loopback"
    elif ip.is_link_local:
        return "link-local"
    elif ip.is_multicast:
        return "multicast"
    elif ip.is_unspecified:
        return "unspecified"
    elif any(ip in network for network in PRIVATE):
        kind = "private"
    elif ip.is_reserved or not ip.is_global:
        return "reserved"
    else:
        return None
    return None if allow_private else kind


async def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse(url: str, allow_private: bool) -> httpx.URL:
    """The URL's own rules, before any DNS: length, scheme and a host."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise Refused(f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise Refused("the URL must be https" if not allow_private else "the URL must be http or https")
    if not parsed.raw_host:
        raise Refused("the URL has no host")
    if parsed.userinfo:
        raise Refused("the URL has a user name or password in it; webhooks authenticate by their signature")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise Refused(f"the port {parsed.port} is not one from 1 to 65535")
    _check_labels(parsed.raw_host.decode("ascii", "replace"))
    return parsed


def _check_labels(host: str) -> None:
    """A DNS name's own rules (RFC 1035): labels of 1 to 63 characters, at most 253 in all."""
    if host.startswith("[") or _is_address(host):
        return
    name = host.removesuffix(".")
    if len(name) > 253:
        raise Refused("the host name is longer than 253 characters")
    for label in name.split("."):
        if not 0 < len(label) <= 63:
            raise Refused(f"the host {host!r} has an empty label or one longer than 63 characters")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def check(url: str, allow_private: bool, *, resolver: Resolver | None = None,
                timeout_s: float = 5.0) -> Destination:
    """Resolve the URL's host and check every address; raise Refused, or say where to connect."""
    parsed = parse(url, allow_private)
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            async with asyncio.timeout(timeout_s):
                found = await (resolver or _getaddrinfo)(host, port)
        except (OSError, TimeoutError, UnicodeError) as exc:  # UnicodeError: a name IDNA cannot encode
            raise Refused(f"the host {host!r} does not resolve ({exc or 'timeout'})") from None
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses:
            raise Refused(f"the host {host!r} does not resolve")
    for address in addresses:
        reason = refusal(address, allow_private)
        if reason is not None:
            shown = host if literal is not None else f"{host} ({address})"
            raise Refused(f"{shown} is a {reason} address; webhooks go to public addresses only")
    bracketed = f"[{host}]" if ":" in host else host
    return Destination(url=parsed, addresses=tuple(dict.fromkeys(str(a) for a in addresses)), server_name=host,
                       host_header=f"{bracketed}:{parsed.port}" if parsed.port else bracketed)
