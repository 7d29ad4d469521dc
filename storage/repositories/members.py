"""Memberships and coach notes: who belongs to an org, and what coaches write about them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    bindparam,
    exists,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased
from sqlalchemy.util.typing import TupleAny, Unpack

from bot.policy import Resource, Viewer
from storage.models import (
    Account,
    Assignment,
    ChatIdentity,
    CoachNote,
    GroupMember,
    Membership,
    Org,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, viewer_params, visible_filter

Member = tuple[Membership, Account]

# What a member list shows, as plain rows (no ORM objects to build for a list)
MemberLine = Row[str, str | None, bool, bool, bool, str]

# Aliases the queries below need, built once: a fresh alias per call costs more than the
# rest of building the statement.
_MINE = aliased(GroupMember, name="mine")

_THEIRS = aliased(GroupMember, name="theirs")

_AUTHOR = aliased(Account, name="author")

_Q = TypeVar("_Q", bound="Select[Unpack[TupleAny]]")

_MEMBERSHIP_OF = select(Membership).where(Membership.account_id == bindparam("account"))

_MEMBER_BY_EMAIL = (
    select(Membership, Account)
    .join(Account, Account.id == Membership.account_id)
    .where(Membership.org_id == bindparam("org"), Account.email == bindparam("email"))
)


def _members_query(
    query: _Q,
    where: Sequence[ColumnElement[bool]] = (),
    *,
    by_group: bool = False,
    by_label: bool = False,
    limit: int | None = None,
) -> _Q:
    """Members of the org of parameter `org` (the membership joined with its account), by
    name; of group `group` when `by_group`, with the label of `label_like` when
    `by_label` (`_members_params` gives the parameters). `query` names what to select."""
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


def _members_params(org_id: int, group_id: int | None, label: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"org": org_id, "group": group_id}
    if label is not None:
        # labels are a JSON list of strings: match the quoted item exactly
        quoted = json.dumps(label)
        escaped = quoted.replace("/", "//").replace("%", "/%").replace("_", "/_")
        params["label_like"] = f"%{escaped}%"
    return params


@per_viewer_shape
def _member_lines_query(
    viewer: Viewer, by_group: bool, by_label: bool, limit: int
) -> Select[str, str | None, bool, bool, bool, str]:
    line = select(
        Account.display_name,
        Account.email,
        Membership.is_head_coach,
        Membership.is_coach,
        Membership.is_athlete,
        Membership.status,
    )
    where = [visible_filter(Resource.PROFILE, viewer)]
    return _members_query(line, where, by_group=by_group, by_label=by_label, limit=limit)


@per_viewer_shape
def _notes_query(viewer: Viewer) -> Select[CoachNote, Account]:
    """Notes about athlete `athlete` the viewer may read, oldest first, with their author."""
    author = _AUTHOR
    visible = visible_filter(Resource.NOTES, viewer, author_column=CoachNote.author_account_id)
    return (
        select(CoachNote, author)
        .join(Membership, Membership.id == CoachNote.athlete_membership_id)
        .join(Account, Account.id == Membership.account_id)
        .join(author, author.id == CoachNote.author_account_id)
        .where(CoachNote.athlete_membership_id == bindparam("athlete"), visible)
        .order_by(CoachNote.created_at, CoachNote.id)
    )


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


class MemberQueries(RepositoryBase):
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
        query = _members_query(
            select(Membership, Account),
            where,
            by_group=group_id is not None,
            by_label=label is not None,
            limit=limit,
        )
        params = _members_params(org_id, group_id, label)
        return [(m, a) for m, a in (await self.s.execute(query, params)).all()]

    async def member_lines(
        self,
        viewer: Viewer,
        org_id: int,
        *,
        group_id: int | None = None,
        label: str | None = None,
        limit: int,
    ) -> Sequence[MemberLine]:
        """The org's members whose profile the viewer may see, by name: name, e-mail,
        roles and status (of one group, with one label when given), at most `limit`."""
        query = _member_lines_query(viewer, group_id is not None, label is not None, limit)
        params = {**viewer_params(viewer), **_members_params(org_id, group_id, label)}
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

    async def lock_roles(self, org_id: int, membership_id: int) -> None:
        """Hold the org's row, then the caller's membership (reloaded), until commit: the
        commands that change who holds which role run one after another per org."""
        await self.lock_rows(Org, org_id)
        await self.lock_rows(Membership, membership_id)

    async def set_member_fields(
        self,
        member: Membership,
        *,
        status: str | None = None,
        level: str | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        """An org's own fields about a member; None leaves a field as it is."""
        if status is not None:
            member.status = status
        if level is not None:
            member.level = level
        if labels is not None:
            member.labels = list(labels)
        await self.s.flush()

    async def remove_member(self, member: Membership) -> None:
        """The membership goes; the database cascades its assignments, group places and
        the notes about it, while the account and its own activities stay."""
        await self.delete(member)

    async def notes_about(
        self, athlete_mid: int, viewer: Viewer
    ) -> list[tuple[CoachNote, Account]]:
        params = {**viewer_params(viewer), "athlete": athlete_mid}
        rows = (await self.s.execute(_notes_query(viewer), params)).all()
        return [(n, a) for n, a in rows]

    async def write_note(
        self, org_id: int, author_id: int, athlete_mid: int, text: str, at: datetime
    ) -> None:
        await self.add(
            CoachNote(
                org_id=org_id,
                author_account_id=author_id,
                athlete_membership_id=athlete_mid,
                text=text,
                created_at=at,
            )
        )
