"""The planner: inserts the scheduled messages that are due, idempotently (SPEC §6).

Every process may run it at any moment: rows are keyed by (recipient, kind, local
date) and inserted with ON CONFLICT DO NOTHING, so a second run adds none. Only rows due
by now are planned; a daily DM is planned while its local day lasts, so after downtime
today's still goes out and earlier days' never do.

The work is set-based and scans the people once per kind, however many zones and
reminder times there are: Python works out which *moments* — a (zone, local time) whose
instant has come on its current local day — are due, and one INSERT ... SELECT joins
them, as a small derived table, to the people they concern. Rows already in the outbox
are skipped by the statement itself (NOT EXISTS on the key), so a run that finds nothing
new writes nothing; ON CONFLICT DO NOTHING still settles a race with another process.

A moment planned by this Planner is remembered for `REMEMBER` of the injected clock and
not planned again meanwhile; see `Planner.plan` for why that is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, and_, cast, exists, func, literal, or_, select, union_all
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
REMEMBER = timedelta(minutes=5)
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


@dataclass(frozen=True)
class Moment:
    """A local time in one zone on that zone's current local day, from its instant
    (`due`) until the day ends (`ends`): what the rows planned for it carry."""

    zone: str
    at: str  # 'HH:MM'
    day: date
    due: datetime
    ends: datetime


def moment_of(
    zone_name: str, at: str, now: datetime, *, weekday: int | None = None
) -> Moment | None:
    """The moment of local `at` in `zone_name` today (there), if it has come by `now`."""
    zone = ZoneInfo(zone_name)
    day = local_today(now, zone)
    if weekday is not None and day.weekday() != weekday:
        return None
    due, ends = due_instant(day, time.fromisoformat(at), zone), end_of_day(day, zone)
    return Moment(zone_name, at, day, due, ends) if due <= now < ends else None


def _moments(moments: Sequence[Moment]) -> Any:
    """Moments as a derived table `due` (zone, at, local_date, suffix, due_at, expires_at),
    built from bound literals (a UNION ALL of one-row SELECTs works on both stores)."""
    rows = [
        select(
            literal(m.zone, String()).label("zone"),
            literal(m.at, String()).label("at"),
            literal(m.day, Date()).label("local_date"),
            literal(f":{m.day.isoformat()}", String()).label("suffix"),
            literal(m.due, UTCDateTime()).label("due_at"),
            literal(m.ends, UTCDateTime()).label("expires_at"),
        )
        for m in moments
    ]
    return (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("due")


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


def _on_plan(day: Any, due: Any) -> Any:
    """On a plan that covers `day` and existed at the reminder time (a plan assigned at
    noon starts its DMs the next morning; its own DM already showed the first week)."""
    return exists(
        select(PlanAssignment.id).where(
            PlanAssignment.membership_id == Membership.id,
            PlanAssignment.start_date <= day,
            PlanAssignment.end_date >= day,
            PlanAssignment.created_at <= due,
        )
    )


def _settings_apply(day: Any) -> Any:
    """The account's zone and reminder time govern `day` (a change made during a day
    applies from the next one: `/settings` plans that day under the old settings)."""
    return or_(Account.daily_settings_from.is_(None), Account.daily_settings_from <= day)


def _athletes() -> Any:
    return _people().where(Membership.is_athlete.is_(True), Account.notify_daily.is_(True))


def _coaches() -> Any:
    return _people().where(Membership.is_coach.is_(True), Account.notify_digest.is_(True))


def _with_plan_soon(now: datetime) -> Any:
    soon = (now - timedelta(days=2)).date()
    return exists(
        select(PlanAssignment.id).where(
            PlanAssignment.membership_id == Membership.id, PlanAssignment.end_date >= soon
        )
    )


def _rows(kind: str, key: Any, account: Any, channel: Any, due: Any, now: datetime) -> list[Any]:
    return [
        key,
        literal(kind),
        account,
        channel,
        due.c.local_date,
        due.c.due_at,
        due.c.expires_at,
        literal("pending"),
        literal(0),
        literal(now, UTCDateTime()),
    ]


def _new(key: Any) -> Any:
    return ~exists(select(OutboxMessage.id).where(OutboxMessage.key == key))


async def _insert(session: AsyncSession, select_rows: Any) -> int:
    stmt = (
        insert_ignoring_duplicates(session)
        .from_select(COLUMNS, select_rows)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    result: Any = await session.execute(stmt)
    return max(int(result.rowcount or 0), 0)


async def insert_daily(
    session: AsyncSession,
    moments: Sequence[Moment],
    now: datetime,
    *,
    account_id: int | None = None,
) -> int:
    """Insert the daily DMs of `moments` for every athlete they concern, in one statement.

    Without `account_id`, a moment concerns the athletes whose current zone and reminder
    time it is; with it, only that account, whatever its settings (for `/settings`, which
    plans today's DM under the settings it is about to replace)."""
    if not moments:
        return 0
    due = _moments(moments)
    key = literal("daily:") + cast(Account.id, String) + due.c.suffix
    if account_id is None:
        match = and_(due.c.zone == _zone(), due.c.at == Account.reminder_time)
        who = _athletes()
    else:
        match = literal(True)
        who = _athletes().where(Account.id == account_id)
    rows = (
        who.join(due, match)
        .add_columns(*_rows("daily", key, Account.id, literal(None), due, now))
        .where(
            _settings_apply(due.c.local_date),
            _on_plan(due.c.local_date, due.c.due_at),
            _new(key),
        )
    )
    return await _insert(session, rows)


async def settings_changed(
    session: AsyncSession,
    account: Account,
    before: tuple[str, str],
    after: tuple[str, str],
    now: datetime,
    *,
    daily_on: bool = False,
) -> None:
    """What `/settings` does to the daily DM, in its own transaction, when a member's
    (zone, reminder time) goes from `before` to `after` or daily DMs are turned on.

    A new zone or reminder time takes effect from the next day (in the old zone): today's
    DM is planned at once under the old settings — due at the old reminder time, or at
    once if that has passed — if the athlete gets one today (the planner's rules) and it
    is not planned yet, and `daily_settings_from` keeps the planner from planning a day
    before the next one under the new settings (a move west would otherwise meet the new
    zone's still-running yesterday). Then whatever the new settings make due already (a
    move far east, daily DMs back on during the day) is planned too, so the planner's
    memory of moments it planned never has to learn about the change."""
    if after != before:
        zone_name, reminder = before
        zone = ZoneInfo(zone_name)
        day = local_today(now, zone)
        today = Moment(
            zone_name,
            reminder,
            day,
            due_instant(day, time.fromisoformat(reminder), zone),
            end_of_day(day, zone),
        )
        await insert_daily(session, [today], now, account_id=account.id)
        first = day + timedelta(days=1)
        if account.daily_settings_from is None or account.daily_settings_from < first:
            account.daily_settings_from = first
    if after != before or daily_on:
        due = moment_of(*after, now)
        if due is not None:
            await insert_daily(session, [due], now, account_id=account.id)


class Planner:
    def __init__(self, sessions: async_sessionmaker[Any], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self._planned: dict[tuple[str, Moment], datetime] = {}

    def forget(self) -> None:
        """Plan every due moment again at the next run (the console does this first)."""
        self._planned.clear()

    def _fresh(self, kind: str, moments: list[Moment], now: datetime) -> list[Moment]:
        """The moments not planned by this Planner within the last `REMEMBER`."""

        def recent(m: Moment) -> bool:
            planned = self._planned.get((kind, m))
            return planned is not None and now - REMEMBER < planned <= now

        return [m for m in moments if not recent(m)]

    async def plan(self, now: datetime | None = None) -> int:
        """Insert every scheduled message due by `now`; returns how many were new.

        A moment this Planner planned less than `REMEMBER` ago is skipped: everyone it
        concerned then got their row, and who joins it later is rare and not urgent — a
        plan assigned after the reminder time starts the next day anyway, `/settings`
        plans its own changes in its transaction, and a member made active again is
        planned once the memory lapses, a few minutes later, while the day lasts."""
        now = now or self.clock.now()
        self._planned = {k: at for k, at in self._planned.items() if k[1].ends > now}
        async with self.sessions() as session, session.begin():
            daily = self._fresh("daily", await self._daily_moments(session, now), now)
            digests = self._fresh("digest", await self._digest_moments(session, now), now)
            boards = self._fresh("leaderboard", await self._board_moments(session, now), now)
            added = await insert_daily(session, daily, now)
            added += await self._digests(session, digests, now)
            added += await self._leaderboards(session, boards, now)
        for kind, moments in (("daily", daily), ("digest", digests), ("leaderboard", boards)):
            self._planned.update(((kind, m), now) for m in moments)
        return added

    @staticmethod
    async def _daily_pairs(session: AsyncSession, now: datetime) -> list[tuple[str, str]]:
        pairs = await session.execute(
            _athletes()
            .add_columns(_zone(), Account.reminder_time)
            .where(_with_plan_soon(now))
            .distinct()
        )
        return [(str(zone), str(reminder)) for zone, reminder in pairs.all()]

    async def _daily_moments(self, session: AsyncSession, now: datetime) -> list[Moment]:
        pairs = await self._daily_pairs(session, now)
        return [m for z, at in pairs if (m := moment_of(z, at, now)) is not None]

    async def _digest_moments(self, session: AsyncSession, now: datetime) -> list[Moment]:
        zones = await session.scalars(_coaches().add_columns(_zone()).distinct())
        at = DIGEST_AT.strftime("%H:%M")
        return [m for z in zones.all() if (m := moment_of(z, at, now)) is not None]

    async def _board_moments(self, session: AsyncSession, now: datetime) -> list[Moment]:
        zones = await session.scalars(self._channels().add_columns(Org.timezone).distinct())
        at = LEADERBOARD_AT.strftime("%H:%M")
        return [
            m
            for z in zones.all()
            if (m := moment_of(z, at, now, weekday=LEADERBOARD_WEEKDAY)) is not None
        ]

    async def _digests(self, session: AsyncSession, moments: list[Moment], now: datetime) -> int:
        if not moments:
            return 0
        due = _moments(moments)
        key = literal("digest:") + cast(Account.id, String) + due.c.suffix
        rows = (
            _coaches()
            .join(due, due.c.zone == _zone())
            .add_columns(*_rows("digest", key, Account.id, literal(None), due, now))
            .where(_new(key))
        )
        return await _insert(session, rows)

    @staticmethod
    def _channels() -> Any:
        return (
            select()
            .select_from(GroupChannel)
            .join(Group, Group.id == GroupChannel.group_id)
            .join(Org, Org.id == Group.org_id)
        )

    async def _leaderboards(
        self, session: AsyncSession, moments: list[Moment], now: datetime
    ) -> int:
        if not moments:
            return 0
        due = _moments(moments)
        key = literal("leaderboard:") + cast(GroupChannel.id, String) + due.c.suffix
        rows = (
            self._channels()
            .join(due, due.c.zone == Org.timezone)
            .add_columns(*_rows("leaderboard", key, literal(None), GroupChannel.id, due, now))
            # a channel linked after Monday 08:00 starts with next week's board
            .where(GroupChannel.linked_at < due.c.due_at, _new(key))
        )
        return await _insert(session, rows)

    async def next_due_after(self, after: datetime) -> datetime | None:
        """The first instant after `after` when something may fall due: the simulated
        clock of the console jumps from one to the next instead of ticking each minute."""
        candidates: list[datetime] = []
        async with self.sessions() as session:
            for zone_name, reminder in await self._daily_pairs(session, after):
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


__all__ = ["Moment", "Planner", "insert_daily", "moment_of", "settings_changed"]
