"""Workouts, plan templates and enrolment in them (plan assignments and the sessions they
schedule)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from bot.domain.agenda import Planned, PlannedWorkout
from bot.domain.following import Follower, plan_offset
from bot.policy import Thing, Viewer
from bot.text import name_key
from storage.models import (
    Account,
    Membership,
    Org,
    Plan,
    PlanAssignment,
    PlanDay,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, thing_filter, viewer_params

_CURRENT_PLAN = (
    select(PlanAssignment)
    .where(PlanAssignment.membership_id == bindparam("member"))
    .order_by(PlanAssignment.created_at.desc(), PlanAssignment.id.desc())
    .limit(1)
)

_CURRENT_PLAN_LINE = (
    select(Plan.name, PlanAssignment.start_date)
    .join(Plan, Plan.id == PlanAssignment.plan_id)
    .where(PlanAssignment.membership_id == bindparam("member"))
    .order_by(PlanAssignment.created_at.desc(), PlanAssignment.id.desc())
    .limit(1)
)

_TIMES_ASSIGNED = select(func.count()).where(PlanAssignment.plan_id == bindparam("plan"))


@per_viewer_shape
def _visible_plan(viewer: Viewer) -> Any:
    return select(Plan).where(
        Plan.org_id == bindparam("org"),
        Plan.name_key == bindparam("key"),
        thing_filter(Thing.PLAN, viewer),
    )


class _PlanDate(FunctionElement[date]):
    """The date `offset` days after the Monday of the week holding `start`: where a
    template day falls for an assignment starting on `start` (`bot.domain.schedule`)."""

    type = Date()
    name = "plan_date"
    inherit_cache = True


@compiles(_PlanDate, "sqlite")
def _plan_date_sqlite(element: _PlanDate, compiler: Any, **kw: Any) -> str:
    start, offset = (compiler.process(c, **kw) for c in element.clauses)
    # six days back, then forward to a Monday (or stay on one): the week's Monday
    return f"date({start}, '-6 days', 'weekday 1', '+' || ({offset}) || ' days')"


@compiles(_PlanDate, "postgresql")
def _plan_date_postgres(element: _PlanDate, compiler: Any, **kw: Any) -> str:
    start, offset = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(date_trunc('week', CAST({start} AS TIMESTAMP)) AS DATE) + {offset})"


def _on_day(day: ColumnElement[date], assignment: Any) -> ColumnElement[bool]:
    """`assignment` holds `day` and no assignment made after it replaced it there: a new
    plan replaces what is still to come from its start (SPEC §1), ended or not."""
    later = aliased(PlanAssignment)
    replaced = exists().where(
        later.membership_id == assignment.membership_id,
        later.start_date <= day,
        or_(
            later.created_at > assignment.created_at,
            and_(later.created_at == assignment.created_at, later.id > assignment.id),
        ),
    )
    return and_(day >= assignment.start_date, day <= assignment.end_date, ~replaced)


class Enrolment(NamedTuple):
    """What `enroll` wrote: the new assignments' ids in the order of the memberships
    given, and per membership how many of its scheduled sessions were replaced."""

    assignment_ids: list[int]
    replaced: dict[int, int]


class PlanQueries(RepositoryBase):
    async def workout_by_name(
        self, org_id: int, name: str, visible: ColumnElement[bool] | None = None
    ) -> Workout | None:
        """`visible`: the policy's filter for the caller (None: any, for uniqueness)."""
        query = select(Workout).where(Workout.org_id == org_id, Workout.name_key == name_key(name))
        if visible is not None:
            query = query.where(visible)
        return (await self.s.scalars(query)).first()

    async def workouts(self, org_id: int, *, visible: ColumnElement[bool]) -> list[Workout]:
        query = select(Workout).where(Workout.org_id == org_id, visible)
        return list((await self.s.scalars(query.order_by(Workout.name_key))).all())

    async def plan_by_name(
        self, org_id: int, name: str, viewer: Viewer | None = None
    ) -> Plan | None:
        """The plan `viewer` may see under that name (no viewer: any, for uniqueness)."""
        if viewer is None:
            query = select(Plan).where(Plan.org_id == org_id, Plan.name_key == name_key(name))
            return (await self.s.scalars(query)).first()
        params = {**viewer_params(viewer), "org": org_id, "key": name_key(name)}
        return (await self.s.scalars(_visible_plan(viewer), params)).first()

    async def plans(self, org_id: int) -> list[Plan]:
        query = select(Plan).where(Plan.org_id == org_id).order_by(Plan.name_key)
        return list((await self.s.scalars(query)).all())

    async def plan(self, plan_id: int) -> Plan | None:
        return await self.s.get(Plan, plan_id)

    async def plan_days(self, plan_id: int) -> list[tuple[PlanDay, Workout]]:
        query = (
            select(PlanDay, Workout)
            .join(Workout, Workout.id == PlanDay.workout_id)
            .where(PlanDay.plan_id == plan_id)
            .order_by(PlanDay.week, PlanDay.weekday)
        )
        return [(d, w) for d, w in (await self.s.execute(query)).all()]

    async def put_plan_day(
        self, plan_id: int, week: int, weekday: int, workout_id: int | None
    ) -> None:
        """A workout on one day of a template; None makes it a rest day (no row)."""
        existing = await self.s.get(PlanDay, (plan_id, week, weekday))
        if workout_id is None:
            if existing is not None:
                await self.delete(existing)
        elif existing is None:
            await self.add(
                PlanDay(plan_id=plan_id, week=week, weekday=weekday, workout_id=workout_id)
            )
        else:
            existing.workout_id = workout_id
            await self.s.flush()

    async def times_assigned(self, plan_id: int) -> int:
        return int(await self.s.scalar(_TIMES_ASSIGNED, {"plan": plan_id}) or 0)

    async def delete_plan(self, plan: Plan) -> None:
        """The template and its days (only one nobody was ever assigned: the assignments
        keep their plan)."""
        await self.s.execute(delete(PlanDay).where(PlanDay.plan_id == plan.id))
        await self.delete(plan)

    async def current_plan_assignment(self, membership_id: int) -> PlanAssignment | None:
        return (await self.s.scalars(_CURRENT_PLAN, {"member": membership_id})).first()

    async def current_plan_line(self, membership_id: int) -> tuple[str, date] | None:
        """The name and start of a member's current plan, in one round trip."""
        row = (await self.s.execute(_CURRENT_PLAN_LINE, {"member": membership_id})).first()
        return None if row is None else (row[0], row[1])

    async def plans_using(self, workout_id: int) -> list[str]:
        query = (
            select(Plan.name)
            .join(PlanDay, PlanDay.plan_id == Plan.id)
            .where(PlanDay.workout_id == workout_id)
            .distinct()
            .order_by(Plan.name)
        )
        return list((await self.s.scalars(query)).all())

    async def enroll(
        self,
        plan: Plan,
        membership_ids: Sequence[int],
        start: date,
        end: date,
        schedule: Sequence[tuple[date, int]],
        *,
        by_account_id: int,
        now: datetime,
    ) -> Enrolment:
        """Assign `plan` to the memberships from `start` and give each the `schedule`'s
        sessions (day, workout id): one statement per table, whatever the count. Each
        athlete's sessions still scheduled from `start` are replaced (SPEC §1)."""
        ids = list(membership_ids)
        still_to_come = (
            TrainingSession.membership_id.in_(ids),
            TrainingSession.day >= start,
            TrainingSession.status == "scheduled",
        )
        replaced_rows = (
            await self.s.execute(
                select(TrainingSession.membership_id, func.count())
                .where(*still_to_come)
                .group_by(TrainingSession.membership_id)
            )
        ).all()
        # completed and skipped sessions are history: they stay (the insert below skips
        # their days); only what was still to come is replaced
        await self.s.execute(delete(TrainingSession).where(*still_to_come))
        await self.s.execute(
            insert(PlanAssignment),
            [
                {
                    "org_id": plan.org_id,
                    "plan_id": plan.id,
                    "membership_id": mid,
                    "start_date": start,
                    "end_date": end,
                    "assigned_by_account_id": by_account_id,
                    "created_at": now,
                }
                for mid in ids
            ],
        )
        # one SELECT for the new ids (RETURNING with executemany is row by row on SQLite)
        new_ids: dict[int, int] = {
            mid: aid
            for mid, aid in (
                await self.s.execute(
                    select(PlanAssignment.membership_id, PlanAssignment.id)
                    .where(
                        PlanAssignment.plan_id == plan.id,
                        PlanAssignment.created_at == now,
                        PlanAssignment.membership_id.in_(ids),
                    )
                    .order_by(PlanAssignment.id)
                )
            ).all()
        }
        assignment_ids = [new_ids[mid] for mid in ids]
        if schedule:
            await self._schedule_sessions(assignment_ids, schedule)
        return Enrolment(assignment_ids, {mid: n for mid, n in replaced_rows})

    async def plan_day_followers(
        self, plan_id: int, week: int, weekday: int, *, not_before: date
    ) -> list[Follower]:
        """The athletes on the plan whose schedule holds template day (week, weekday),
        from `not_before` on, each with what their schedule has on it: one SELECT for
        every assignment of the plan (the date is computed in the database)."""
        offset = cast(literal(plan_offset(week, weekday), Integer()), Integer())
        day = _PlanDate(PlanAssignment.start_date, offset)
        query = (
            select(
                PlanAssignment.id.label("assignment_id"),
                PlanAssignment.membership_id,
                Membership.account_id,
                Membership.status.label("member_status"),
                func.coalesce(Account.timezone, Org.timezone).label("zone"),
                Account.units,
                day.label("day"),
                TrainingSession.id.label("session_id"),
                TrainingSession.status,
                TrainingSession.note,
                TrainingSession.activity_id,
                TrainingSession.edited,
                TrainingSession.plan_assignment_id,
                Workout.id.label("workout_id"),
                Workout.name,
                Workout.type,
                Workout.kind,
                Workout.distance_m,
                Workout.duration_s,
            )
            .join(Membership, Membership.id == PlanAssignment.membership_id)
            .join(Account, Account.id == Membership.account_id)
            .join(Org, Org.id == Membership.org_id)
            .outerjoin(
                TrainingSession,
                and_(
                    TrainingSession.membership_id == PlanAssignment.membership_id,
                    TrainingSession.day == day,
                ),
            )
            .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
            .where(
                PlanAssignment.plan_id == plan_id,
                day >= not_before,
                _on_day(day, PlanAssignment),
            )
            .order_by(PlanAssignment.id)
        )
        followers = []
        for row in (await self.s.execute(query)).all():
            on_day = row.day
            session = None
            if row.session_id is not None:
                workout = None
                if row.workout_id is not None:
                    workout = PlannedWorkout(
                        row.workout_id,
                        row.name,
                        row.type,
                        row.kind,
                        row.distance_m,
                        row.duration_s,
                    )
                session = Planned(
                    id=row.session_id,
                    day=on_day,
                    status=row.status,
                    workout=workout,
                    note=row.note,
                    activity_id=row.activity_id,
                    edited=row.edited,
                    plan_assignment_id=row.plan_assignment_id,
                )
            followers.append(
                Follower(
                    assignment_id=row.assignment_id,
                    membership_id=row.membership_id,
                    account_id=row.account_id,
                    zone=row.zone,
                    units=row.units,
                    active=row.member_status == "active",
                    day=on_day,
                    session=session,
                )
            )
        return followers

    async def follow_template_day(
        self,
        workout_id: int | None,
        *,
        add: Sequence[tuple[int, int, date]] = (),
        replace: Sequence[int] = (),
        drop: Sequence[int] = (),
    ) -> int:
        """Carry a template edit into athletes' schedules: sessions (membership,
        assignment, day) `add`ed with `workout_id`, sessions `replace`d to hold it, and
        sessions `drop`ped (a rest day keeps no row). One statement each, whatever the
        count. A session changed one by one or done or skipped since it was read is
        left alone. Returns how many sessions changed."""
        untouched = (TrainingSession.edited.is_(None), TrainingSession.status == "scheduled")
        changed = 0
        if replace:
            result = await self.s.execute(
                update(TrainingSession)
                .where(TrainingSession.id.in_(list(replace)), *untouched)
                .values(workout_id=workout_id)
                .execution_options(synchronize_session=False)
            )
            changed += result.rowcount  # type: ignore[attr-defined]
        if drop:
            result = await self.s.execute(
                delete(TrainingSession)
                .where(TrainingSession.id.in_(list(drop)), *untouched)
                .execution_options(synchronize_session=False)
            )
            changed += result.rowcount  # type: ignore[attr-defined]
        if add and workout_id is not None:
            await self.s.execute(
                insert(TrainingSession),
                [
                    {
                        "membership_id": membership_id,
                        "plan_assignment_id": assignment_id,
                        "day": day,
                        "workout_id": workout_id,
                        "status": "scheduled",
                    }
                    for membership_id, assignment_id, day in add
                ],
            )
            changed += len(add)
        return changed

    async def _schedule_sessions(
        self, assignment_ids: list[int], schedule: Sequence[tuple[date, int]]
    ) -> None:
        """(planned days) x (assignments), built by the database in one INSERT ... SELECT:
        40,000 sessions are one statement and no rows travel from Python. A day that
        already holds a session (kept history) is left alone."""
        # a UNION ALL of one-row SELECTs (at most 364): SQLite cannot name VALUES columns
        planned_days = union_all(
            *(
                select(
                    literal(day, Date()).label("day"), literal(wid, Integer()).label("workout_id")
                )
                for day, wid in schedule
            )
        ).subquery("planned_days")
        kept_session = aliased(TrainingSession)
        await self.s.execute(
            insert(TrainingSession).from_select(
                ["membership_id", "plan_assignment_id", "day", "workout_id", "status"],
                select(
                    PlanAssignment.membership_id,
                    PlanAssignment.id,
                    planned_days.c.day,
                    planned_days.c.workout_id,
                    literal("scheduled"),
                )
                .select_from(PlanAssignment)
                .join(planned_days, true())
                .where(
                    PlanAssignment.id.in_(assignment_ids),
                    ~exists().where(
                        kept_session.membership_id == PlanAssignment.membership_id,
                        kept_session.day == planned_days.c.day,
                    ),
                ),
            )
        )
