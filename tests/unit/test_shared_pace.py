"""The shared pace's own rules (issue 14 item 6), on an in-memory store that answers as
`storage.pace.PaceBudgets` does (tests/storage/test_pace.py runs them on PostgreSQL):
blocks of slots, a slot that passed unused is dropped rather than sent late, and a store
that fails leaves the process pacing alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.pacing import SharedPace, Throttle
from bot.ports import Limits, SendError

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
DISCORD = Limits(per_second=50.0)


class MemoryPace:
    """The `PaceStore` port in memory, counting claims."""

    def __init__(self) -> None:
        self.next: dict[str, datetime] = {}
        self.held: datetime | None = None
        self.claims = 0

    async def claim(
        self, platform: str, bot: str, scope: str, *, earliest: datetime, span: timedelta
    ) -> tuple[datetime, datetime | None]:
        self.claims += 1
        start = max([earliest, self.next.get(scope, earliest), self.held or earliest])
        self.next[scope] = start + span
        return start, self.held

    async def hold(self, platform: str, bot: str, until: datetime) -> None:
        self.held = until if self.held is None else max(self.held, until)

    async def push(self, platform: str, bot: str, scope: str, free_at: datetime) -> None:
        self.next[scope] = max(self.next.get(scope, free_at), free_at)

    async def forget(self, before: datetime) -> int:
        return 0


class Broken(MemoryPace):
    async def claim(
        self, platform: str, bot: str, scope: str, *, earliest: datetime, span: timedelta
    ) -> tuple[datetime, datetime | None]:
        raise ConnectionError("the database is gone")

    async def hold(self, platform: str, bot: str, until: datetime) -> None:
        raise ConnectionError("the database is gone")


def shared(store: MemoryPace) -> Throttle:
    throttle = Throttle.under(DISCORD)
    throttle.shared = SharedPace(store, "discord", "bot")
    return throttle


async def test_slots_come_in_blocks_of_a_tenth_of_a_second() -> None:
    store = MemoryPace()
    throttle = shared(store)
    delays = [await throttle.acquire(NOW) for _ in range(10)]
    assert store.claims == 2  # 5 slots (0.1 s of 49 in 1.01 s) a claim
    step = throttle.interval.total_seconds()
    assert delays == pytest.approx([i * step for i in range(10)])  # one even schedule


async def test_a_slot_that_passed_unused_is_never_sent_late() -> None:
    store = MemoryPace()
    throttle = shared(store)
    assert await throttle.acquire(NOW) == 0.0  # its block: NOW .. NOW + 4 intervals
    later = NOW + timedelta(seconds=1)  # the process stalled for a second
    assert await throttle.acquire(later) == 0.0  # a fresh slot, now
    assert store.claims == 2  # the stale ones were dropped, not used in a burst
    assert store.next["requests"] == later + throttle.interval * 5


async def test_a_store_that_fails_leaves_the_process_pacing_alone() -> None:
    throttle = shared(Broken())
    alone = Throttle.under(DISCORD)
    assert [await throttle.acquire(NOW) for _ in range(3)] == [alone.reserve(NOW) for _ in range(3)]
    until = await throttle.rate_limited(NOW, SendError("429", retry_after=5.0))
    assert until == NOW + timedelta(seconds=5) and throttle.held_until(NOW) == until
