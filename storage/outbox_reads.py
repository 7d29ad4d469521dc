"""What a claimed outbox batch is rendered from, read when it is sent (SPEC §6).

A scheduled message says what holds at the moment it goes, so `bot.schedule.texts`
asks these questions of one read-only session per batch (`OutboxStore.reading`): one
query for all of a batch's daily DMs, one for its recipients' addresses, a few per
digest, leaderboard post or weekly recap (a recap reads its athlete's schedule through
the same reads as `/schedule`, `storage.repositories.schedules`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.agenda import Logged, Planned
from bot.policy import Resource, Viewer
from storage.models import (
    Account,
    Activity,
    Group,
    GroupChannel,
    Membership,
    OutboxMessage,
    PlanAssignment,
    Recipient,
    TrainingSession,
    Workout,
)
from storage.repositories.compliance import session_open
from storage.repositories.events import EventQueries
from storage.repositories.exports import ExportQueries
from storage.repositories.leaderboard import Totals, board_totals_query, read_totals
from storage.repositories.schedules import ScheduleQueries
from storage.visibility import activity_filter, coached_filter, visible_filter

FLAG_WINDOW = 7  # days: "no activity for 7 days", "effort >= 9 twice in 7 days"
HARD_EFFORT = 9
_PREVIOUS = aliased(TrainingSession, name="previous")
_PREVIOUS_BY = aliased(Activity, name="previous_by")
_LATEST = aliased(TrainingSession, name="latest")
_LATEST_BY = aliased(Activity, name="latest_by")
_SEEN = aliased(Activity, name="seen")
_COVERING = aliased(PlanAssignment, name="covering")


def _missed(session: Any, done_by: Any, day: date) -> Any:
    """A session with a workout on or before `day` that is neither skipped nor done as
    the athlete's coaches see it (a private activity alone completes nothing for them)."""
    return and_(session.day <= day, session_open(session, done_by))


def _last_session_missed(session: Any, done_by: Any, before: Any, day: date) -> Any:
    """Whether the athlete's latest session with a workout dated `before` was missed."""
    return (
        select(_missed(session, done_by, day))
        .select_from(session)
        .outerjoin(done_by, done_by.id == session.activity_id)
        .where(
            session.membership_id == Membership.id,
            session.workout_id.is_not(None),
            before,
        )
        .order_by(session.day.desc())
        .limit(1)
        .scalar_subquery()
    )


