"""Measuring helpers the schedule benchmark's steps share: statements sent through an
engine (and the time each verb took), the process's peak memory, fresh statistics."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


async def analyze(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        conn = await engine.connect()
        try:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")
        finally:
            await conn.close()
    else:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")


@dataclass
class Statements:
    count: int = 0
    verbs: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per verb
    slowest: float = 0.0

    def add(self, other: Statements) -> None:
        self.count += other.count
        for verb, n in other.verbs.items():
            self.verbs[verb] = self.verbs.get(verb, 0) + n
            self.seconds[verb] = self.seconds.get(verb, 0.0) + other.seconds.get(verb, 0.0)
        self.slowest = max(self.slowest, other.slowest)

    def describe(self) -> str:
        return ", ".join(
            f"{verb} {n} ({self.seconds.get(verb, 0.0):.1f} s)"
            for verb, n in sorted(self.verbs.items())
        )


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Statements]:
    """Statements sent through `engine` (not BEGIN), and the time each verb took."""
    seen = Statements()
    sync = engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("BEGIN"):
            return
        spent = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        verb = statement.split(None, 1)[0].upper()
        seen.count += 1
        seen.verbs[verb] = seen.verbs.get(verb, 0) + 1
        seen.seconds[verb] = seen.seconds.get(verb, 0.0) + spent
        seen.slowest = max(seen.slowest, spent)

    event.listen(sync, "before_cursor_execute", before)
    event.listen(sync, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", before)
        event.remove(sync, "after_cursor_execute", after)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
