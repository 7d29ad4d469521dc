"""Messages over time at the reference size (SPEC §6, §10): the planner and the dispatcher.

    .venv/bin/python -m bench.schedule [--store sqlite|postgres|both] [--rebuild]
                                       [--messages 5000] [--dispatchers 4 | --processes N]
                                       [--ceiling 200] [--idle 5.0] [--no-pace]

Never run by the test suite.

1. **Data.** The data set of `bench.commands` (1,000 orgs, 100,000 athletes, generated
   inside the database by set-based SQL), plus, again in-database: every athlete active,
   reminder times spread over 05:00-06:45 (8 values) and 20% of athletes in a time zone of
   their own (48 distinct (zone, reminder) pairs), one workout and one 4-week plan per
   org, a plan assignment for each of the 100,000 athletes and today's session for each.
   Cached beside `bench.commands`' data (`~/.cache/coachbot-bench`, keyed by both data
   versions and the migration head); `--rebuild` regenerates it. PostgreSQL uses its own
   database (`COACHBOT_BENCH_SCHEDULE_POSTGRES_URL`, default `.../bench_schedule`).
2. **Planning.** `Planner.plan()` at Tuesday 2026-03-03 13:00Z, when every athlete's
   reminder of that local day has passed and no local day has ended: 100,000 daily DMs
   (plus the coaches' digests) are due at once. Target: <= 10 s. Then a second run by
   the same Planner (a live process's next tick: its memory of planned moments skips the
   INSERTs) and a third by a fresh Planner (another process, or the same one once that
   memory has lapsed: the INSERTs run and find every row planned); both must add
   nothing. Recorded: the statements sent, the Python heap's peak during the first run
   (tracemalloc: 100,000 rows loaded into Python would cost tens of MB), ru_maxrss.
3. **Dispatch.** 5,000 of those daily DMs are kept; `--dispatchers` Dispatchers, each on
   its own engine, in this process (or `--processes` bot processes with one each) run
   their production loop (`Dispatcher.serve`) against a local HTTP double in a separate
   process: an aiohttp server on 127.0.0.1 that accepts at most `--ceiling` requests in
   any sliding second and answers 429 with Retry-After beyond it. The Sender POSTs each
   message and declares the ceiling as its `limits`, as a platform publishes its limit;
   the dispatchers of one process share one `Router`, whose throttle paces under it
   (`--no-pace`: none, only the 429s hold them back). The clock is real time shifted to
   the benchmark's Tuesday. Target: >= 90% of the ceiling, with no message accepted
   twice and none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import commands
from bench.commands import CACHE, Dialect, machine
from bot.clock import FakeClock
from bot.messages import Outgoing
from bot.ports import UNLIMITED, Limits, SendError
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.planner import Planner
from bot.schedule.routing import Router
from storage.engine import make_engine, make_sessionmaker
from storage.outbox import OutboxStore
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


def prepare_postgres(url: str, rebuild: bool) -> tuple[str, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
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


# -- the HTTP double ----------------------------------------------------------------------


def run_double(ceiling: int, ports: Any) -> None:
    """The platform double, in its own process: at most `ceiling` accepted requests in
    any sliding second; beyond that 429 with Retry-After (header: whole seconds, body:
    the exact wait, as Discord gives both)."""
    asyncio.run(_double(ceiling, ports))


async def _double(ceiling: int, ports: Any) -> None:
    window: deque[float] = deque()
    accepted: dict[str, int] = {}
    stats = {"requests": 0, "limited": 0, "first": 0.0, "last": 0.0}
    done = asyncio.Event()

    async def send(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        stats["requests"] += 1
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= ceiling:
            stats["limited"] += 1
            wait = window[0] + 1.0 - now
            return web.json_response(
                {"retry_after": round(wait, 3)},
                status=429,
                headers={"Retry-After": str(math.ceil(wait))},
            )
        window.append(now)
        accepted[body["key"]] = accepted.get(body["key"], 0) + 1
        stats["first"] = stats["first"] or time.time()
        stats["last"] = time.time()
        return web.json_response({"ok": True})

    async def report(request: web.Request) -> web.Response:
        twice = sum(1 for n in accepted.values() if n > 1)
        return web.json_response({**stats, "unique": len(accepted), "duplicates": twice})

    async def keys(request: web.Request) -> web.Response:
        return web.json_response(sorted(accepted))

    async def quit_(request: web.Request) -> web.Response:
        done.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.add_routes(
        [
            web.post("/send", send),
            web.get("/stats", report),
            web.get("/keys", keys),
            web.post("/quit", quit_),
        ]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    ports.put(server.sockets[0].getsockname()[1])
    await done.wait()
    await runner.cleanup()


class HttpSender:
    """POSTs each message to the double; a 429 becomes SendError(retry_after=...).
    `rate`: the double's ceiling, the limit a platform would publish (None: unknown)."""

    platform = "bench"

    def __init__(self, http: aiohttp.ClientSession, base: str, rate: float | None) -> None:
        self.http = http
        self.url = f"{base}/send"
        self.limits = Limits(per_second=rate) if rate else UNLIMITED

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        payload = {"key": message.key, "nonce": nonce, "to": message.email, "text": message.text}
        async with self.http.post(self.url, json=payload) as response:
            if response.status == 429:
                body = await response.json()
                raise SendError("429 Too Many Requests", retry_after=float(body["retry_after"]))
            if response.status >= 400:
                raise SendError(f"HTTP {response.status}")