class OutboxReads:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session
        self._schedules = ScheduleQueries(session)
        self.exports = ExportQueries(session)  # `/export`'s files, made when they are sent
        # an event's post, reminder and notice of cancellation (issue 15 item 3)
        self.events = EventQueries(session)

    async def daily_facts(self, row_ids: Iterable[int]) -> Sequence[Any]:
        """For each daily-DM row: its account, membership, whether a plan covers its day,
        and that day's session and workout (at most one membership per account, one
        session per day), as rows with named fields. A row whose account is gone is
        missing."""
        o, s = OutboxMessage, TrainingSession
        on_plan = (
            select(PlanAssignment.id)
            .where(
                PlanAssignment.membership_id == Membership.id,
                PlanAssignment.start_date <= o.local_date,
                PlanAssignment.end_date >= o.local_date,
            )
            .exists()
        )
        query = (
            select(
                o.id.label("row_id"),
                o.local_date,
                Account.id.label("account_id"),
                Account.units,
                Account.notify_daily,
                Account.notify_restday,
                Membership.status.label("member_status"),
                Membership.org_id,
                Membership.id.label("membership_id"),
                Membership.is_athlete,
                Membership.is_coach,
                Membership.is_head_coach,
                on_plan.label("on_plan"),
                s.status.label("session_status"),
                Workout.id.label("workout_id"),
                Workout.name,
                Workout.type,
                Workout.kind,
                Workout.distance_m,
                Workout.duration_s,
                Workout.description,
                Workout.visibility,
            )
            .select_from(o)
            .join(Account, Account.id == o.account_id)
            .join(Membership, Membership.account_id == Account.id)
            .outerjoin(s, and_(s.membership_id == Membership.id, s.day == o.local_date))
            .outerjoin(Workout, Workout.id == s.workout_id)
            .where(o.id.in_(list(row_ids)))
        )
        return (await self.s.execute(query)).all()

    async def reader_of(self, account_id: int) -> tuple[Account, Membership] | None:
        """The account a digest or recap goes to and its membership (None: either is
        gone)."""
        account = await self.s.get(Account, account_id)
        member = (
            await self.s.scalars(select(Membership).where(Membership.account_id == account_id))
        ).first()
        if account is None or member is None:
            return None
        return account, member

    async def on_plan_between(self, membership_id: int, first: date, last: date) -> bool:
        """Whether a plan covers a day of `first..last` (a plan ended before it began
        covers none)."""
        query = select(PlanAssignment.id).where(
            PlanAssignment.membership_id == membership_id,
            PlanAssignment.start_date <= last,
            PlanAssignment.end_date >= first,
            PlanAssignment.start_date <= PlanAssignment.end_date,
        )
        return await self.s.scalar(query.limit(1)) is not None

    async def sessions_until(self, membership_id: int, last: date) -> list[Planned]:
        """Every session of the athlete up to `last`, as `/schedule` reads them (the
        recap's streak looks back as far as it goes)."""
        return await self._schedules.planned_between(membership_id, date.min, last)

    async def logged_between(
        self, viewer: Viewer, account_id: int, first: date, last: date
    ) -> list[Logged]:
        """The athlete's activities of `first..last` that `viewer` may see, through the
        policy's filter (for the athlete themselves: all, private ones included)."""
        return await self._schedules.logged_between(viewer, account_id, first, last)

    async def coached_sessions(
        self, coach: Viewer, day: date
    ) -> list[tuple[str, str, str | None, str | None, bool]]:
        """`day`'s planned sessions of the athletes `coach` coaches (the head coach's
        club, an assistant's roster; never the coach's own line), by name: (athlete,
        status, workout, skip reason, whether only a private activity completed it —
        which, for the coach, is as if not done). The reason is there only where the
        coach may see the athlete's activities: SPEC §6 lists skip reasons among the
        digest's flags, and §2 makes flags activity data (as the feedback DM, §6)."""
        athlete = Membership
        private = and_(TrainingSession.status == "completed", Activity.private.is_(True))
        query = (
            select(
                Account.display_name,
                TrainingSession.status,
                Workout.name,
                case(
                    (visible_filter(Resource.ACTIVITIES, coach), TrainingSession.note),
                    else_=None,
                ).label("note"),
                private.label("private"),
            )
            .select_from(TrainingSession)
            .join(athlete, athlete.id == TrainingSession.membership_id)
            .join(Account, Account.id == athlete.account_id)
            .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
            .outerjoin(Activity, Activity.id == TrainingSession.activity_id)
            .where(
                TrainingSession.day == day,
                athlete.org_id == coach.org_id,
                TrainingSession.workout_id.is_not(None),
                coached_filter(coach, member=athlete, account=Account),
            )
            .order_by(Account.display_name)
        )
        return [
            (name, status, workout, note, bool(hidden))
            for name, status, workout, note, hidden in (await self.s.execute(query)).all()
        ]

    async def coached_flags(self, coach: Viewer, day: date) -> list[tuple[str, bool, bool, bool]]:
        """The digest's flags for `day` (SPEC §6), for the athletes `coach` coaches (never
        the coach's own line) whose activities the coach may see — flags are activity
        data (SPEC §2) — by name: (athlete, two sessions missed in a row ending `day`,
        no activity for 7 days while on a plan, effort >= 9 twice in 7 days with one of
        them on `day`). Only athletes with a flag are returned. What counts is what the
        coach may see: a private activity does not exist for them."""
        first = day - timedelta(days=FLAG_WINDOW - 1)
        visible = activity_filter(coach, activity=_SEEN)
        in_window = and_(_SEEN.account_id == Account.id, _SEEN.day.between(first, day), visible)
        hard = _SEEN.effort >= HARD_EFFORT
        missed_twice = and_(
            _last_session_missed(_LATEST, _LATEST_BY, _LATEST.day == day, day),
            _last_session_missed(_PREVIOUS, _PREVIOUS_BY, _PREVIOUS.day < day, day),
        )

        def on_plan(on: date) -> Any:
            return (
                select(_COVERING.id)
                .where(
                    _COVERING.membership_id == Membership.id,
                    _COVERING.start_date <= on,
                    _COVERING.end_date >= on,
                )
                .exists()
            )

        idle = and_(on_plan(first), on_plan(day), ~select(_SEEN.id).where(in_window).exists())
        efforts = select(func.count(_SEEN.id)).where(in_window, hard).scalar_subquery() >= 2
        hard_today = select(_SEEN.id).where(in_window, hard, _SEEN.day == day).exists()
        query = (
            select(
                Account.display_name,
                func.coalesce(missed_twice, false()).label("missed_twice"),
                idle.label("idle"),
                and_(efforts, hard_today).label("hard"),
            )
            .select_from(Membership)
            .join(Account, Account.id == Membership.account_id)
            .where(
                Membership.org_id == coach.org_id,
                Membership.is_athlete.is_(True),
                coached_filter(coach, member=Membership, account=Account),
                visible_filter(Resource.ACTIVITIES, coach),
            )
            .order_by(Account.display_name, Account.id)
        )
        return [
            (name, bool(twice), bool(no_activity), bool(effort))
            for name, twice, no_activity, effort in (await self.s.execute(query)).all()
            if twice or no_activity or effort
        ]

    async def failed_between(self, org_id: int, since: datetime, until: datetime) -> int:
        """Messages to the org's members that failed for good in [since, until)."""
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .join(Membership, Membership.account_id == OutboxMessage.account_id)
            .where(
                Membership.org_id == org_id,
                OutboxMessage.status == "failed",
                OutboxMessage.sent_at >= since,
                OutboxMessage.sent_at < until,
            )
        )
        return int(await self.s.scalar(query) or 0)

    async def linked_channel(self, group_channel_id: int) -> tuple[GroupChannel, Group] | None:
        """A group's linked channel and the group (None: unlinked or gone since)."""
        link = await self.s.get(GroupChannel, group_channel_id)
        group = await self.s.get(Group, link.group_id) if link is not None else None
        if link is None or group is None:
            return None
        return link, group

    async def group_distance_totals(self, group_id: int, start: date, end: date) -> list[Totals]:
        """The group's distance board for [start, end], as every member may see it."""
        return await read_totals(self.s, board_totals_query(group_id, start, end, "distance"))

    async def dm_addresses(
        self, account_ids: Iterable[int]
    ) -> dict[int, tuple[str | None, frozenset[str]]]:
        """The e-mail of each account that may get a DM (it exists and is not suspended,
        SPEC §1), with the platforms where it is marked unreachable."""
        query = (
            select(Account.id, Account.email, Membership.status, Recipient.platform)
            .outerjoin(Membership, Membership.account_id == Account.id)
            .outerjoin(
                Recipient,
                and_(Recipient.account_id == Account.id, Recipient.unreachable_since.is_not(None)),
            )
            .where(Account.id.in_(sorted(account_ids)))
        )
        found: dict[int, tuple[str | None, frozenset[str]]] = {}
        suspended: set[int] = set()
        for account_id, email, status, platform in (await self.s.execute(query)).all():
            if status == "suspended":
                suspended.add(account_id)
            _, marked = found.get(account_id, (email, frozenset()))
            found[account_id] = (email, marked | {platform} if platform else marked)
        return {a: v for a, v in found.items() if a not in suspended}
