"""Stable item ids: the feed GUID, else the normalised URL, else a hash of the content.

Ids are short ASCII strings (a prefix and 32 hex digits), the same across polls, and the same
across sources whenever the URL is the same. A GUID that is itself an http(s) URL counts as a
URL; any other GUID is only unique within its feed, so it is scoped by the source.
"""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from url_normalize import url_normalize

# Query parameters that track the reader, not identify the page.
_TRACKING_EXACT = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga", "ref_src"}
)
_TRACKING_PREFIXES = ("utm_", "ga_", "pk_", "mtm_", "hsa_")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_EXACT or low.startswith(_TRACKING_PREFIXES)


def normalise_url(url: str) -> str | None:
    """Canonical form of an http(s) URL (lowercase host, no default port, fragment or tracking)."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")):
        return None
    try:
        canon = url_normalize(url)
        if not canon:
            return None
        parts = urlsplit(canon)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    except (ValueError, UnicodeError):
        return None
    kept = sorted((k, v) for k, v in query if not _is_tracking(k))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(kept), ""))


def _normalise_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_id(title: str, body: str) -> str:
    """Id from the content alone: the same text from any source gives the same id."""
    return "c:" + _digest(_normalise_text(title) + "\n" + _normalise_text(body))


def url_id(url: str) -> str | None:
    """Id of a normalised http(s) URL, or None when ``url`` is not one."""
    canon = normalise_url(url)
    return "u:" + _digest(canon) if canon else None


def guid_id(source: str, guid: str) -> str:
    """Id of a feed GUID: a URL GUID as a URL, any other scoped by its source."""
    return url_id(guid) or "g:" + _digest(source + "\n" + guid.strip())


def item_id(
    source: str, *, guid: str | None = None, url: str | None = None, title: str = "", body: str = ""
) -> str:
    """The id of an item: GUID, else normalised URL, else content hash."""
    if guid and guid.strip():
        return guid_id(source, guid)
    if url:
        found = url_id(url)
        if found:
            return found
    return content_id(title, body)
