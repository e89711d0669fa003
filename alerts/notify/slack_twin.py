"""The shipped ``templates/slack_alert.j2``, written out in Python: its twin kept for speed.

Jinja cost about a third of a Slack alert's CPU (a context per render, a call per attribute,
a loop object, a finalize per expression); this builds the same text from the same view with
the same escaping (``slack_finalize`` on every expression, ``slack_link``'s text for links). It
serves only while the template is the shipped one: a ``templates_dir`` override of
``slack_alert.j2`` renders through Jinja's sandbox as before. ``tests/notify/test_slack_twin.py``
holds the twin equal to the template on the golden corpus and the naughty strings: a change
to the template fails there until the twin follows it.
"""

from __future__ import annotations

from alerts.notify.escape import slack_escape, slack_link_text
from alerts.notify.view import AlertView

TEMPLATE = "slack_alert.j2"
_MUTE = "why this matched · mute"


def slack_alert_text(v: AlertView) -> str:
    """What ``slack_alert.j2`` renders for ``v`` (before the renderer's strip)."""
    out = [
        ":newspaper: *",
        slack_escape(v.watch_name),
        "*: ",
        slack_link_text(v.url, v.title),
        "\n",
    ]
    if v.snippet:
        out.append(">")
        for s in v.snippet:
            out.append(f"*{slack_escape(s.text)}*" if s.hit else slack_escape(s.text))
        out.append("\n")
    out.append("Terms: ")
    out.append(", ".join(f"*{slack_escape(t)}*" for t in v.terms))
    out += ["\n_", slack_escape(v.why), "_\n", slack_escape(v.source)]
    if v.language:
        out += [" · ", slack_escape(v.language)]
    out += [" · ", slack_escape(v.published), "\n"]
    if v.link:
        out += [slack_link_text(v.link, _MUTE), "\n"]
    return "".join(out)
