"""The decisions of delivery, one small function per stage; none of them sends anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.delivery.deps import DeliveryDeps, Outcome
from alerts.delivery.ledger import FINAL, DeliveryRow
from alerts.delivery.limits import Pace
from alerts.delivery.minhash import signature
from alerts.delivery.silences import Silence, first_silence
from alerts.delivery.stories import Placement, own_story
from alerts.models import Alert
from alerts.rules.notify import NotifySpec


@dataclass(frozen=True)
class Hold:
    """Why an alert waits for a digest instead of going out now, and until when."""

    reason: str  # digest | quiet_hours | throttled | story
    due: datetime
    outcome: str  # digested | throttled


@dataclass(frozen=True)
class Story:
    """The story an alert belongs to; ``followup`` when an earlier item started it, then
    ``thread``: its first message's thread ref on the alert's channel, if any."""

    id: str
    followup: bool
    thread: str | None = None


def route(alert: Alert, channel: str, deps: DeliveryDeps) -> NotifySpec | None:
    """The watch's notify spec when ``channel`` is one of its channels, else None."""
    spec = deps.policies(alert.watch)
    if spec is None:
        if channel not in alert.channels:
            return None
        return NotifySpec(channels=alert.channels)
    return spec if channel in spec.channels or channel in alert.channels else None


def ledger_gate(row: DeliveryRow, now: datetime, claim_left: float | None) -> Outcome | None:
    """Dedup: stop a delivery already finished, not yet due again, or being sent right now.

    ``claim_left``: seconds left on the row's send claim (None: nobody holds it).
    """
    if row.status in FINAL:
        status = "duplicate"
        return Outcome(status=status, detail=f"already {row.status}")
    if row.status == "retrying" and row.next_attempt_at and row.next_attempt_at > now:
        wait = (row.next_attempt_at - now).total_seconds()
        return Outcome(status="retry", retry_after=wait, detail="not due yet")
    if claim_left is not None:
        return Outcome(status="retry", retry_after=claim_left, detail="another worker is sending")
    return None


def silence_reason(
    alert: Alert,
    channel: str,
    spec: NotifySpec,
    now: datetime,
    deps: DeliveryDeps,
    story: str | None = None,
    silences: Sequence[Silence] | None = None,
) -> str | None:
    """Why the alert is muted (``mute_until`` or a stored silence), else None.

    Called before the story is known, then with ``story`` for the silences of a story;
    ``silences`` saves the caller reading the store twice.
    """
    if spec.mute_until is not None and now < spec.mute_until:
        return f"muted until {spec.mute_until.isoformat()}"
    found = deps.store.silences.all() if silences is None else silences
    silence = first_silence(found, alert.watch, channel, now, story)
    return f"silence {silence.id}" if silence else None


def assign_story(
    alert: Alert, now: datetime, deps: DeliveryDeps, channel: str | None = None
) -> Story:
    """Put the alert's item in a story of its watch: a near-duplicate's, or a new one (with
    ``channel``, a follow-up's thread ref there comes with it)."""
    new = placement(alert, now, deps, channel)
    sig = signature(alert.item)
    story, thread = deps.store.stories.place_threaded(alert.watch, alert.item.id, sig, new)
    # The story may be this very item's, started by its task on another channel a moment ago.
    return Story(id=story, followup=story != new.story, thread=thread)


def placement(alert: Alert, now: datetime, deps: DeliveryDeps, channel: str | None) -> Placement:
    """How to place the alert's item: join a story of the window, else start its own."""
    window = timedelta(seconds=deps.conf.story_window_seconds)
    threshold = deps.conf.story_threshold
    first = own_story(alert.watch, alert.item.id)  # = alert.key
    return Placement(first, since=now - window, at=now, threshold=threshold, channel=channel)


def goes_straight(spec: NotifySpec, now: datetime, silences: Sequence[Silence]) -> bool:
    """True when only the story (and pacing) could still hold the delivery back (``hold``
    would let a new story through): no story silence, no digest, no quiet hours now, no
    throttle. Then the story, the pacing token and the claim are one step (``straight``)."""
    if any(s.story is not None and now < s.ends_at for s in silences):
        return False
    if spec.critical:
        return True
    quiet = spec.quiet_hours is not None and spec.quiet_hours.end_if_quiet(now) is not None
    return spec.mode != "digest" and spec.throttle is None and not quiet


def pace_of(channel: str, member: str, deps: DeliveryDeps) -> Pace | None:
    """The pacing token a send on ``channel`` takes (None: the channel is not paced)."""
    conf = deps.conf
    if conf.paced_channels is not None and channel not in conf.paced_channels:
        return None
    return Pace(channel, conf.pace_rate, conf.pace_burst, member)


def hold(
    alert: Alert, channel: str, spec: NotifySpec, story: Story, now: datetime, deps: DeliveryDeps
) -> Hold | None:
    """Digest mode, quiet hours, an unthreadable follow-up or the throttle hold the alert back."""
    if spec.critical:
        return None
    if spec.mode == "digest":
        return Hold("digest", spec.digest_schedule().next_after(now), "digested")
    quiet_end = spec.quiet_hours.end_if_quiet(now) if spec.quiet_hours else None
    if quiet_end is not None:
        return Hold("quiet_hours", quiet_end, "digested")
    if story.followup and story.thread is None:
        return Hold("story", spec.digest_schedule().next_after(now), "digested")
    refused_until = throttle_refusal(
        alert.watch, channel, spec, alert.delivery_key(channel), now, deps
    )
    if refused_until is not None:
        return Hold("throttled", refused_until, "throttled")
    return None


def throttle_refusal(
    watch: str, channel: str, spec: NotifySpec, member: str, now: datetime, deps: DeliveryDeps
) -> datetime | None:
    """Count ``member`` in the current throttle window; when the window is full, its end."""
    if spec.throttle is None:
        return None
    window = spec.throttle.window.total_seconds()
    start = int(now.timestamp() // window * window)
    bucket = f"{watch}|{channel}|{start}"
    if deps.store.limits.admit(bucket, member, spec.throttle.max, window):
        return None
    return datetime.fromtimestamp(start + window, UTC)


def pace_wait(channel: str, member: str, now: datetime, deps: DeliveryDeps) -> float:
    """Seconds to wait for the channel's token bucket (0.0: go ahead)."""
    pace = pace_of(channel, member, deps)
    if pace is None:
        return 0.0
    return deps.store.limits.take_token(pace.name, now, pace.rate, pace.burst, pace.member)
