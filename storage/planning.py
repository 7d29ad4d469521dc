"""The planner's statements (SPEC §6): which (zone, local time) moments can fall due,
and the INSERT ... SELECT that plans a moment's messages exactly once.

The work is set-based and scans the people once per kind, however many zones and
reminder times there are: the planner works out which moments are due, and one
INSERT ... SELECT joins them, as a small derived table, to the people they concern. Rows
already in the outbox are skipped by the statement itself (NOT EXISTS on the key), so a
run that finds nothing new writes nothing; ON CONFLICT DO NOTHING still settles a race
with another process.

`Planning` answers on an open session (a command's: `/settings` plans today's DM
in its own transaction); `PlanningStore` is what the planner holds, one session per run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Account,
    ClubEvent,
    EventRsvp,
    Group,
    GroupChannel,
    Membership,
    Org,
    OutboxMessage,
    PlanAssignment,
    TrainingSession,
)
from storage.outbox import insert_ignoring_duplicates, next_change_after
from storage.types import UTCDateTime

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


class DueMoment(Protocol):
    """A local time in one zone on that zone's current local day, from its instant
    (`due`) until the day ends (`ends`): what the rows planned for it carry."""

    @property
    def zone(self) -> str: ...
    @property
    def at(self) -> str: ...  # 'HH:MM'
    @property
    def day(self) -> date: ...
    @property
    def due(self) -> datetime: ...
    @property
    def ends(self) -> datetime: ...


def _moments(moments: Sequence[DueMoment]) -> Any:
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


def _on_plan_in_week(monday: Any, sunday: Any, due: Any) -> Any:
    """On a plan that covers a day of the week `monday`..`sunday` and existed at the
    recap's moment (a plan ended before it began covers no day)."""
    return exists(
        select(PlanAssignment.id).where(
            PlanAssignment.membership_id == Membership.id,
            PlanAssignment.start_date <= sunday,
            PlanAssignment.end_date >= monday,
            PlanAssignment.start_date <= PlanAssignment.end_date,
            PlanAssignment.created_at <= due,
        )
    )


def _session_on(day: Any) -> Any:
    """A session with a workout on `day`: the daily DM of any other day is a rest-day DM."""
    return exists(
        select(TrainingSession.id).where(
            TrainingSession.membership_id == Membership.id,
            TrainingSession.day == day,
            TrainingSession.workout_id.is_not(None),
        )
    )


def _settings_apply(day: Any) -> Any:
    """The account's zone and reminder time govern `day` (a change made during a day
    applies from the next one: `/settings` plans that day under the old settings)."""
    return or_(Account.daily_settings_from.is_(None), Account.daily_settings_from <= day)


def _athletes() -> Any:
    return _people().where(Membership.is_athlete.is_(True), Account.notify_daily.is_(True))


def _recapped() -> Any:
    return _people().where(Membership.is_athlete.is_(True), Account.notify_weekly.is_(True))


def _coaches() -> Any:
    return _people().where(Membership.is_coach.is_(True), Account.notify_digest.is_(True))


def _channels() -> Any:
    return (
        select()
        .select_from(GroupChannel)
        .join(Group, Group.id == GroupChannel.group_id)
        .join(Org, Org.id == Group.org_id)
    )


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


