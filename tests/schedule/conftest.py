"""Fixtures of the schedule tests: a fake clock at Monday 2027-01-04 09:00 UTC (10:00 in
Berlin; the seeded plans start that day), a recording sender on it, and an app on the
test's database with both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.bootstrap import App
from bot.clock import FakeClock
from tests.schedule import START, Recorder, open_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def rec(clock: FakeClock) -> Recorder:
    return Recorder(clock)


@pytest.fixture
async def app(db_url: str, clock: FakeClock, rec: Recorder) -> AsyncIterator[App]:
    async with open_app(db_url, clock, rec) as opened:
        yield opened
