"""SPEC §2's visibility table (`bot/policy.py`) compiled to SQL.

The policy module holds the table and the decision on one item; this module turns the
same rows into the WHERE clauses that lists, leaderboards, digests and autocomplete use,
so the two cannot drift apart (`tests/policy/test_filter_agrees.py` compares them on
random data). Nothing here decides anything the table does not say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from bot.policy import (
    SELF_DENIED_AUDIT,
    VISIBILITY,
    Level,
    Relation,
    Resource,
    Scope,
    Thing,
    Viewer,
    thing_scope,
)
from storage.models import (
    Account,
    Assignment,
    ClubEvent,
    Group,
    GroupMember,
    Membership,
    Plan,
    PlanAssignment,
    Workout,
)

# The same table as SQL


# Aliases of the policy's own subqueries, built once (a fresh alias per call costs more
# than the rest of the clause): their names keep them apart from the outer query's tables.
_PAIR = aliased(Assignment, name="policy_pair")
_MINE = aliased(GroupMember, name="policy_mine")
_THEIRS = aliased(GroupMember, name="policy_theirs")
_FALSE = false()  # "this relation cannot hold": left out of the OR


def _relation_sql(
    relation: Relation, viewer: Viewer, member: Any, account: Any
) -> ColumnElement[bool]:
    """SQL for "relation holds between viewer and the athlete in this row"."""
    if relation is Relation.SELF:
        return account.id == viewer.account_id
    if viewer.org_id is None or viewer.status == "suspended":
        return _FALSE
    # only the parts that can hold for this viewer are built: SQL that is false anyway
    # costs time to build and to send
    plain_coach = viewer.is_coach and not viewer.is_head_coach
    if relation is Relation.HEAD_COACH and not viewer.is_head_coach:
        return _FALSE
    if relation in (Relation.ASSIGNED_COACH, Relation.OTHER_COACH) and not plain_coach:
        return _FALSE
    if relation is Relation.ORG_ATHLETE and not viewer.is_athlete:
        return _FALSE
    if relation is Relation.GROUPMATE and viewer.membership_id is None:
        return _FALSE
    others = and_(account.id != viewer.account_id, member.org_id == viewer.org_id)
    if relation in (Relation.HEAD_COACH, Relation.ORG_ATHLETE):
        return others
    if relation in (Relation.ASSIGNED_COACH, Relation.OTHER_COACH):
        pair = _PAIR
        assigned = exists(
            select(pair.id)
            .where(
                pair.coach_membership_id == viewer.membership_id,
                pair.athlete_membership_id == member.id,
            )
            .correlate_except(pair)
        )
        return and_(others, assigned if relation is Relation.ASSIGNED_COACH else ~assigned)
    if relation is Relation.GROUPMATE:
        mine, theirs = _MINE, _THEIRS
        shared = exists(
            select(mine.group_id)
            .join(theirs, theirs.group_id == mine.group_id)
            .where(mine.membership_id == viewer.membership_id, theirs.membership_id == member.id)
            .correlate_except(mine, theirs)
        )
        return and_(others, shared)
    if relation is Relation.ORG_ATHLETE:
        return and_(others, true() if viewer.is_athlete else false())
    return _FALSE  # outsiders are granted nothing anywhere


def visible_filter(
    resource: Resource,
    viewer: Viewer,
    *,
    member: Any = Membership,
    account: Any = Account,
    author_column: Any = None,
) -> ColumnElement[bool]:
    """The WHERE clause selecting rows about athletes whose `resource` the viewer may see.

    `member`/`account` are the (possibly aliased) athlete's membership and account in the
    query; `author_column` is needed for resources with OWN grants (notes, assignments).
    """
    clauses: list[ColumnElement[bool]] = []
    for relation, grant in VISIBILITY[resource].items():
        if grant.level is Level.NONE:
            continue
        condition = _relation_sql(relation, viewer, member, account)
        if condition is _FALSE:
            continue
        for flag in grant.needs:
            condition = and_(condition, getattr(account, flag).is_(True))
        if grant.level is Level.OWN:
            if author_column is None:
                raise ValueError(f"{resource} has OWN grants: pass author_column")
            condition = and_(condition, author_column == viewer.account_id)
        clauses.append(condition)
    return or_(*clauses) if clauses else false()


# ---------------------------------------------------------------------------------------
# Statements built once per kind of viewer


def viewer_shape(viewer: Viewer) -> tuple[bool, ...]:
    """What the policy's SQL depends on besides the viewer's ids."""
    return (
        viewer.org_id is None,
        viewer.membership_id is None,
        viewer.is_head_coach,
        viewer.is_coach,
        viewer.is_athlete,
        viewer.status == "suspended",
    )


def parametric(viewer: Viewer) -> Viewer:
    """The viewer with its ids as named SQL parameters (values: `viewer_params`), so the
    clauses built from it fit every viewer of the same shape."""
    return replace(
        viewer,
        account_id=cast(int, bindparam("policy_account")),
        org_id=None if viewer.org_id is None else cast(int, bindparam("policy_org")),
        membership_id=(
            None if viewer.membership_id is None else cast(int, bindparam("policy_membership"))
        ),
    )


def viewer_params(viewer: Viewer) -> dict[str, int | None]:
    return {
        "policy_account": viewer.account_id,
        "policy_org": viewer.org_id,
        "policy_membership": viewer.membership_id,
    }


_T = TypeVar("_T")


def per_viewer_shape(build: Callable[..., _T]) -> Callable[..., _T]:
    """Memoize a statement builder `build(viewer, *options)` per (viewer shape, options):
    it is called with the `parametric` viewer, and the statement it returns is executed
    with `viewer_params(viewer)` besides its own parameters. Building a statement with
    the policy's clauses costs more CPU than running it; there are a few dozen shapes."""
    built: dict[tuple[Any, ...], _T] = {}

    def get(viewer: Viewer, *options: Any) -> _T:
        key = (viewer_shape(viewer), *options)
        found = built.get(key)
        if found is None:
            found = built[key] = build(parametric(viewer), *options)
        return found

    return get


