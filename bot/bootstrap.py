"""The composition root: wires the clock, the store and the core (ARCHITECTURE §2).

Tests call the same function with a fake clock and a temporary database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, SystemClock
from bot.core import Core
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade

if TYPE_CHECKING:
    from adapters.ports import Mailer


@dataclass
class App:
    core: Core
    engine: AsyncEngine

    async def close(self) -> None:
        await self.engine.dispose()


async def bootstrap(
    database_url: str,
    *,
    clock: Clock | None = None,
    default_timezone: str = "UTC",
    migrate: bool = True,
    mailer: Mailer | None = None,
) -> App:
    """Open the store (migrating it to the newest schema) and build the core on it."""
    engine = make_engine(database_url)
    if migrate:
        await upgrade(engine)
    core = Core(
        make_sessionmaker(engine),
        clock or SystemClock(),
        default_timezone=default_timezone,
        mailer=mailer,
    )
    return App(core=core, engine=engine)
