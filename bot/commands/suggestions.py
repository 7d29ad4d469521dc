"""Name suggestions for autocomplete, filtered by the same policy clauses the commands
use to find things (`visibility.thing_filter`), so autocomplete never offers what a command
would refuse."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.policy import Action, Resource, Thing, Viewer, permits
from storage.models import Account, Group, Membership, Plan, Workout
from storage.unit_of_work import UnitOfWork
from storage.visibility import thing_filter, visible_filter


def _starts(column: Any, prefix: str) -> ColumnElement[bool]:
    return func.lower(column).startswith(prefix.lower(), autoescape=True)


THING_NAMES: dict[str, tuple[Thing, Any, Any]] = {
    "group": (Thing.GROUP, Group.name, Group.name_key),
    "workout": (Thing.WORKOUT, Workout.name, Workout.name_key),
    "plan": (Thing.PLAN, Plan.name, Plan.name_key),
}


async def suggestions(
    uow: UnitOfWork, viewer: Viewer, kind: str, prefix: str, limit: int
) -> list[str]:
    if viewer.org_id is None:
        return []
    if kind == "member":
        emails = permits(viewer, Action.VIEW_MEMBERS)  # SPEC §2: e-mails for coaches only
        query = (
            select(Account.display_name, Account.email)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.org_id == viewer.org_id,
                visible_filter(Resource.PROFILE, viewer),
                _starts(Account.display_name, prefix)
                | (_starts(Account.email, prefix) if emails else Account.id.is_(None)),
            )
            .order_by(func.lower(Account.display_name))
            .limit(limit)
        )
        rows = (await uow.session.execute(query)).all()
        return [(email or name) if emails else name for name, email in rows]
    if kind in THING_NAMES:
        thing, name, key = THING_NAMES[kind]
        things = (
            select(name)
            .where(thing_filter(thing, viewer), _starts(name, prefix))
            .order_by(key)
            .limit(limit)
        )
        return list((await uow.session.scalars(things)).all())
    return []
