"""Calendar feeds (issue 15 `/calendar`): the URLs handed out, kept as hashes of their
tokens, and what a feed reads besides the schedule (`ScheduleQueries.planned_between`):
the descriptions a feed may show, and the groups' events.

No decision is made here: `bot.feeds` checks, at every fetch, that the owner may still
have the feed (the policy), and `bot.policy.feed_shows_description` says which
descriptions a feed shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.feed import FeedEvent
from storage.models import Account, CalendarFeed, ClubEvent, Group, Membership, Org, Workout
from storage.repositories.base import RepositoryBase


@dataclass(frozen=True)
class FeedOwner:
    """A live feed with the rows its answer depends on: the owner's account, the
    membership the feed was made under (the feed dies with it) and its org."""

    kind: str
    group_id: int | None
    account: Account
    membership: Membership
    org: Org


_OWNER = (
    select(CalendarFeed.kind, CalendarFeed.group_id, Account, Membership, Org)
    .join(Account, Account.id == CalendarFeed.account_id)
    .join(Membership, Membership.id == CalendarFeed.membership_id)
    .join(Org, Org.id == CalendarFeed.org_id)
)


def _same_feed(account_id: int, kind: str, group_id: int | None) -> list[ColumnElement[bool]]:
    return [
        CalendarFeed.account_id == account_id,
        CalendarFeed.kind == kind,
        CalendarFeed.group_id.is_(None) if group_id is None else CalendarFeed.group_id == group_id,
        CalendarFeed.revoked_at.is_(None),
    ]


class CalendarQueries(RepositoryBase):
    async def add_calendar_feed(
        self,
        token_hash: str,
        member: Membership,
        *,
        kind: str,
        group_id: int | None,
        at: datetime,
    ) -> None:
        await self.insert_returning_id(
            CalendarFeed,
            token_hash=token_hash,
            account_id=member.account_id,
            membership_id=member.id,
            org_id=member.org_id,
            kind=kind,
            group_id=group_id,
            created_at=at,
            revoked_at=None,
        )

    async def live_calendar_feeds(self, account_id: int, kind: str, group_id: int | None) -> int:
        """How many URLs of this one feed (one's own, or of one group) still answer."""
        query = select(func.count()).where(*_same_feed(account_id, kind, group_id))
        return int(await self.s.scalar(query) or 0)

    async def revoke_calendar_feeds(
        self, account_id: int, kind: str, group_id: int | None, at: datetime
    ) -> int:
        """Every live URL of this feed stops answering (`/calendar reset`)."""
        done = await self.s.execute(
            update(CalendarFeed)
            .where(*_same_feed(account_id, kind, group_id))
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def calendar_feed_owner(self, token_hash: str) -> FeedOwner | None:
        """The live feed whose token hashes to `token_hash`, or None (unknown, revoked,
        or gone with its membership, account, org or group)."""
        query = _OWNER.where(
            CalendarFeed.token_hash == token_hash, CalendarFeed.revoked_at.is_(None)
        )
        row = (await self.s.execute(query)).first()
        if row is None:
            return None
        kind, group_id, account, membership, org = row
        return FeedOwner(kind, group_id, account, membership, org)

    async def group_in_org(self, group_id: int, org_id: int) -> Group | None:
        return await self.s.scalar(
            select(Group).where(Group.id == group_id, Group.org_id == org_id)
        )

    async def feed_descriptions(self, workout_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(visibility, description) of each of these workouts that has a description;
        which of them a feed shows is the policy's to say."""
        if not workout_ids:
            return {}
        query = select(Workout.id, Workout.visibility, Workout.description).where(
            Workout.id.in_(sorted(set(workout_ids))), Workout.description.is_not(None)
        )
        return {row.id: (row.visibility, row.description) for row in await self.s.execute(query)}

    async def group_events_between(
        self, group_ids: Sequence[int], first: datetime, last: datetime
    ) -> list[FeedEvent]:
        """The events of these groups starting from `first` until before `last` (UTC),
        cancelled ones included (a calendar app then shows them called off), in start
        order, as `FeedEvent`s (key: the event's public id; group: its group's name).
        Every feed reads its events through this one method — an athlete's feed for their
        groups, a coach's `/calendar group:G` for that group; the caller has asked the
        policy whether the feed's owner may see those groups' events."""
        if not group_ids:
            return []
        rows = await self.s.execute(
            select(ClubEvent, Group.name)
            .join(Group, Group.id == ClubEvent.group_id)
            .where(
                ClubEvent.group_id.in_(group_ids),
                ClubEvent.starts_at >= first,
                ClubEvent.starts_at < last,
            )
            .order_by(ClubEvent.starts_at, ClubEvent.id)
        )
        return [
            FeedEvent(
                key=event.public_id,
                group=group_name,
                title=event.title,
                starts_at=event.starts_at,
                place=event.place,
                notes=event.notes,
                cancelled=event.cancelled_at is not None,
            )
            for event, group_name in rows.all()
        ]
