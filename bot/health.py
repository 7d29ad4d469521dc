"""Readiness (`/readyz`, issue 14): can this process serve right now, and if not, why.

Each check is an async callable answering None (fine) or one line saying what is wrong;
the composition root (`bot/cli.py`) lists them: the database reachable and migrated
(`storage.migrate.schema_problem`) and each configured front end connected
(`FrontEnd.connected`). The admin server (`adapters/admin.py`) only asks `problems()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.ports import FrontEnd

log = logging.getLogger("coachbot.health")

Check = Callable[[], Awaitable[str | None]]
CHECK_TIMEOUT = 5.0  # a probe that hangs (a database that does not answer) is a failure


def front_end_check(front: FrontEnd) -> Check:
    """The front end is connected to its platform (HTTP bound, socket or gateway open)."""

    async def check() -> str | None:
        if await front.connected():
            return None
        return f"{front.sender.platform} not connected"

    return check


async def listening(name: str, serving: Callable[[], bool]) -> str | None:
    """A server of this process listens (the public server)."""
    return None if serving() else f"{name} not listening"


async def _one(check: Check, within: float) -> str | None:
    try:
        async with asyncio.timeout(within):
            return await check()
    except TimeoutError:
        return f"a readiness check did not answer within {within:g} s"
    except Exception as exc:  # a probe's own failure says not ready, never crashes the server
        log.warning("readiness check failed: %s", type(exc).__name__)
        return f"a readiness check failed ({type(exc).__name__})"


async def problems(checks: Sequence[Check], within: float = CHECK_TIMEOUT) -> list[str]:
    """Every check at once; what is wrong, in the checks' order (empty: ready)."""
    found = await asyncio.gather(*(_one(check, within) for check in checks))
    return [problem for problem in found if problem is not None]
