"""Alerts and digests whose renderings are kept byte for byte in ``golden/messages.json``.

Hostile text throughout (Slack control sequences, HTML, line separators, encoded words, stale
offsets), each optional field both set and unset, long texts cut on both sides, digests capped.
``python -m tests.notify.golden_corpus`` rewrites the file: only when a change of what is sent
is meant, and the diff is read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from alerts.models import Alert, Digest, DigestEntry, Hit, Item
from alerts.notify.render import Renderer

GOLDEN = Path(__file__).resolve().parent / "golden" / "messages.json"
CONSOLE = "https://alerts.example.org"
KINDS = ("slack", "email", "text")
WHEN = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

_HOSTILE = (
    "<!channel> & <@U123|boss> <#C1|x> *bold* _it_ `code` ~s~ >quote",
    '<script>alert("x")</script><a href="javascript:alert(1)">click</a> &amp; &lt;',
    "line\r\nBcc: victim@example.org\u2028X-Evil: 1\x00\x1b[31m\u0085end",
    "=?utf-8?q?=0D=0ABcc:_evil@example.org?= =?utf-8?b?DQpYLUV2aWw6IDE=?= {{ 7*7 }} {% raw %}",
    "Київ: тривога — «обстріл» ✓ 🚀 e\u0301 \u202eevil\u202c ﷽",
)
_URLS = (
    None,
    "https://www.bbc.co.uk/news/world-1",
    "https://x.org/a b?q=1&r=<2>|3#frag",
    "javascript:alert(1)",
    "http://evil|bbc.co.uk/\"'",
)


def _hit(text: str, field: str, term: str, how: tuple[str, ...] = ()) -> Hit:
    start = text.index(term)
    return Hit(
        term=term.lower(), field=field, start=start, end=start + len(term), text=term, how=how
    )


def _alert(number: int) -> Alert:
    """One alert; ``number`` picks the hostile text, the URL and the optional parts."""
    hostile = _HOSTILE[number % len(_HOSTILE)]
    lead = " ".join(f"lead{i}" for i in range(number * 7 % 60))
    body = f"{lead} {hostile} the ceasefire held {'tail ' * (number * 11 % 70)}".strip()
    title = f"Ceasefire {hostile} #{number}" if number % 2 else f"  Ceasefire\n\t{number}  "
    hits = [_hit(body, "body", "ceasefire", ("exact",) if number % 3 else ())]
    if number % 4 == 1:
        hits.append(_hit(title, "title", "Ceasefire", ("inflected", "other_spelling")))
    if number % 5 == 2:
        hits.append(Hit(term="truce", field="body", start=0, end=5, text="truce"))  # stale
    if number % 6 == 3:
        hits.append(_hit(body, "body", "held"))
    offset = timezone(timedelta(hours=number % 3)) if number % 3 else UTC
    item = Item(
        id=f"item-{number}&x=<{number}>",
        source=f"src-{number % 3}" if number % 7 else hostile[:20],
        title=title,
        body=body if number % 8 != 5 else "",
        summary=f"summary: ceasefire {hostile}" if number % 8 == 5 else "",
        url=_URLS[number % len(_URLS)],
        published=None if number % 9 == 4 else WHEN.astimezone(offset).replace(tzinfo=offset),
        language=(None, "uk", "en")[number % 3],
        language_source=("declared", "detected")[number % 2],
    )
    if number % 8 == 5:
        hits = [_hit(item.summary, "summary", "ceasefire")]
    return Alert(
        watch=f"watch-{number % 4}",
        watch_name=f"Watch {hostile[:12]}" if number % 5 == 0 else f"Watch {number % 4}",
        item=item,
        hits=tuple(hits),
        clause=f"any: ceasefire, truce {hostile[:8]}" if number % 2 else "",
        channels=("slack", "email"),
    )


def _digest(number: int) -> Digest:
    """A digest of a few stories (a storm for ``number`` 0: capped)."""
    stories = 30 if number == 0 else number + 1
    entries = tuple(
        DigestEntry(story=f"s{i % stories}", alert=_alert(i + number), count=1 + i % 3)
        for i in range(stories * (2 if number == 0 else 5))
    )
    return Digest(
        watch="ceasefire",
        watch_name=f"Digest {_HOSTILE[number % len(_HOSTILE)][:10]}",
        channel="slack",
        entries=entries,
        total=sum(e.count for e in entries),
        reason=("throttled", "digest", "quiet_hours", "other")[number % 4],
    )


def contents() -> list[Alert | Digest]:
    """Every alert and digest of the corpus, in a fixed order."""
    return [*(_alert(n) for n in range(40)), *(_digest(n) for n in range(5))]


def renderings(renderer: Renderer) -> list[dict[str, Any]]:
    """Each content rendered for each channel type: subject, text and HTML."""
    out = []
    for content in contents():
        for kind in KINDS:
            message = renderer.render(kind, content)
            out.append({"subject": message.subject, "text": message.text, "html": message.html})
    return out


def renderers() -> dict[str, Renderer]:
    """The renderings kept: with and without a console URL."""
    return {"plain": Renderer(), "console": Renderer(console_url=CONSOLE, snippet_chars=120)}


def main() -> None:
    """Rewrite the golden file from the current code."""
    data = {name: renderings(renderer) for name, renderer in renderers().items()}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
