"""Club runs with RSVP (issue 15 item 3): the words and keys every event message shares.

Pure: no database and no clock. Times are shown in the org's time zone (SPEC §4: "times
in the org's time zone"), with the zone named, because a member may have set another one
for themselves. The keys make each message exactly once (SPEC §6): one channel post per
(event, linked channel), one reminder and one notice of cancellation per (event, person).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.messages import Button
from bot.text import free_text

REMIND_BEFORE = timedelta(hours=2)
ANSWERS = ("going", "maybe", "no")
ANSWER_LABELS = {"going": "Going", "maybe": "Maybe", "no": "Can't"}

# outbox kinds (at most 20 characters)
POST = "event_post"  # the event in the group's linked channel, with its buttons
REMINDER = "event_reminder"  # a DM to each person going, REMIND_BEFORE the start
CANCELLED = "event_cancel"  # a DM to each person going when a coach calls it off
CANCELLED_POST = "event_cancel_post"  # the same news in the group's linked channel


class EventLike(Protocol):
    public_id: str
    title: str
    starts_at: datetime
    place: str | None
    notes: str | None


def event_key(kind: str, event_id: int, target_id: int) -> str:
    """`kind:event:target`: the target is a linked channel (posts) or an account (DMs)."""
    return f"{kind}:{event_id}:{target_id}"


def event_id_of_key(key: str) -> int | None:
    """The event an outbox key of `event_key`'s shape is about (None: not one)."""
    parts = key.split(":")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def when_text(starts_at: datetime, zone: str) -> str:
    """`Sat 16 Jan 2027, 08:00 (Europe/Berlin)`."""
    local = starts_at.astimezone(ZoneInfo(zone))
    return f"{local:%a %d %b %Y}, {local:%H:%M} ({zone})"


def counts_text(counts: dict[str, int]) -> str:
    """`Going 3 · Maybe 1 · Can't 0`."""
    return " · ".join(f"{ANSWER_LABELS[a]} {counts.get(a, 0)}" for a in ANSWERS)


def rsvp_buttons(public_id: str) -> tuple[Button, ...]:
    """Going / Maybe / Can't: each runs `/rsvp #ID answer` as the person who presses it."""
    return tuple(Button(ANSWER_LABELS[a], f"rsvp #{public_id} {a}") for a in ANSWERS)


def event_lines(event: EventLike, zone: str, group_name: str) -> list[str]:
    """The event as every message shows it: title and id, when, where, the notes."""
    lines = [
        f"{event.title} (#{event.public_id}) — {group_name}",
        f"When: {when_text(event.starts_at, zone)}",
    ]
    if event.place:
        lines.append(f"Where: {event.place}")
    if event.notes:
        lines.append(f"Notes: {free_text(event.notes)}")
    return lines


def post_text(event: EventLike, zone: str, group_name: str) -> str:
    """The channel post of a new event: only what every member of the channel may see
    (the event itself; who answers what is shown to the group by `/events`)."""
    return "\n".join(
        [
            "New club run:",
            *event_lines(event, zone, group_name),
            f"Going? Press a button, or type /rsvp #{event.public_id} going|maybe|no.",
        ]
    )


def reminder_text(event: EventLike, zone: str, group_name: str) -> str:
    return "\n".join(
        [
            "Reminder: you're going to this club run, starting soon.",
            *event_lines(event, zone, group_name),
            f"Can't make it after all? /rsvp #{event.public_id} no",
        ]
    )


def cancelled_text(event: EventLike, zone: str, group_name: str) -> str:
    return "\n".join(
        ["Called off: this club run is cancelled.", *event_lines(event, zone, group_name)]
    )
