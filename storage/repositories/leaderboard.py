"""Group and club leaderboards as SQL aggregates (SPEC §2, §4 `/leaderboard`).

Each board is one query: the group's athletes (or, for `/leaderboard club`, the org's),
LEFT JOINed to their activities (or sessions) in the period, grouped per athlete. The
database does the counting, whatever the size of the group or of its history; the
access path is the athlete's rows through `ix_activities_account_day (account_id, day)`
or the sessions' `(membership_id, day)` unique index, never a scan of the big tables
(tests/storage/test_leaderboard_plan.py).

Who is ranked and which rows count is SPEC §2 note 3's group-level rule (note 4's
club-level rule for the club board), the same for every viewer, so it is compiled here
from the groupmate (org-athlete) cells of `bot.policy`'s table (as `storage.visibility`
compiles the per-viewer rows) and never written by hand. A club board walks the org's
memberships through `ix_memberships_org_id`, then each athlete's activities as a group
board does. The
statement builders still take those predicates as arguments, so the property test can
set them against the single-item check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    desc,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

from bot.policy import Resource
from storage.models import (
    Account,
    Activity,
    Group,
    GroupMember,
    Membership,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import groupmate_filter, orgmate_filter

METRICS = ("distance", "time", "runs")


@dataclass(frozen=True)
class Totals:
    """One athlete's sums over the period; 0 when nothing counted."""

    account_id: int
    name: str
    distance_m: float
    duration_s: float
    activities: int
    time_shown: bool = True  # False: the athlete's durations are hidden (pace not shared)


@dataclass(frozen=True)
class Attendance:
    """Sessions completed out of the sessions due in the period (`due` may be 0)."""

    account_id: int
    name: str
    completed: int
    due: int


# -- the group-level rule, from the policy table ----------------------------------------


def shared_with_group(account: Any = Account) -> ColumnElement[bool]:
    """SQL for "this athlete's activities are shared with their group" (SPEC §2 note 3),
    built from the groupmate cell of the activities row of the policy table."""
    return groupmate_filter(Resource.ACTIVITIES, account)


def pace_shared_with_group(account: Any = Account) -> ColumnElement[bool]:
    """SQL for "the group may see this athlete's pace", from the groupmate cell of the
    pace row: without it the board shows none of their durations (SPEC §2)."""
    return groupmate_filter(Resource.PACE, account)


def shared_with_org(account: Any = Account) -> ColumnElement[bool]:
    """SQL for "this athlete's activities are shared with the org" (SPEC §2 note 4), from
    the org-athlete cell of the activities row: who the club board ranks."""
    return orgmate_filter(Resource.ACTIVITIES, account)


def pace_shared_with_org(account: Any = Account) -> ColumnElement[bool]:
    """SQL for "the org's athletes may see this athlete's pace" (the org-athlete cell of
    the pace row): without it the club board shows none of their durations."""
    return orgmate_filter(Resource.PACE, account)


def countable(activity: Any = Activity) -> ColumnElement[bool]:
    """A `private` activity is visible to its athlete alone, so never to a group."""
    result: ColumnElement[bool] = activity.private.is_(False)
    return result


def of_type(kind: str | None, activity: Any = Activity) -> ColumnElement[bool]:
    """`type:T` on a board: only activities of that type count (every type without it)."""
    return true() if kind is None else activity.type == kind


# -- the statements ---------------------------------------------------------------------

# Grouping by the group's own key first lets SQLite walk the group's members in primary-key
# order (no sort for GROUP BY) and keeps it from choosing to scan every account instead.
_PER_ATHLETE = (GroupMember.membership_id, Account.id, Account.display_name)


def _org_of(group_id: int) -> Any:
    """Redundant (a group's members are in its org) but it lets PostgreSQL reach the
    memberships through `ix_memberships_org_id` instead of scanning all of them: the
    planner prices 500 primary-key probes above a sequential scan of 100,000 rows."""
    return select(Group.org_id).where(Group.id == group_id).scalar_subquery()


# The club board groups by the membership's key: one row per athlete of the org.
_PER_CLUB_ATHLETE = (Membership.id, Account.id, Account.display_name)