def activity_filter(
    viewer: Viewer, *, activity: Any, member: Any = Membership, account: Any = Account
) -> ColumnElement[bool]:
    """Activities (and so their comments) the viewer may see: the ACTIVITIES row of the
    table, and a `private` activity only for its own athlete. `member` may be NULL (an
    outer join) for an athlete who has left every org: then only they see their runs."""
    return and_(
        visible_filter(Resource.ACTIVITIES, viewer, member=member, account=account),
        or_(activity.private.is_(False), activity.account_id == viewer.account_id),
    )


def thing_filter(thing: Thing, viewer: Viewer) -> ColumnElement[bool]:
    """The rows of a group, workout, plan or event table the viewer may see (lists, lookups by
    name and autocomplete use this one clause)."""
    scope = thing_scope(viewer, thing)
    if scope is Scope.NO or viewer.org_id is None:
        return false()
    model: Any = {
        Thing.GROUP: Group,
        Thing.WORKOUT: Workout,
        Thing.PLAN: Plan,
        Thing.EVENT: ClubEvent,
    }[thing]
    in_org = model.org_id == viewer.org_id
    if scope is Scope.YES:
        return in_org
    if scope is Scope.GROUPS and thing is Thing.GROUP:
        mine = exists(
            select(GroupMember.group_id).where(
                GroupMember.group_id == Group.id,
                GroupMember.membership_id == viewer.membership_id,
            )
        )
        return and_(in_org, mine)
    if scope is Scope.GROUPS and thing is Thing.EVENT:
        in_its_group = exists(
            select(GroupMember.group_id).where(
                GroupMember.group_id == ClubEvent.group_id,
                GroupMember.membership_id == viewer.membership_id,
            )
        )
        return and_(in_org, in_its_group)
    if scope is Scope.PUBLIC and thing is Thing.WORKOUT:
        return and_(in_org, Workout.visibility == "public")
    if scope is Scope.OWN and thing is Thing.PLAN:
        current = (
            select(PlanAssignment.plan_id)
            .where(PlanAssignment.membership_id == viewer.membership_id)
            .order_by(PlanAssignment.created_at.desc(), PlanAssignment.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        return and_(in_org, Plan.id == current)
    return false()


def comment_filter(viewer: Viewer, *, comment: Any, activity: Any) -> ColumnElement[bool]:
    """Comments on activities the viewer already may see: all of them for the activity's
    athlete, else those written in the viewer's organization (SPEC §2)."""
    own = activity.account_id == viewer.account_id
    if thing_scope(viewer, Thing.COMMENT) is not Scope.ORG or viewer.org_id is None:
        return own
    return or_(own, comment.org_id == viewer.org_id)


def audit_filter(viewer: Viewer, *, entry: Any) -> ColumnElement[bool]:
    """Audit entries the viewer may read: none unless the log is theirs to see, and never
    one that reveals notes, assignments or labels about the viewer themselves."""
    if thing_scope(viewer, Thing.AUDIT_LOG) is not Scope.YES or viewer.org_id is None:
        return false()
    about_me = and_(
        entry.target_account_id == viewer.account_id, entry.action.in_(SELF_DENIED_AUDIT)
    )
    return and_(entry.org_id == viewer.org_id, ~about_me)


def coached_filter(viewer: Viewer, *, member: Any, account: Any) -> ColumnElement[bool]:
    """Athletes in a coach's scope (digests, compliance): the head coach's whole org, an
    assistant's roster — never the coach's own line (self-denial)."""
    clauses = [
        _relation_sql(relation, viewer, member, account)
        for relation in (Relation.HEAD_COACH, Relation.ASSIGNED_COACH)
    ]
    found = [c for c in clauses if c is not _FALSE]
    return or_(*found) if found else false()


def cell_filter(resource: Resource, relation: Relation, account: Any) -> ColumnElement[bool]:
    """What every viewer holding `relation` (and nothing more) may see of an athlete's
    `resource`, whoever they are: the table's cell and the athlete's sharing flags it
    needs, over `account`. Boards shown alike to a whole group or club use it."""
    grant = VISIBILITY[resource].get(relation)
    if grant is None or grant.level is Level.NONE:
        return false()
    return and_(true(), *(getattr(account, flag).is_(True) for flag in grant.needs))


def groupmate_filter(resource: Resource, account: Any) -> ColumnElement[bool]:
    """The group-level rule (SPEC §2 note 3) for `resource`: what every member of a group
    may see of an athlete of it (leaderboards, channel posts) — the groupmate cell of the
    table, the athlete's sharing flags it needs, over `account`."""
    return cell_filter(resource, Relation.GROUPMATE, account)


def orgmate_filter(resource: Resource, account: Any) -> ColumnElement[bool]:
    """The club-level rule (SPEC §2 note 4) for `resource`: what every athlete of the org
    may see of another athlete of it (`/leaderboard club`) — the org-athlete cell."""
    return cell_filter(resource, Relation.ORG_ATHLETE, account)
