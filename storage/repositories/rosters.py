"""Rosters: which assistant coach looks after which athlete, including the places that
wait for an invitee to join, and the head-coach role that has no roster at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, bindparam, delete, select
from sqlalchemy.orm import aliased
from sqlalchemy.util.typing import TupleAny, Unpack

from bot.policy import Resource, Viewer
from storage.models import Account, Assignment, InvitationAssignment, Membership
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, viewer_params, visible_filter

# (coach's name, athlete's name, athlete's e-mail)
RosterLine = Row[str, str, str | None]

_Q = TypeVar("_Q", bound="Select[Unpack[TupleAny]]")

# Built once: a fresh alias per call costs more than the rest of building the statement.
_COACH_M = aliased(Membership, name="coach_m")
_COACH_A = aliased(Account, name="coach_a")
_ATHLETE_M = aliased(Membership, name="athlete_m")
_ATHLETE_A = aliased(Account, name="athlete_a")

_ASSIGNMENT = select(Assignment).where(
    Assignment.coach_membership_id == bindparam("coach"),
    Assignment.athlete_membership_id == bindparam("athlete"),
)

# Parametric deletes: the session cannot evaluate their criteria on the objects it holds
# (nothing in these commands holds assignments as objects), so it is not asked to.
_NO_SYNC = {"synchronize_session": False}

_UNASSIGN = (
    delete(Assignment)
    .where(
        Assignment.coach_membership_id == bindparam("coach"),
        Assignment.athlete_membership_id == bindparam("athlete"),
    )
    .execution_options(**_NO_SYNC)
)

_CLEAR_ROSTER = (
    delete(Assignment)
    .where(Assignment.coach_membership_id == bindparam("coach"))
    .execution_options(**_NO_SYNC)
)

_CLEAR_WAITING = (
    delete(InvitationAssignment)
    .where(InvitationAssignment.coach_membership_id == bindparam("coach"))
    .execution_options(**_NO_SYNC)
)


_ROSTER_COACHES = (
    select(_COACH_M, _COACH_A)
    .join(Assignment, Assignment.coach_membership_id == _COACH_M.id)
    .join(_COACH_A, _COACH_A.id == _COACH_M.account_id)
    .where(Assignment.athlete_membership_id == bindparam("athlete"))
    .order_by(_COACH_A.display_name, _COACH_A.id)
)


def visible_assignments(
    query: _Q, viewer: Viewer, pair: tuple[Any, Any, Any, Any] | None = None
) -> _Q:
    """Coach <-> athlete assignments the viewer may see (`visible_filter` of ASSIGNMENTS:
    never one about the viewer themselves); `query` names what to select. `pair` are the
    aliases the caller selects from — (coach membership, coach account, athlete
    membership, athlete account) — this module's `_COACH_M`, `_COACH_A`, `_ATHLETE_M`,
    `_ATHLETE_A` by default."""
    coach_m, coach_a, athlete_m, athlete_a = pair or (_COACH_M, _COACH_A, _ATHLETE_M, _ATHLETE_A)
    return (
        query.select_from(Assignment)
        .join(coach_m, coach_m.id == Assignment.coach_membership_id)
        .join(coach_a, coach_a.id == coach_m.account_id)
        .join(athlete_m, athlete_m.id == Assignment.athlete_membership_id)
        .join(athlete_a, athlete_a.id == athlete_m.account_id)
        .where(
            visible_filter(
                Resource.ASSIGNMENTS,
                viewer,
                member=athlete_m,
                account=athlete_a,
                author_column=coach_a.id,
            )
        )
    )


@per_viewer_shape
def _roster_query(viewer: Viewer, one_coach: bool) -> Select[str, str, str | None]:
    """Roster lines the viewer may see in the org of parameter `org` (and of coach
    `coach` when `one_coach`)."""
    query = (
        visible_assignments(
            select(_COACH_A.display_name, _ATHLETE_A.display_name, _ATHLETE_A.email), viewer
        )
        .where(Assignment.org_id == bindparam("org"))
        .order_by(_COACH_A.display_name, _ATHLETE_A.display_name)
    )
    if one_coach:
        query = query.where(Assignment.coach_membership_id == bindparam("coach"))
    return query


@per_viewer_shape
def _coaches_query(viewer: Viewer) -> Select[str]:
    """Names of the coaches of athlete `athlete` that the viewer may know of."""
    return (
        visible_assignments(select(_COACH_A.display_name), viewer)
        .where(_ATHLETE_M.id == bindparam("athlete"))
        .order_by(_COACH_A.display_name)
    )


class RosterQueries(RepositoryBase):
    async def assignment(self, coach_mid: int, athlete_mid: int) -> Assignment | None:
        params = {"coach": coach_mid, "athlete": athlete_mid}
        return (await self.s.scalars(_ASSIGNMENT, params)).first()

    async def roster_lines(
        self, viewer: Viewer, org_id: int, coach_mid: int | None = None
    ) -> Sequence[RosterLine]:
        """The org's rosters the viewer may see (one coach's when `coach_mid`), by coach
        then athlete."""
        params = {**viewer_params(viewer), "org": org_id, "coach": coach_mid}
        return (await self.s.execute(_roster_query(viewer, coach_mid is not None), params)).all()

    async def roster_coaches(self, athlete_mid: int) -> list[tuple[Membership, Account]]:
        """The coaches who have the athlete on their roster, with their accounts, by name
        (whom an athlete's feedback goes to, SPEC §6; no viewer: the core asks the policy
        about each before anything is sent)."""
        return [
            (m, a) for m, a in (await self.s.execute(_ROSTER_COACHES, {"athlete": athlete_mid}))
        ]

    async def coach_names(self, viewer: Viewer, athlete_mid: int) -> list[str]:
        """The athlete's coaches the viewer may know of, by name."""
        params = {**viewer_params(viewer), "athlete": athlete_mid}
        return list((await self.s.scalars(_coaches_query(viewer), params)).all())

    async def assign(self, org_id: int, coach_mid: int, athlete_mid: int, at: datetime) -> None:
        await self.add(
            Assignment(
                org_id=org_id,
                coach_membership_id=coach_mid,
                athlete_membership_id=athlete_mid,
                created_at=at,
            )
        )

    async def unassign(self, coach_mid: int, athlete_mid: int) -> bool:
        """False when the athlete was not on that coach's roster."""
        params = {"coach": coach_mid, "athlete": athlete_mid}
        result = await self.s.execute(_UNASSIGN, params)
        return bool(getattr(result, "rowcount", 0))

    async def wait_for_roster(
        self, invitation_id: int, coach_mid: int | None, athlete_mid: int | None
    ) -> bool:
        """A roster place for an invitee: the side that is None is filled in when the
        invitation is accepted. False when that place is already waiting."""
        if await self._waiting(invitation_id, coach_mid, athlete_mid):
            return False
        await self.add(
            InvitationAssignment(
                invitation_id=invitation_id,
                coach_membership_id=coach_mid,
                athlete_membership_id=athlete_mid,
            )
        )
        return True

    async def stop_waiting(
        self, invitation_id: int, coach_mid: int | None, athlete_mid: int | None
    ) -> bool:
        """Drop a waiting roster place; False when there was none."""
        result = await self.s.execute(
            delete(InvitationAssignment).where(
                *self._waiting_where(invitation_id, coach_mid, athlete_mid)
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def _waiting(
        self, invitation_id: int, coach_mid: int | None, athlete_mid: int | None
    ) -> bool:
        query = select(InvitationAssignment.id).where(
            *self._waiting_where(invitation_id, coach_mid, athlete_mid)
        )
        return (await self.s.scalar(query.limit(1))) is not None

    @staticmethod
    def _waiting_where(
        invitation_id: int, coach_mid: int | None, athlete_mid: int | None
    ) -> tuple[ColumnElement[bool], ...]:
        # `== None` is SQL's IS NULL: one side of a waiting place is always empty
        return (
            InvitationAssignment.invitation_id == invitation_id,
            InvitationAssignment.coach_membership_id == coach_mid,
            InvitationAssignment.athlete_membership_id == athlete_mid,
        )

    async def step_down_as_coach(self, member: Membership) -> None:
        """A coach who stays on as an athlete: the role goes, and with it their roster."""
        member.is_coach = False
        await self._clear_roster(member.id)

    async def hand_over_head_coach(self, old: Membership, new: Membership) -> None:
        """One transaction; the old role goes first, so the one-head-coach index never
        sees two. A head coach has no roster (they see everyone): the new one's roster,
        places waiting on invitations included, goes."""
        old.is_head_coach = False
        await self.s.flush()
        new.is_head_coach = True
        new.is_coach = True
        await self._clear_roster(new.id)
        await self.s.flush()

    async def _clear_roster(self, coach_mid: int) -> None:
        """A coach's roster, including places still waiting on invitations."""
        await self.s.execute(_CLEAR_ROSTER, {"coach": coach_mid})
        await self.s.execute(_CLEAR_WAITING, {"coach": coach_mid})
        await self.s.flush()