def _members(
    group_id: int | None, athletes: ColumnElement[bool], org_id: int | None = None
) -> tuple[Select[Any], tuple[Any, ...]]:
    """The athletes a board ranks, and the columns that make one row per athlete: a
    group's (`group_id`), or with `group_id` None every athlete of org `org_id`."""
    if group_id is None:
        if org_id is None:
            raise ValueError("a board needs a group or an org")
        club = (
            select()
            .select_from(Membership)
            .join(Account, Account.id == Membership.account_id)
            .where(Membership.org_id == org_id, Membership.is_athlete.is_(True), athletes)
        )
        return club, _PER_CLUB_ATHLETE
    group = (
        select()
        .select_from(GroupMember)
        .join(Membership, Membership.id == GroupMember.membership_id)
        .join(Account, Account.id == Membership.account_id)
        .where(GroupMember.group_id == group_id, Membership.org_id == _org_of(group_id), athletes)
    )
    return group, _PER_ATHLETE


def totals_query(
    group_id: int | None,
    start: date,
    end: date,
    *,
    athletes: ColumnElement[bool],
    countable: ColumnElement[bool],
    by: str,
    shows_time: ColumnElement[bool] | None = None,
    org_id: int | None = None,
) -> Select[Any]:
    """Per athlete of the group (`group_id` None: of the org `org_id`) passing
    `athletes`: distance, time and count of the `countable` activities dated
    `start`..`end` (athlete's local dates), best first.

    SUM skips NULL, so an activity without a distance (a `done` check-in) adds nothing to
    the distance or time totals but still counts as an activity (SPEC §1 "measured values
    only").

    `shows_time` (over `Account`) says whose durations the board may show: the `time`
    board leaves the others out, and the row says whether its time may be shown."""
    if by not in METRICS:
        raise ValueError(f"unknown leaderboard metric {by!r}")
    distance = func.coalesce(func.sum(Activity.distance_m), 0.0).label("distance_m")
    duration = func.coalesce(func.sum(Activity.duration_s), 0.0).label("duration_s")
    count = func.count(Activity.id).label("activities")
    metrics: dict[str, ColumnElement[Any]] = {
        "distance": distance,
        "time": duration,
        "runs": count,
    }
    metric = metrics[by]
    time_ok = true() if shows_time is None else shows_time
    members, per_athlete = _members(
        group_id, and_(athletes, time_ok) if by == "time" else athletes, org_id
    )
    return (
        members.add_columns(
            Account.id, Account.display_name, distance, duration, count, time_ok.label("time")
        )
        .outerjoin(
            Activity,
            (Activity.account_id == Account.id) & Activity.day.between(start, end) & countable,
        )
        .group_by(*per_athlete)
        .order_by(desc(metric), func.lower(Account.display_name), Account.id)
    )


def attendance_query(
    group_id: int | None,
    start: date,
    end: date,
    today: date,
    *,
    athletes: ColumnElement[bool],
    countable: ColumnElement[bool] | None = None,
    org_id: int | None = None,
    kind: str | None = None,
) -> Select[Any]:
    """Per athlete of the group (`group_id` None: of the org `org_id`) passing
    `athletes`: sessions completed and sessions due; with `kind`, only sessions whose
    workout is of that type.

    A session is due once it is settled (completed or skipped) or its day is over: a
    session still open today or later in the period is not held against anyone yet. A
    session completed by an activity that is not `countable` (a private one) is as if it
    had not been: to come, then missed once its day is over."""
    settled = TrainingSession.status != "scheduled"
    done = TrainingSession.status == "completed"
    if countable is not None:
        uncounted = and_(
            done,
            select(Activity.id)
            .where(Activity.id == TrainingSession.activity_id, not_(countable))
            .exists(),
        )
        settled = and_(settled, not_(uncounted))
        done = and_(done, not_(uncounted))
    due = or_(TrainingSession.day < today, settled)
    completed = func.count(case((done, TrainingSession.id)))
    # a day a coach kept as rest (`/session clear`, `set rest`) is no session
    planned: ColumnElement[bool] = or_(
        TrainingSession.workout_id.is_not(None), TrainingSession.edited.is_(None)
    )
    if kind is not None:
        planned = TrainingSession.workout_id.in_(select(Workout.id).where(Workout.type == kind))
    members, per_athlete = _members(group_id, athletes, org_id)
    return (
        members.add_columns(
            Account.id,
            Account.display_name,
            completed.label("completed"),
            func.count(TrainingSession.id).label("due"),
        )
        .outerjoin(
            TrainingSession,
            (TrainingSession.membership_id == Membership.id)
            & TrainingSession.day.between(start, end)
            & planned
            & due,
        )
        .group_by(*per_athlete)
        .order_by(func.lower(Account.display_name), Account.id)
    )


