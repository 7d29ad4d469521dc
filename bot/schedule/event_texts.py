"""What an event's outbox messages say, rendered when they go (SPEC §6: scheduled rows
carry no text), from the event as it stands then: a post of an event cancelled since is
dropped, and so is a reminder to someone who no longer goes, who left the group or whose
membership was suspended (issue 15 item 3).

The rows name their event in their key (`bot.domain.club_events.event_key`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.club_events import (
    CANCELLED_POST,
    POST,
    REMINDER,
    cancelled_text,
    event_id_of_key,
    post_text,
    reminder_text,
    rsvp_buttons,
)
from bot.identity import member_viewer
from bot.messages import ChannelRef, Outgoing, Via
from bot.platforms import facts_of
from bot.policy import can_see_event

if TYPE_CHECKING:
    from storage.models import GroupChannel, OutboxMessage
    from storage.outbox_reads import OutboxReads


def _channel_of(link: GroupChannel) -> ChannelRef:
    name = facts_of(link.platform).channel_name(link.channel_id)
    return ChannelRef(link.platform, link.space_id, link.channel_id, name)


async def event_post(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """The new event in one linked channel of its group, with Going / Maybe / Can't."""
    event_id = event_id_of_key(row.key)
    if event_id is None or row.group_channel_id is None:
        return None
    found = await reads.events.event_by_id(event_id)
    link = await reads.events.event_channel(event_id, row.group_channel_id)
    if found is None or link is None or found.event.cancelled_at is not None:
        return None
    event = found.event
    return Outgoing(
        Via.CHANNEL,
        post_text(event, found.zone, found.group_name),
        channel=_channel_of(link),
        actions=rsvp_buttons(event.public_id),
        kind=POST,
    )


async def event_cancel_post(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """The news that an event is off, in one linked channel of its group."""
    event_id = event_id_of_key(row.key)
    if event_id is None or row.group_channel_id is None:
        return None
    found = await reads.events.event_by_id(event_id)
    link = await reads.events.event_channel(event_id, row.group_channel_id)
    if found is None or link is None or found.event.cancelled_at is None:
        return None
    text = cancelled_text(found.event, found.zone, found.group_name)
    return Outgoing(Via.CHANNEL, text, channel=_channel_of(link), kind=CANCELLED_POST)


async def event_reminder(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """The DM to one person going, before the start: only if they still go, the event is
    still on, and they are an active member who may still see it."""
    event_id = event_id_of_key(row.key)
    if event_id is None or row.account_id is None:
        return None
    facts = await reads.events.reminder_facts(event_id, row.account_id)
    if facts is None:
        return None
    found, member, answer = facts
    event = found.event
    if answer != "going" or event.cancelled_at is not None or member.status != "active":
        return None
    viewer = member_viewer(member)
    if not can_see_event(viewer, event_org_id=event.org_id, in_group=found.in_group):
        return None
    text = reminder_text(event, found.zone, found.group_name)
    return Outgoing(Via.DM, text, account_id=row.account_id, kind=REMINDER)
