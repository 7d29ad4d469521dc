"""Messages over time at the reference size (SPEC §6, §10): the planner and the dispatcher.

    .venv/bin/python -m bench.schedule [--store sqlite|postgres|both] [--rebuild]
                                       [--messages 600] [--slack-share 0.5] [--cold]
                                       [--dispatchers 1] [--idle 5.0]

Never run by the test suite.

1. **Data.** The data set of `bench.commands` (1,000 orgs, 100,000 athletes, generated
   inside the database by set-based SQL), plus, again in-database: every athlete active,
   reminder times spread over 05:00-06:45 (8 values) and 20% of athletes in a time zone of
   their own (48 distinct (zone, reminder) pairs), one workout and one 4-week plan per
   org, a plan assignment for each of the 100,000 athletes and today's session for each.
   Cached beside `bench.commands`' data (`~/.cache/coachbot-bench`, keyed by both data
   versions and the migration head); `--rebuild` regenerates it. PostgreSQL uses its own
   database (`COACHBOT_BENCH_SCHEDULE_POSTGRES_URL`, default `.../bench_schedule`,
   created when missing).
2. **Planning.** `Planner.plan()` at Tuesday 2026-03-03 13:00Z, when every athlete's
   reminder of that local day has passed and no local day has ended: 100,000 daily DMs
   (plus the coaches' digests) are due at once. Target: <= 10 s. Then a second run by
   the same Planner (a live process's next tick: its memory of planned moments skips the
   INSERTs) and a third by a fresh Planner (another process, or the same one once that
   memory has lapsed: the INSERTs run and find every row planned); both must add
   nothing. Recorded: the statements sent, the Python heap's peak during the first run
   (tracemalloc: 100,000 rows loaded into Python would cost tens of MB), ru_maxrss.
3. **Dispatch, as `coachbot run` sends.** `--messages` of those daily DMs are kept, their
   recipients split between Slack and Discord (`--slack-share` on Slack), and sent
   through `coachbot run`'s own wiring — the real Slack and Discord senders behind
   bootstrap's Router — to the local Slack and Discord doubles, which enforce the
   platforms' limits (`bench.sending` says which and how the ceilings follow). Warm DM
   channels by default, as on a bot's second day; `--cold`: every DM opens its channel
   (use fewer messages: Slack opens 50 conversations a minute). Target per platform:
   >= 90% of the ceiling the mix allows, with no message accepted twice and none lost.
   The clock is real time shifted to the benchmark's Tuesday.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import commands
from bench.commands import CACHE, Dialect, machine
from bench.measure import Statements, analyze, counting, rss_mib
from bench.sending import Dispatched, bench_dispatch
from bot.clock import FakeClock
from bot.schedule.planner import Planner
from storage.engine import make_engine, make_sessionmaker
from storage.planning import PlanningStore

DATA_VERSION = 2  # bump when the additions below change
ATHLETES = commands.ORGS * commands.ATHLETES
BENCH_AT = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # Tuesday; 08:00 in New York, 22:00 Tokyo
PLAN_START = date(2026, 3, 2)
PLAN_END = date(2026, 3, 29)
REMINDERS = ("05:00", "05:15", "05:30", "05:45", "06:00", "06:15", "06:30", "06:45")
OWN_ZONES = ("Europe/London", "America/Chicago")  # 10% each; the rest keep the org's
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_schedule"


def data_key() -> str:
    return f"s{DATA_VERSION}-{commands.data_key()}"


def _date(d: Dialect, day: date) -> str:
    return f"DATE '{day.isoformat()}'" if d.pg else f"'{day.isoformat()}'"


def additions_sql(d: Dialect) -> list[tuple[str, str]]:
    """Plans for everyone, on top of `bench.commands`' data, set-based in the database.
    Workout, plan and plan ids equal their org's id; a plan assignment's id equals its
    membership's."""
    created = d.at("2026-03-01 00:00:00")
    reminder = "CASE (id / 10) % 8 " + " ".join(
        f"WHEN {i} THEN '{value}'" for i, value in enumerate(REMINDERS)
    )
    zone = (
        f"CASE WHEN id % 10 = 3 THEN '{OWN_ZONES[0]}' "
        f"WHEN id % 10 = 7 THEN '{OWN_ZONES[1]}' ELSE NULL END"
    )
    steps = [
        *[("helpers", s) for s in d.series(8)],
        (
            "memberships (all athletes active)",
            "UPDATE memberships SET status = 'active' WHERE is_athlete AND status <> 'active'",
        ),
        (
            "accounts (reminder, zone)",
            f"UPDATE accounts SET reminder_time = {reminder} END, timezone = {zone} "
            "WHERE id IN (SELECT account_id FROM memberships WHERE is_athlete)",
        ),
        (
            "workouts",
            "INSERT INTO workouts (id, org_id, name, name_key, type, kind, distance_m, "
            f"visibility, created_at) SELECT id, id, 'Easy', 'easy', 'run', 'easy', 8000, "
            f"'public', {created} FROM orgs",
        ),
        (
            "plans",
            "INSERT INTO plans (id, org_id, name, name_key, weeks, created_at) "
            f"SELECT id, id, 'Base', 'base', 4, {created} FROM orgs",
        ),
        (
            "plan_days",
            "INSERT INTO plan_days (plan_id, week, weekday, workout_id) "
            "SELECT p.id, w.x, wd.x, p.id FROM plans p CROSS JOIN seq w CROSS JOIN seq wd "
            "WHERE w.x BETWEEN 1 AND 4 AND wd.x BETWEEN 0 AND 6",
        ),
        (
            "plan_assignments",
            "INSERT INTO plan_assignments (id, org_id, plan_id, membership_id, start_date, "
            f"end_date, created_at) SELECT id, org_id, org_id, id, {_date(d, PLAN_START)}, "
            f"{_date(d, PLAN_END)}, {created} FROM memberships WHERE is_athlete",
        ),
        (
            "sessions (today)",
            "INSERT INTO sessions (membership_id, plan_assignment_id, day, "
            f"workout_id, status) SELECT id, id, {_date(d, BENCH_AT.date())}, org_id, "
            "'scheduled' FROM memberships WHERE is_athlete",
        ),
        ("helpers", "DROP TABLE seq"),
    ]
    if d.pg:
        steps += [
            (
                "sequences",
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))",
            )
            for table in ("workouts", "plans", "plan_assignments")
        ]
    return steps


