"""Activities and their comment threads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    func,
    select,
)

from storage.models import (
    Account,
    Activity,
    Comment,
)
from storage.repositories.base import RepositoryBase


class ActivityQueries(RepositoryBase):
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