class Planning:
    """The planner's questions and inserts on one open session."""

    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def _insert(self, select_rows: Any) -> int:
        stmt = (
            insert_ignoring_duplicates(self.s)
            .from_select(COLUMNS, select_rows)
            .on_conflict_do_nothing(index_elements=["key"])
        )
        result: Any = await self.s.execute(stmt)
        return max(int(result.rowcount or 0), 0)

    async def daily_moment_pairs(self, now: datetime) -> list[tuple[str, str]]:
        """The (zone, reminder time) pairs of athletes who may get a daily DM around
        `now` (daily DMs on, on a plan that has not long ended)."""
        pairs = await self.s.execute(
            _athletes()
            .add_columns(_zone(), Account.reminder_time)
            .where(_with_plan_soon(now))
            .distinct()
        )
        return [(str(zone), str(reminder)) for zone, reminder in pairs.all()]

    async def weekly_zones(self) -> list[str]:
        """The zones a weekly recap may fall due in: every club's and every zone an
        account with recaps on chose for itself. A superset of the zones of athletes on a
        plan, read from two small scans without joins (the planner asks on every tick of
        a Sunday evening); a zone with nobody due makes an INSERT that adds nothing."""
        clubs = select(Org.timezone)
        own = select(Account.timezone).where(
            Account.timezone.is_not(None), Account.notify_weekly.is_(True)
        )
        return sorted({str(zone) for zone in (await self.s.scalars(union(clubs, own))).all()})

    async def digest_zones(self) -> list[str]:
        """The zones of coaches who get the morning digest."""
        return list((await self.s.scalars(_coaches().add_columns(_zone()).distinct())).all())

    async def channel_zones(self) -> list[str]:
        """The zones of the clubs with a linked channel (the weekly leaderboard post)."""
        return list((await self.s.scalars(_channels().add_columns(Org.timezone).distinct())).all())

    async def plan_daily(
        self, moments: Sequence[DueMoment], now: datetime, *, account_id: int | None = None
    ) -> int:
        """Insert the daily DMs of `moments` for every athlete they concern, in one
        statement; returns how many were new.

        Without `account_id`, a moment concerns the athletes whose current zone and
        reminder time it is; with it, only that account, whatever its settings (for
        `/settings`, which plans today's DM under the settings it is about to replace)."""
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
                # `notify:restday off`: no DM at all on a day without a session
                or_(Account.notify_restday.is_(True), _session_on(due.c.local_date)),
                _new(key),
            )
        )
        return await self._insert(rows)

    async def plan_weekly(self, moments: Sequence[DueMoment], now: datetime) -> int:
        """Insert the weekly recaps of `moments` (Sundays at 18:00) for every athlete in
        their zone who was on a plan that week; returns how many were new.

        Every moment of one run falls on the same date (at one instant, Sunday is one
        date wherever it is Sunday), so instead of joining the moments as a derived
        table — which SQLite made the outer loop, scanning the athletes once per moment
        and probing the plans of every (moment, athlete) pair — the athletes are scanned
        once, kept when their zone is due, and each row takes its zone's instants from a
        CASE: one statement per date, so one per run."""
        by_day: dict[date, dict[str, DueMoment]] = {}
        for m in moments:
            by_day.setdefault(m.day, {})[m.zone] = m
        added = 0
        for sunday, due in by_day.items():
            zone = _zone()
            due_at = case({z: literal(m.due, UTCDateTime()) for z, m in due.items()}, value=zone)
            ends = case({z: literal(m.ends, UTCDateTime()) for z, m in due.items()}, value=zone)
            key = literal("weekly:") + cast(Account.id, String) + literal(f":{sunday.isoformat()}")
            monday = literal(sunday - timedelta(days=6), Date())
            rows = (
                _recapped()
                .add_columns(
                    key,
                    literal("weekly"),
                    Account.id,
                    literal(None),
                    literal(sunday, Date()),
                    due_at,
                    ends,
                    literal("pending"),
                    literal(0),
                    literal(now, UTCDateTime()),
                )
                .where(
                    zone.in_(sorted(due)),
                    _new(key),
                    _on_plan_in_week(monday, literal(sunday, Date()), due_at),
                )
            )
            added += await self._insert(rows)
        return added

    async def plan_digests(self, moments: Sequence[DueMoment], now: datetime) -> int:
        """Insert the digests of `moments` for every coach in their zone."""
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
        return await self._insert(rows)

    async def plan_leaderboards(self, moments: Sequence[DueMoment], now: datetime) -> int:
        """Insert the weekly leaderboard posts of `moments` for every linked channel of a
        club in their zone."""
        if not moments:
            return 0
        due = _moments(moments)
        key = literal("leaderboard:") + cast(GroupChannel.id, String) + due.c.suffix
        rows = (
            _channels()
            .join(due, due.c.zone == Org.timezone)
            .add_columns(*_rows("leaderboard", key, literal(None), GroupChannel.id, due, now))
            # a channel linked after Monday 08:00 starts with next week's board
            .where(GroupChannel.linked_at < due.c.due_at, _new(key))
        )
        return await self._insert(rows)

    async def plan_event_reminders(self, now: datetime, before: timedelta) -> int:
        """Insert the reminders of the events starting within `before` of `now` (issue 15
        item 3): one DM per person going, keyed per (event, account), due `before` the
        start and dropped at the start. Only answers given by then count: whoever says
        they go later has just seen the event. Whether they still go when it is sent is
        the renderer's question (`bot.schedule.event_texts`)."""
        soon = await self.s.execute(
            select(ClubEvent.id, ClubEvent.starts_at).where(
                ClubEvent.cancelled_at.is_(None),
                ClubEvent.starts_at > now,
                ClubEvent.starts_at <= now + before,
            )
        )
        added = 0
        for event_id, starts_at in soon.all():
            remind_at = starts_at - before
            key = literal(f"event_reminder:{event_id}:") + cast(EventRsvp.account_id, String)
            rows = select(
                key,
                literal("event_reminder"),
                EventRsvp.account_id,
                literal(None),
                literal(None, Date()),
                literal(remind_at, UTCDateTime()),
                literal(starts_at, UTCDateTime()),
                literal("pending"),
                literal(0),
                literal(now, UTCDateTime()),
            ).where(
                EventRsvp.event_id == event_id,
                EventRsvp.answer == "going",
                EventRsvp.updated_at <= literal(remind_at, UTCDateTime()),
                _new(key),
            )
            added += await self._insert(rows)
        return added

    async def event_reminders_after(self, after: datetime, before: timedelta) -> list[datetime]:
        """When the next event reminder falls due after `after` (the console's clock
        jumps there): `before` the start of the next event someone is going to."""
        going = exists(
            select(EventRsvp.id).where(
                EventRsvp.event_id == ClubEvent.id, EventRsvp.answer == "going"
            )
        )
        first = await self.s.scalar(
            select(func.min(ClubEvent.starts_at)).where(
                ClubEvent.cancelled_at.is_(None), ClubEvent.starts_at > after + before, going
            )
        )
        return [first - before] if first is not None else []

    async def outbox_changes_after(self, after: datetime) -> list[datetime]:
        """When the outbox itself next has work (a row falling due, a lease ending)."""
        return await next_change_after(self.s, after)


class PlanningStore:
    """What the planner holds instead of a session factory (built by the composition
    root)."""

    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self.sessions = sessions

    @asynccontextmanager
    async def run(self) -> AsyncIterator[Planning]:
        """One planning run: its questions and inserts in one transaction."""
        async with self.sessions() as session, session.begin():
            yield Planning(session)

    @asynccontextmanager
    async def look(self) -> AsyncIterator[Planning]:
        """Questions only, in one session (the console's clock looking ahead)."""
        async with self.sessions() as session:
            yield Planning(session)
