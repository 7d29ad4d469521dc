"""One athlete's schedule: reading it as a viewer may see it, and changing it day by day
(`/schedule`, `/session set|move|clear`, `/plan end`).

Reads return `bot.domain.agenda`'s plain facts; the activities come through the policy's
own SQL filter (`storage.visibility.activity_filter`), so an activity the viewer may not
see never leaves the database. Writes are by intent; the handler has already decided,
with the athlete's membership row locked, that the change is allowed.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, delete, func, insert, or_, select, update

from bot.domain.agenda import Logged, Planned, PlannedWorkout
from bot.policy import Viewer
from storage.models import (
    Account,
    Activity,
    Membership,
    PlanAssignment,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import activity_filter

LOGGED_MAX = 500  # activities one reply reads: a month of several a day fits

_S = TrainingSession
_PLANNED = (
    select(
        _S.id,
        _S.day,
        _S.status,
        _S.note,
        _S.activity_id,
        _S.edited,
        _S.plan_assignment_id,
        Workout.id.label("workout_id"),
        Workout.name,
        Workout.type,
        Workout.kind,
        Workout.distance_m,
        Workout.duration_s,
        Activity.private,
    )
    .outerjoin(Workout, Workout.id == _S.workout_id)
    .outerjoin(Activity, Activity.id == _S.activity_id)
    .order_by(_S.day)
)


class ScheduleQueries(RepositoryBase):
    async def planned_between(self, membership_id: int, first: date, last: date) -> list[Planned]:
        """The athlete's sessions of `first..last`, with each completing activity's
        `private` flag (never its data: that is for `logged_between` to filter)."""
        query = _PLANNED.where(_S.membership_id == membership_id, _S.day >= first, _S.day <= last)
        return [
            Planned(
                id=row.id,
                day=row.day,
                status=row.status,
                workout=(
                    None
                    if row.workout_id is None
                    else PlannedWorkout(
                        row.workout_id,
                        row.name,
                        row.type,
                        row.kind,
                        row.distance_m,
                        row.duration_s,
                    )
                ),
                note=row.note,
                activity_id=row.activity_id,
                activity_private=bool(row.private),
                edited=row.edited,
                plan_assignment_id=row.plan_assignment_id,
            )
            for row in (await self.s.execute(query)).all()
        ]

    async def planned_on(self, membership_id: int, day: date) -> Planned | None:
        found = await self.planned_between(membership_id, day, day)
        return found[0] if found else None

    async def logged_between(
        self, viewer: Viewer, account_id: int, first: date, last: date
    ) -> list[Logged]:
        """The athlete's activities of those days that `viewer` may see (SPEC §2: the
        activities grant, and a private activity for its athlete alone)."""
        query = (
            select(Activity)
            .join(Account, Account.id == Activity.account_id)
            .outerjoin(Membership, Membership.account_id == Activity.account_id)
            .where(
                Activity.account_id == account_id,
                Activity.day >= first,
                Activity.day <= last,
                activity_filter(viewer, activity=Activity),
            )
            .order_by(Activity.day, Activity.started_at, Activity.id)
            .limit(LOGGED_MAX)
        )
        return [
            Logged(a.id, a.public_id, a.day, a.type, a.distance_m, a.duration_s, a.effort)
            for a in (await self.s.scalars(query)).all()
        ]

    async def plan_covering(self, membership_id: int, day: date) -> int | None:
        """The newest plan assignment whose span holds `day`: a session set on a rest
        day of a plan belongs to that plan (and goes when the plan is ended)."""
        query = (
            select(PlanAssignment.id)
            .where(
                PlanAssignment.membership_id == membership_id,
                PlanAssignment.start_date <= day,
                PlanAssignment.end_date >= day,
            )
            .order_by(PlanAssignment.created_at.desc(), PlanAssignment.id.desc())
            .limit(1)
        )
        return await self.s.scalar(query)

    async def put_session(
        self,
        membership_id: int,
        day: date,
        *,
        workout_id: int | None,
        edited: str,
        plan_assignment_id: int | None,
    ) -> None:
        """Make `day` hold this workout (None: a rest day kept on purpose), as a session
        still to do, whatever row was there: the caller has refused to touch one that
        is done or skipped as the caller sees it (a session only a private activity
        completed reads as open to others, and is replaced like one)."""
        values = {
            "workout_id": workout_id,
            "edited": edited,
            "plan_assignment_id": plan_assignment_id,
            "status": "scheduled",
            "note": None,
            "activity_id": None,
        }
        changed = await self.s.execute(
            update(TrainingSession)
            .where(TrainingSession.membership_id == membership_id, TrainingSession.day == day)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            await self.s.execute(
                insert(TrainingSession).values(membership_id=membership_id, day=day, **values)
            )

    async def end_plan(self, assignment_id: int, first_day_off: date, *, private_open: bool) -> int:
        """End a plan assignment the day before `first_day_off`: its sessions still to
        do from then on go, and done and skipped ones stay as history. `private_open`:
        the caller is not the athlete, for whom a session only a private activity
        completed is still to do (it goes too; the activity stays). Returns how many
        sessions with a workout went."""
        still_open = TrainingSession.status == "scheduled"
        if private_open:
            privately_done = (
                select(Activity.id)
                .where(Activity.id == TrainingSession.activity_id, Activity.private.is_(True))
                .exists()
            )
            done = TrainingSession.status == "completed"
            still_open = or_(still_open, and_(done, privately_done))
        going = and_(
            TrainingSession.plan_assignment_id == assignment_id,
            TrainingSession.day >= first_day_off,
            still_open,
        )
        removed = await self.s.scalar(
            select(func.count()).where(going, TrainingSession.workout_id.is_not(None))
        )
        await self.s.execute(
            delete(TrainingSession).where(going).execution_options(synchronize_session=False)
        )
        await self.s.execute(
            update(PlanAssignment)
            .where(PlanAssignment.id == assignment_id)
            .values(end_date=first_day_off - timedelta(days=1))
            .execution_options(synchronize_session=False)
        )
        return int(removed or 0)

    async def has_plan(self, membership_id: int) -> bool:
        """Whether the athlete was ever assigned a plan (the "no plan yet" answer)."""
        query = select(PlanAssignment.id).where(PlanAssignment.membership_id == membership_id)
        return (await self.s.scalar(query.limit(1))) is not None
