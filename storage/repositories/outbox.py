"""The outbox, from the side of whoever queues messages (SPEC §6): a command's DMs are
written in the command's own transaction, so they exist exactly when its change does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from storage.models import OutboxMessage
from storage.repositories.base import RepositoryBase

# per store: INSERT ... ON CONFLICT (key) DO NOTHING, built once and run on the
# connection with a list of parameter sets (no ORM bulk path: a plan for 500 athletes is
# 500 DMs in one statement)
_ENQUEUE: dict[str, Any] = {}


class OutboxQueries(RepositoryBase):
    async def enqueue_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Queue event messages, each idempotent by its `key`: a key queued before (a
        retried command, a second planner) adds nothing."""
        if not rows:
            return
        defaults = {
            "text": None,
            "actions": None,
            "account_id": None,
            "email": None,
            "group_channel_id": None,
            "expires_at": None,
            "due_at": now,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        dialect = self.s.get_bind().dialect.name
        statement = _ENQUEUE.get(dialect)
        if statement is None:
            module: Any = postgresql if dialect == "postgresql" else sqlite
            statement = module.insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
            _ENQUEUE[dialect] = statement
        await (await self.s.connection()).execute(statement, [{**defaults, **row} for row in rows])
