"""Name suggestions for autocomplete, filtered by the policy like the commands are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from bot.policy import Action, Resource, Viewer, permits, visible_filter
from storage.models import (
    Account,
    Group,
    GroupMember,
    Membership,
    Plan,
    PlanAssignment,
    Workout,
)
from storage.unit_of_work import UnitOfWork


def _starts(column: Any, prefix: str) -> ColumnElement[bool]:
    return func.lower(column).startswith(prefix.lower(), autoescape=True)


async def suggestions(
    uow: UnitOfWork, viewer: Viewer, kind: str, prefix: str, limit: int
) -> list[str]:
    if viewer.org_id is None:
        return []
    coach = permits(viewer, Action.CREATE_LIBRARY)
    if kind == "member":
        query = (
            select(Account.display_name, Account.email)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.org_id == viewer.org_id,
                visible_filter(Resource.PROFILE, viewer),
                _starts(Account.display_name, prefix)
                | (_starts(Account.email, prefix) if coach else Account.id.is_(None)),
            )
            .order_by(func.lower(Account.display_name))
            .limit(limit)
        )
        rows = (await uow.session.execute(query)).all()
        return [(email or name) if coach else name for name, email in rows]
    if kind == "group":
        groups = select(Group.name).where(
            Group.org_id == viewer.org_id, _starts(Group.name, prefix)
        )
        if not coach:
            groups = groups.join(GroupMember, GroupMember.group_id == Group.id).where(
                GroupMember.membership_id == viewer.membership_id
            )
        return list((await uow.session.scalars(groups.order_by(Group.name_key).limit(limit))).all())
    if kind == "workout":
        workouts: Select[Any] = select(Workout.name).where(
            Workout.org_id == viewer.org_id, _starts(Workout.name, prefix)
        )
        if not coach:
            workouts = workouts.where(Workout.visibility == "public")
        query = workouts.order_by(Workout.name_key).limit(limit)
        return list((await uow.session.scalars(query)).all())
    if kind == "plan":
        plans: Select[Any] = select(Plan.name).where(
            Plan.org_id == viewer.org_id, _starts(Plan.name, prefix)
        )
        if not coach:
            plans = plans.join(PlanAssignment, PlanAssignment.plan_id == Plan.id).where(
                PlanAssignment.membership_id == viewer.membership_id
            )
        query = plans.distinct().order_by(Plan.name).limit(limit)
        return list((await uow.session.scalars(query)).all())
    return []
