"""Accounts, their chat identities and the orgs spaces are bound to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    exists,
    select,
)

from storage.models import (
    Account,
    Activity,
    AuditEntry,
    ChatIdentity,
    CoachNote,
    Comment,
    Invitation,
    Membership,
    Org,
    OrgSpace,
    Plan,
    PlanAssignment,
    Workout,
)
from storage.repositories.base import RepositoryBase

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

_ACCOUNT_BY_EMAIL = select(Account).where(Account.email == bindparam("email"))

_ACCOUNT_AND_MEMBERSHIP = (
    select(Account, Membership)
    .outerjoin(Membership, Membership.account_id == Account.id)
    .where(Account.email == bindparam("email"))
)


class AccountQueries(RepositoryBase):
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

    async def org(self, org_id: int) -> Org | None:
        return await self.s.get(Org, org_id)

    async def org_for_space(self, platform: str, space_id: str) -> Org | None:
        query = (
            select(Org)
            .join(OrgSpace, OrgSpace.org_id == Org.id)
            .where(OrgSpace.platform == platform, OrgSpace.space_id == space_id)
        )
        return (await self.s.scalars(query)).first()

    async def found_org(
        self, name: str, timezone: str, head_coach_id: int, at: datetime
    ) -> tuple[Org, Membership]:
        """A new club and its first member, who heads it (and coaches, not runs, in it)."""
        org: Org = await self.add(Org(name=name, timezone=timezone, created_at=at))
        head: Membership = await self.add(
            Membership(
                org_id=org.id,
                account_id=head_coach_id,
                is_head_coach=True,
                is_coach=True,
                is_athlete=False,
                status="active",
                labels=[],
                joined_at=at,
            )
        )
        return org, head

    async def bind_space(self, org_id: int, platform: str, space_id: str) -> None:
        """A Slack workspace or Discord server serves this org from now on."""
        await self.add(OrgSpace(org_id=org_id, platform=platform, space_id=space_id))

    async def save_own_settings(self, account: Account, changes: Mapping[str, object]) -> None:
        """A person's own settings and privacy flags, by column name."""
        for column, value in changes.items():
            setattr(account, column, value)
        await self.s.flush()

    async def unbind_space(self, org_id: int, platform: str, space_id: str) -> bool:
        result = await self.s.execute(
            delete(OrgSpace).where(
                OrgSpace.org_id == org_id,
                OrgSpace.platform == platform,
                OrgSpace.space_id == space_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))

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