class TimedDispatcher(Dispatcher):
    """The production dispatcher, with the time spent rendering and sending added up
    (`renders`: rows rendered, so a row rendered twice counts twice)."""

    render_s = 0.0
    send_s = 0.0
    renders = 0

    async def _render_batch(self, rows: Any) -> Any:
        self.renders += len(rows)
        started = time.perf_counter()
        try:
            return await super()._render_batch(rows)
        finally:
            self.render_s += time.perf_counter() - started

    async def _send(self, row: Any, message: Outgoing, lane: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super()._send(row, message, lane)
        finally:
            self.send_s += time.perf_counter() - started


class ShiftedClock:
    """Real time, moved to the benchmark's Tuesday (the rows are due then). Wall-clock
    based, so dispatchers in several processes share one timeline."""

    def __init__(self, start: datetime, origin: float) -> None:
        self.start = start
        self.origin = origin

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.origin)


@dataclass
class Work:
    """What the dispatchers of one process did."""

    statements: Statements = field(default_factory=Statements)
    render_s: float = 0.0
    send_s: float = 0.0
    renders: int = 0
    cpu_s: float = 0.0
    rss: float = 0.0  # the largest ru_maxrss of the dispatching processes, MiB

    def add(self, other: Work) -> None:
        self.statements.add(other.statements)
        self.render_s += other.render_s
        self.send_s += other.send_s
        self.renders += other.renders
        self.cpu_s += other.cpu_s
        self.rss = max(self.rss, other.rss)


async def serve_until(
    engines: list[AsyncEngine],
    base: str,
    origin: float,
    args: argparse.Namespace,
    done: Any,
) -> Work:
    """Run one production dispatcher loop per engine until `done()`, then stop them.
    The dispatchers share one Router (paced unless `--no-pace`): one process, one
    connection to the platform."""
    work = Work()
    rate = None if args.no_pace else float(args.ceiling)
    with contextlib.ExitStack() as taps:
        counted = [taps.enter_context(counting(e)) for e in engines]
        cpu = time.process_time()
        async with aiohttp.ClientSession() as http:
            clock = ShiftedClock(BENCH_AT, origin)
            router = Router([HttpSender(http, base, rate)])  # one process, one way out
            workers = [
                TimedDispatcher(OutboxStore(make_sessionmaker(e)), clock, router) for e in engines
            ]
            for w in workers:  # SQLite renders through a reader engine of its own
                reader = w.store.readers.kw.get("bind")
                if reader is not None and reader not in engines:
                    counted.append(taps.enter_context(counting(reader)))
            tasks = [asyncio.create_task(w.serve(idle=args.idle)) for w in workers]
            while True:  # polls another process (the double, or the parent's flag)
                await asyncio.sleep(0.1)
                if await done(http):
                    break
            await asyncio.gather(*(w.stop() for w in workers))
            await asyncio.gather(*tasks)
        work.cpu_s = time.process_time() - cpu
        work.rss = rss_mib()
        for seen in counted:
            work.statements.add(seen)
    for w in workers:
        work.render_s += w.render_s
        work.send_s += w.send_s
        work.renders += w.renders
    return work


