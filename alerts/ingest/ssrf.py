"""The SSRF guard: which URLs and addresses an outbound fetch may reach.

Only http and https. The host is resolved by an injected resolver and every address must be
public: loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT) and
cloud-metadata addresses are refused, in IPv4 and IPv6, including v4-mapped, 6to4 and NAT64
forms, unless the source allows private addresses. Numeric hosts are read the way browsers
and C libraries read them (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) so none slips through.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from alerts.ingest.errors import BlockedAddressError, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
_BLOCKED_NAMES = ("localhost", "metadata", "metadata.google.internal")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
DNS_TIMEOUT = 5.0
_DNS_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``address``, but speak to ``host``."""

    scheme: str
    host: str
    port: int
    address: str


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def system_resolver(host: str, port: int, timeout: float = DNS_TIMEOUT) -> list[str]:
    """Resolve with the operating system, within ``timeout`` (tests inject their own resolver)."""
    future = _DNS_POOL.submit(_getaddrinfo, host, port)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()  # getaddrinfo cannot be interrupted; its thread finishes on its own
        raise OSError(f"DNS lookup timed out after {timeout} s") from None


def _number(part: str) -> int:
    if part.lower().startswith("0x"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)
    return int(part, 10)


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Read a numeric IPv4 host in any inet_aton form (decimal, hex, octal, short); else None."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if not 1 <= len(parts) <= 4:
        return None
    try:
        numbers = [_number(p) for p in parts]
    except ValueError:
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _looks_numeric(host: str) -> bool:
    last = host.rstrip(".").rsplit(".", 1)[-1].lower()
    return bool(last) and (last.isdigit() or (last.startswith("0x") and len(last) >= 2))


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally (IPv6 in brackets or any IPv4 form), else None."""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        if "%" in host:
            raise ValueError("IPv6 zone ids are not allowed")
        return ipaddress.IPv6Address(host)
    if _looks_numeric(host):
        found = parse_ipv4(host)
        if found is None:
            raise ValueError("not a valid numeric address")
        return found
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_blocked(ip: IPAddress) -> bool:
    """Whether an address is not a plain public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the same host as its IPv4 form: judged as that
            return is_blocked(ip.ipv4_mapped)
        inner = _embedded_v4(ip)
        if inner is not None and is_blocked(inner):
            return True
    return (
        ip in _METADATA
        or not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
    )


def check_url(url: str, resolver: Resolver, *, allow_private: bool = False) -> Target:
    """Check a URL and resolve it to a permitted address, or raise ``BlockedAddressError``."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedAddressError(url, f"invalid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise BlockedAddressError(url, f"scheme {parts.scheme or '(none)'!r} is not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BlockedAddressError(url, "URL has no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise BlockedAddressError(url, "invalid international host name") from None
    first = _addresses(url, host, port, resolver, allow_private)[0]
    if isinstance(first, ipaddress.IPv6Address) and first.ipv4_mapped is not None:
        first = first.ipv4_mapped  # connect over IPv4 to the address that was judged
    return Target(parts.scheme, host, port, str(first))


def _addresses(
    url: str, host: str, port: int, resolver: Resolver, allow_private: bool
) -> list[IPAddress]:
    try:
        literal = literal_address(host)
    except ValueError as exc:
        raise BlockedAddressError(url, f"invalid host: {exc}") from None
    if literal is None and not allow_private:
        lowered = host.lower()
        if any(lowered == n or lowered.endswith("." + n) for n in _BLOCKED_NAMES):
            raise BlockedAddressError(url, f"host {host!r} is not allowed")
    found = [literal] if literal is not None else _resolve(url, host, port, resolver)
    if not allow_private:
        for ip in found:
            if is_blocked(ip):
                raise BlockedAddressError(url, f"address {ip} is not public")
    return found


def _resolve(url: str, host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        raw = resolver(host, port)
    except OSError as exc:
        raise FetchError(url, f"cannot resolve host: {exc}") from None
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in raw]
    except ValueError:
        raise FetchError(url, "resolver returned an invalid address") from None
    if not found:
        raise FetchError(url, "host has no address")
    return found
