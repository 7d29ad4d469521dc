"""Queries the core asks for, by intent. No policy decisions here: list queries that
depend on who is asking take their WHERE clause from `bot.policy.visible_filter`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.util.typing import TupleAny, Unpack

from bot.text import name_key
from storage.models import (
    Account,
    Activity,
    Assignment,
    AuditEntry,
    ChatIdentity,
    CoachNote,
    Comment,
    Group,
    GroupChannel,
    GroupMember,
    Invitation,
    InvitationAssignment,
    JoinFailure,
    LinkCode,
    Membership,
    Org,
    OrgSpace,
    Plan,
    PlanAssignment,
    PlanDay,
    TrainingSession,
    VerifyCode,
    Workout,
)

Member = tuple[Membership, Account]


# Aliases the queries below need, built once: a fresh alias per call costs more than the
# rest of building the statement.
_MINE = aliased(GroupMember, name="mine")
_THEIRS = aliased(GroupMember, name="theirs")
_AUTHOR = aliased(Account, name="author")
_ACTOR = aliased(Account, name="actor")
_TARGET = aliased(Account, name="target")


_Q = TypeVar("_Q", bound="Select[Unpack[TupleAny]]")
_Public = TypeVar("_Public", Activity, Invitation)


# The statements every command runs, built once with named parameters: building a
# statement costs more CPU than the database needs to answer these.
_CALLER_CONTEXT = (
    select(Account, Membership, Org, ChatIdentity)
    .join(ChatIdentity, ChatIdentity.account_id == Account.id)
    .outerjoin(Membership, Membership.account_id == Account.id)
    .outerjoin(Org, Org.id == Membership.org_id)
    .where(
        ChatIdentity.platform == bindparam("platform"),
        ChatIdentity.space_id == bindparam("space"),
        ChatIdentity.user_id == bindparam("user"),
    )
)
_MEMBERSHIP_OF = select(Membership).where(Membership.account_id == bindparam("account"))
_ACCOUNT_BY_EMAIL = select(Account).where(Account.email == bindparam("email"))
_ACCOUNT_AND_MEMBERSHIP = (
    select(Account, Membership)
    .outerjoin(Membership, Membership.account_id == Account.id)
    .where(Account.email == bindparam("email"))
)
_MEMBER_BY_EMAIL = (
    select(Membership, Account)
    .join(Account, Account.id == Membership.account_id)
    .where(Membership.org_id == bindparam("org"), Account.email == bindparam("email"))
)


def members_query(
    query: _Q,
    where: Sequence[ColumnElement[bool]] = (),
    *,
    by_group: bool = False,
    by_label: bool = False,
    limit: int | None = None,
) -> _Q:
    """Members of the org of parameter `org` (the membership joined with its account), by
    name; of group `group` when `by_group`, with the label of `label_like` when
    `by_label` (`members_params` gives the parameters). `query` names what to select."""
    query = (
        query.select_from(Membership)
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.org_id == bindparam("org"), *where)
        .order_by(func.lower(Account.display_name), Account.email)
    )
    if by_group:
        query = query.join(
            GroupMember,
            (GroupMember.membership_id == Membership.id)
            & (GroupMember.group_id == bindparam("group")),
        )
    if by_label:
        labels = type_coerce(Membership.labels, Text)
        query = query.where(labels.like(bindparam("label_like"), escape="/"))
    if limit is not None:
        query = query.limit(limit)
    return query


# What a member list shows, as plain rows (no ORM objects to build for a list)
MEMBER_LINE = select(
    Account.display_name,
    Account.email,
    Membership.is_head_coach,
    Membership.is_coach,
    Membership.is_athlete,
    Membership.status,
)


def members_params(org_id: int, group_id: int | None, label: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"org": org_id, "group": group_id}
    if label is not None:
        # labels are a JSON list of strings: match the quoted item exactly
        quoted = json.dumps(label)
        escaped = quoted.replace("/", "//").replace("%", "/%").replace("_", "/_")
        params["label_like"] = f"%{escaped}%"
    return params


_TIES = select(
    exists().where(
        Assignment.coach_membership_id == bindparam("viewer"),
        Assignment.athlete_membership_id == bindparam("athlete"),
    ),
    exists(
        select(_MINE.group_id)
        .join(_THEIRS, _THEIRS.group_id == _MINE.group_id)
        .where(
            _MINE.membership_id == bindparam("viewer"),
            _THEIRS.membership_id == bindparam("athlete"),
        )
    ),
)
_GROUPS_OF = (
    select(Group)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .where(GroupMember.membership_id == bindparam("member"))
    .order_by(Group.name_key)
)
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

_AUDIT_INSERT = insert(AuditEntry)
_INSERTS: dict[type[Any], Any] = {}  # model -> INSERT ... RETURNING id
_REVOKE_PENDING = (
    update(Invitation)
    .where(
        Invitation.org_id == bindparam("b_org"),
        Invitation.email == bindparam("b_email"),
        Invitation.status == "pending",
    )
    .values(status="revoked")
)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.s = session

    async def add(self, row: Any) -> Any:
        self.s.add(row)
        await self.s.flush()
        return row

    # -- serialising a check and its write (issue 11, item 1) -------------------------
    #
    # On SQLite every command is one `BEGIN IMMEDIATE` transaction: commands run one at
    # a time, so a count read early still holds when the command writes. PostgreSQL runs
    # them at once (READ COMMITTED), so a "count, then write" or "the last one" check
    # either becomes one conditional statement or first takes a lock that every
    # transaction making the same check takes too. These are those locks; each is held
    # until the transaction ends, and is a no-op on SQLite.

    def _postgres(self) -> bool:
        return self.s.get_bind().dialect.name == "postgresql"

    async def serialize(self, *keys: str) -> None:
        """Wait for, then hold until commit, a lock per key (PostgreSQL advisory
        transaction locks, taken in sorted order so two callers never deadlock): for
        counts of rows that do not exist yet (failures, requests of the last day)."""
        if not self._postgres():
            return
        for key in sorted(set(keys)):
            await self.s.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 11))"), {"key": key}
            )

    async def lock_rows(self, model: type[Any], row_id: int) -> None:
        """Lock one row (`SELECT ... FOR UPDATE`) and reload it, with every instance of it
        this session holds: what was read before the lock may be stale."""
        if not self._postgres():
            return
        await self.s.execute(
            select(model)
            .where(model.id == row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def claim_invitation(self, invitation: Invitation, now: datetime) -> bool:
        """Spend one use of a pending invitation in one conditional UPDATE: a join code
        counts up while uses remain, any other invitation goes pending -> accepted. False
        when another transaction took the last use (or it expired) first."""
        values: dict[str, Any] = {"uses": Invitation.uses + 1}
        if invitation.kind != "link":
            values["status"] = "accepted"
        result = await self.s.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.status == "pending",
                or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
                or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses),
            )
            .values(**values)
            .returning(Invitation.uses, Invitation.status)
            .execution_options(synchronize_session=False)
        )
        row = result.first()
        if row is None:
            return False
        set_committed_value(invitation, "uses", row.uses)
        set_committed_value(invitation, "status", row.status)
        return True

    async def end_invitation(self, invitation: Invitation, status: str) -> bool:
        """pending -> declined/revoked, only if still pending (an accept may have won)."""
        result = await self.s.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.status == "pending")
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return False
        set_committed_value(invitation, "status", status)
        return True

    async def insert_returning_id(self, model: type[Any], **values: Any) -> int:
        """A new row nothing in the command reads back as an object: a plain INSERT, which
        costs a fraction of an ORM flush. Its id is returned."""
        statement = _INSERTS.get(model)
        if statement is None:
            statement = _INSERTS[model] = insert(model).returning(model.id)
        return int((await (await self.s.connection()).execute(statement, values)).scalar_one())

    async def delete(self, row: Any) -> None:

        await self.s.delete(row)
        await self.s.flush()

    async def is_empty(self) -> bool:
        return await self.s.scalar(select(func.count()).select_from(Org)) == 0

    # -- accounts and identities ------------------------------------------------------

    async def account(self, account_id: int) -> Account | None:
        return await self.s.get(Account, account_id)

    async def account_by_email(self, email: str) -> Account | None:
        return (await self.s.scalars(_ACCOUNT_BY_EMAIL, {"email": email})).first()

    async def account_and_membership(self, email: str) -> tuple[Account | None, Membership | None]:
        """The account of an e-mail and its membership, if any, in one round trip."""
        row = (await self.s.execute(_ACCOUNT_AND_MEMBERSHIP, {"email": email})).first()
        return (None, None) if row is None else (row[0], row[1])

    async def account_by_identity(
        self, platform: str, space_id: str, user_id: str
    ) -> Account | None:
        query = (
            select(Account)
            .join(ChatIdentity, ChatIdentity.account_id == Account.id)
            .where(
                ChatIdentity.platform == platform,
                ChatIdentity.space_id == space_id,
                ChatIdentity.user_id == user_id,
            )
        )
        return (await self.s.scalars(query)).first()

    async def caller_context(
        self, platform: str, space_id: str, user_id: str
    ) -> tuple[Account, Membership | None, Org | None, ChatIdentity] | None:
        """A chat identity's account with its membership and org, in one round trip: what
        every command needs first."""
        params = {"platform": platform, "space": space_id, "user": user_id}
        row = (await self.s.execute(_CALLER_CONTEXT, params)).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

    async def has_identity_in(self, account_id: int, platform: str, space_id: str) -> bool:
        query = select(ChatIdentity.id).where(
            ChatIdentity.account_id == account_id,
            ChatIdentity.platform == platform,
            ChatIdentity.space_id == space_id,
        )
        return (await self.s.scalar(query.limit(1))) is not None

    async def identity_of_user(
        self, platform: str, space_id: str, user_id: str
    ) -> ChatIdentity | None:
        query = select(ChatIdentity).where(
            ChatIdentity.platform == platform,
            ChatIdentity.space_id == space_id,
            ChatIdentity.user_id == user_id,
        )
        return (await self.s.scalars(query)).first()

    async def emails_of(self, account_ids: set[int]) -> dict[int, str | None]:

        rows = await self.s.execute(
            select(Account.id, Account.email).where(Account.id.in_(account_ids))
        )
        return {account_id: email for account_id, email in rows.all()}

    async def identities_of(
        self, account_id: int, platform: str | None = None
    ) -> Sequence[ChatIdentity]:
        query = select(ChatIdentity).where(ChatIdentity.account_id == account_id)
        if platform:
            query = query.where(ChatIdentity.platform == platform)
        return (await self.s.scalars(query.order_by(ChatIdentity.id))).all()

    # -- orgs and spaces --------------------------------------------------------------

    async def org(self, org_id: int) -> Org | None:
        return await self.s.get(Org, org_id)

    async def org_for_space(self, platform: str, space_id: str) -> Org | None:
        query = (
            select(Org)
            .join(OrgSpace, OrgSpace.org_id == Org.id)
            .where(OrgSpace.platform == platform, OrgSpace.space_id == space_id)
        )
        return (await self.s.scalars(query)).first()

    async def unbind_space(self, org_id: int, platform: str, space_id: str) -> bool:
        result = await self.s.execute(
            delete(OrgSpace).where(
                OrgSpace.org_id == org_id,
                OrgSpace.platform == platform,
                OrgSpace.space_id == space_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

    # -- memberships ------------------------------------------------------------------

    async def membership_of(self, account_id: int) -> Membership | None:
        return (await self.s.scalars(_MEMBERSHIP_OF, {"account": account_id})).first()

    async def members(
        self,
        org_id: int,
        *,
        where: Sequence[ColumnElement[bool]] = (),
        group_id: int | None = None,
        label: str | None = None,
        limit: int | None = None,
    ) -> list[Member]:
        query = members_query(
            select(Membership, Account),
            where,
            by_group=group_id is not None,
            by_label=label is not None,
            limit=limit,
        )
        params = members_params(org_id, group_id, label)
        return [(m, a) for m, a in (await self.s.execute(query, params)).all()]

    async def member_lines(
        self, query: Select[str, str | None, bool, bool, bool, str], params: dict[str, Any]
    ) -> Sequence[Row[str, str | None, bool, bool, bool, str]]:
        """Run a `members_query(MEMBER_LINE, ...)` with its parameters (`members_params`)."""
        return (await self.s.execute(query, params)).all()

    async def member_by_email(self, org_id: int, email: str) -> Member | None:
        row = (await self.s.execute(_MEMBER_BY_EMAIL, {"org": org_id, "email": email})).first()
        return None if row is None else (row[0], row[1])

    async def members_by_name(self, org_id: int, name: str) -> list[Member]:
        return await self.members(org_id, where=[func.lower(Account.display_name) == name.lower()])

    async def member_by_identity(self, org_id: int, platform: str, user_id: str) -> Member | None:
        ids = select(ChatIdentity.account_id).where(
            ChatIdentity.platform == platform, ChatIdentity.user_id == user_id
        )
        found = await self.members(org_id, where=[Account.id.in_(ids)])
        return found[0] if found else None

    async def head_coach(self, org_id: int) -> Member | None:
        found = await self.members(org_id, where=[Membership.is_head_coach.is_(True)])
        return found[0] if found else None

    async def coaches(self, org_id: int) -> list[Member]:
        return await self.members(org_id, where=[Membership.is_coach.is_(True)])

    # -- assignments ------------------------------------------------------------------

    async def assignment(self, coach_mid: int, athlete_mid: int) -> Assignment | None:
        query = select(Assignment).where(
            Assignment.coach_membership_id == coach_mid,
            Assignment.athlete_membership_id == athlete_mid,
        )
        return (await self.s.scalars(query)).first()

    async def roster(self, coach_mid: int) -> list[Member]:
        coach = await self.s.get(Membership, coach_mid)
        if coach is None:
            return []
        on_roster = select(Assignment.athlete_membership_id).where(
            Assignment.coach_membership_id == coach_mid
        )
        return await self.members(coach.org_id, where=[Membership.id.in_(on_roster)])

    async def ties(self, viewer_mid: int, athlete_mid: int) -> tuple[bool, bool]:
        """(athlete on the viewer's roster, the two share a group), in one round trip."""
        params = {"viewer": viewer_mid, "athlete": athlete_mid}
        row = (await self.s.execute(_TIES, params)).one()

        return bool(row[0]), bool(row[1])

    async def groups_of(self, membership_id: int) -> list[Group]:
        return list((await self.s.scalars(_GROUPS_OF, {"member": membership_id})).all())

    async def group_by_name(
        self, org_id: int, name: str, visible: ColumnElement[bool] | None = None
    ) -> Group | None:
        """`visible`: the policy's filter for the caller (None: any, for uniqueness)."""
        query = select(Group).where(Group.org_id == org_id, Group.name_key == name_key(name))
        if visible is not None:
            query = query.where(visible)
        return (await self.s.scalars(query)).first()

    async def groups(self, org_id: int, visible: ColumnElement[bool] | None = None) -> list[Group]:
        query = select(Group).where(Group.org_id == org_id).order_by(Group.name_key)
        if visible is not None:
            query = query.where(visible)
        return list((await self.s.scalars(query)).all())

    async def group_sizes(self, group_ids: list[int]) -> dict[int, int]:
        query = (
            select(GroupMember.group_id, func.count())
            .where(GroupMember.group_id.in_(group_ids))
            .group_by(GroupMember.group_id)
        )
        return {gid: int(n) for gid, n in (await self.s.execute(query)).all()}

    async def group_channels(self, group_id: int) -> list[GroupChannel]:
        query = select(GroupChannel).where(GroupChannel.group_id == group_id)
        return list((await self.s.scalars(query.order_by(GroupChannel.id))).all())

    async def in_group(self, group_id: int, membership_id: int) -> GroupMember | None:
        return await self.s.get(GroupMember, (group_id, membership_id))

    async def group_for_channel(
        self, platform: str, space_id: str, channel_id: str
    ) -> Group | None:
        query = (
            select(Group)
            .join(GroupChannel, GroupChannel.group_id == Group.id)
            .where(
                GroupChannel.platform == platform,
                GroupChannel.space_id == space_id,
                GroupChannel.channel_id == channel_id,
            )
        )
        return (await self.s.scalars(query)).first()

    # -- notes ------------------------------------------------------------------------

    async def notes_about(
        self, athlete_mid: int, visible: ColumnElement[bool]
    ) -> list[tuple[CoachNote, Account]]:
        author = _AUTHOR
        query = (
            select(CoachNote, author)
            .join(Membership, Membership.id == CoachNote.athlete_membership_id)
            .join(Account, Account.id == Membership.account_id)
            .join(author, author.id == CoachNote.author_account_id)
            .where(CoachNote.athlete_membership_id == athlete_mid, visible)
            .order_by(CoachNote.created_at, CoachNote.id)
        )
        return [(n, a) for n, a in (await self.s.execute(query)).all()]

    # -- invitations ------------------------------------------------------------------

    async def pending_invitations_for(self, email: str, now: datetime) -> list[Invitation]:
        query = (
            select(Invitation)
            .where(
                Invitation.email == email,
                Invitation.kind == "email",
                Invitation.status == "pending",
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at, Invitation.id)
        )
        return list((await self.s.scalars(query)).all())

    async def pending_for_person(
        self, email: str | None, platform: str, space_id: str, user_id: str, now: datetime
    ) -> list[Invitation]:
        """What a person may accept: e-mail invitations to their verified e-mail and
        invitations addressed to this chat identity, oldest first."""
        addressed = (
            (Invitation.kind == "person")
            & (Invitation.address_platform == platform)
            & (Invitation.address_space == space_id)
            & (Invitation.address_user == user_id)
        )
        to_email = (Invitation.kind == "email") & (Invitation.email == email)
        query = (
            select(Invitation)
            .where(
                addressed | to_email if email else addressed,
                Invitation.status == "pending",
                Invitation.expires_at > now,
            )
            .order_by(Invitation.created_at, Invitation.id)
        )
        return list((await self.s.scalars(query)).all())

    async def invitation(self, invitation_id: int) -> Invitation | None:
        return await self.s.get(Invitation, invitation_id)

    async def pending_for_identity(
        self, org_id: int, platform: str, space_id: str, user_id: str
    ) -> list[Invitation]:
        query = select(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.kind == "person",
            Invitation.address_platform == platform,
            Invitation.address_space == space_id,
            Invitation.address_user == user_id,
            Invitation.status == "pending",
        )
        return list((await self.s.scalars(query)).all())

    async def invitation_by_hash(self, code_hash: str) -> Invitation | None:
        query = select(Invitation).where(Invitation.code_hash == code_hash)
        return (await self.s.scalars(query)).first()

    async def by_public_id(self, model: type[_Public], public_id: str) -> _Public | None:
        """An activity or invitation by the id people see (`storage.types.new_public_id`)."""
        return await self.s.scalar(select(model).where(model.public_id == public_id))

    async def invitations(self, org_id: int) -> list[Invitation]:
        query = (
            select(Invitation)
            .where(Invitation.org_id == org_id)
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(100)
        )
        return list((await self.s.scalars(query)).all())

    async def revoke_pending(self, org_id: int, email: str) -> int:
        """Revoke an e-mail's pending invitations to an org; how many there were."""
        params = {"b_org": org_id, "b_email": email}
        result = await (await self.s.connection()).execute(_REVOKE_PENDING, params)
        return result.rowcount

    async def pending_for_org(self, org_id: int, email: str) -> list[Invitation]:
        query = select(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.email == email,
            Invitation.status == "pending",
        )
        return list((await self.s.scalars(query)).all())

    async def invitation_assignments(self, invitation_id: int) -> list[InvitationAssignment]:
        query = select(InvitationAssignment).where(
            InvitationAssignment.invitation_id == invitation_id
        )
        return list((await self.s.scalars(query.order_by(InvitationAssignment.id))).all())

    async def pending_invitation(self, org_id: int, email: str, role: str) -> Invitation | None:
        query = select(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.email == email,
            Invitation.role == role,
            Invitation.status == "pending",
        )
        return (await self.s.scalars(query.order_by(Invitation.id.desc()))).first()

    # -- workouts ---------------------------------------------------------------------

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

    # -- plans ------------------------------------------------------------------------

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

    # -- activities -------------------------------------------------------------------

    async def comments_on(
        self, activity_ids: list[int], where: ColumnElement[bool]
    ) -> dict[int, list[tuple[Comment, Account | None]]]:
        """Comments of activities already filtered by the policy, passing `where` (the
        policy's comment filter over `Comment` and `Activity`)."""
        if not activity_ids:
            return {}
        query = (
            select(Comment, Account)
            .join(Activity, Activity.id == Comment.activity_id)
            .outerjoin(Account, Account.id == Comment.author_account_id)
            .where(Comment.activity_id.in_(activity_ids), where)
            .order_by(Comment.created_at, Comment.id)
        )
        found: dict[int, list[tuple[Comment, Account | None]]] = {}
        for comment, author in (await self.s.execute(query)).all():
            found.setdefault(comment.activity_id, []).append((comment, author))
        return found

    async def activity_at(self, account_id: int, started_at: datetime, source: str) -> bool:
        query = select(func.count()).where(
            Activity.account_id == account_id,
            Activity.started_at == started_at,
            Activity.source == source,
        )
        return bool(await self.s.scalar(query))

    async def plans_using(self, workout_id: int) -> list[str]:
        query = (
            select(Plan.name)
            .join(PlanDay, PlanDay.plan_id == Plan.id)
            .where(PlanDay.workout_id == workout_id)
            .distinct()
            .order_by(Plan.name)
        )
        return list((await self.s.scalars(query)).all())

    # -- audit and rate limits --------------------------------------------------------

    async def add_audit(
        self,
        org_id: int,
        actor_id: int,
        action: str,
        target_id: int | None,
        detail: str,
        at: datetime,
    ) -> None:
        # a plain INSERT: nothing reads the row back in the command, and an ORM flush
        # costs several times the statement
        row = {
            "org_id": org_id,
            "actor_account_id": actor_id,
            "action": action,
            "target_account_id": target_id,
            "detail": detail,
            "at": at,
        }
        await (await self.s.connection()).execute(_AUDIT_INSERT, row)

    async def audit_names(self, org_id: int, account_id: int) -> bool:
        """Whether an org's audit log has an entry about this account."""
        query = select(
            exists().where(AuditEntry.org_id == org_id, AuditEntry.target_account_id == account_id)
        )
        return bool(await self.s.scalar(query))

    async def audit_entries(
        self,
        org_id: int,
        *,
        target_id: int | None,
        since: datetime | None,
        where: ColumnElement[bool],
        limit: int = 50,
    ) -> list[tuple[AuditEntry, Account | None, Account | None]]:
        """The org's log, newest first, passing `where` (the policy's audit filter)."""
        actor, target = _ACTOR, _TARGET
        query = (
            select(AuditEntry, actor, target)
            .outerjoin(actor, actor.id == AuditEntry.actor_account_id)
            .outerjoin(target, target.id == AuditEntry.target_account_id)
            .where(AuditEntry.org_id == org_id, where)
        )
        if target_id is not None:
            query = query.where(AuditEntry.target_account_id == target_id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        return [(e, a, t) for e, a, t in (await self.s.execute(query)).all()]

    async def join_failures_since(self, key: str, since: datetime) -> int:
        query = select(func.count()).where(JoinFailure.identity_key == key, JoinFailure.at >= since)
        return int(await self.s.scalar(query) or 0)

    async def add_join_failure(self, key: str, at: datetime) -> None:
        self.s.add(JoinFailure(identity_key=key, at=at))
        await self.s.execute(delete(JoinFailure).where(JoinFailure.at < at - timedelta(days=1)))
        await self.s.flush()

    # -- proof: /verify, /link (SPEC §5a) ---------------------------------------------

    async def verify_requests_since(
        self, since: datetime, *, email: str | None = None, identity_key: str | None = None
    ) -> int:
        """How many e-mail codes were requested after `since` for an e-mail or by an
        identity (every request counts, used or not: the daily limits)."""
        query = select(func.count()).where(VerifyCode.created_at > since)
        if email is not None:
            query = query.where(VerifyCode.email == email)
        if identity_key is not None:
            query = query.where(VerifyCode.identity_key == identity_key)
        return int(await self.s.scalar(query) or 0)

    async def open_verify_request(self, identity_key: str) -> VerifyCode | None:
        """The identity's newest request still pending (it may have expired)."""
        query = (
            select(VerifyCode)
            .where(VerifyCode.identity_key == identity_key, VerifyCode.status == "pending")
            .order_by(VerifyCode.id.desc())
            .limit(1)
        )
        if self._postgres():  # its tries count up one wrong code at a time
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.s.scalars(query)).first()

    async def start_verify_request(
        self, identity_key: str, email: str, code_hash: str, now: datetime, expires_at: datetime
    ) -> VerifyCode:
        """A new request, replacing every pending one for the e-mail or by the identity
        (one live code per e-mail); requests older than two days are forgotten."""
        await self.s.execute(
            update(VerifyCode)
            .where(
                VerifyCode.status == "pending",
                (VerifyCode.email == email) | (VerifyCode.identity_key == identity_key),
            )
            .values(status="replaced")
            .execution_options(synchronize_session=False)
        )
        await self.s.execute(
            delete(VerifyCode).where(VerifyCode.created_at < now - timedelta(days=2))
        )
        return await self.add(
            VerifyCode(
                identity_key=identity_key,
                email=email,
                code_hash=code_hash,
                tries=0,
                status="pending",
                created_at=now,
                expires_at=expires_at,
            )
        )

    async def link_code_by_hash(self, code_hash: str) -> LinkCode | None:
        return await self.s.scalar(select(LinkCode).where(LinkCode.code_hash == code_hash))

    async def take_link_code(self, link_code_id: int) -> bool:
        """Spend a link code; False when another transaction spent it first."""
        result = await self.s.execute(
            delete(LinkCode)
            .where(LinkCode.id == link_code_id)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def replace_link_code(
        self, account_id: int, code_hash: str, now: datetime, expires_at: datetime
    ) -> None:
        """The account's one live link code; expired ones of anybody are cleared."""
        await self.s.execute(
            delete(LinkCode).where(
                (LinkCode.account_id == account_id) | (LinkCode.expires_at <= now)
            )
        )
        await self.add(
            LinkCode(
                account_id=account_id, code_hash=code_hash, created_at=now, expires_at=expires_at
            )
        )

    async def account_holdings(self, account_id: int) -> list[str]:
        """What an account holds that moving its identities away would lose (empty: it
        may be deleted, SPEC §5a): one phrase per kind of thing."""
        kinds: list[tuple[str, ColumnElement[bool]]] = [
            ("a club membership", exists().where(Membership.account_id == account_id)),
            ("activities", exists().where(Activity.account_id == account_id)),
            ("comments", exists().where(Comment.author_account_id == account_id)),
            ("coach notes", exists().where(CoachNote.author_account_id == account_id)),
            ("workouts", exists().where(Workout.author_account_id == account_id)),
            ("plans", exists().where(Plan.author_account_id == account_id)),
            (
                "plan assignments",
                exists().where(PlanAssignment.assigned_by_account_id == account_id),
            ),
            ("invitations", exists().where(Invitation.created_by_account_id == account_id)),
            ("a club's audit log", exists().where(AuditEntry.actor_account_id == account_id)),
        ]
        row = (await self.s.execute(select(*(test for _, test in kinds)))).one()
        return [name for (name, _), held in zip(kinds, row, strict=True) if held]
