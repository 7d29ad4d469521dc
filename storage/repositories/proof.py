"""Proof of identity (SPEC §5a): /verify e-mails and /link codes, and what proving does
to identities and accounts (an identity detached, an emptied account given up)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)

from storage.models import (
    Account,
    ChatIdentity,
    LinkCode,
    VerifyCode,
)
from storage.repositories.base import RepositoryBase


class ProofQueries(RepositoryBase):
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

    async def detach_identity(self, identity: ChatIdentity) -> None:
        """The identity no longer speaks for its account; met afresh on its next use."""
        await self.s.delete(identity)
        await self.s.flush()

    async def retire_account(self, account: Account) -> None:
        """Give up an account whose identities moved onto another: the moves are written
        first, so deleting it takes none of them along."""
        await self.s.flush()
        await self.s.delete(account)
        await self.s.flush()

    async def record_email_proof(
        self, account: Account, identity: ChatIdentity, email: str
    ) -> None:
        """`/verify` proved `email` from this identity: it is now the account's, and the
        identity stands on the code. Written at once, so an e-mail another account took
        meanwhile is refused here (`Conflict`), not at commit."""
        account.email = email
        identity.proof, identity.checked_at = "verify", None
        await self.s.flush()
