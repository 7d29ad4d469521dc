"""Group leaderboard at the reference size (SPEC §10): 100,000 athletes, 10 million
activities. Not a test: never run in CI.

    .venv/bin/python -m bench.leaderboard [--store sqlite|postgres|both] [--runs N]
                                          [--rebuild] [--activities N]

1. **Data**, generated inside the database (PostgreSQL `generate_series`, SQLite a
   recursive CTE), on the schema of the project's migrations: 1,000 orgs, each with a
   head coach and one group holding all its athletes; orgs 1-10 have 500 athletes (the
   measured groups), the other 95,000 athletes are spread over orgs 11-1000. Each athlete
   has 100 activities spread evenly over 2026-01-05..2027-01-10 (about two a week; 3 %
   without distance or duration, 5 % private, 10 % rides); 10 % of athletes do not share
   with their group, a quarter do not share with their org, and 2 % share nothing. The
   5,000 athletes of orgs 1-10 also have a plan of 8 weeks x 4 sessions (an 8 km Easy run
   each; skipped ones give a reason). `ix_activities_account_day` is dropped before the
   load and built after it, then ANALYZE. Databases are cached in `~/.cache/coachbot-bench`
   (`COACHBOT_BENCH_CACHE`), keyed by the generator version and a digest of the
   migrations; PostgreSQL uses `COACHBOT_BENCH_POSTGRES_URL` (default database
   `bench_leaderboard`), marked by a one-row table.
2. **Measured**, with the clock on Thursday 2027-01-07 (org time): the query the command
   runs (`Repository.leaderboard_totals` / `leaderboard_attendance`, a fresh session each
   time, groups 1-10 in turn) for this week by distance, by consistency, and this month;
   then `/leaderboard group:squad-N` typed by the head coach through the real core; then
   the club board (issue 13 item 7) of orgs 1-10, this week by distance and by
   consistency (`Repository.club_leaderboard_*`) and `/leaderboard club` via the core.
   p50/p95/max over `--runs` runs after a warm-up, the plan (PostgreSQL: EXPLAIN ANALYZE),
   the peak RSS of the process and the Python heap peak of one query (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import resource
import sqlite3
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.commands.leaderboard  # noqa: F401  (registers /leaderboard until it is in AREAS)
from adapters.console.transcript import console_caller
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import MIGRATIONS, upgrade
from storage.repositories import Repository
from storage.repositories.leaderboard import (
    board_attendance_query,
    board_totals_query,
    club_totals_query,
    explain,
)

DATA_VERSION = (
    3  # 2: sessions hold a workout and skip reasons; 3: a quarter do not share with their org
)
ORGS = 1_000
ATHLETES = 100_000
BIG_ORGS, BIG = 10, 500  # orgs 1..10 hold 500 athletes each: the measured groups
PER_ATHLETE = 100  # activities
FIRST_DAY = "2026-01-05"
SPAN_DAYS = 371  # 2026-01-05 .. 2027-01-10, 53 weeks
PLAN_START, PLAN_WEEKS, PLAN_DAYS = "2026-11-16", 8, (0, 1, 3, 5)

NOW = datetime(2027, 1, 7, 10, 0, tzinfo=UTC)  # Thursday; orgs are in UTC
TODAY = NOW.date()
WEEK = (date(2027, 1, 4), date(2027, 1, 10))
MONTH = (date(2027, 1, 1), date(2027, 1, 31))

CACHE = Path(os.environ.get("COACHBOT_BENCH_CACHE", Path.home() / ".cache" / "coachbot-bench"))
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_leaderboard"
TARGET_P95_MS = {"sqlite": 150.0, "postgresql": 50.0}


def data_key(activities: int) -> str:
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"lb-v{DATA_VERSION}-{activities}-{digest.hexdigest()[:12]}"


# -- generation -----------------------------------------------------------------------------


def org_of(a: str) -> str:
    """Org of athlete `a` (1-based): 500 each in orgs 1..10, the rest round-robin."""
    first = BIG_ORGS * BIG
    others = ORGS - BIG_ORGS
    return f"(CASE WHEN {a} <= {first} THEN ({a} - 1) / {BIG} + 1 ELSE {BIG_ORGS + 1} + ({a} - {first + 1}) % {others} END)"  # noqa: E501


def generator_sql(pg: bool, activities: int) -> list[tuple[str, str]]:
    """(label, statement) pairs filling a freshly migrated database. Ids are regular:
    athlete a = account = membership a; the head coach of org o is ATHLETES + o; group
    o belongs to org o and is called squad-o."""
    true, false = ("TRUE", "FALSE") if pg else ("1", "0")

    def series(name: str, n: int) -> str:
        if pg:
            return f"generate_series(1, {n}) AS {name}(i)"
        return f"(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) SELECT i FROM r) AS {name}"  # noqa: E501

    def day(offset: str) -> str:
        if pg:
            return f"(DATE '{FIRST_DAY}' + ({offset})::int)"
        return f"date('{FIRST_DAY}', '+' || ({offset}) || ' days')"

    def public_id(number: str) -> str:  # unique, never typed back: hex will do
        if pg:
            return f"lpad(upper(to_hex({number})), 7, '0')"
        return f"printf('%07X', {number})"

    def at(day_sql: str) -> str:
        if pg:
            return f"(({day_sql})::timestamp + INTERVAL '7 hours') AT TIME ZONE 'UTC'"
        return f"(({day_sql}) || ' 07:00:00.000000')"

    created = "TIMESTAMPTZ '2026-01-01 00:00:00+00'" if pg else "'2026-01-01 00:00:00.000000'"
    account_cols = (
        "id, email, display_name, display_name_set, units, reminder_time, locale, "
        "notify_daily, notify_digest, notify_leaderboard, share_activities, "
        "share_with_coaches, share_with_group, share_with_org, share_pace, share_profile, "
        "created_at"
    )
    t, f = true, false
    head = ATHLETES
    k = f"((n.i - 1) / {ATHLETES})"  # 0..per_athlete-1
    a = f"((n.i - 1) % {ATHLETES} + 1)"
    per = max(1, activities // ATHLETES)
    offset = f"({k} * {SPAN_DAYS} / {per} + {a} % 3)"
    dist = "(3000 + (n.i * 37) % 15000)"
    sessions = BIG_ORGS * BIG * PLAN_WEEKS * len(PLAN_DAYS)
    per_plan = PLAN_WEEKS * len(PLAN_DAYS)
    s_a = f"((s.i - 1) / {per_plan} + 1)"
    s_week = f"(((s.i - 1) % {per_plan}) / {len(PLAN_DAYS)})"
    s_wd = (
        f"(CASE (s.i - 1) % {len(PLAN_DAYS)} "
        + " ".join(f"WHEN {j} THEN {d}" for j, d in enumerate(PLAN_DAYS))
        + " END)"
    )
    plan_offset = (date.fromisoformat(PLAN_START) - date.fromisoformat(FIRST_DAY)).days
    s_off = f"({plan_offset} + {s_week} * 7 + {s_wd})"
    today_off = (TODAY - date.fromisoformat(FIRST_DAY)).days
    end_off = plan_offset + PLAN_WEEKS * 7 - 1
    status = (
        f"(CASE WHEN {s_off} >= {today_off} THEN 'scheduled' "
        f"WHEN ({s_a} + {s_week} + {s_wd}) % 10 < 8 THEN 'completed' "
        f"WHEN ({s_a} + {s_week} + {s_wd}) % 10 = 8 THEN 'skipped' ELSE 'scheduled' END)"
    )
    return [
        (
            "orgs",
            f"INSERT INTO orgs (id, name, timezone, created_at) "
            f"SELECT o.i, 'Club ' || o.i, 'UTC', {created} FROM {series('o', ORGS)}",
        ),
        (
            "accounts",
            f"INSERT INTO accounts ({account_cols}) SELECT a.i, "
            f"'athlete-' || a.i || '@bench.run', 'Runner ' || a.i, {t}, "
            f"CASE WHEN a.i % 10 = 0 THEN 'mi' ELSE 'km' END, '06:00', 'en', {t}, {t}, {t}, "
            f"(a.i % 50 <> 7), {t}, (a.i % 10 <> 3), (a.i % 4 <> 1), {t}, {t}, {created} "
            f"FROM {series('a', ATHLETES)}",
        ),
        (
            "accounts",
            f"INSERT INTO accounts ({account_cols}) SELECT {head} + o.i, "
            f"'head-' || o.i || '@bench.run', 'Head ' || o.i, {t}, 'km', '06:00', 'en', "
            f"{t}, {t}, {t}, {t}, {t}, {t}, {f}, {t}, {t}, {created} "
            f"FROM {series('o', ORGS)}",
        ),
        (
            "memberships",
            "INSERT INTO memberships (id, org_id, account_id, is_head_coach, is_coach, "
            f"is_athlete, status, labels, joined_at) SELECT a.i, {org_of('a.i')}, a.i, "
            f"{f}, {f}, {t}, 'active', '[]', {created} FROM {series('a', ATHLETES)}",
        ),
        (
            "memberships",
            "INSERT INTO memberships (id, org_id, account_id, is_head_coach, is_coach, "
            f"is_athlete, status, labels, joined_at) SELECT {head} + o.i, o.i, {head} + o.i, "
            f"{t}, {t}, {f}, 'active', '[]', {created} FROM {series('o', ORGS)}",
        ),
        (
            "chat identities",
            "INSERT INTO chat_identities (account_id, platform, space_id, user_id, proof) "
            f"SELECT {head} + o.i, 'console', '', 'head-' || o.i || '@bench.run', 'console' "
            f"FROM {series('o', ORGS)}",
        ),
        (
            "groups",
            "INSERT INTO groups (id, org_id, name, name_key, created_at) "
            f"SELECT o.i, o.i, 'squad-' || o.i, 'squad-' || o.i, {created} "
            f"FROM {series('o', ORGS)}",
        ),
        (
            "group members",
            "INSERT INTO group_members (group_id, membership_id) "
            f"SELECT {org_of('a.i')}, a.i FROM {series('a', ATHLETES)}",
        ),
        (
            "plans",
            "INSERT INTO plans (id, org_id, name, name_key, weeks, created_at) "
            f"SELECT o.i, o.i, 'Base', 'base', {PLAN_WEEKS}, {created} "
            f"FROM {series('o', BIG_ORGS)}",
        ),
        (
            "workouts",
            "INSERT INTO workouts (id, org_id, name, name_key, type, kind, distance_m, "
            f"visibility, created_at) SELECT o.i, o.i, 'Easy', 'easy', 'run', 'easy', 8000, "
            f"'public', {created} FROM {series('o', BIG_ORGS)}",
        ),
        (
            "plan assignments",
            "INSERT INTO plan_assignments (id, org_id, plan_id, membership_id, start_date, "
            f"end_date, created_at) SELECT a.i, {org_of('a.i')}, {org_of('a.i')}, a.i, "
            f"{day(str(plan_offset))}, {day(str(end_off))}, {created} "
            f"FROM {series('a', BIG_ORGS * BIG)}",
        ),
        (
            "sessions",
            "INSERT INTO sessions (id, membership_id, plan_assignment_id, day, workout_id, "
            f"status, note) SELECT s.i, {s_a}, {s_a}, {day(s_off)}, {org_of(s_a)}, {status}, "
            f"CASE WHEN {status} = 'skipped' THEN 'tired legs' END FROM {series('s', sessions)}",
        ),
        (
            "activities",
            "INSERT INTO activities (id, public_id, account_id, started_at, day, type, "
            "distance_m, duration_s, source, private, created_at) "
            f"SELECT n.i, {public_id('n.i')}, {a}, {at(day(offset))}, {day(offset)}, "
            "CASE WHEN n.i % 10 = 0 THEN 'ride' ELSE 'run' END, "
            f"CASE WHEN n.i % 33 = 0 THEN NULL ELSE {dist} END, "
            f"CASE WHEN n.i % 33 = 0 THEN NULL ELSE {dist} * 0.3 END, "
            f"'chat', (n.i % 20 = 7), {created} FROM {series('n', activities)}",
        ),
    ]


INDEX = "CREATE INDEX ix_activities_account_day ON activities (account_id, day)"


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                await conn.exec_driver_sql("CREATE SCHEMA public")
        await upgrade(engine)
    finally:
        await engine.dispose()


def _timed(spent: dict[str, float], label: str, run: Callable[[], Any]) -> None:
    started = time.perf_counter()
    run()
    spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
    print(f"  {label}: {spent[label]:.1f} s", flush=True)


def generate_sqlite(path: Path, activities: int) -> dict[str, float]:
    """Plain sqlite3 for the load: no journal, no FK checks (the rows are consistent by
    construction), the index built after the rows."""
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    spent: dict[str, float] = {}
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "cache_size=-1000000",
            "temp_store=MEMORY",
        ):
            db.execute(f"PRAGMA {pragma}")
        db.execute("DROP INDEX ix_activities_account_day")
        db.execute("BEGIN")
        for label, statement in generator_sql(False, activities):
            _timed(spent, label, lambda s=statement: db.execute(s))
        db.execute("COMMIT")
        _timed(spent, "index", lambda: db.execute(INDEX))
        _timed(spent, "analyze", lambda: db.execute("ANALYZE"))
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    return spent


async def generate_postgres(url: str, activities: int, key: str) -> dict[str, float]:
    await _migrate(url)
    spent: dict[str, float] = {}
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP INDEX ix_activities_account_day")
            # FK triggers off for the load: rows are consistent by construction.
            await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for label, statement in generator_sql(True, activities):
                started = time.perf_counter()
                await conn.exec_driver_sql(statement)
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
                print(f"  {label}: {spent[label]:.1f} s", flush=True)
        async with engine.begin() as conn:
            started = time.perf_counter()
            await conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            await conn.exec_driver_sql(INDEX)
            spent["index"] = time.perf_counter() - started
            for table in ("orgs", "accounts", "memberships", "groups", "plans", "workouts"):
                await conn.exec_driver_sql(  # explicit ids: move the sequences past them
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await conn.exec_driver_sql("CREATE TABLE bench_leaderboard_meta (key TEXT)")
            await conn.execute(text("INSERT INTO bench_leaderboard_meta VALUES (:k)"), {"k": key})
        auto = await (await engine.connect()).execution_options(isolation_level="AUTOCOMMIT")
        try:
            started = time.perf_counter()
            await auto.exec_driver_sql("VACUUM ANALYZE")
            spent["vacuum analyze"] = time.perf_counter() - started
        finally:
            await auto.close()
    finally:
        await engine.dispose()
    return spent


def prepare_sqlite(activities: int, rebuild: bool) -> tuple[str, str]:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"leaderboard-{data_key(activities)}.db"
    if path.exists() and not rebuild:
        return f"sqlite+aiosqlite:///{path}", "cached"
    for old in CACHE.glob("leaderboard-*.db*"):
        old.unlink()
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    started = time.perf_counter()
    spent = generate_sqlite(building, activities)
    building.replace(path)
    return f"sqlite+aiosqlite:///{path}", _note(time.perf_counter() - started, spent)


async def _pg_key(url: str) -> str | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return str(
                (await conn.exec_driver_sql("SELECT key FROM bench_leaderboard_meta")).scalar()
            )
    except sqlalchemy.exc.DBAPIError:
        return None
    finally:
        await engine.dispose()


def prepare_postgres(url: str, activities: int, rebuild: bool) -> tuple[str, str]:
    key = data_key(activities)
    if not rebuild and asyncio.run(_pg_key(url)) == key:
        return url, "cached"
    started = time.perf_counter()
    spent = asyncio.run(generate_postgres(url, activities, key))
    return url, _note(time.perf_counter() - started, spent)


def _note(total: float, spent: dict[str, float]) -> str:
    slow = sorted(spent.items(), key=lambda kv: -kv[1])[:4]
    return f"generated in {total:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in slow) + ")"


# -- measuring ------------------------------------------------------------------------------


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1] * 1000


async def timed_runs(
    runs: int, warmup: int, once: Callable[[int], Awaitable[int]]
) -> tuple[list[float], list[float], int]:
    """Wall-clock and this process's CPU time per run (the CPU column shows the client's
    own cost even on a busy machine, where waiting for a core inflates wall time)."""
    rows = 0
    for i in range(warmup):
        await once(i)
    wall, cpu = [], []
    for i in range(runs):
        started, used = time.perf_counter(), time.process_time()
        rows = await once(i)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return wall, cpu, rows


def reset_peak_rss() -> None:
    """Linux: forget the high-water mark, so generation's page cache is not counted."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    """VmHWM since `reset_peak_rss` (Linux), else the process's ru_maxrss."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def group(i: int) -> int:
    return 1 + i % BIG_ORGS


