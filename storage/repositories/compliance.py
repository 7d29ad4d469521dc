"""`/compliance`: the athletes in a coach's scope, each with their sessions of a period
counted and their visible distance summed — one statement, whatever the number of
athletes (issue 13 item 4).

Who is listed is the policy's own SQL: `coached_filter` (the head coach's club, an
assistant's roster, never the coach's own line), narrowed by a group or a coach's roster.
What was logged comes through `activity_filter` in a correlated sum, so an activity the
viewer may not see (not shared with coaches, or private) never leaves the database, and
`sees` (the activities row of the table for this viewer and athlete) tells "nothing
logged" from "not yours to see". The statuses are counted as `bot.domain.agenda` reads
them; `bot.domain.compliance` places the open sessions of the last three days with each
athlete's zone.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from bot.domain.compliance import Counted
from bot.policy import Resource, Viewer
from storage.models import (
    Account,
    Activity,
    Assignment,
    GroupMember,
    Membership,
    Org,
    TrainingSession,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import (
    activity_filter,
    coached_filter,
    per_viewer_shape,
    viewer_params,
    visible_filter,
)

_LOGGED = aliased(Activity, name="logged")  # what the athlete logged in the period
_DONE_BY = aliased(Activity, name="done_by")  # the activity that completed a session
_IN_GROUP = aliased(GroupMember, name="in_group")
_ON_ROSTER = aliased(Assignment, name="on_roster")


def session_done(session: Any = TrainingSession, done_by: Any = _DONE_BY) -> Any:
    """Completed, and not by a private activity alone (for the athlete's coaches that is
    as if never done: SPEC §2). `done_by` is the session's activity, outer-joined."""
    return and_(
        session.status == "completed", or_(done_by.id.is_(None), done_by.private.is_(False))
    )


def session_open(session: Any = TrainingSession, done_by: Any = _DONE_BY) -> Any:
    """Neither done nor skipped as the athlete's coaches see it."""
    return and_(session.status != "skipped", ~session_done(session, done_by))


@per_viewer_shape
def compliance_statement(viewer: Viewer, by_group: bool, by_coach: bool) -> Select[Any]:
    s = TrainingSession
    first, last = bindparam("first", type_=s.day.type), bindparam("last", type_=s.day.type)
    near = [bindparam(f"near{i}", type_=s.day.type) for i in range(3)]
    is_open = session_open(s)

    def counted(condition: Any, label: str) -> Any:
        return func.count(case((condition, s.id))).label(label)

    done_m = (
        select(func.sum(_LOGGED.distance_m))
        .where(
            _LOGGED.account_id == Account.id,
            _LOGGED.day >= first,
            _LOGGED.day <= last,
            activity_filter(viewer, activity=_LOGGED),
        )
        .scalar_subquery()
    )
    where = [
        Membership.org_id == viewer.org_id,
        Membership.is_athlete.is_(True),
        coached_filter(viewer, member=Membership, account=Account),
    ]
    if by_group:
        where.append(
            exists(
                select(_IN_GROUP.group_id).where(
                    _IN_GROUP.group_id == bindparam("group_id"),
                    _IN_GROUP.membership_id == Membership.id,
                )
            )
        )
    if by_coach:
        where.append(
            exists(
                select(_ON_ROSTER.id).where(
                    _ON_ROSTER.coach_membership_id == bindparam("coach_membership_id"),
                    _ON_ROSTER.athlete_membership_id == Membership.id,
                )
            )
        )
    return (
        select(
            Account.id,
            Account.display_name,
            func.coalesce(Account.timezone, Org.timezone).label("zone"),
            visible_filter(Resource.ACTIVITIES, viewer).label("sees"),
            func.count(s.id).label("sessions"),
            counted(session_done(s), "done"),
            counted(s.status == "skipped", "skipped"),
            counted(and_(is_open, s.day < near[0]), "open_before"),
            *(counted(and_(is_open, s.day == day), f"open_{i}") for i, day in enumerate(near)),
            func.coalesce(func.sum(Workout.distance_m), 0.0).label("planned_m"),
            done_m.label("done_m"),
        )
        .select_from(Membership)
        .join(Account, Account.id == Membership.account_id)
        .join(Org, Org.id == Membership.org_id)
        .outerjoin(
            s,
            and_(
                s.membership_id == Membership.id,
                s.day >= first,
                s.day <= last,
                s.workout_id.is_not(None),  # a day kept as rest is no session
            ),
        )
        .outerjoin(Workout, Workout.id == s.workout_id)
        .outerjoin(_DONE_BY, _DONE_BY.id == s.activity_id)
        .where(*where)
        .group_by(Membership.id, Account.id, Org.id)
    )


class ComplianceQueries(RepositoryBase):
    async def compliance(
        self,
        viewer: Viewer,
        first: date,
        last: date,
        *,
        near: tuple[date, date, date],
        group_id: int | None = None,
        coach_membership_id: int | None = None,
    ) -> list[Counted]:
        """Every athlete in the viewer's coaching scope (in `group_id`, on the roster of
        `coach_membership_id`), with their sessions of `first..last` counted: `near` is
        `bot.domain.compliance.near_days` of now."""
        if viewer.org_id is None:
            return []
        statement = compliance_statement(
            viewer, group_id is not None, coach_membership_id is not None
        )
        params: dict[str, Any] = {
            **viewer_params(viewer),
            "first": first,
            "last": last,
            **{f"near{i}": day for i, day in enumerate(near)},
        }
        if group_id is not None:
            params["group_id"] = group_id
        if coach_membership_id is not None:
            params["coach_membership_id"] = coach_membership_id
        rows = (await self.s.execute(statement, params)).all()
        return [
            Counted(
                account_id=int(row.id),
                name=row.display_name,
                zone=row.zone,
                sees_activities=bool(row.sees),
                sessions=int(row.sessions),
                done=int(row.done),
                skipped=int(row.skipped),
                open_before=int(row.open_before),
                open_near=(int(row.open_0), int(row.open_1), int(row.open_2)),
                planned_m=float(row.planned_m),
                done_m=None if row.done_m is None else float(row.done_m),
            )
            for row in rows
        ]
