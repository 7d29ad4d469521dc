"""Platform deliveries already handled, so a retried event repeats no side effect —
across restarts and processes, since the record is in the database."""

from __future__ import annotations

from datetime import datetime

from storage.models import ProcessedEvent
from storage.repositories.base import RepositoryBase


class DeliveryQueries(RepositoryBase):
    async def record_delivery(self, platform: str, event_id: str, at: datetime) -> None:
        """Note a platform delivery as handled; `bot.ports.Conflict` when it already was
        (the unique (platform, event_id) decides, so two processes agree)."""
        await self.add(ProcessedEvent(platform=platform, event_id=event_id, at=at))