async def add_plans(url: str) -> float:
    engine = make_engine(url)
    d = Dialect(engine.dialect.name)
    started = time.perf_counter()
    try:
        async with engine.begin() as conn:
            for _, statement in additions_sql(d):
                await conn.exec_driver_sql(statement)
        await analyze(engine)
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM plan_assignments"))).scalar()
        if count != ATHLETES:
            raise RuntimeError(f"{count} plan assignments, expected {ATHLETES}")
    finally:
        await engine.dispose()
    return time.perf_counter() - started


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def prepare_sqlite(rebuild: bool) -> tuple[str, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"schedule-sqlite-{data_key()}.db"
    note = "cached"
    if rebuild or not cached.exists():
        building = CACHE / "schedule-sqlite.building"
        for leftover in CACHE.glob(f"{building.name}*"):
            leftover.unlink()
        started = time.perf_counter()
        base = CACHE / f"sqlite-{commands.data_key()}.db"  # bench.commands' cache, read only
        if base.exists() and not rebuild:
            shutil.copyfile(base, building)
        else:
            asyncio.run(commands.generate(_sqlite_url(building)))
        spent = asyncio.run(add_plans(_sqlite_url(building)))
        for side in ("-wal", "-shm"):
            Path(f"{building}{side}").unlink(missing_ok=True)
        building.replace(cached)
        for stale in CACHE.glob("schedule-sqlite-*.db"):
            if stale != cached:
                stale.unlink()
        note = f"built in {time.perf_counter() - started:.1f} s (plans {spent:.1f} s)"
    run = CACHE / "run-schedule-sqlite.db"
    for old in CACHE.glob("run-schedule-sqlite.db*"):
        old.unlink()
    shutil.copyfile(cached, run)
    return _sqlite_url(run), note


async def create_database(url: str) -> bool:
    """Create the benchmark's PostgreSQL database when it does not exist yet (a fresh
    machine); True when it was created."""
    target = sqlalchemy.engine.make_url(url)
    engine = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            found = await auto.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if found.first() is not None:
                return False
            await auto.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            return True
    finally:
        await engine.dispose()


def prepare_postgres(url: str, rebuild: bool) -> tuple[str, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    if asyncio.run(create_database(url)):
        rebuild = True
    marker = CACHE / f"postgres-schedule-{sqlalchemy.engine.make_url(url).database}.json"
    fresh = (
        not rebuild
        and marker.exists()
        and json.loads(marker.read_text()).get("key") == data_key()
        and asyncio.run(_holds_plans(url))
    )
    if fresh:
        return url, "cached"
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    asyncio.run(commands.generate(url))  # drops and recreates the schema of this database
    spent = asyncio.run(add_plans(url))
    marker.write_text(json.dumps({"key": data_key(), "at": datetime.now(UTC).isoformat()}))
    return url, f"built in {time.perf_counter() - started:.1f} s (plans {spent:.1f} s)"


async def _holds_plans(url: str) -> bool:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM plan_assignments"))).scalar()
        return count == ATHLETES
    except sqlalchemy.exc.DBAPIError:
        return False
    finally:
        await engine.dispose()


async def reset(engine: AsyncEngine) -> None:
    """Forget what an earlier run sent: the outbox and the recipients are emptied."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM outbox")
        await conn.exec_driver_sql("DELETE FROM recipients")
    await analyze(engine)


# -- planning -------------------------------------------------------------------------------


@dataclass
class Planned:
    cpu_s: float  # this process's CPU (all threads: aiosqlite's SQLite work included)
    first_s: float
    added: int
    daily: int
    second_s: float
    again: int
    fresh_s: float
    fresh_again: int
    statements: Statements
    second_statements: Statements
    fresh_statements: Statements
    heap_peak_mib: float
    rss_before: float
    rss_after: float


async def bench_planner(url: str) -> Planned:
    engine = make_engine(url)
    try:
        await reset(engine)
        planner = Planner(PlanningStore(make_sessionmaker(engine)), FakeClock(BENCH_AT))
        async with engine.connect() as conn:  # open the pool before measuring
            await conn.exec_driver_sql("SELECT 1")
        rss_before = rss_mib()
        tracemalloc.start()
        with counting(engine) as statements:
            cpu = time.process_time()
            started = time.perf_counter()
            added = await planner.plan()
            first = time.perf_counter() - started
            cpu = time.process_time() - cpu
        heap_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rss_after = rss_mib()
        with counting(engine) as second_statements:
            started = time.perf_counter()
            again = await planner.plan()
            second = time.perf_counter() - started
        fresh_planner = Planner(PlanningStore(make_sessionmaker(engine)), FakeClock(BENCH_AT))
        with counting(engine) as fresh_statements:
            started = time.perf_counter()
            fresh_again = await fresh_planner.plan()
            fresh = time.perf_counter() - started
        async with engine.connect() as conn:
            daily = (
                await conn.exec_driver_sql("SELECT count(*) FROM outbox WHERE kind = 'daily'")
            ).scalar()
        return Planned(
            cpu,
            first,
            added,
            int(daily or 0),
            second,
            again,
            fresh,
            fresh_again,
            statements,
            second_statements,
            fresh_statements,
            heap_peak,
            rss_before,
            rss_after,
        )
    finally:
        await engine.dispose()


# -- running --------------------------------------------------------------------------------


def dispatch_lines(dispatched: Dispatched, dispatchers: int, idle: float) -> list[str]:
    """The dispatch rows of the report: one per platform, then the totals."""
    warmth = "warm DM channels" if dispatched.warm else "cold: every DM opens its channel"
    lines = [
        f"Dispatch of {dispatched.messages:,} daily DMs through `coachbot run`'s wiring "
        f"({dispatchers} dispatcher(s), idle {idle:g} s; {warmth}):",
        "",
        "| platform | DMs | msg/s | its own ceiling | ceiling in this mix | of the mix's "
        "| requests (429s) | DM opens | duplicates / lost | met (>= 90 %, 0 / 0) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for p in dispatched.platforms:
        share = 100 * p.rate / p.mix if p.mix else 0.0
        lines.append(
            f"| {p.name} | {p.messages:,} | {p.rate:.2f} in {p.seconds:.1f} s | {p.own:.2f} "
            f"| {p.mix:.2f} | {share:.0f} % | {p.requests:,} ({p.limited}) | {p.opens:,} "
            f"| {p.duplicates} / {p.lost} | {'yes' if p.met else '**no**'} |"
        )
    work = dispatched.work
    lines += [
        "",
        f"Outbox statuses {dispatched.statuses}"
        + (
            f"; **stopped at the time limit with {dispatched.unsent:,} not yet sent**"
            if dispatched.timed_out
            else ""
        )
        + f"; {work.statements.count:,} statements ({work.statements.describe()}); "
        f"{work.renders:,} renders; rendering {work.render_s:.1f} s, sending (HTTP, incl. "
        f"429s) {work.send_s:.1f} s; CPU of the bot process {work.cpu_s:.1f} s "
        f"({1000 * work.cpu_s / max(dispatched.messages, 1):.1f} ms per message, front "
        f"ends included); ru_maxrss {dispatched.rss:.0f} MiB.",
        "",
    ]
    return lines


def report(
    store: str, note: str, planned: Planned, dispatched: Dispatched, args: argparse.Namespace
) -> str:
    delivered = dispatched.messages - dispatched.unsent
    lines = [
        f"### {store}",
        "",
        f"Data: {ATHLETES:,} athletes on a plan in {commands.ORGS:,} orgs; {note}.",
        "",
        "| measure | result | target | met |",
        "|---|--:|--:|:-:|",
        f"| planning, first run ({planned.daily:,} daily DMs; {planned.added:,} rows with "
        f"digests) | {planned.first_s:.2f} s | <= 10 s "
        f"| {'yes' if planned.first_s <= 10 and planned.daily == ATHLETES else '**no**'} |",
        f"| planning, second run (same Planner) | {planned.second_s:.2f} s, {planned.again} "
        f"added | 0 added | {'yes' if planned.again == 0 else '**no**'} |",
        f"| planning, third run (fresh Planner) | {planned.fresh_s:.2f} s, "
        f"{planned.fresh_again} added | 0 added "
        f"| {'yes' if planned.fresh_again == 0 else '**no**'} |",
        f"| dispatch: every platform >= 90 % of its ceiling in the mix, no duplicate, none "
        f"lost | {sum(p.met for p in dispatched.platforms)} of {len(dispatched.platforms)} "
        f"platforms | all | {'yes' if all(p.met for p in dispatched.platforms) else '**no**'} |",
        f"| all delivered | {delivered:,} of {dispatched.messages:,} | all "
        f"| {'yes' if dispatched.unsent == 0 else '**no**'} |",
        "",
        f"Planning (first run) sent {planned.statements.count} statements "
        f"({planned.statements.describe()}; slowest {planned.statements.slowest:.2f} s); "
        f"CPU of this process {planned.cpu_s:.1f} s; "
        f"Python heap peak during it {planned.heap_peak_mib:.1f} MiB (tracemalloc); "
        f"ru_maxrss {planned.rss_before:.0f} MiB before, {planned.rss_after:.0f} MiB after. "
        f"Second run: {planned.second_statements.count} statements "
        f"({planned.second_statements.describe()}); third: "
        f"{planned.fresh_statements.count} ({planned.fresh_statements.describe()}).",
        "",
        *dispatch_lines(dispatched, args.dispatchers, args.idle),
    ]
    return "\n".join(lines)


def run_store(store: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if store == "sqlite":
        url, note = prepare_sqlite(args.rebuild)
    else:
        url = os.environ.get("COACHBOT_BENCH_SCHEDULE_POSTGRES_URL", DEFAULT_POSTGRES)
        url, note = prepare_postgres(url, args.rebuild)
    note += f", ready in {time.perf_counter() - started:.1f} s"
    load = os.getloadavg()[0]
    planned = asyncio.run(bench_planner(url))
    print(f"  {store}: planned in {planned.first_s:.2f} s", file=sys.stderr, flush=True)
    dispatched = asyncio.run(
        bench_dispatch(
            url,
            BENCH_AT,
            messages=args.messages,
            slack_share=args.slack_share,
            warm=not args.cold,
            dispatchers=args.dispatchers,
            idle=args.idle,
        )
    )
    note += f"; 1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(report(store, note, planned, dispatched, args), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.schedule", description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached data")
    parser.add_argument("--messages", type=int, default=600, help="daily DMs to send")
    parser.add_argument(
        "--slack-share", type=float, default=0.5, help="the recipients on Slack (the rest: Discord)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="no DM channel known yet: every DM opens one"
    )
    parser.add_argument(
        "--dispatchers",
        type=int,
        default=1,
        help="dispatchers sending (1: bootstrap's; more share its Router, each its engine)",
    )
    parser.add_argument(
        "--idle", type=float, default=5.0, help="Dispatcher.serve's idle wait (production: 5)"
    )
    args = parser.parse_args(argv)
    if min(args.messages, args.dispatchers) < 1 or args.idle <= 0:
        parser.error("--messages, --dispatchers and --idle must be positive")
    if not 0 <= args.slack_share <= 1:
        parser.error("--slack-share is a fraction from 0 to 1")
    print(f"## coachbot schedule benchmark, {date.today().isoformat()}\n")
    print(f"Machine: {machine()}\n")
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        run_store(store, args)


if __name__ == "__main__":
    main()
