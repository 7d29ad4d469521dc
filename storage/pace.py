"""The pace of a bot token shared by the processes on one PostgreSQL database (issue 14
item 6), as `bot.pacing.SharedPace` uses it (`bot.ports.PaceStore`): each verb one short
transaction of one statement (`storage/repositories/pace.py`). Built by the composition
root on PostgreSQL only; SQLite runs one process, paced in memory."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.repositories.pace import PaceQueries


class PaceBudgets:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self.sessions = sessions

    async def claim(
        self, platform: str, bot: str, scope: str, *, earliest: datetime, span: timedelta
    ) -> tuple[datetime, datetime | None]:
        async with self.sessions() as session, session.begin():
            return await PaceQueries(session).claim_pace_slots(
                platform, bot, scope, earliest=earliest, span=span
            )

    async def hold(self, platform: str, bot: str, until: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await PaceQueries(session).hold_pace(platform, bot, until)

    async def push(self, platform: str, bot: str, scope: str, free_at: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await PaceQueries(session).push_pace(platform, bot, scope, free_at)

    async def forget(self, before: datetime) -> int:
        async with self.sessions() as session, session.begin():
            return await PaceQueries(session).forget_spacing(before)
