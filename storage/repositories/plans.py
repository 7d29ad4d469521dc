"""Workouts, plans, plan assignments and scheduled sessions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    ColumnElement,
    bindparam,
    select,
)

from bot.text import name_key
from storage.models import (
    Plan,
    PlanAssignment,
    PlanDay,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase

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
        self, org_id: int, name: str, visible: ColumnElement[bool] | None = None
    ) -> Plan | None:
        """`visible`: the policy's filter for the caller (None: any, for uniqueness)."""
        query = select(Plan).where(Plan.org_id == org_id, Plan.name_key == name_key(name))
        if visible is not None:
            query = query.where(visible)
        return (await self.s.scalars(query)).first()

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

    async def current_plan_assignment(self, membership_id: int) -> PlanAssignment | None:
        return (await self.s.scalars(_CURRENT_PLAN, {"member": membership_id})).first()

    async def current_plan_line(self, membership_id: int) -> tuple[str, date] | None:
        """The name and start of a member's current plan, in one round trip."""
        row = (await self.s.execute(_CURRENT_PLAN_LINE, {"member": membership_id})).first()
        return None if row is None else (row[0], row[1])

    async def sessions_between(
        self, membership_id: int, first: date, last: date
    ) -> list[tuple[TrainingSession, Workout | None]]:
        query = (
            select(TrainingSession, Workout)
            .outerjoin(Workout, Workout.id == TrainingSession.workout_id)
            .where(
                TrainingSession.membership_id == membership_id,
                TrainingSession.day >= first,
                TrainingSession.day <= last,
            )
            .order_by(TrainingSession.day)
        )
        return [(s, w) for s, w in (await self.s.execute(query)).all()]

    async def plans_using(self, workout_id: int) -> list[str]:
        query = (
            select(Plan.name)
            .join(PlanDay, PlanDay.plan_id == Plan.id)
            .where(PlanDay.workout_id == workout_id)
            .distinct()
            .order_by(Plan.name)
        )
        return list((await self.s.scalars(query)).all())
