"""The SSRF guard: refused URLs never reach a socket; the resolver is always injected."""

from __future__ import annotations

import httpx
import pytest

from alerts.ingest import BlockedAddressError, FetchError
from alerts.ingest.fetch import Fetcher
from alerts.ingest.ssrf import check_url, parse_ipv4

PUBLIC = "93.184.216.34"


def _resolver(mapping: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in mapping:
            raise OSError(f"unknown host {host}")  # as socket.gaierror would
        return mapping[host]

    return resolve


def _no_resolver(host: str, port: int) -> list[str]:
    raise AssertionError(f"resolver must not be called for {host}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",  # loopback
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",  # hex, short form
        "http://0177.0.0.1/",  # octal
        "http://127.1/",  # short form
        "http://0x7f000001/",  # one hex number
        "http://0/",  # unspecified
        "http://0.0.0.0:8080/",
        "http://10.1.2.3/",  # private
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",  # shared address space (CGNAT)
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://100.100.100.200/",  # Alibaba metadata
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://255.255.255.255/",  # broadcast
        "http://[::1]/",  # IPv6 loopback
        "http://[::]/",  # IPv6 unspecified
        "http://[::ffff:127.0.0.1]/",  # v4-mapped loopback
        "http://[::ffff:7f00:1]/",  # v4-mapped, hex form
        "http://[::ffff:169.254.169.254]/",  # v4-mapped metadata
        "http://[fe80::1]/",  # link-local
        "http://[fc00::1]/",  # unique local
        "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
        "http://[ff02::1]/",  # multicast
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 wrapping 10.0.0.1
        "http://[fe80::1%25eth0]/",  # zone id
        "http://999.1.1.1/",  # invalid numeric host
    ],
)
def test_literal_addresses_are_refused_without_resolving(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(url, _no_resolver)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://e.com/x", "gopher://e.com/", "javascript:alert(1)", "//e.com/x"],
)
def test_only_http_and_https(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="scheme"):
        check_url(url, _no_resolver)


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("intranet.example", ["10.0.0.5"]),
        ("rebind.example", [PUBLIC, "127.0.0.1"]),  # one bad address is enough
        ("v6.example", ["::1"]),
        ("mapped.example", ["::ffff:192.168.0.1"]),
        ("meta.example", ["169.254.169.254"]),
    ],
)
def test_resolved_private_addresses_are_refused(host: str, addresses: list[str]) -> None:
    with pytest.raises(BlockedAddressError, match="not public"):
        check_url(f"https://{host}/feed", _resolver({host: addresses}))


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST.", "a.localhost", "metadata.google.internal"]
)
def test_blocked_names(host: str) -> None:
    with pytest.raises(BlockedAddressError):
        check_url(f"http://{host}/", _no_resolver)


def test_public_address_is_allowed_and_private_only_when_asked() -> None:
    target = check_url("https://News.Example:8443/x", _resolver({"news.example": [PUBLIC]}))
    assert (target.host, target.port, target.address) == ("news.example", 8443, PUBLIC)
    allowed = check_url("http://10.0.0.1/", _no_resolver, allow_private=True)
    assert allowed.address == "10.0.0.1"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("1.2.3.4.", "1.2.3.4"),
        ("1.2.3.256", None),
        ("example.com", None),
    ],
)
def test_parse_ipv4_forms(host: str, expected: str | None) -> None:
    found = parse_ipv4(host)
    assert (str(found) if found else None) == expected


def test_redirect_to_private_address_is_refused_without_connecting() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(302, headers={"Location": "http://0x7f.1/admin"})

    fetcher = Fetcher(
        _resolver({"feeds.example": [PUBLIC]}), transport=httpx.MockTransport(handler)
    )
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        fetcher.fetch("https://feeds.example/rss")
    assert len(seen) == 1
    # the one request went to the checked address, with the name in Host and SNI
    assert seen[0].url.host == PUBLIC
    assert seen[0].headers["host"] == "feeds.example"
    assert seen[0].extensions["sni_hostname"] == "feeds.example"


def test_redirect_to_a_name_that_resolves_private_is_refused() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(301, headers={"Location": "https://evil.example/"})

    resolver = _resolver({"feeds.example": [PUBLIC], "evil.example": ["192.168.0.10"]})
    fetcher = Fetcher(resolver, transport=httpx.MockTransport(handler))
    with pytest.raises(BlockedAddressError, match=r"192\.168\.0\.10"):
        fetcher.fetch("https://feeds.example/rss")
    assert len(seen) == 1


def test_secrets_in_the_url_stay_out_of_errors() -> None:
    with pytest.raises(BlockedAddressError) as info:
        check_url("http://user:hunter2@10.0.0.1/feed?token=s3cret", _no_resolver)
    assert "hunter2" not in str(info.value) and "s3cret" not in str(info.value)


def test_system_resolver_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from alerts.ingest import ssrf

    release = threading.Event()

    def hang(host: str, port: int) -> list[str]:
        release.wait(5)
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "_getaddrinfo", hang)
    try:
        with pytest.raises(OSError, match="timed out"):
            ssrf.system_resolver("slow.example", 80, timeout=0.05)
    finally:
        release.set()


def test_international_names_are_resolved_in_ascii() -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return [PUBLIC]

    target = check_url("https://bücher.example/feed", resolve)
    assert asked == ["xn--bcher-kva.example"] and target.host == "xn--bcher-kva.example"


def test_ipv6_host_header_is_bracketed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=httpx.ByteStream(b"ok"))

    fetcher = Fetcher(_no_resolver, transport=httpx.MockTransport(handler))
    assert fetcher.fetch("http://[2001:db8::1]:8080/x", allow_private=True).content == b"ok"
    assert seen[0].headers["host"] == "[2001:db8::1]:8080"


@pytest.mark.parametrize("location", ["http://exa mple.com/", "http://[::1", "http://e.com:99999/"])
def test_broken_redirect_targets_are_fetch_errors(location: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    fetcher = Fetcher(
        _resolver({"feeds.example": [PUBLIC]}), transport=httpx.MockTransport(handler)
    )
    with pytest.raises(FetchError):
        fetcher.fetch("https://feeds.example/rss")