def run_worker(
    url: str, base: str, origin: float, args: argparse.Namespace, stop: Any, out: Any
) -> None:
    """One bot process with one dispatcher (`--processes`)."""

    async def main() -> Work:
        engine = make_engine(url)

        async def done(http: aiohttp.ClientSession) -> bool:
            return bool(stop.is_set())

        try:
            return await serve_until([engine], base, origin, args, done)
        finally:
            await engine.dispose()

    out.put(asyncio.run(main()))


@dataclass
class Dispatched:
    messages: int
    seconds: float
    rate: float
    requests: int
    limited: int
    duplicates: int
    lost: int
    unsent: int  # still pending or leased when the time limit stopped the run
    statuses: dict[str, int]
    timed_out: bool
    work: Work
    rss: float


async def keep_due(engine: AsyncEngine, messages: int) -> None:
    """Keep `messages` of the planned daily DMs (spread over the org zones), drop the rest."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "DELETE FROM outbox WHERE id NOT IN (SELECT id FROM outbox WHERE kind = 'daily' "
            f"ORDER BY account_id % 97, id LIMIT {messages})"
        )
    await analyze(engine)


async def stats_of(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(f"{base}/stats") as response:
        result: dict[str, Any] = await response.json()
        return result


async def bench_dispatch(url: str, args: argparse.Namespace) -> Dispatched:
    messages = args.messages
    setup = make_engine(url)
    await keep_due(setup, messages)
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    double = context.Process(target=run_double, args=(args.ceiling, ports), daemon=True)
    double.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    deadline = time.monotonic() + max(120.0, 10 * messages / args.ceiling)
    timed_out = False

    async def done(http: aiohttp.ClientSession) -> bool:
        nonlocal timed_out
        if (await stats_of(http, base))["unique"] >= messages:
            return True
        timed_out = time.monotonic() > deadline
        return timed_out

    work = Work()
    origin = started = time.time()
    try:
        if args.processes:
            stop, out = context.Event(), context.Queue()
            workers = [
                context.Process(target=run_worker, args=(url, base, origin, args, stop, out))
                for _ in range(args.processes)
            ]
            for process in workers:
                process.start()
            async with aiohttp.ClientSession() as http:
                while True:
                    await asyncio.sleep(0.25)
                    if await done(http):
                        break
            stop.set()
            for _ in workers:
                work.add(await asyncio.to_thread(out.get, True, 60))
            for process in workers:
                process.join(timeout=30)
        else:
            engines = [make_engine(url) for _ in range(args.dispatchers)]
            try:
                work = await serve_until(engines, base, origin, args, done)
            finally:
                for engine in engines:
                    await engine.dispose()
        async with aiohttp.ClientSession() as http:
            stats = await stats_of(http, base)
            async with http.get(f"{base}/keys") as response:
                accepted = set(await response.json())
            async with http.post(f"{base}/quit") as response:
                await response.read()
        async with setup.connect() as conn:
            result = await conn.execute(text("SELECT key, status FROM outbox"))
            rows = [(str(key), str(status)) for key, status in result.all()]
    finally:
        await setup.dispose()
        double.join(timeout=10)
    statuses: dict[str, int] = {}
    for _, status in rows:
        statuses[status] = statuses.get(status, 0) + 1
    settled = {key for key, status in rows if status not in ("pending", "sending")}
    seconds = stats["last"] - started
    return Dispatched(
        messages=len(rows),
        seconds=seconds,
        rate=stats["unique"] / seconds if seconds > 0 else 0.0,
        requests=stats["requests"],
        limited=stats["limited"],
        duplicates=stats["duplicates"],
        lost=len(settled - accepted),  # recorded as sent (or failed) yet never accepted
        unsent=len(rows) - len(settled),
        statuses=statuses,
        timed_out=timed_out,
        work=work,
        rss=rss_mib(),
    )


# -- running --------------------------------------------------------------------------------


def how(args: argparse.Namespace) -> str:
    pace = "unpaced" if args.no_pace else "paced"
    if args.processes:
        return f"{args.processes} processes x 1 dispatcher, {pace}"
    return f"{args.dispatchers} dispatcher(s) in one process, {pace}"


def report(
    store: str, note: str, planned: Planned, dispatched: Dispatched, args: argparse.Namespace
) -> str:
    target = 0.9 * args.ceiling
    work = dispatched.work
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
        f"| dispatch of {dispatched.messages:,} DMs, {how(args)} (idle {args.idle:g} s) "
        f"| {dispatched.rate:.0f} msg/s in {dispatched.seconds:.1f} s "
        f"| >= {target:.0f} msg/s | {'yes' if dispatched.rate >= target else '**no**'} |",
        f"| duplicates / lost | {dispatched.duplicates} / {dispatched.lost} | 0 / 0 "
        f"| {'yes' if dispatched.duplicates == dispatched.lost == 0 else '**no**'} |",
        f"| all delivered | {dispatched.messages - dispatched.unsent:,} of "
        f"{dispatched.messages:,} | all | {'yes' if dispatched.unsent == 0 else '**no**'} |",
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
        f"Dispatch: {dispatched.requests:,} requests, {dispatched.limited:,} answered 429; "
        f"outbox statuses {dispatched.statuses}"
        + (
            f"; **stopped at the time limit with {dispatched.unsent:,} not yet sent**"
            if dispatched.timed_out
            else ""
        )
        + f"; {work.statements.count:,} statements for {dispatched.messages:,} messages "
        f"({work.statements.describe()}); {work.renders:,} renders "
        f"for {dispatched.messages:,} messages; summed over the dispatchers: "
        f"rendering {work.render_s:.1f} s, sending (HTTP, incl. 429s) "
        f"{work.send_s:.1f} s; CPU of the dispatching process(es) "
        f"{work.cpu_s:.1f} s ({1000 * work.cpu_s / max(dispatched.messages, 1):.1f} "
        f"ms per message); ru_maxrss of the bench process {dispatched.rss:.0f} MiB, of "
        f"the dispatching process(es) at most {work.rss:.0f} MiB.",
        "",
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
    dispatched = asyncio.run(bench_dispatch(url, args))
    note += f"; 1-minute load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(report(store, note, planned, dispatched, args), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.schedule", description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached data")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument(
        "--dispatchers", type=int, default=4, help="dispatchers (own engines) in this process"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="instead: this many bot processes with one dispatcher each",
    )
    parser.add_argument("--ceiling", type=int, default=200, help="requests per second")
    parser.add_argument(
        "--idle", type=float, default=5.0, help="Dispatcher.serve's idle wait (production: 5)"
    )
    parser.add_argument(
        "--no-pace",
        action="store_true",
        help="the sender declares no rate: dispatchers burst and only 429s hold them back",
    )
    args = parser.parse_args(argv)
    if min(args.messages, args.dispatchers, args.ceiling) < 1 or args.idle <= 0:
        parser.error("--messages, --dispatchers, --ceiling and --idle must be positive")
    print(f"## coachbot schedule benchmark, {date.today().isoformat()}\n")
    print(f"Machine: {machine()}\n")
    for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        run_store(store, args)


if __name__ == "__main__":
    main()
