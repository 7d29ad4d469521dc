"""Invitations and join codes, and the failed-code counter (SPEC §5, §5a)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    Assignment,
    Invitation,
    InvitationAssignment,
    JoinFailure,
)
from storage.repositories.base import RepositoryBase

_REVOKE_PENDING = (
    update(Invitation)
    .where(
        Invitation.org_id == bindparam("b_org"),
        Invitation.email == bindparam("b_email"),
        Invitation.status == "pending",
    )
    .values(status="revoked")
)


class InvitationQueries(RepositoryBase):
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

    async def settle_roster_places(
        self, invitation_id: int, org_id: int, membership_id: int, now: datetime
    ) -> None:
        """The roster places that waited on an invitation (`/assign-athlete` of someone
        invited) become assignments of the membership it just made."""
        for waiting in await self.invitation_assignments(invitation_id):
            self.s.add(
                Assignment(
                    org_id=org_id,
                    coach_membership_id=waiting.coach_membership_id or membership_id,
                    athlete_membership_id=waiting.athlete_membership_id or membership_id,
                    created_at=now,
                )
            )
            await self.s.flush()
            await self.s.delete(waiting)
            await self.s.flush()

    async def pending_invitation(self, org_id: int, email: str, role: str) -> Invitation | None:
        query = select(Invitation).where(
            Invitation.org_id == org_id,
            Invitation.email == email,
            Invitation.role == role,
            Invitation.status == "pending",
        )
        return (await self.s.scalars(query.order_by(Invitation.id.desc()))).first()

    async def join_failures_since(self, key: str, since: datetime) -> int:
        query = select(func.count()).where(JoinFailure.identity_key == key, JoinFailure.at >= since)
        return int(await self.s.scalar(query) or 0)

    async def add_join_failure(self, key: str, at: datetime) -> None:
        self.s.add(JoinFailure(identity_key=key, at=at))
        await self.s.execute(delete(JoinFailure).where(JoinFailure.at < at - timedelta(days=1)))
        await self.s.flush()
