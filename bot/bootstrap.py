"""The composition root: wires the clock, the store, the core and the outbox (ARCHITECTURE §2).

Tests call the same function with a fake clock and a temporary database.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.core import Core
from bot.ports import Drawer, Mailer, Observer, Sender
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.planner import Planner
from bot.schedule.routing import Router
from bot.schedule.service import Scheduling
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.outbox import OutboxStore
from storage.pace import PaceBudgets
from storage.planning import PlanningStore
from storage.unit_of_work import UnitOfWork

# the platform senders, or what builds them from the core (a front end needs the core to
# answer commands, and its sender is the way out of the same process)
Senders = Sequence[Sender] | Callable[[Core], Sequence[Sender]]


@dataclass
class App:
    core: Core
    engine: AsyncEngine
    scheduling: Scheduling
    sessions: async_sessionmaker[Any]  # the store's sessions, for tools and tests

    async def close(self) -> None:
        await self.scheduling.stop()
        await self.engine.dispose()


def settle_heap() -> None:
    """For a long-running process, once start-up is done: everything built so far (modules,
    mappers, prebuilt statements) moves out of the cyclic garbage collector's view.

    Otherwise each full collection walks those ~100,000 objects again — 60-100 ms on the
    development machine, a pause that lands in some command's reply (the p99 of
    bench/commands.py). Not called by tests, which build many apps in one process."""
    gc.collect()
    gc.freeze()


async def bootstrap(
    database_url: str,
    *,
    senders: Senders | None = None,
    sender: Sender | None = None,
    clock: Clock | None = None,
    default_timezone: str = "UTC",
    migrate: bool = True,
    mailer: Mailer | None = None,
    observer: Observer | None = None,
    public_url: str | None = None,
    share_pace: bool = False,
    drawer: Drawer | None = None,
) -> App:
    """Open the store (migrating it to the newest schema) and build the core on it, with
    the one way out: a `Router` over `senders` (`sender`: one; neither: the console).
    `observer` receives what the core, the dispatcher and the scheduler did (metrics);
    `drawer` draws the charts of answers and posts (none: text alone; `coachbot` wires
    `adapters.charts.shared_drawer()`). `share_pace` (`coachbot run`): on PostgreSQL each
    platform's pace is shared with the other processes of the same bot token, through the
    database (`storage.pace`)."""
    if sender is not None:
        if senders is not None:
            raise TypeError("pass senders= or sender=, not both")
        senders = [sender]
    engine = make_engine(database_url)
    if migrate:
        try:
            await upgrade(engine)  # DatabaseUnusable: one line for whoever started coachbot
        except BaseException:
            await engine.dispose()
            raise
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    dispatcher: Dispatcher | None = None

    def wake() -> None:
        if dispatcher is not None:
            dispatcher.wake()

    core = Core(
        partial(UnitOfWork, sessions),
        clock,
        default_timezone=default_timezone,
        on_enqueued=wake,
        can_mail=mailer is not None,
        observer=observer,
        public_url=public_url,
        drawer=drawer,
    )
    try:
        if senders is None:
            from adapters.console.sender import ConsoleSender  # the composition root may

            senders = [ConsoleSender()]
        elif callable(senders):
            senders = senders(core)
        pace = PaceBudgets(sessions) if share_pace and _postgres(engine) else None
        router = Router(senders, core.identities, pace=pace)
    except BaseException:
        await engine.dispose()
        raise
    dispatcher = Dispatcher(
        OutboxStore(sessions), clock, router, mailer=mailer, observer=observer, drawer=drawer
    )
    scheduling = Scheduling(Planner(PlanningStore(sessions), clock), dispatcher, observer=observer)
    return App(core=core, engine=engine, scheduling=scheduling, sessions=sessions)


def _postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
