"""What a command writes to the outbox, in its own transaction: the DMs it causes exist
exactly when the change does (SPEC §6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from storage.repositories.base import RepositoryBase

if TYPE_CHECKING:
    from storage.planning import DueMoment

# storage.outbox and storage.planning are imported where they are used: they read
# through storage.outbox_reads, which uses the leaderboard's statements in this package,
# so importing them here would make `import storage.outbox` circular.


class OutboxQueries(RepositoryBase):
    async def queue_messages(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Event messages (OutboxMessage columns by name; a key already queued is
        skipped), in one statement."""
        from storage.outbox import enqueue_many

        await enqueue_many(self.s, rows, now)

    async def plan_daily_for(
        self, account_id: int, moments: Sequence[DueMoment], now: datetime
    ) -> int:
        """The daily DMs of `moments` for one account whatever its current settings
        (`/settings` plans today's under the settings it replaces)."""
        from storage.planning import Planning

        return await Planning(self.s).plan_daily(moments, now, account_id=account_id)