async def bench_store(url: str, runs: int) -> list[str]:
    app = await bootstrap(url, clock=FakeClock(NOW), migrate=False)
    engine: AsyncEngine = app.engine
    sessions = make_sessionmaker(engine)

    async def week_distance(i: int) -> int:
        async with sessions() as s, s.begin():
            found = await Repository(s).leaderboard_totals(group(i), *WEEK, by="distance")
        return len(found)

    async def month_distance(i: int) -> int:
        async with sessions() as s, s.begin():
            found = await Repository(s).leaderboard_totals(group(i), *MONTH, by="distance")
        return len(found)

    async def week_consistency(i: int) -> int:
        async with sessions() as s, s.begin():
            found = await Repository(s).leaderboard_attendance(group(i), *WEEK, TODAY)
        return sum(1 for r in found if r.due)

    async def club_week_distance(i: int) -> int:
        async with sessions() as s, s.begin():
            found = await Repository(s).club_leaderboard_totals(group(i), *WEEK, by="distance")
        return len(found)

    async def club_week_consistency(i: int) -> int:
        async with sessions() as s, s.begin():
            found = await Repository(s).club_leaderboard_attendance(group(i), *WEEK, TODAY)
        return sum(1 for r in found if r.due)

    async def club_command(i: int) -> int:
        g = group(i)
        out = await app.core.handle(console_caller(f"head-{g}@bench.run"), "/leaderboard club")
        if not out or not out[0].ok:
            raise RuntimeError(f"/leaderboard club failed: {out and out[0].text}")
        return out[0].text.count("\n")

    async def floor(i: int) -> int:
        async with sessions() as s, s.begin():
            await s.execute(text("SELECT 1"))
        return 1

    async def command(i: int) -> int:
        g = group(i)
        out = await app.core.handle(
            console_caller(f"head-{g}@bench.run"), f"/leaderboard group:squad-{g}"
        )
        if not out or not out[0].ok:
            raise RuntimeError(f"/leaderboard failed: {out and out[0].text}")
        return out[0].text.count("\n")

    lines = [f"Load average before: {load()}.", ""]
    reset_peak_rss()
    try:
        cases: list[tuple[str, Callable[[int], Awaitable[int]]]] = [
            ("floor: `SELECT 1` in a session's transaction", floor),
            ("week, by distance (query)", week_distance),
            ("week, by consistency (query)", week_consistency),
            ("month, by distance (query)", month_distance),
            ("/leaderboard via the core", command),
            ("club, week, by distance (query)", club_week_distance),
            ("club, week, by consistency (query)", club_week_consistency),
            ("/leaderboard club via the core", club_command),
        ]
        lines.append("| case | rows | p50 ms | p95 ms | max ms | client CPU p50 ms |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        target = TARGET_P95_MS[engine.dialect.name]
        for label, once in cases:
            samples, cpu, rows = await timed_runs(runs, max(5, runs // 10), once)
            lines.append(
                f"| {label} | {rows} | {pct(samples, 50):.1f} | {pct(samples, 95):.1f} "
                f"| {max(samples) * 1000:.1f} | {pct(cpu, 50):.1f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
        tracemalloc.start()
        await week_distance(0)
        heap = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        lines.append("")
        lines.append(
            f"Target p95 <= {target:.0f} ms for the weekly query. Peak RSS while measuring "
            f"{peak_rss_mib():.0f} MiB; Python heap peak of one weekly query "
            f"{heap / 1024:.0f} KiB. Load average after: {load()}."
        )
        async with sessions() as s, s.begin():
            plan_totals = await explain(
                s, board_totals_query(group(0), *WEEK, "distance"), analyze=True
            )
            plan_sessions = await explain(
                s, board_attendance_query(group(0), *WEEK, TODAY), analyze=True
            )
            plan_club = await explain(
                s, club_totals_query(group(0), *WEEK, "distance"), analyze=True
            )
        lines += ["", "Plan, weekly totals:", "```", *plan_totals, "```"]
        lines += ["", "Plan, weekly consistency:", "```", *plan_sessions, "```"]
        lines += ["", "Plan, the club's weekly totals:", "```", *plan_club, "```"]
    finally:
        await app.close()
    return lines


def machine() -> str:
    cpu = next(
        (
            r.split(":", 1)[1].strip()
            for r in Path("/proc/cpuinfo").read_text().splitlines()
            if r.startswith("model name")
        ),
        "unknown CPU",
    )
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


async def server(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return "PostgreSQL " + str(
                    (await conn.exec_driver_sql("SHOW server_version")).scalar()
                )
            return "SQLite " + str((await conn.exec_driver_sql("SELECT sqlite_version()")).scalar())
    finally:
        await engine.dispose()


async def counts(url: str) -> str:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            got = []
            for table in ("accounts", "activities", "sessions", "group_members"):
                n = (await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar()
                got.append(f"{table} {n:,}")
            return ", ".join(got)
    finally:
        await engine.dispose()


def main(
    argv: list[str] | None = None,
    *,
    measure: Callable[[str, int], Awaitable[list[str]]] | None = None,
    doc: str | None = None,
) -> None:
    """The command line of the benchmarks on this module's data: this one, and
    `bench/compliance.py`, which passes its own `measure` (and docstring)."""
    measure = measure or bench_store
    parser = argparse.ArgumentParser(description=(doc or __doc__ or "").split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--activities", type=int, default=ATHLETES * PER_ATHLETE)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    stores = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    for store in stores:
        print(f"\n## {store}", flush=True)
        started = time.perf_counter()
        if store == "sqlite":
            url, note = prepare_sqlite(args.activities, args.rebuild)
        else:
            pg = os.environ.get("COACHBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
            url, note = prepare_postgres(pg, args.activities, args.rebuild)
        print(f"data: {note} ({time.perf_counter() - started:.0f} s); {asyncio.run(counts(url))}")
        print(asyncio.run(server(url)))
        for line in asyncio.run(measure(url, args.runs)):
            print(line)


if __name__ == "__main__":
    main()
