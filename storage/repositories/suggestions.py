"""Names for autocomplete, through the same visibility clauses the commands use to find
things by name, so a suggestion is never something the command would then refuse."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select

from bot.policy import Resource, Thing, Viewer
from storage.models import Account, Group, Membership, Plan, Workout
from storage.repositories.base import RepositoryBase
from storage.visibility import thing_filter, visible_filter

# the name shown, and the key it sorts by
_NAMED: dict[Thing, tuple[Any, Any]] = {
    Thing.GROUP: (Group.name, Group.name_key),
    Thing.WORKOUT: (Workout.name, Workout.name_key),
    Thing.PLAN: (Plan.name, Plan.name_key),
}


def _prefixed(column: Any, prefix: str) -> ColumnElement[bool]:
    """Case-blind, and literal: `%` and `_` in what was typed match only themselves."""
    return func.lower(column).startswith(prefix.lower(), autoescape=True)


class SuggestionQueries(RepositoryBase):
    async def member_names_starting(
        self, viewer: Viewer, prefix: str, limit: int, *, by_email: bool
    ) -> list[tuple[str, str | None]]:
        """(display name, e-mail) of the members of the viewer's org whose profile they
        may see, by name; `by_email` also matches e-mails (for those who may see them)."""
        email_match = _prefixed(Account.email, prefix) if by_email else Account.id.is_(None)
        query = (
            select(Account.display_name, Account.email)
            .join(Membership, Membership.account_id == Account.id)
            .where(
                Membership.org_id == viewer.org_id,
                visible_filter(Resource.PROFILE, viewer),
                _prefixed(Account.display_name, prefix) | email_match,
            )
            .order_by(func.lower(Account.display_name))
            .limit(limit)
        )
        return [(name, email) for name, email in (await self.s.execute(query)).all()]

    async def thing_names_starting(
        self, thing: Thing, viewer: Viewer, prefix: str, limit: int
    ) -> list[str]:
        """Names of the groups, workouts or plans the viewer may see, in name order."""
        name, key = _NAMED[thing]
        query = (
            select(name)
            .where(thing_filter(thing, viewer), _prefixed(name, prefix))
            .order_by(key)
            .limit(limit)
        )
        return list((await self.s.scalars(query)).all())
