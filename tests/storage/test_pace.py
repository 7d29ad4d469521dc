"""Issue 14 item 6: the processes of one bot share its pace through PostgreSQL.

Three `Throttle`s stand for three processes, each with its own engine on one database
(`storage.pace.PaceBudgets`), on a fixed instant: the slots they are given interleave
into one even schedule under the platform's limit; a Retry-After one of them is told
holds the others; a per-conversation spacing counts sends from all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.pacing import SharedPace, Throttle, bot_key
from bot.ports import Limits, SendError
from storage.engine import make_engine, make_sessionmaker
from storage.pace import PaceBudgets

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
DISCORD = Limits(per_second=50.0)
SLACK = Limits(per_second=5.0, window=60.0, per_recipient=1.0, opens_per_minute=50.0)


@pytest.fixture
async def stores(postgres_url: str) -> AsyncIterator[list[PaceBudgets]]:
    engines = [make_engine(postgres_url) for _ in range(3)]
    yield [PaceBudgets(make_sessionmaker(engine)) for engine in engines]
    for engine in engines:
        await engine.dispose()


def processes(stores: list[PaceBudgets], limits: Limits, token: str = "t") -> list[Throttle]:
    throttles = []
    for store in stores:
        throttle = Throttle.under(limits)
        throttle.shared = SharedPace(store, "discord", bot_key(token))
        throttles.append(throttle)
    return throttles


def most_in_a_second(starts: list[datetime]) -> int:
    starts = sorted(starts)
    return max(
        sum(1 for other in starts if start <= other < start + timedelta(seconds=1))
        for start in starts
    )


async def test_three_processes_take_one_even_schedule(stores: list[PaceBudgets]) -> None:
    throttles = processes(stores, DISCORD)
    starts = []
    for turn in range(150):  # round robin, all asking at the same instant
        delay = await throttles[turn % 3].acquire(NOW)
        starts.append(NOW + timedelta(seconds=delay))
    assert len(set(starts)) == 150  # no instant given twice
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert min(gaps) >= throttles[0].interval - timedelta(microseconds=1)
    assert most_in_a_second(starts) <= 49  # Discord's 50, less the margin
    # three processes pacing alone would each start at once, 49 a second each
    assert [Throttle.under(DISCORD).reserve(NOW) for _ in range(3)] == [0.0, 0.0, 0.0]


async def test_another_token_is_another_budget(stores: list[PaceBudgets]) -> None:
    one, _, _ = processes(stores, DISCORD, token="first")
    other, _, _ = processes(stores, DISCORD, token="second")
    assert await one.acquire(NOW) == 0.0
    assert await other.acquire(NOW) == 0.0


async def test_a_retry_after_holds_every_process(stores: list[PaceBudgets]) -> None:
    told, other, _ = processes(stores, DISCORD)
    until = await told.rate_limited(NOW, SendError("ratelimited", retry_after=30.0))
    assert until == NOW + timedelta(seconds=30)
    delay = await other.acquire(NOW)  # its first claim learns of the hold
    assert other.held_until(NOW) == until
    assert delay >= 30.0


async def test_spacing_per_conversation_counts_every_process(
    stores: list[PaceBudgets],
) -> None:
    one, two, _ = processes(stores, SLACK)
    first = await one.acquire(NOW, to="channel:D1")
    second = await two.acquire(NOW, to="channel:D1")
    elsewhere = await two.acquire(NOW, to="channel:D2")
    assert first == 0.0
    assert second >= 1.0  # Slack's one message a second in one conversation (and 10 %)
    assert elsewhere < 1.0


async def test_a_first_message_spaces_from_when_it_landed(stores: list[PaceBudgets]) -> None:
    """A DM that opened its conversation posted a round trip after its slot: the next
    one there, from any process and by either name, waits the spacing from the post."""
    one, two, _ = processes(stores, SLACK)
    assert await one.acquire(NOW, to="account:7", opens=1) == 0.0
    posted = NOW + timedelta(seconds=0.3)
    await one.landed(("account:7", "channel:D7"), posted)
    by_channel = await two.acquire(posted, to=("account:7", "channel:D7"))
    assert by_channel == pytest.approx(1.1)  # Slack's second, and the 10 % margin
    assert await one.acquire(posted, to="channel:D7") == pytest.approx(2.2)
