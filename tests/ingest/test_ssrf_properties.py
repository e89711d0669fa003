"""Property tests of the SSRF guard: whatever the URL, an accepted address is a public one."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.ingest import FetchError
from alerts.ingest.ssrf import check_url, is_blocked, parse_ipv4

_V4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)
_V6 = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)


def _forms(ip: ipaddress.IPv4Address) -> st.SearchStrategy[str]:
    """The ways a browser or libc may spell an IPv4 address."""
    n = int(ip)
    a, b, c, d = ip.packed
    return st.sampled_from(
        [
            str(ip),
            str(n),
            hex(n),
            f"0{n:o}",
            f"{a}.{(b << 16) | (c << 8) | d}",
            f"{a}.{b}.{(c << 8) | d}",
            f"{a:#x}.{b:#o}.{c}.{d:#x}",
            f"[::ffff:{ip}]",
        ]
    )


@settings(derandomize=True, max_examples=400, deadline=None)
@given(_V4.flatmap(lambda ip: st.tuples(st.just(ip), _forms(ip))))
def test_every_spelling_of_an_ipv4_address_is_judged_as_that_address(case: tuple) -> None:  # type: ignore[type-arg]
    ip, spelled = case
    if not spelled.startswith("["):
        assert parse_ipv4(spelled) == ip
    url = f"http://{spelled}/feed"
    if is_blocked(ip):
        with pytest.raises(FetchError):
            check_url(url, _never)
    else:
        assert check_url(url, _never).address == str(ip)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.lists(st.one_of(_V4, _V6), min_size=1, max_size=4))
def test_a_name_is_accepted_only_when_every_address_is_public(addresses: list) -> None:  # type: ignore[type-arg]
    def resolve(host: str, port: int) -> list[str]:
        return [str(a) for a in addresses]

    try:
        target = check_url("https://news.example/feed", resolve)
    except FetchError:
        assert any(is_blocked(a) for a in addresses)
        return
    assert not any(is_blocked(a) for a in addresses)
    assert ipaddress.ip_address(target.address).is_global


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_hosts_give_a_target_or_a_fetch_error(host: str) -> None:
    with contextlib.suppress(FetchError):
        check_url(f"http://{host}/x", lambda h, p: ["93.184.216.34"])


def _never(host: str, port: int) -> list[str]:
    raise AssertionError("numeric hosts are never resolved")
