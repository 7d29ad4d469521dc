"""Club runs with RSVP (issue 15 item 3): events of a group, the answers to them, what
the dispatcher reads to render an event's messages when they go, and the plain rows a
calendar feed reads its events in `storage/repositories/calendar.py`.

Lists that depend on who asks take their WHERE clause from `storage.visibility`
(`thing_filter(Thing.EVENT, ...)`), compiled from the policy table; a single event is
fetched with the facts the policy decides it from (`can_see_event`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.policy import Thing, Viewer
from storage.models import (
    Account,
    ClubEvent,
    EventRsvp,
    Group,
    GroupChannel,
    GroupMember,
    Membership,
    Org,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, thing_filter, viewer_params


@dataclass(frozen=True)
class EventFound:
    """An event with its group's name, its org's time zone and whether the asker is in
    its group: what a handler or a renderer decides from."""

    event: ClubEvent
    group_name: str
    zone: str
    in_group: bool = False


def _found() -> Select[ClubEvent, str, str]:
    return (
        select(ClubEvent, Group.name, Org.timezone)
        .join(Group, Group.id == ClubEvent.group_id)
        .join(Org, Org.id == ClubEvent.org_id)
    )


@per_viewer_shape
def _upcoming(viewer: Viewer, one_group: bool) -> Select[ClubEvent, str, str]:
    """Events not cancelled that start after `now`, that the viewer may see (athletes:
    those of their groups), soonest first, `limit` of them."""
    query = _found().where(
        ClubEvent.org_id == bindparam("org"),
        ClubEvent.cancelled_at.is_(None),
        ClubEvent.starts_at > bindparam("now"),
        thing_filter(Thing.EVENT, viewer),
    )
    if one_group:
        query = query.where(ClubEvent.group_id == bindparam("group"))
    return query.order_by(ClubEvent.starts_at, ClubEvent.id).limit(bindparam("limit"))


class EventQueries(RepositoryBase):
    async def create_event(
        self,
        *,
        org_id: int,
        group_id: int,
        title: str,
        starts_at: datetime,
        place: str | None,
        notes: str | None,
        created_by: int,
        now: datetime,
    ) -> ClubEvent:
        event: ClubEvent = await self.add(
            ClubEvent(
                org_id=org_id,
                group_id=group_id,
                title=title,
                starts_at=starts_at,
                place=place,
                notes=notes,
                created_by=created_by,
                created_at=now,
            )
        )
        return event

    async def event_in_org(
        self, org_id: int, public_id: str, membership_id: int | None
    ) -> EventFound | None:
        """The org's event with that public id, whoever may see it (the handler asks the
        policy), with whether `membership_id` is in its group. Locked until the end of
        the transaction on PostgreSQL, so an answer and a cancellation of one event run
        one after the other."""
        row = (
            await self.s.execute(
                _found().where(ClubEvent.org_id == org_id, ClubEvent.public_id == public_id)
            )
        ).first()
        if row is None:
            return None
        event, group_name, zone = row
        await self.lock_rows(ClubEvent, event.id)
        in_group = membership_id is not None and (
            await self.s.get(GroupMember, (event.group_id, membership_id)) is not None
        )
        return EventFound(event, group_name, zone, in_group)

    async def cancel_event(self, event: ClubEvent, now: datetime) -> None:
        event.cancelled_at = now
        await self.s.flush()

    async def set_rsvp(self, event_id: int, account_id: int, answer: str, now: datetime) -> None:
        """One answer per person, the newest standing (an upsert, so two presses at once
        leave one row)."""
        module: Any = postgresql if self._postgres() else sqlite
        statement = module.insert(EventRsvp).values(
            event_id=event_id, account_id=account_id, answer=answer, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["event_id", "account_id"],
            set_={"answer": statement.excluded.answer, "updated_at": statement.excluded.updated_at},
        )
        await self.s.execute(statement)

    async def rsvp_counts(self, event_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Going / maybe / no per event (events nobody answered are missing)."""
        if not event_ids:
            return {}
        rows = await self.s.execute(
            select(EventRsvp.event_id, EventRsvp.answer, func.count())
            .where(EventRsvp.event_id.in_(list(event_ids)))
            .group_by(EventRsvp.event_id, EventRsvp.answer)
        )
        counts: dict[int, dict[str, int]] = {}
        for event_id, answer, n in rows.all():
            counts.setdefault(event_id, {})[answer] = int(n)
        return counts

    async def going_names(self, event_ids: Sequence[int]) -> dict[int, list[str]]:
        """The display names of those going, per event, in name order."""
        if not event_ids:
            return {}
        rows = await self.s.execute(
            select(EventRsvp.event_id, Account.display_name)
            .join(Account, Account.id == EventRsvp.account_id)
            .where(EventRsvp.event_id.in_(list(event_ids)), EventRsvp.answer == "going")
            .order_by(EventRsvp.event_id, func.lower(Account.display_name), Account.id)
        )
        names: dict[int, list[str]] = {}
        for event_id, name in rows.all():
            names.setdefault(event_id, []).append(name)
        return names

    async def answers_of(self, account_id: int, event_ids: Sequence[int]) -> dict[int, str]:
        """The account's own answer to each of the events it answered."""
        if not event_ids:
            return {}
        rows = await self.s.execute(
            select(EventRsvp.event_id, EventRsvp.answer).where(
                EventRsvp.account_id == account_id, EventRsvp.event_id.in_(list(event_ids))
            )
        )
        return {event_id: answer for event_id, answer in rows.all()}

    async def going_accounts(self, event_id: int) -> list[int]:
        rows = await self.s.scalars(
            select(EventRsvp.account_id)
            .where(EventRsvp.event_id == event_id, EventRsvp.answer == "going")
            .order_by(EventRsvp.account_id)
        )
        return list(rows.all())

    async def upcoming_events(
        self,
        viewer: Viewer,
        org_id: int,
        now: datetime,
        *,
        group_id: int | None = None,
        limit: int = 20,
    ) -> list[EventFound]:
        """The viewer's upcoming events (the policy's filter), soonest first."""
        params = {**viewer_params(viewer), "org": org_id, "now": now, "limit": limit}
        if group_id is not None:
            params["group"] = group_id
        rows = await self.s.execute(_upcoming(viewer, group_id is not None), params)
        return [EventFound(event, name, zone) for event, name, zone in rows.all()]

    async def group_links(self, group_id: int) -> list[int]:
        """The ids of the group's linked channels (one per platform)."""
        rows = await self.s.scalars(
            select(GroupChannel.id)
            .where(GroupChannel.group_id == group_id)
            .order_by(GroupChannel.id)
        )
        return list(rows.all())

    # -- what the dispatcher renders from, when an event's message goes -------------------

    async def event_by_id(self, event_id: int) -> EventFound | None:
        row = (await self.s.execute(_found().where(ClubEvent.id == event_id))).first()
        return EventFound(row[0], row[1], row[2]) if row is not None else None

    async def event_channel(self, event_id: int, group_channel_id: int) -> GroupChannel | None:
        """The linked channel, if it is still one of the event's group's."""
        return await self.s.scalar(
            select(GroupChannel)
            .join(ClubEvent, ClubEvent.group_id == GroupChannel.group_id)
            .where(GroupChannel.id == group_channel_id, ClubEvent.id == event_id)
        )

    async def reminder_facts(
        self, event_id: int, account_id: int
    ) -> tuple[EventFound, Membership, str | None] | None:
        """The event (with whether the account is in its group), the account's membership
        of the event's org and its answer now; None when it is no member there."""
        found = await self.event_by_id(event_id)
        if found is None:
            return None
        member = await self.s.scalar(
            select(Membership).where(
                Membership.account_id == account_id, Membership.org_id == found.event.org_id
            )
        )
        if member is None:
            return None
        in_group = await self.s.get(GroupMember, (found.event.group_id, member.id)) is not None
        answer = await self.s.scalar(
            select(EventRsvp.answer).where(
                EventRsvp.event_id == event_id, EventRsvp.account_id == account_id
            )
        )
        return EventFound(found.event, found.group_name, found.zone, in_group), member, answer