def board_totals_query(
    group_id: int, start: date, end: date, by: str, kind: str | None = None
) -> Select[Any]:
    """The totals `/leaderboard` and the weekly post rank: the group-level rule applied."""
    return totals_query(
        group_id,
        start,
        end,
        athletes=shared_with_group(),
        countable=and_(countable(), of_type(kind)),
        by=by,
        shows_time=pace_shared_with_group(),
    )


def board_attendance_query(
    group_id: int, start: date, end: date, today: date, kind: str | None = None
) -> Select[Any]:
    """The consistency `/leaderboard by:consistency` ranks: the group-level rule applied."""
    return attendance_query(
        group_id,
        start,
        end,
        today,
        athletes=shared_with_group(),
        countable=countable(),
        kind=kind,
    )


def club_totals_query(
    org_id: int, start: date, end: date, by: str, kind: str | None = None
) -> Select[Any]:
    """The totals `/leaderboard club` ranks: the org's athletes under the club-level rule
    (SPEC §2 note 4), private activities left out, durations only where pace is shared."""
    return totals_query(
        None,
        start,
        end,
        athletes=shared_with_org(),
        countable=and_(countable(), of_type(kind)),
        by=by,
        shows_time=pace_shared_with_org(),
        org_id=org_id,
    )


def club_attendance_query(
    org_id: int, start: date, end: date, today: date, kind: str | None = None
) -> Select[Any]:
    """`/leaderboard club by:consistency`: the club-level rule applied."""
    return attendance_query(
        None,
        start,
        end,
        today,
        athletes=shared_with_org(),
        countable=countable(),
        org_id=org_id,
        kind=kind,
    )


async def read_totals(session: AsyncSession, query: Select[Any]) -> list[Totals]:
    """The rows of a `totals_query` (the property test runs it with its own predicates)."""
    return [
        Totals(int(aid), name, float(dist), float(dur), int(n), bool(time))
        for aid, name, dist, dur, n, time in (await session.execute(query)).all()
    ]


async def read_attendance(session: AsyncSession, query: Select[Any]) -> list[Attendance]:
    """The rows of an `attendance_query`."""
    return [
        Attendance(int(aid), name, int(done), int(due))
        for aid, name, done, due in (await session.execute(query)).all()
    ]


class LeaderboardQueries(RepositoryBase):
    """The boards as the core asks for them: a group (or the club) and a period, an
    activity type or none, nothing about SQL."""

    async def leaderboard_totals(
        self, group_id: int, start: date, end: date, *, by: str, kind: str | None = None
    ) -> list[Totals]:
        return await read_totals(self.s, board_totals_query(group_id, start, end, by, kind))

    async def leaderboard_attendance(
        self, group_id: int, start: date, end: date, today: date, *, kind: str | None = None
    ) -> list[Attendance]:
        query = board_attendance_query(group_id, start, end, today, kind)
        return await read_attendance(self.s, query)

    async def club_leaderboard_totals(
        self, org_id: int, start: date, end: date, *, by: str, kind: str | None = None
    ) -> list[Totals]:
        return await read_totals(self.s, club_totals_query(org_id, start, end, by, kind))

    async def club_leaderboard_attendance(
        self, org_id: int, start: date, end: date, today: date, *, kind: str | None = None
    ) -> list[Attendance]:
        query = club_attendance_query(org_id, start, end, today, kind)
        return await read_attendance(self.s, query)


# -- query plans (for the plan test and the benchmark) ---------------------------------


class _Explain(Executable, ClauseElement):
    """`EXPLAIN` of a statement, compiled with the statement's own bind parameters."""

    inherit_cache = False

    def __init__(self, statement: Select[Any], analyze: bool) -> None:
        self.statement = statement
        self.analyze = analyze


@compiles(_Explain, "sqlite")
def _explain_sqlite(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@compiles(_Explain)
def _explain_default(element: _Explain, compiler: Any, **kw: Any) -> str:
    options = "(ANALYZE, BUFFERS) " if element.analyze else ""
    return f"EXPLAIN {options}" + compiler.process(element.statement, **kw)


async def explain(
    session: AsyncSession, statement: Select[Any], *, analyze: bool = False
) -> list[str]:
    """The store's plan for `statement`, one line per plan node (SQLite: the detail
    column of EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN's text lines, with `analyze` the
    measured plan of a real run)."""
    rows = (await session.execute(_Explain(statement, analyze))).all()
    return [str(row[-1]) for row in rows]
