"""Erasing a person (`/forget-me`) and a club (`/delete-club`): set-based deletes in an
order the foreign keys accept, and the scrub of every stored text that names an e-mail
(issue 14 item 5; the decisions are in docs/DESIGN.md "Data rights")."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, and_, bindparam, cast, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Account,
    Activity,
    Assignment,
    AuditEntry,
    Base,
    ChatIdentity,
    CoachNote,
    Comment,
    Group,
    GroupChannel,
    GroupMember,
    Invitation,
    InvitationAssignment,
    JoinFailure,
    Membership,
    Org,
    OrgSpace,
    OutboxMessage,
    Plan,
    PlanAssignment,
    PlanDay,
    TrainingSession,
    VerifyCode,
    Workout,
)
from storage.repositories.base import RepositoryBase
from storage.types import JSONList


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ErasureQueries(RepositoryBase):
    async def erase_account(self, account_id: int, stand_in_name: str, now: datetime) -> None:
        """Delete the account and everything only it holds (identities, membership and
        what hangs on it, activities and the comments on them, comments it wrote, link
        codes, outbox rows and delivery facts) by the foreign keys' cascades after the
        explicit steps below. Notes it wrote as a coach stay with the club under a nameless
        stand-in account (`stand_in_name`): `coach_notes.author_account_id` cannot be NULL.
        Workouts, plans, invitations it made and audit entries keep their rows (their
        account columns turn NULL). Then every text naming its e-mail is scrubbed."""
        s = self.s
        email = await s.scalar(select(Account.email).where(Account.id == account_id))
        identities = (
            await s.execute(
                select(ChatIdentity.platform, ChatIdentity.space_id, ChatIdentity.user_id).where(
                    ChatIdentity.account_id == account_id
                )
            )
        ).all()
        keys = [f"{p}:{space}:{user}" for p, space, user in identities]
        wrote_notes = await s.scalar(
            select(CoachNote.id).where(CoachNote.author_account_id == account_id).limit(1)
        )
        if wrote_notes is not None:
            stand_in = Account(
                email=None,
                display_name=stand_in_name,
                display_name_set=True,
                notify_daily=False,
                notify_digest=False,
                notify_leaderboard=False,
                notify_weekly=False,
                notify_restday=False,
                notify_feedback=False,
                share_activities=False,
                share_with_coaches=False,
                share_with_group=False,
                share_with_org=False,
                share_pace=False,
                share_profile=False,
                created_at=now,
            )
            await self.add(stand_in)
            await s.execute(
                update(CoachNote)
                .where(CoachNote.author_account_id == account_id)
                .values(author_account_id=stand_in.id)
            )
        await s.execute(delete(Comment).where(Comment.author_account_id == account_id))
        addressed: list[ColumnElement[bool]] = [
            and_(Invitation.address_platform == p, Invitation.address_user == user)
            for p, _, user in identities
        ]
        if email is not None:
            addressed.append(Invitation.email == email)
        if addressed:
            await s.execute(delete(Invitation).where(or_(*addressed)))
        codes: list[ColumnElement[bool]] = []
        if keys:
            codes.append(VerifyCode.identity_key.in_(keys))
            await s.execute(delete(JoinFailure).where(JoinFailure.identity_key.in_(keys)))
        if email is not None:
            codes.append(VerifyCode.email == email)
            await s.execute(delete(OutboxMessage).where(OutboxMessage.email == email))
        if codes:
            await s.execute(delete(VerifyCode).where(or_(*codes)))
        # sessions of their own schedule point at their activities: both go by cascade
        await s.execute(delete(Activity).where(Activity.account_id == account_id))
        await s.execute(delete(Account).where(Account.id == account_id))
        if email is not None:
            await self.scrub_text(email, "a former member")

    async def scrub_text(self, needle: str, replacement: str) -> int:
        """Replace `needle` (case-insensitively) in every string column of every table,
        and in every item of a JSON list column (a member's labels); the rows are found by
        one query per column, and only they are rewritten. Returns how many values
        changed. Rare and deliberate (an erasure), so a scan is fine."""
        pattern = _like_pattern(needle.lower())
        finder = re.compile(re.escape(needle), re.IGNORECASE)
        changed = 0
        for table in Base.metadata.sorted_tables:
            keys = list(table.primary_key.columns)
            for column in table.columns:
                listed = isinstance(column.type, JSONList)
                if not (listed or isinstance(column.type, String)) or column in keys:
                    continue
                text = func.lower(cast(column, Text))
                rows = (
                    await self.s.execute(
                        select(*keys, column).where(text.like(pattern, escape="\\"))
                    )
                ).all()
                if not rows:
                    continue
                width = getattr(column.type, "length", None)
                values: list[dict[str, Any]] = []
                for row in rows:
                    new: Any
                    if listed:
                        new = [finder.sub(replacement, item) for item in row[-1]]
                    else:
                        new = finder.sub(replacement, row[-1])
                        new = new[:width] if width else new
                    values.append(
                        {**{f"k_{k.name}": row[i] for i, k in enumerate(keys)}, "v_new": new}
                    )
                statement = (
                    update(table)
                    .where(and_(*(k == bindparam(f"k_{k.name}") for k in keys)))
                    .values({column.name: bindparam("v_new")})
                )
                await self.s.execute(statement.execution_options(synchronize_session=False), values)
                changed += len(values)
        return changed

    async def delete_org(self, org_id: int) -> list[int]:
        """Delete the club and everything only it holds, children first (plan days hold
        their workouts and plan assignments their plans by RESTRICT). The members' accounts,
        identities and own activities stay: they belong to the people. Returns the
        accounts that were members, for the notice."""
        s = self.s
        members = select(Membership.id).where(Membership.org_id == org_id)
        accounts = list(
            await s.scalars(select(Membership.account_id).where(Membership.org_id == org_id))
        )
        plans = select(Plan.id).where(Plan.org_id == org_id)
        groups = select(Group.id).where(Group.org_id == org_id)
        invitations = select(Invitation.id).where(Invitation.org_id == org_id)
        channels = select(GroupChannel.id).where(GroupChannel.group_id.in_(groups))
        # what is queued for the members or the club's channels and not sent yet: about the
        # club, which is gone (sent rows addressed to a person stay theirs)
        await s.execute(
            delete(OutboxMessage).where(
                or_(
                    OutboxMessage.group_channel_id.in_(channels),
                    and_(
                        OutboxMessage.account_id.in_(accounts),
                        OutboxMessage.status.in_(("pending", "sending")),
                    ),
                )
            )
        )
        for statement in (
            delete(TrainingSession).where(TrainingSession.membership_id.in_(members)),
            delete(PlanAssignment).where(PlanAssignment.org_id == org_id),
            delete(PlanDay).where(PlanDay.plan_id.in_(plans)),
            delete(InvitationAssignment).where(InvitationAssignment.invitation_id.in_(invitations)),
            delete(Invitation).where(Invitation.org_id == org_id),
            delete(Plan).where(Plan.org_id == org_id),
            delete(Workout).where(Workout.org_id == org_id),
            delete(GroupChannel).where(GroupChannel.id.in_(channels)),
            delete(GroupMember).where(GroupMember.group_id.in_(groups)),
            delete(Group).where(Group.org_id == org_id),
            delete(CoachNote).where(CoachNote.org_id == org_id),
            delete(Assignment).where(Assignment.org_id == org_id),
            delete(Comment).where(Comment.org_id == org_id),
            delete(AuditEntry).where(AuditEntry.org_id == org_id),
            delete(OrgSpace).where(OrgSpace.org_id == org_id),
            delete(Membership).where(Membership.org_id == org_id),
            delete(Org).where(Org.id == org_id),
        ):
            await s.execute(statement.execution_options(synchronize_session=False))
        return accounts
