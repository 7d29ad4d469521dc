"""Planning the weekly recaps at the reference size (issue 13 item 6, SPEC §6, §10).

    .venv/bin/python -m bench.recap [--store sqlite|postgres|both] [--rebuild]

Never run by the test suite. Target: planning 100,000 weekly recaps, <= 10 s.

1. **Data.** `bench.schedule`'s data set and cache, unchanged: 100,000 athletes in 1,000
   orgs (org zones Berlin, New York, UTC and Tokyo; 20% of the athletes in a zone of
   their own, London or Chicago), each on a 4-week plan from Monday 2026-03-02.
   PostgreSQL: `COACHBOT_BENCH_SCHEDULE_POSTGRES_URL` as for `bench.schedule`.
2. **Planning, as a live bot plans them.** No instant has every athlete's Sunday 18:00
   passed while every Sunday lasts (Tokyo's Sunday ends at 15:00Z, before New York's
   18:00), so the recaps of Sunday 2026-03-15 are planned the way `coachbot run` plans
   them: one `Planner` (the weekly kind only) runs at each distinct due instant — Tokyo
   09:00Z, Berlin 17:00Z, UTC and London 18:00Z, New York 22:00Z (EDT since 03-08),
   Chicago 23:00Z. Its 5-minute memory has lapsed between two of them, so each later run
   also re-plans the zones still in their Sunday and finds their rows planned (what a
   live bot does every 5 minutes all evening). Measured: the time of each run and their
   sum (the target), the statements, the rows added (all 100,000, each once), the Python
   heap's peak (tracemalloc) and ru_maxrss.
3. **Again.** At the last instant: the same Planner 30 s later (a live tick: its memory
   skips the INSERTs), a fresh Planner (another process: the INSERTs run and find every
   row planned), and a fresh Planner on the Tuesday after (no Sunday evening anywhere:
   the planner does not even read the zones). All must add nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from bench import commands, schedule
from bench.commands import machine
from bench.measure import Statements, counting, rss_mib
from bot.clock import FakeClock
from bot.schedule.localtime import due_instant
from bot.schedule.planner import Planner
from storage.engine import make_engine, make_sessionmaker
from storage.planning import PlanningStore

SUNDAY = date(2026, 3, 15)  # week 2 of bench.schedule's plans
TUESDAY_AFTER = datetime(2026, 3, 17, 13, 0, tzinfo=UTC)
ZONES = (*commands.ZONES, *schedule.OWN_ZONES)
WEEKLY = ("weekly",)


def due_instants() -> dict[datetime, list[str]]:
    """Each distinct instant of Sunday 18:00 in the data's zones, with those zones."""
    found: dict[datetime, list[str]] = {}
    for zone in ZONES:
        found.setdefault(due_instant(SUNDAY, clock_time(18), ZoneInfo(zone)), []).append(zone)
    return dict(sorted(found.items()))


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (None: not readable here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def server_cpu(engine: AsyncEngine) -> dict[int, float] | None:
    """The CPU seconds so far of each PostgreSQL backend serving this database, when the
    server runs on this machine (None on SQLite, or when /proc does not show them):
    on a loaded machine the wall time says little, the server's CPU more."""
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as conn:
        pids = (
            await conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        ).scalars()
        found = {int(pid): _proc_cpu(int(pid)) for pid in pids}
    if any(cpu is None for cpu in found.values()):
        return None
    return {pid: cpu for pid, cpu in found.items() if cpu is not None}


@dataclass
class Run:
    at: datetime
    zones: list[str]
    seconds: float
    added: int
    statements: Statements


@dataclass
class Planned:
    runs: list[Run] = field(default_factory=list)
    cpu_s: float = 0.0
    server_cpu_s: float | None = None  # PostgreSQL backends on this machine
    weekly: int = 0
    keys: int = 0
    heap_peak_mib: float = 0.0
    rss_before: float = 0.0
    rss_after: float = 0.0
    again: Run | None = None
    fresh: Run | None = None
    tuesday: Run | None = None

    @property
    def total_s(self) -> float:
        return sum(r.seconds for r in self.runs)

    @property
    def added(self) -> int:
        return sum(r.added for r in self.runs)


async def _timed(engine: AsyncEngine, planner: Planner, at: datetime, zones: list[str]) -> Run:
    with counting(engine) as statements:
        started = time.perf_counter()
        added = await planner.plan(at, kinds=WEEKLY)
        spent = time.perf_counter() - started
    return Run(at, zones, spent, added, statements)


async def bench_recaps(url: str) -> Planned:
    engine = make_engine(url)
    out = Planned()
    try:
        await schedule.reset(engine)
        instants = due_instants()
        sessions = make_sessionmaker(engine)
        clock = FakeClock(next(iter(instants)))
        planner = Planner(PlanningStore(sessions), clock)
        async with engine.connect() as conn:  # open the pool before measuring
            await conn.exec_driver_sql("SELECT 1")
        server_before = await server_cpu(engine)  # the pool's one connection, open
        out.rss_before = rss_mib()
        tracemalloc.start()
        cpu = time.process_time()
        for at, zones in instants.items():
            clock.set(at)
            out.runs.append(await _timed(engine, planner, at, zones))
        out.cpu_s = time.process_time() - cpu
        server_after = await server_cpu(engine)
        if server_before is not None and server_after is not None:
            out.server_cpu_s = sum(
                cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()
            )
        out.heap_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out.rss_after = rss_mib()
        last = max(instants)
        clock.set(last + timedelta(seconds=30))
        out.again = await _timed(engine, planner, clock.now(), [])
        fresh = Planner(PlanningStore(sessions), clock)
        out.fresh = await _timed(engine, fresh, clock.now(), [])
        tuesday = Planner(PlanningStore(sessions), FakeClock(TUESDAY_AFTER))
        out.tuesday = await _timed(engine, tuesday, TUESDAY_AFTER, [])
        async with engine.connect() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT count(*), count(DISTINCT key) FROM outbox WHERE kind = 'weekly'"
            )
            out.weekly, out.keys = (int(n or 0) for n in rows.one())
    finally:
        await engine.dispose()
    return out


