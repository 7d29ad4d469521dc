"""The audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Select,
    bindparam,
    exists,
    insert,
    select,
)
from sqlalchemy.orm import aliased

from bot.policy import Viewer
from storage.models import (
    Account,
    AuditEntry,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import audit_filter, per_viewer_shape, viewer_params

_ACTOR = aliased(Account, name="actor")

_TARGET = aliased(Account, name="target")

_AUDIT_INSERT = insert(AuditEntry)


@per_viewer_shape
def _audit_query(
    viewer: Viewer, about_one: bool, since: bool, limit: int
) -> Select[AuditEntry, Account, Account]:
    """Entries of org `org` the policy lets the viewer read (about account `target` when
    `about_one`, from `since` when `since`), newest first."""
    actor, target = _ACTOR, _TARGET
    query = (
        select(AuditEntry, actor, target)
        .outerjoin(actor, actor.id == AuditEntry.actor_account_id)
        .outerjoin(target, target.id == AuditEntry.target_account_id)
        .where(AuditEntry.org_id == bindparam("org"), audit_filter(viewer, entry=AuditEntry))
    )
    if about_one:
        query = query.where(AuditEntry.target_account_id == bindparam("target"))
    if since:
        query = query.where(AuditEntry.at >= bindparam("since"))
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)


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
        viewer: Viewer,
        org_id: int,
        *,
        target_id: int | None,
        since: datetime | None,
        limit: int = 50,
    ) -> list[tuple[AuditEntry, Account | None, Account | None]]:
        """The org's log as the viewer may read it, newest first: about one account when
        `target_id`, from `since` when given."""
        query = _audit_query(viewer, target_id is not None, since is not None, limit)
        params = {**viewer_params(viewer), "org": org_id, "target": target_id, "since": since}
        return [(e, a, t) for e, a, t in (await self.s.execute(query, params)).all()]
