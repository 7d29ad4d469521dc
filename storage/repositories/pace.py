"""The shared pace of one bot token (issue 14 item 6): slots of an even schedule claimed
in blocks, Retry-After holds, per-conversation spacing — one statement each, on the
`rate_budgets` row the processes of that bot share (PostgreSQL; see `storage.pace`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Interval, bindparam, delete, func
from sqlalchemy.dialects import postgresql

from storage.models import RateBudget
from storage.repositories.base import RepositoryBase
from storage.types import UTCDateTime

_EARLIEST = bindparam("earliest", type_=UTCDateTime())
_SPAN = bindparam("span", type_=Interval())


class PaceQueries(RepositoryBase):
    async def claim_pace_slots(
        self, platform: str, bot: str, scope: str, *, earliest: datetime, span: timedelta
    ) -> tuple[datetime, datetime | None]:
        """Take the next `span` of the schedule, starting no sooner than `earliest` nor
        before a running hold: one atomic upsert, so two processes never get the same
        instant. Returns where the span starts and the hold recorded (None: none)."""
        row = RateBudget.__table__
        start = func.greatest(
            row.c.next_slot,
            _EARLIEST,
            func.coalesce(row.c.held_until, _EARLIEST),
            type_=UTCDateTime(),
        )
        stmt = (
            postgresql.insert(RateBudget)
            .values(platform=platform, bot=bot, scope=scope, next_slot=earliest + span)
            .on_conflict_do_update(
                index_elements=["platform", "bot", "scope"], set_={"next_slot": start + _SPAN}
            )
            .returning(RateBudget.next_slot, RateBudget.held_until)
        )
        ends, held = (await self.s.execute(stmt, {"earliest": earliest, "span": span})).one()
        return ends - span, held

    async def hold_pace(self, platform: str, bot: str, until: datetime) -> None:
        """A Retry-After: no slot of this bot's requests starts before `until`."""
        row = RateBudget.__table__
        stmt = (
            postgresql.insert(RateBudget)
            .values(platform=platform, bot=bot, scope="requests", next_slot=until, held_until=until)
            .on_conflict_do_update(
                index_elements=["platform", "bot", "scope"],
                set_={"held_until": func.greatest(func.coalesce(row.c.held_until, until), until)},
            )
        )
        await self.s.execute(stmt)

    async def push_pace(self, platform: str, bot: str, scope: str, free_at: datetime) -> None:
        """Nothing of the scope's schedule before `free_at` (a send ended later than its
        slot): the row's next free instant moves there unless it is later already."""
        row = RateBudget.__table__
        stmt = (
            postgresql.insert(RateBudget)
            .values(platform=platform, bot=bot, scope=scope, next_slot=free_at)
            .on_conflict_do_update(
                index_elements=["platform", "bot", "scope"],
                set_={
                    "next_slot": func.greatest(
                        row.c.next_slot, bindparam("free_at", free_at, type_=UTCDateTime())
                    )
                },
            )
        )
        await self.s.execute(stmt)

    async def forget_spacing(self, before: datetime) -> int:
        """Per-conversation rows whose spacing ran out before `before`: no longer needed."""
        result = await self.s.execute(
            delete(RateBudget).where(RateBudget.scope.like("to:%"), RateBudget.next_slot < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
