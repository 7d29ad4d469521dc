"""The planner: inserts the scheduled messages that are due, idempotently (SPEC §6).

Every process may run it at any moment: rows are keyed by (recipient, kind, local
date) and inserted with ON CONFLICT DO NOTHING, so a second run adds none. The work is
set-based — one INSERT ... SELECT per distinct (time zone, reminder time) — so 100,000
athletes cost a handful of statements, not 100,000. Only rows due by now are planned;
a daily DM is planned while its local day lasts, so after downtime today's still goes
out and earlier days' never do.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, and_, cast, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.schedule.localtime import due_instant, end_of_day, local_today, next_occurrence
from bot.schedule.outbox import insert_ignoring_duplicates
from storage.models import (
    Account,
    Group,
    GroupChannel,
    Membership,
    Org,
    OutboxMessage,
    PlanAssignment,
)
from storage.types import UTCDateTime

DIGEST_AT = time(7, 0)
LEADERBOARD_AT = time(8, 0)
LEADERBOARD_WEEKDAY = 0  # Monday
COLUMNS = [
    "key",
    "kind",
    "account_id",
    "group_channel_id",
    "local_date",
    "due_at",
    "expires_at",
    "status",
    "attempts",
    "created_at",
]


def _zone() -> Any:
    return func.coalesce(Account.timezone, Org.timezone)


def _people() -> Any:
    return (
        select()
        .select_from(Account)
        .join(Membership, Membership.account_id == Account.id)
        .join(Org, Org.id == Membership.org_id)
        .where(Membership.status == "active")
    )


def _on_plan(day: date, due: datetime) -> Any:
    """On a plan that covers `day` and existed at the reminder time (a plan assigned at
    noon starts its DMs the next morning; its own DM already showed the first week)."""
    return exists(
        select(PlanAssignment.id).where(
            PlanAssignment.membership_id == Membership.id,
            PlanAssignment.start_date <= day,
            PlanAssignment.end_date >= day,
            PlanAssignment.created_at <= literal(due, UTCDateTime()),
        )
    )


def _athletes() -> Any:
    return _people().where(Membership.is_athlete.is_(True), Account.notify_daily.is_(True))


def _coaches() -> Any:
    return _people().where(Membership.is_coach.is_(True), Account.notify_digest.is_(True))


def _key(prefix: str, id_column: Any, day: date) -> Any:
    return literal(f"{prefix}:") + cast(id_column, String) + literal(f":{day.isoformat()}")


class Planner:
    def __init__(self, sessions: async_sessionmaker[Any], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def plan(self, now: datetime | None = None) -> int:
        """Insert every scheduled message due by `now`; returns how many were new."""
        now = now or self.clock.now()
        async with self.sessions() as session, session.begin():
            added = await self._daily(session, now)
            added += await self._digests(session, now)
            added += await self._leaderboards(session, now)
        return added

    async def _insert(self, session: AsyncSession, select_rows: Any) -> int:
        stmt = (
            insert_ignoring_duplicates(session)
            .from_select(COLUMNS, select_rows)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result: Any = await session.execute(stmt)
        return max(int(result.rowcount or 0), 0)

    @staticmethod
    def _values(
        kind: str,
        key: Any,
        account: Any,
        channel: Any,
        day: date,
        due: datetime,
        ends: datetime,
        now: datetime,
    ) -> list[Any]:
        return [
            key,
            literal(kind),
            account,
            channel,
            literal(day, Date()),
            literal(due, UTCDateTime()),
            literal(ends, UTCDateTime()),
            literal("pending"),
            literal(0),
            literal(now, UTCDateTime()),
        ]

    async def _daily(self, session: AsyncSession, now: datetime) -> int:
        soon = (now - timedelta(days=2)).date()
        pairs = await session.execute(
            _athletes()
            .add_columns(_zone(), Account.reminder_time)
            .where(
                exists(
                    select(PlanAssignment.id).where(
                        PlanAssignment.membership_id == Membership.id,
                        PlanAssignment.end_date >= soon,
                    )
                )
            )
            .distinct()
        )
        added = 0
        for zone_name, reminder in pairs.all():
            zone = ZoneInfo(zone_name)
            day = local_today(now, zone)
            due = due_instant(day, time.fromisoformat(reminder), zone)
            ends = end_of_day(day, zone)
            if not due <= now < ends:
                continue
            rows = (
                _athletes()
                .add_columns(
                    *self._values(
                        "daily",
                        _key("daily", Account.id, day),
                        Account.id,
                        literal(None),
                        day,
                        due,
                        ends,
                        now,
                    )
                )
                .where(_zone() == zone_name, Account.reminder_time == reminder, _on_plan(day, due))
            )
            added += await self._insert(session, rows)
        return added

    async def _digests(self, session: AsyncSession, now: datetime) -> int:
        zones = await session.scalars(_coaches().add_columns(_zone()).distinct())
        added = 0
        for zone_name in zones.all():
            zone = ZoneInfo(zone_name)
            day = local_today(now, zone)
            due, ends = due_instant(day, DIGEST_AT, zone), end_of_day(day, zone)
            if not due <= now < ends:
                continue
            rows = (
                _coaches()
                .add_columns(
                    *self._values(
                        "digest",
                        _key("digest", Account.id, day),
                        Account.id,
                        literal(None),
                        day,
                        due,
                        ends,
                        now,
                    )
                )
                .where(_zone() == zone_name)
            )
            added += await self._insert(session, rows)
        return added

    def _channels(self) -> Any:
        return (
            select()
            .select_from(GroupChannel)
            .join(Group, Group.id == GroupChannel.group_id)
            .join(Org, Org.id == Group.org_id)
        )

    async def _leaderboards(self, session: AsyncSession, now: datetime) -> int:
        zones = await session.scalars(self._channels().add_columns(Org.timezone).distinct())
        added = 0
        for zone_name in zones.all():
            zone = ZoneInfo(zone_name)
            day = local_today(now, zone)
            if day.weekday() != LEADERBOARD_WEEKDAY:
                continue
            due, ends = due_instant(day, LEADERBOARD_AT, zone), end_of_day(day, zone)
            if not due <= now < ends:
                continue
            rows = (
                self._channels()
                .add_columns(
                    *self._values(
                        "leaderboard",
                        _key("leaderboard", GroupChannel.id, day),
                        literal(None),
                        GroupChannel.id,
                        day,
                        due,
                        ends,
                        now,
                    )
                )
                # a channel linked after Monday 08:00 starts with next week's board
                .where(
                    Org.timezone == zone_name, GroupChannel.linked_at < literal(due, UTCDateTime())
                )
            )
            added += await self._insert(session, rows)
        return added

    async def next_due_after(self, after: datetime) -> datetime | None:
        """The first instant after `after` when something may fall due: the simulated
        clock of the console jumps from one to the next instead of ticking each minute."""
        candidates: list[datetime] = []
        async with self.sessions() as session:
            soon = (after - timedelta(days=2)).date()
            pairs = await session.execute(
                _athletes()
                .add_columns(_zone(), Account.reminder_time)
                .where(
                    exists(
                        select(PlanAssignment.id).where(
                            PlanAssignment.membership_id == Membership.id,
                            PlanAssignment.end_date >= soon,
                        )
                    )
                )
                .distinct()
            )
            for zone_name, reminder in pairs.all():
                candidates.append(
                    next_occurrence(after, time.fromisoformat(reminder), ZoneInfo(zone_name))
                )
            for zone_name in await session.scalars(_coaches().add_columns(_zone()).distinct()):
                candidates.append(next_occurrence(after, DIGEST_AT, ZoneInfo(zone_name)))
            channel_zones = await session.scalars(
                self._channels().add_columns(Org.timezone).distinct()
            )
            for zone_name in channel_zones:
                candidates.append(
                    next_occurrence(
                        after, LEADERBOARD_AT, ZoneInfo(zone_name), weekday=LEADERBOARD_WEEKDAY
                    )
                )
            pending = await session.scalar(
                select(func.min(OutboxMessage.due_at)).where(
                    OutboxMessage.status == "pending", OutboxMessage.due_at > after
                )
            )
            leases = await session.scalar(
                select(func.min(OutboxMessage.lease_until)).where(
                    OutboxMessage.status == "sending", OutboxMessage.lease_until > after
                )
            )
        candidates += [when for when in (pending, leases) if when is not None]
        return min(candidates) if candidates else None


__all__ = ["Planner", "and_"]
