"""Club runs with RSVP (issue 15 item 3, SPEC §4): `/event create`, `/event cancel`,
`/events`, `/rsvp`.

Decisions (docs/DESIGN.md "Club runs with RSVP"):

- **Who.** Any coach calls an event for any group and calls it off (as any coach makes
  and links groups, SPEC §3); the group's athletes and every coach of the org see it, its
  counts and the names of those going, and answer it (`Thing.EVENT`, `Action.RSVP`).
  An event someone may not see is answered exactly like one that does not exist.
- **Time.** `date:` and `time:` are read in the org's time zone (the org's today decides
  `sat` and `tomorrow`); a local time that does not exist (spring forward) starts at the
  first minute after the gap, as reminders do (SPEC §6). An event must start in the
  future; answers close when it starts.
- **Where it goes.** The event is posted to each channel its group is linked to, through
  the outbox (one row per linked channel, rendered when it goes: an event cancelled
  before its post went out is never posted). The post holds the event only; it is not
  edited as answers come in (each `/rsvp` answers with the counts, `/events` shows them
  with the names, privately).
- **Reminders** go 2 hours before the start to whoever is going then (planned by the
  scheduler, rendered at send time); someone who says they are going later than that has
  just seen the event and gets none. Calling an event off tells those going by DM (not the
  coach who called it off) and its channel.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import grammar
from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command
from bot.commands.common import public_id_of, require
from bot.commands.groups import find_group
from bot.domain.club_events import (
    ANSWERS,
    CANCELLED,
    CANCELLED_POST,
    POST,
    REMIND_BEFORE,
    cancelled_text,
    counts_text,
    event_key,
    event_lines,
    when_text,
)
from bot.grammar import GrammarError, shown
from bot.policy import Action, Target, can_see_event
from bot.schedule.localtime import due_instant
from storage.models import EVENT_NOTES_MAX, EVENT_PLACE_MAX, EVENT_TITLE_MAX, GROUP_NAME_MAX

if TYPE_CHECKING:
    from storage.repositories.events import EventFound

SHOWN = 15  # events one /events lists
NAMES_SHOWN = 25  # names of people going shown per event


def _event_word() -> str:
    return arg(
        Kind.WORD,
        help="the event's #ID, as its post and /events show it",
        positional=True,
        required=True,
        max_len=40,
    )


async def visible_event(ctx: Ctx, given: str) -> EventFound:
    """The org's event with that `#ID` if the caller may see it; anything else reads the
    same, so nobody learns of events outside their groups."""
    org, me = ctx.require_org()
    public_id = public_id_of(given)
    found = await ctx.uow.repo.event_in_org(org.id, public_id, me.id) if public_id else None
    if found is None or not can_see_event(
        ctx.viewer, event_org_id=found.event.org_id, in_group=found.in_group
    ):
        raise Refusal(f"No event {shown(given)} in your groups. See /events for upcoming ones.")
    return found


def _closed(found: EventFound, now: dt.datetime, doing: str) -> None:
    """A cancelled or started event takes no answer and cannot be called off again."""
    event = found.event
    name = f"{event.title} (#{event.public_id})"
    if event.cancelled_at is not None:
        raise Refusal(f"{name} was cancelled; there is nothing {doing}.")
    if event.starts_at <= now:
        raise Refusal(f"{name} has already started; it is too late {doing}.")


# -- /event create ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreateEvent:
    group: str = arg(
        Kind.WORD,
        help="the group the run is for (posted to its linked channel)",
        required=True,
        max_len=GROUP_NAME_MAX,
        suggest=Suggest.GROUP,
    )
    title: str = arg(
        Kind.TEXT,
        help="the event's title, like Saturday long run",
        positional=True,
        required=True,
        max_len=EVENT_TITLE_MAX,
    )
    date: str = arg(
        Kind.WORD,
        help="the day: 2027-01-16, today, tomorrow or mon..sun (the coming one)",
        required=True,
        max_len=20,
    )
    time: dt.time = arg(
        Kind.TIME, help="the start, 24-hour like 08:30, in the club's time zone", required=True
    )
    place: str | None = arg(
        Kind.WORD, help='where to meet, like "Riverside gate"', max_len=EVENT_PLACE_MAX
    )
    notes: str | None = arg(
        Kind.WORD,
        help="anything else: pace groups, what to bring",
        max_len=EVENT_NOTES_MAX,
        lines=True,
    )


@command(
    "event create",
    usage='/event create group:G "TITLE" date:D time:HH:MM [place:"..."] [notes:"..."]',
    summary="call a club run for a group, posted to its channel with RSVP buttons",
    action=Action.MANAGE_EVENTS,
)
async def create_event(cmd: CreateEvent, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    require(ctx, Action.MANAGE_EVENTS)
    group = await find_group(ctx, cmd.group)
    zone = ZoneInfo(org.timezone)
    try:
        day = grammar.parse_date(cmd.date, ctx.now.astimezone(zone).date(), "forward")
    except GrammarError as exc:
        raise GrammarError(f"date: {exc.message}") from None
    starts_at = due_instant(day, cmd.time, zone)
    if starts_at <= ctx.now:
        raise Refusal(
            f"{when_text(starts_at, org.timezone)} is in the past; an event starts later "
            "than now (times are the club's).",
            show_usage=True,
        )
    repo = ctx.uow.repo
    links = await repo.group_links(group.id)
    if not links:
        name = f'"{group.name}"' if " " in group.name else group.name
        raise Refusal(
            f"{group.name} has no linked channel to post the event to: type "
            f"/group link {name} in the group's channel first."
        )
    event = await repo.create_event(
        org_id=org.id,
        group_id=group.id,
        title=cmd.title,
        starts_at=starts_at,
        place=cmd.place,
        notes=cmd.notes,
        created_by=ctx.account.id,
        now=ctx.now,
    )
    await ctx.queue(
        [
            # a post not out by the start is dropped: nobody can answer it any more
            {
                "key": event_key(POST, event.id, link),
                "kind": POST,
                "group_channel_id": link,
                "expires_at": starts_at,
            }
            for link in links
        ]
    )
    await ctx.audit("event_create", None, f"#{event.public_id} {group.name}: {cmd.title}")
    lines = event_lines(event, org.timezone, group.name)
    ctx.reply(
        "\n".join(
            [
                "Event created and posted to the group's channel with Going / Maybe / Can't:",
                *lines,
                f"See the answers with /events group:{group.name}; call it off with "
                f"/event cancel #{event.public_id}.",
            ]
        )
    )


# -- /event cancel ----------------------------------------------------------------------


@dataclass(frozen=True)
class CancelEvent:
    event: str = _event_word()


@command(
    "event cancel",
    usage="/event cancel #ID",
    summary="call off a club run: those going are told by DM, the group in its channel",
    action=Action.MANAGE_EVENTS,
)
async def cancel_event(cmd: CancelEvent, ctx: Ctx) -> None:
    ctx.require_org()
    require(ctx, Action.MANAGE_EVENTS)
    found = await visible_event(ctx, cmd.event)
    _closed(found, ctx.now, "to call off")
    event, repo = found.event, ctx.uow.repo
    await repo.cancel_event(event, ctx.now)
    going = [a for a in await repo.going_accounts(event.id) if a != ctx.account.id]
    text = cancelled_text(event, found.zone, found.group_name)
    for account_id in going:
        key = event_key(CANCELLED, event.id, account_id)
        ctx.dm(text, account_id=account_id, kind=CANCELLED, key=key)
    links = await repo.group_links(event.group_id)
    await ctx.queue(
        [
            {
                "key": event_key(CANCELLED_POST, event.id, link),
                "kind": CANCELLED_POST,
                "group_channel_id": link,
            }
            for link in links
        ]
    )
    await ctx.audit("event_cancel", None, f"#{event.public_id} {found.group_name}: {event.title}")
    told = f"{len(going)} {'person' if len(going) == 1 else 'people'} going"
    where = " and the group's channel" if links else ""
    ctx.reply(
        f"{event.title} (#{event.public_id}), {when_text(event.starts_at, found.zone)}, is "
        f"cancelled. I'm telling the {told} by DM{where}."
    )


# -- /rsvp -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rsvp:
    event: str = _event_word()
    answer: str = arg(
        Kind.CHOICE,
        help="going, maybe or no",
        positional=True,
        required=True,
        choices=ANSWERS,
    )


SAID = {
    "going": "You're going to",
    "maybe": "You're a maybe for",
    "no": "Noted: you can't make",
}


@command(
    "rsvp",
    usage="/rsvp #ID going|maybe|no",
    summary="answer a club run: going, maybe or no (change it any time before it starts)",
    action=Action.RSVP,
)
async def rsvp(cmd: Rsvp, ctx: Ctx) -> None:
    ctx.require_org()
    found = await visible_event(ctx, cmd.event)
    event = found.event
    require(ctx, Action.RSVP, Target(in_group=found.in_group, name=f"#{event.public_id}"))
    _closed(found, ctx.now, "to answer")
    repo = ctx.uow.repo
    await repo.set_rsvp(event.id, ctx.account.id, cmd.answer, ctx.now)
    counts = (await repo.rsvp_counts([event.id])).get(event.id, {})
    lines = [
        f"{SAID[cmd.answer]} {event.title} (#{event.public_id}), "
        f"{when_text(event.starts_at, found.zone)}.",
        f"Answers so far: {counts_text(counts)}.",
    ]
    if cmd.answer == "going" and ctx.now < event.starts_at - REMIND_BEFORE:
        lines.append("I'll remind you by DM 2 hours before it starts.")
    ctx.reply("\n".join(lines))


# -- /events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListEvents:
    group: str | None = arg(
        Kind.WORD,
        help="only this group's events",
        max_len=GROUP_NAME_MAX,
        suggest=Suggest.GROUP,
    )


@command(
    "events",
    usage="/events [group:G]",
    summary="upcoming club runs with their answers and who is going",
    action=Action.VIEW_EVENTS,
)
async def list_events(cmd: ListEvents, ctx: Ctx) -> None:
    org, me = ctx.require_org()
    repo = ctx.uow.repo
    group_id = None
    where = "your groups"
    if cmd.group is not None:
        group = await find_group(ctx, cmd.group)
        in_group = await repo.in_group(group.id, me.id) is not None
        require(ctx, Action.VIEW_EVENTS, Target(in_group=in_group, name=shown(cmd.group)))
        group_id, where = group.id, group.name
    elif ctx.viewer.is_coach:
        where = "the club"
    found = await repo.upcoming_events(
        ctx.viewer, org.id, ctx.now, group_id=group_id, limit=SHOWN + 1
    )
    if not found:
        hint = " A coach calls one with /event create." if not ctx.viewer.is_coach else ""
        ctx.reply(f"No upcoming events in {where}.{hint}")
        return
    shown_events = found[:SHOWN]
    ids = [f.event.id for f in shown_events]
    counts = await repo.rsvp_counts(ids)
    names = await repo.going_names(ids)
    mine = await repo.answers_of(ctx.account.id, ids)
    lines = [f"Upcoming events in {where}:"]
    for f in shown_events:
        lines += event_lines(f.event, f.zone, f.group_name)
        answered = counts_text(counts.get(f.event.id, {}))
        going = names.get(f.event.id, [])
        if going:
            more = len(going) - NAMES_SHOWN
            listed = ", ".join(going[:NAMES_SHOWN]) + (f" and {more} more" if more > 0 else "")
            answered += f" — going: {listed}"
        lines.append(answered)
        lines.append(f"Your answer: {mine.get(f.event.id, 'none yet')}.")
        lines.append("")
    if len(found) > SHOWN:
        lines.append(f"Only the first {SHOWN} are shown; narrow with /events group:G.")
    ctx.reply("\n".join(lines).rstrip())