def report(store: str, note: str, planned: Planned) -> str:
    again, fresh, tuesday = planned.again, planned.fresh, planned.tuesday
    assert again is not None and fresh is not None and tuesday is not None
    every = planned.weekly == schedule.ATHLETES == planned.keys == planned.added
    met = planned.total_s <= 10 and every
    lines = [
        f"#### {store}",
        "",
        f"Data: {schedule.ATHLETES:,} athletes on a plan in {commands.ORGS:,} orgs; {note}.",
        "",
        "| measure | result | target | met |",
        "|---|--:|--:|:-:|",
        f"| planning the recaps of Sunday {SUNDAY:%Y-%m-%d}: {len(planned.runs)} runs, "
        f"{planned.weekly:,} recaps ({planned.keys:,} keys) | {planned.total_s:.2f} s "
        f"| <= 10 s, all {schedule.ATHLETES:,} once | {'yes' if met else '**no**'} |",
        f"| the same Planner 30 s after the last run | {again.seconds:.3f} s, {again.added} "
        f"added, {again.statements.count} statements | 0 added "
        f"| {'yes' if again.added == 0 else '**no**'} |",
        f"| a fresh Planner then (another process) | {fresh.seconds:.2f} s, {fresh.added} "
        f"added | 0 added | {'yes' if fresh.added == 0 else '**no**'} |",
        f"| a fresh Planner on Tuesday | {tuesday.seconds:.3f} s, "
        f"{tuesday.statements.count} statements | none "
        f"| {'yes' if tuesday.statements.count == 0 else '**no**'} |",
        "",
        "| run (UTC) | zones reaching 18:00 | added | seconds | statements |",
        "|---|---|--:|--:|---|",
    ]
    for run in planned.runs:
        lines.append(
            f"| {run.at:%a %H:%M} | {', '.join(run.zones)} | {run.added:,} "
            f"| {run.seconds:.2f} | {run.statements.count} ({run.statements.describe()}) |"
        )
    server = (
        f"; CPU of the PostgreSQL backends serving them {planned.server_cpu_s:.1f} s"
        if planned.server_cpu_s is not None
        else ""
    )
    lines += [
        "",
        f"CPU of this process over the runs {planned.cpu_s:.1f} s{server}; Python heap peak "
        f"{planned.heap_peak_mib:.1f} MiB (tracemalloc); ru_maxrss {planned.rss_before:.0f} "
        f"MiB before, {planned.rss_after:.0f} MiB after. Fresh Planner: "
        f"{fresh.statements.count} statements ({fresh.statements.describe()}).",
        "",
    ]
    return "\n".join(lines)


def run_store(store: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if store == "sqlite":
        url, note = schedule.prepare_sqlite(args.rebuild)
    else:
        url = os.environ.get("COACHBOT_BENCH_SCHEDULE_POSTGRES_URL", schedule.DEFAULT_POSTGRES)
        url, note = schedule.prepare_postgres(url, args.rebuild)
    note += f", ready in {time.perf_counter() - started:.1f} s"
    load = os.getloadavg()[0]
    planned = asyncio.run(bench_recaps(url))
    print(f"  {store}: planned in {planned.total_s:.2f} s", file=sys.stderr, flush=True)
    note += f"; 1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(report(store, note, planned), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recap", description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached data")
    args = parser.parse_args(argv)
    print(f"### coachbot weekly recap benchmark, {date.today().isoformat()}\n")
    print(f"Machine: {machine()}\n")
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        run_store(store, args)


if __name__ == "__main__":
    main()
