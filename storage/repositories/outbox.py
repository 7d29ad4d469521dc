"""What a command writes to the outbox, in its own transaction: the DMs it causes exist
exactly when the change does (SPEC §6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.outbox import enqueue_many
from storage.planning import DueMoment, Planning
from storage.repositories.base import RepositoryBase


class OutboxQueries(RepositoryBase):
    async def queue_messages(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Event messages (OutboxMessage columns by name; a key already queued is
        skipped), in one statement."""
        await enqueue_many(self.s, rows, now)

    async def plan_daily_for(
        self, account_id: int, moments: Sequence[DueMoment], now: datetime
    ) -> int:
        """The daily DMs of `moments` for one account whatever its current settings
        (`/settings` plans today's under the settings it replaces)."""
        return await Planning(self.s).plan_daily(moments, now, account_id=account_id)
