"""Messages over time as one object: the planner, the dispatcher and how time moves.

Live (`start`/`stop`): APScheduler's AsyncIOScheduler, with its in-memory job store, is
only the tick — every 30 s it runs the planner and wakes the dispatcher, whose own task
does the sending. Simulated (`advance`): the console's `@clock`/`@tick` jump the fake
clock from one due instant to the next, running the very same planner and dispatcher at
each, so every message goes out at its due moment, in order.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import FakeClock
from bot.messages import Outgoing, Via
from bot.observe import Observed
from bot.ports import Observer
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.planner import Planner

log = logging.getLogger("coachbot.schedule")
TICK_SECONDS = 30


def _in_order(messages: list[Outgoing]) -> list[Outgoing]:
    """DMs before channel posts for messages of the same moment (SPEC §8)."""
    return sorted(messages, key=lambda m: m.via is Via.CHANNEL)


class Scheduling:
    def __init__(
        self, planner: Planner, dispatcher: Dispatcher, *, observer: Observer | None = None
    ) -> None:
        self.planner = planner
        self.dispatcher = dispatcher
        self.observed = Observed(observer)
        self._next_tick: datetime | None = None  # when the live tick is next due
        self._scheduler: AsyncIOScheduler | None = None
        self._serving: asyncio.Task[None] | None = None
        self._planned_at: datetime | None = None

    async def due_now(self) -> list[Outgoing]:
        """Plan what is due and send everything due, now.

        Planning is skipped when the clock has not moved since the last plan (the
        console and tests call this after every line): the planner only ever adds rows
        whose due instant has passed, and none passed in no time."""
        now = self.dispatcher.clock.now()
        if self._planned_at != now:
            await self.planner.plan(now)
            self._planned_at = now
        return _in_order(await self.dispatcher.drain())

    async def advance(self, clock: FakeClock, target: datetime) -> list[Outgoing]:
        """Move a simulated clock to `target`, delivering each message at its moment.

        Plans first whatever the clock, and without the planner's memory of moments it
        planned a few minutes ago: a command since the last plan (a member made active
        again, daily DMs turned back on) may have made something due already, and a
        simulation delivers it at once rather than when the memory lapses."""
        self._planned_at = None
        self.planner.forget()
        sent = await self.due_now()
        while True:
            upcoming = await self.planner.next_due_after(clock.now())
            if upcoming is None or upcoming > target:
                break
            clock.set(upcoming)
            sent += await self.due_now()
        if target > clock.now():
            clock.set(target)
        return sent + await self.due_now()

    # -- live -----------------------------------------------------------------------

    async def _tick(self) -> None:
        self._lag()
        try:
            await self.planner.plan()
        except Exception:
            log.exception("planning failed")
        self.dispatcher.wake()

    def _lag(self) -> None:
        """Scheduler lag: how long after its due moment this tick runs (a busy event loop,
        a tick still running). Ticks that were skipped count from the first one missed."""
        if self._next_tick is None:
            return
        now = self.dispatcher.clock.now()
        self.observed.scheduler_lag(max(0.0, (now - self._next_tick).total_seconds()))
        step = timedelta(seconds=TICK_SECONDS)
        while self._next_tick <= now:
            self._next_tick += step

    async def start(self) -> None:
        await self._tick()  # catch up at once after downtime
        self._scheduler = AsyncIOScheduler()
        self._next_tick = self.dispatcher.clock.now() + timedelta(seconds=TICK_SECONDS)
        # a late tick still runs (once, however late: coalesced), and its lag is measured;
        # APScheduler's default would skip a tick more than a second late
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=TICK_SECONDS,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.start()
        self._serving = asyncio.create_task(self.dispatcher.serve())

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.dispatcher.stop()
        if self._serving is not None:
            await self._serving
            self._serving = None

    async def abandon(self) -> None:
        """The hard end of a stop that took too long: the sending task is cancelled where
        it is (its leased rows are then handed back with `dispatcher.release()`)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
