"""The audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    exists,
    insert,
    select,
)
from sqlalchemy.orm import aliased

from storage.models import (
    Account,
    AuditEntry,
)
from storage.repositories.base import RepositoryBase

_ACTOR = aliased(Account, name="actor")

_TARGET = aliased(Account, name="target")

_AUDIT_INSERT = insert(AuditEntry)


class AuditQueries(RepositoryBase):
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
