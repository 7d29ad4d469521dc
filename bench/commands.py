"""Command latency at the reference size (SPEC §10), through the core and beside the floor.

    .venv/bin/python -m bench.commands [--store sqlite|postgres|both] [--iterations N]
                                       [--warmup N] [--only CMD...] [--rebuild]
                                       [--profile CMD]

1. **Data.** 1,000 orgs, each with a head coach, 3 assistant coaches and 100 athletes
   (100,000 athletes), rosters, groups, coach notes, invitations, an audit log, and a pool
   of accounts without an org. The schema comes from the project's migrations
   (`storage.migrate.upgrade`) on a fresh database; the rows are generated inside the
   database by set-based SQL (PostgreSQL `generate_series`, SQLite `WITH RECURSIVE`),
   then ANALYZEd. The result is cached outside the repository (`~/.cache/coachbot-bench`,
   keyed by `DATA_VERSION` and a digest of the migrations); `--rebuild` regenerates it.
2. **Core.** `bootstrap(url, clock=FakeClock(...), migrate=False)` and
   `core.handle(console_caller(email), line)` with a random org and member each time.
3. **Floor.** For every measured line the SQL the core sent is captured (SQLAlchemy
   `before_cursor_execute`, `begin`, `commit`, `rollback`) and replayed as it was, through
   the same engine (same async driver, pool and per-store settings), transaction for
   transaction: the same statements, parameters and round trips, without the ORM, the
   grammar, the policy or the rendering. Writes are undone (untimed) between the core run
   and the replay, so both do the same work on the same rows; the two run in random order.
4. **Peak memory**: `ru_maxrss` of the process.

Targets (the issue): p99 <= 25 ms on both stores, and p99 <= 2x the floor's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import fcntl
import hashlib
import json
import os
import platform
import pstats
import random
import resource
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.console.transcript import console_caller
from bench.measure import analyze
from bot.bootstrap import App, bootstrap, settle_heap
from bot.clock import FakeClock
from storage.engine import make_engine
from storage.migrate import MIGRATIONS, upgrade

# -- the data set --------------------------------------------------------------------------

DATA_VERSION = 2  # bump when the generator changes: cached databases are then rebuilt
ORGS = 1_000
ASSISTANTS = 3
ATHLETES = 100
PER_ORG = 1 + ASSISTANTS + ATHLETES  # head coach, assistants, athletes
MEMBERS = ORGS * PER_ORG
POOL = 5_000  # accounts with no org, for `/add-member EXISTING`
GROUPS_PER_ORG = 4
INVITATIONS_PER_ORG = 3

BENCH_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday; the FakeClock stands here
DATA_EPOCH = "2025-01-01 00:00:00"  # generated rows are dated from here on (minutes)
INVITED_AT = "2026-02-27 10:00:00"  # pending invitations, still valid at BENCH_NOW

CACHE = Path(os.environ.get("COACHBOT_BENCH_CACHE", Path.home() / ".cache" / "coachbot-bench"))
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_commands"

FIRST_NAMES = (
    "Ann Ben Cara Dev Eli Fay Gus Hana Ivo Jo Kai Lea Max Nia Oto Pia Quin Rae Sam Tea "
    "Uma Vic Wes Xia Yan Zoe Ada Bo Cy Di Ed Flo Gil Hal Ines Jan Kim Lou Mo Ned"
).split()
LAST_NAMES = (
    "Adler Berg Costa Dahl Engel Fox Gray Holm Ito Jensen Kraus Lund Moss Nagy Ortiz Park "
    "Quist Ross Stone Tan Ueda Vance Wolf Xu Young Zeller Abe Bauer Cruz Dietz Eklund "
    "Fuchs Grant Hahn Iyer Jovic Kent Lopez Marsh Novak"
).split()
GROUP_NAMES = ("5k Squad", "Marathon Group", "Trail Crew", "Beginners")
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo")


class Dialect:
    """The few spellings SQLite and PostgreSQL do not share."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pg = name == "postgresql"

    def ts(self, minutes: str) -> str:
        """A UTC instant `minutes` after DATA_EPOCH, stored as the models store it."""
        if self.pg:
            return f"(TIMESTAMPTZ '{DATA_EPOCH}+00' + ({minutes}) * INTERVAL '1 minute')"
        return (
            f"(strftime('%Y-%m-%d %H:%M:%S', '{DATA_EPOCH}', '+' || ({minutes}) || ' minutes')"
            " || '.000000')"
        )

    def at(self, instant: str, days: int = 0) -> str:
        if self.pg:
            return f"(TIMESTAMPTZ '{instant}+00' + INTERVAL '{days} days')"
        return f"(strftime('%Y-%m-%d %H:%M:%S', '{instant}', '+{days} days') || '.000000')"

    def hex64(self, number: str) -> str:
        if self.pg:
            return f"lpad(to_hex({number}), 64, '0')"
        return f"printf('%064x', {number})"

    def public_id(self, number: str) -> str:
        """A unique 7-character id per number (hex: bench data is never typed back)."""
        if self.pg:
            return f"lpad(upper(to_hex({number})), 7, '0')"
        return f"printf('%07X', {number})"

    def series(self, count: int) -> list[str]:
        """`seq(x)` holding 0..count-1: generate_series / a recursive CTE, never Python."""
        create = "CREATE TEMPORARY TABLE seq (x INTEGER PRIMARY KEY)"
        if self.pg:
            fill = f"INSERT INTO seq (x) SELECT g FROM generate_series(0, {count - 1}) AS g"
        else:
            fill = (
                "INSERT INTO seq (x) WITH RECURSIVE r(x) AS "
                f"(SELECT 0 UNION ALL SELECT x + 1 FROM r WHERE x < {count - 1}) SELECT x FROM r"
            )
        return [create, fill]


def _values(table: str, items: Sequence[str]) -> list[str]:
    rows = ", ".join(f"({i}, '{name}')" for i, name in enumerate(items))
    return [
        f"CREATE TEMPORARY TABLE {table} (i INTEGER PRIMARY KEY, name TEXT NOT NULL)",
        f"INSERT INTO {table} (i, name) VALUES {rows}",
    ]


def generator_sql(d: Dialect) -> list[tuple[str, str]]:
    """(label, statement) pairs that fill a freshly migrated, empty database.

    Ids are explicit and regular, so the benchmark can name any row without asking:
    member slot s (0..103) of org o (1..1000) has account id = membership id
    = (o - 1) * 104 + s + 1; slot 0 is the head coach, 1..3 the assistants, 4..103 the
    athletes (athlete n = s - 3). The no-org pool follows the members.
    """
    org = f"(x / {PER_ORG} + 1)"
    slot = f"(x % {PER_ORG})"
    n = f"({slot} - {ASSISTANTS})"  # athlete number 1..100 (slots 4..103)
    head_id = f"((x / {PER_ORG}) * {PER_ORG} + 1)"
    coach_of = f"((x / {PER_ORG}) * {PER_ORG} + 1 + 1 + ({n} % {ASSISTANTS}))"
    domain = f"'@club-' || {org} || '.bench'"
    email = (
        f"CASE WHEN {slot} = 0 THEN 'head-' || {org} || {domain} "
        f"WHEN {slot} <= {ASSISTANTS} THEN 'coach-' || {org} || '-' || {slot} || {domain} "
        f"ELSE 'athlete-' || {org} || '-' || {n} || {domain} END"
    )
    account_cols = (
        "id, email, display_name, display_name_set, goal, bio, timezone, units, "
        "reminder_time, locale, notify_daily, notify_digest, notify_leaderboard, "
        "share_activities, share_with_coaches, share_with_group, share_with_org, share_pace, "
        "share_profile, created_at"
    )
    account_vals = (
        "f.name || ' ' || l.name, (x % 5 <> 0), "
        "CASE WHEN x % 3 = 0 THEN 'Marathon under ' || (3 + x % 2) || 'h' END, "
        "CASE WHEN x % 7 = 0 THEN 'Runs before work; likes hills and long Sundays.' END, "
        "NULL, CASE WHEN x % 10 = 0 THEN 'mi' ELSE 'km' END, '06:00', 'en', "
        "TRUE, TRUE, (x % 9 <> 0), (x % 20 <> 0), TRUE, TRUE, (x % 4 = 0), TRUE, (x % 6 <> 0), "
        f"{d.ts('x')}"
    )
    names = (
        f"JOIN first_names f ON f.i = x % {len(FIRST_NAMES)} "
        f"JOIN last_names l ON l.i = (x / {len(FIRST_NAMES)}) % {len(LAST_NAMES)}"
    )
    athlete = f"x < {MEMBERS} AND {slot} > {ASSISTANTS}"
    steps = [
        *[("helpers", s) for s in d.series(MEMBERS + POOL)],
        *[("helpers", s) for s in _values("first_names", FIRST_NAMES)],
        *[("helpers", s) for s in _values("last_names", LAST_NAMES)],
        *[("helpers", s) for s in _values("group_names", GROUP_NAMES)],
        *[("helpers", s) for s in _values("zones", ZONES)],
        (
            "orgs",
            "INSERT INTO orgs (id, name, timezone, created_at) "
            f"SELECT x, 'Club ' || x, z.name, {d.ts('x')} FROM seq "
            f"JOIN zones z ON z.i = x % {len(ZONES)} WHERE x BETWEEN 1 AND {ORGS}",
        ),
        (
            "accounts (members)",
            f"INSERT INTO accounts ({account_cols}) SELECT x + 1, {email}, {account_vals} "
            f"FROM seq {names} WHERE x < {MEMBERS}",
        ),
        (
            "accounts (no-org pool)",
            f"INSERT INTO accounts ({account_cols}) "
            f"SELECT x + 1, 'free-' || (x - {MEMBERS} + 1) || '@pool.bench', {account_vals} "
            f"FROM seq {names} WHERE x >= {MEMBERS}",
        ),
        (
            "memberships",
            "INSERT INTO memberships (id, org_id, account_id, is_head_coach, is_coach, "
            "is_athlete, status, level, labels, joined_at) "
            f"SELECT x + 1, {org}, x + 1, ({slot} = 0), ({slot} <= {ASSISTANTS}), "
            f"({slot} > {ASSISTANTS}), "
            f"CASE WHEN {slot} > {ASSISTANTS} AND x % 50 = 7 THEN 'inactive' ELSE 'active' END, "
            "CASE x % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' END, "
            "CASE WHEN x % 17 = 0 THEN '[\"injured\"]' ELSE '[]' END, "
            f"{d.ts('x + 60')} FROM seq WHERE x < {MEMBERS}",
        ),
        (
            "org_spaces",
            "INSERT INTO org_spaces (org_id, platform, space_id) "
            f"SELECT x, 'slack', 'T' || x FROM seq WHERE x BETWEEN 1 AND {ORGS}",
        ),
        (
            "chat_identities (slack, everyone)",
            # proven as a steady day finds them: the daily re-read of Slack's e-mail (one
            # extra transaction per person per day) is not what this benchmark measures
            "INSERT INTO chat_identities (account_id, platform, space_id, user_id, proof) "
            f"SELECT x + 1, 'slack', 'T' || {org}, 'U' || (x + 1), 'created' FROM seq "
            f"WHERE x < {MEMBERS}",
        ),
        (
            "chat_identities (console, coaches)",
            "INSERT INTO chat_identities (account_id, platform, space_id, user_id, proof) "
            f"SELECT x + 1, 'console', '', {email}, 'console' FROM seq "
            f"WHERE x < {MEMBERS} AND {slot} <= {ASSISTANTS}",
        ),
        (
            "groups",
            "INSERT INTO groups (id, org_id, name, name_key, created_at) "
            f"SELECT x + 1, x / {GROUPS_PER_ORG} + 1, g.name, lower(g.name), {d.ts('x')} "
            f"FROM seq JOIN group_names g ON g.i = x % {GROUPS_PER_ORG} "
            f"WHERE x < {ORGS * GROUPS_PER_ORG}",
        ),
        (
            "group_members",
            "INSERT INTO group_members (group_id, membership_id) "
            f"SELECT (x / {PER_ORG}) * {GROUPS_PER_ORG} + {n} % {GROUPS_PER_ORG} + 1, x + 1 "
            f"FROM seq WHERE {athlete} "
            "UNION ALL "
            f"SELECT (x / {PER_ORG}) * {GROUPS_PER_ORG} + ({n} + 1) % {GROUPS_PER_ORG} + 1, "
            f"x + 1 FROM seq WHERE {athlete} AND {n} % 3 = 0",
        ),
        (
            "assignments",
            "INSERT INTO assignments (org_id, coach_membership_id, athlete_membership_id, "
            f"created_at) SELECT {org}, {coach_of}, x + 1, {d.ts('x + 120')} "
            f"FROM seq WHERE {athlete}",
        ),
        (
            "coach_notes",
            "INSERT INTO coach_notes (org_id, author_account_id, athlete_membership_id, text, "
            f"created_at) SELECT {org}, {coach_of}, x + 1, "
            "'Easy week after the half; keep an eye on the left calf.', "
            f"{d.ts('x + 180')} FROM seq WHERE {athlete} AND {n} % 2 = 0 "
            "UNION ALL "
            f"SELECT {org}, {head_id}, x + 1, 'Ready for the club relay team.', "
            f"{d.ts('x + 240')} FROM seq WHERE {athlete} AND {n} % 10 = 0",
        ),
        (
            "invitations",
            "INSERT INTO invitations (public_id, org_id, kind, email, role, code_hash, status, "
            "created_by_account_id, created_at, expires_at, uses) "
            f"SELECT {d.public_id('x + 1')}, x / {INVITATIONS_PER_ORG} + 1, 'email', "
            "'invitee-' || x || '@elsewhere.bench', 'athlete', "
            f"{d.hex64('x + 1')}, "
            "CASE WHEN x % 3 = 2 THEN 'revoked' ELSE 'pending' END, "
            f"(x / {INVITATIONS_PER_ORG}) * {PER_ORG} + 1, {d.at(INVITED_AT)}, "
            f"{d.at(INVITED_AT, 14)}, 0 FROM seq WHERE x < {ORGS * INVITATIONS_PER_ORG}",
        ),
        (
            "audit_log",
            "INSERT INTO audit_log (org_id, actor_account_id, action, target_account_id, "
            f"detail, at) SELECT {org}, {head_id}, "
            f"CASE WHEN {slot} = 0 THEN 'setup_org' WHEN {slot} <= {ASSISTANTS} "
            "THEN 'add_coach' ELSE 'add_member' END, x + 1, '', "
            f"{d.ts('x + 60')} FROM seq WHERE x < {MEMBERS}",
        ),
    ]
    if d.pg:  # explicit ids were given: move the sequences past them
        steps += [
            (
                "sequences",
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))",
            )
            for table in ("orgs", "accounts", "memberships", "groups")
        ]
    steps += [
        ("helpers", f"DROP TABLE {t}")
        for t in ("seq", "first_names", "last_names", "group_names", "zones")
    ]
    return steps


EXPECTED = {
    "orgs": ORGS,
    "accounts": MEMBERS + POOL,
    "memberships": MEMBERS,
    "assignments": ORGS * ATHLETES,
}


def data_key() -> str:
    """The generator's version and a digest of the migrations: either change rebuilds."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"v{DATA_VERSION}-{ORGS}x{PER_ORG}+{POOL}-{digest.hexdigest()[:12]}"


async def _counts(conn: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in (
        "orgs",
        "accounts",
        "memberships",
        "assignments",
        "groups",
        "group_members",
        "coach_notes",
        "invitations",
        "chat_identities",
        "audit_log",
    ):
        counts[table] = int(
            (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
        )
    return counts


async def generate(url: str) -> dict[str, float]:
    """Migrate a fresh database, fill it in-database, ANALYZE; returns seconds per step."""
    engine = make_engine(url)
    d = Dialect(engine.dialect.name)
    spent: dict[str, float] = {}
    try:
        if d.pg:
            async with engine.begin() as conn:
                await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                await conn.exec_driver_sql("CREATE SCHEMA public")
        started = time.perf_counter()
        await upgrade(engine)
        spent["migrate"] = time.perf_counter() - started
        async with engine.begin() as conn:
            for label, statement in generator_sql(d):
                started = time.perf_counter()
                await conn.exec_driver_sql(statement)
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
        started = time.perf_counter()
        await analyze(engine)
        spent["analyze"] = time.perf_counter() - started
        async with engine.connect() as conn:
            counts = await _counts(conn)
        wrong = {t: (counts[t], want) for t, want in EXPECTED.items() if counts[t] != want}
        if wrong:
            raise RuntimeError(f"generated counts are off: {wrong}")
    finally:
        await engine.dispose()
    return spent


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


SCRATCH = "run-sqlite.db"  # this run's copy of the cached SQLite database


def prepare_sqlite(rebuild: bool) -> tuple[str, str]:
    """The cached SQLite database, copied to a scratch file for this run (writes stay out)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"sqlite-{data_key()}.db"
    note = "cached"
    if rebuild or not cached.exists():
        building = cached.with_suffix(".building")
        for leftover in CACHE.glob(f"{building.name}*"):
            leftover.unlink()
        started = time.perf_counter()
        spent = asyncio.run(generate(_sqlite_url(building)))
        for side in ("-wal", "-shm"):  # the last close checkpoints; nothing should be left
            Path(f"{building}{side}").unlink(missing_ok=True)
        building.replace(cached)
        for stale in CACHE.glob("sqlite-*.db"):  # other data versions
            if stale != cached:
                stale.unlink()
        note = _generated_note(time.perf_counter() - started, spent)
    run = CACHE / SCRATCH
    for old in CACHE.glob(f"{SCRATCH}*"):
        old.unlink()
    shutil.copyfile(cached, run)
    return _sqlite_url(run), note


def _generated_note(total: float, spent: dict[str, float]) -> str:
    slow = sorted(spent.items(), key=lambda kv: -kv[1])[:4]
    return f"generated in {total:.1f} s (" + ", ".join(f"{k} {v:.1f} s" for k, v in slow) + ")"


def prepare_postgres(url: str, rebuild: bool) -> tuple[str, str]:
    """Generate into the bench database unless it already holds this data version."""
    CACHE.mkdir(parents=True, exist_ok=True)
    marker = CACHE / f"postgres-{sqlalchemy.engine.make_url(url).database}.json"
    key = data_key()
    fresh = not rebuild and marker.exists() and json.loads(marker.read_text()).get("key") == key
    if fresh and asyncio.run(_holds_data(url)):
        asyncio.run(undo_all(url))
        return url, "cached"
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    spent = asyncio.run(generate(url))
    marker.write_text(json.dumps({"key": key, "at": datetime.now(UTC).isoformat()}))
    return url, _generated_note(time.perf_counter() - started, spent)


async def _holds_data(url: str) -> bool:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            counts = await _counts(conn)
        return all(counts[t] >= want for t, want in EXPECTED.items())
    except sqlalchemy.exc.DBAPIError:
        return False
    finally:
        await engine.dispose()


# -- what the benchmark writes, and how it is undone --------------------------------------

NEW_PREFIX = "new-"


async def undo_all(url: str) -> None:
    """Remove whatever an earlier (perhaps interrupted) run left in the cached database."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM memberships WHERE account_id > {MEMBERS}"))
            await conn.execute(text(f"DELETE FROM invitations WHERE email LIKE '{NEW_PREFIX}%'"))
            await conn.execute(
                text(
                    f"DELETE FROM outbox WHERE email LIKE '{NEW_PREFIX}%' OR account_id > {MEMBERS}"
                )
            )
            await conn.execute(
                text(
                    "DELETE FROM audit_log WHERE action = 'invite_athlete' "
                    f"OR (action = 'add_member' AND target_account_id > {MEMBERS})"
                )
            )
    finally:
        await engine.dispose()


# -- the commands measured ------------------------------------------------------------------


def head(o: int) -> str:
    return f"head-{o}@club-{o}.bench"


def assistant(o: int, k: int) -> str:
    return f"coach-{o}-{k}@club-{o}.bench"


def athlete(o: int, n: int) -> str:
    return f"athlete-{o}-{n}@club-{o}.bench"


Undo = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Target:
    caller: str
    line: str
    undo: Undo = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    name: str
    key: str  # for --profile
    make: Callable[[int, random.Random, str], Target]


def _invite(i: int, rng: random.Random, run: str) -> Target:
    o = rng.randint(1, ORGS)
    email = f"{NEW_PREFIX}{run}-{i}@invitee.bench"
    return Target(
        head(o),
        f"/add-member {email}",
        [
            ("DELETE FROM invitations WHERE email = :e", {"e": email}),
            ("DELETE FROM outbox WHERE email = :e", {"e": email}),  # the invitation DM
            (
                "DELETE FROM audit_log WHERE org_id = :o AND action = 'invite_athlete' "
                "AND detail = :e",
                {"o": o, "e": email},
            ),
        ],
    )


def _join(i: int, rng: random.Random, run: str) -> Target:
    o = rng.randint(1, ORGS)
    k = i + 1  # each iteration takes the next account of the no-org pool
    account_id = MEMBERS + k
    return Target(
        head(o),
        f"/add-member free-{k}@pool.bench",
        [
            ("DELETE FROM memberships WHERE account_id = :a", {"a": account_id}),
            ("DELETE FROM outbox WHERE account_id = :a", {"a": account_id}),  # the welcome DM
            (
                "DELETE FROM audit_log WHERE org_id = :o AND action = 'add_member' "
                "AND target_account_id = :a",
                {"o": o, "a": account_id},
            ),
        ],
    )


def _roster(i: int, rng: random.Random, run: str) -> Target:
    o = rng.randint(1, ORGS)
    return Target(head(o), f"/roster {assistant(o, rng.randint(1, ASSISTANTS))}")


def _profile(i: int, rng: random.Random, run: str) -> Target:
    o = rng.randint(1, ORGS)
    return Target(head(o), f"/profile {athlete(o, rng.randint(1, ATHLETES))}")


def _members(i: int, rng: random.Random, run: str) -> Target:
    return Target(head(rng.randint(1, ORGS)), "/members")


CASES = (
    Case("/add-member NEW-EMAIL (invitation)", "invite", _invite),
    Case("/add-member EXISTING (joins at once)", "join", _join),
    Case("/roster COACH (~33 athletes)", "roster", _roster),
    Case("/profile MEMBER", "profile", _profile),
    Case(f"/members ({PER_ORG} members)", "members", _members),
)


# -- capturing the SQL the core sends, and replaying it -----------------------------------


@dataclass
class Tx:
    statements: list[tuple[str, Any]] = field(default_factory=list)
    commit: bool = False


@dataclass
class Tally:
    queries: int = 0
    transactions: int = 0
    checkouts: int = 0
    cpu: float = 0.0  # seconds of this process's CPU (all threads: aiosqlite's too)


class Wiretap:
    """Counts every statement, transaction and pool checkout; records them when asked.

    SQLite's `BEGIN IMMEDIATE` (issued by the engine's own `begin` hook) is not recorded
    as a statement: the replay's `begin()` goes through the same hook and issues it again.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.tally = Tally()
        self.recording: list[Tx] | None = None
        self._open: Tx | None = None
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", self._sql)
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "commit", self._commit)
        event.listen(sync, "rollback", self._rollback)
        event.listen(sync.pool, "checkout", self._checkout)

    def _sql(
        self, conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool
    ) -> None:
        if statement == "BEGIN IMMEDIATE":
            return
        self.tally.queries += 1
        if self.recording is not None:
            if self._open is None or many:
                raise RuntimeError(f"cannot replay {statement!r} (outside a transaction/many)")
            self._open.statements.append((statement, params))

    def _begin(self, conn: Any) -> None:
        self.tally.transactions += 1
        if self.recording is not None:
            self._open = Tx()
            self.recording.append(self._open)

    def _end(self, commit: bool) -> None:
        if self._open is not None:
            self._open.commit = commit
        self._open = None

    def _commit(self, conn: Any) -> None:
        self._end(True)

    def _rollback(self, conn: Any) -> None:
        self._end(False)

    def _checkout(self, *args: Any) -> None:
        self.tally.checkouts += 1

    def snapshot(self) -> Tally:
        return Tally(self.tally.queries, self.tally.transactions, self.tally.checkouts)


async def replay(engine: AsyncEngine, recorded: list[Tx]) -> None:
    """The floor: the recorded statements, issued directly, transaction for transaction."""
    for tx in recorded:
        async with engine.connect() as conn:
            await conn.begin()
            for statement, params in tx.statements:
                result = await conn.exec_driver_sql(statement, params)
                if result.returns_rows:
                    result.fetchall()
            if tx.commit:
                await conn.commit()
            else:
                await conn.rollback()


async def undo(engine: AsyncEngine, steps: Undo) -> None:
    if steps:
        async with engine.begin() as conn:
            for statement, params in steps:
                await conn.execute(text(statement), params)


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    case: Case
    core: list[float]
    floor: list[float]
    per_run: Tally  # queries, transactions and checkouts of one core run
    floor_per_run: Tally


def pct(samples: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1] * 1000


async def handle_ok(app: App, target: Target) -> None:
    out = await app.core.handle(console_caller(target.caller), target.line)
    if not out or not out[0].ok:
        raise RuntimeError(f"{target.line!r} by {target.caller} failed: {out and out[0].text}")


async def measure(
    app: App, tap: Wiretap, case: Case, iterations: int, warmup: int, seed: int
) -> Result:
    rng = random.Random(f"{seed}-{case.key}")
    run = secrets.token_hex(3)
    targets = [case.make(i, rng, run) for i in range(warmup + iterations)]
    engine = app.engine

    # 1. record what the core sends for each target (untimed; warms every cache)
    recordings: list[list[Tx]] = []
    for target in targets:
        tap.recording = []
        try:
            await handle_ok(app, target)
            recordings.append(tap.recording)
        finally:
            tap.recording = None
        await undo(engine, target.undo)

    # 2. time the core and the replay of the same target, in random order
    core: list[float] = []
    floor: list[float] = []
    per_run = Tally()
    floor_per_run = Tally()
    for i, (target, recorded) in enumerate(zip(targets, recordings, strict=True)):
        measured = i >= warmup
        runs: list[tuple[list[float], Tally, Callable[[], Awaitable[Any]]]] = [
            (core, per_run, partial(app.core.handle, console_caller(target.caller), target.line)),
            (floor, floor_per_run, partial(replay, engine, recorded)),
        ]
        rng.shuffle(runs)
        for samples, tally, fn in runs:
            before = tap.snapshot()
            cpu = time.process_time()
            started = time.perf_counter()
            await fn()
            spent = time.perf_counter() - started
            cpu = time.process_time() - cpu
            after = tap.snapshot()
            await undo(engine, target.undo)
            if measured:
                samples.append(spent)
                tally.queries += after.queries - before.queries
                tally.transactions += after.transactions - before.transactions
                tally.checkouts += after.checkouts - before.checkouts
                tally.cpu += cpu
    n = len(core)
    return Result(case, core, floor, _per(per_run, n), _per(floor_per_run, n))


def _per(total: Tally, n: int) -> Tally:
    return Tally(
        round(total.queries / n),
        round(total.transactions / n),
        round(total.checkouts / n),
        total.cpu / n,
    )


# -- reporting ------------------------------------------------------------------------------

TARGET_P99_MS = 25.0
TARGET_RATIO = 2.0


def round_trips(t: Tally, store: str) -> int:
    """Statements + BEGIN + COMMIT/ROLLBACK per transaction (+ the pool's pre-ping on pg)."""
    pings = t.checkouts if store == "postgres" else 0
    return t.queries + 2 * t.transactions + pings


def table(store: str, results: list[Result]) -> str:
    lines = [
        "| command | core p50 | core p99 | floor p50 | floor p99 | p50 ratio | p99 ratio "
        "| CPU core / floor | queries / tx | round trips | p99 <= 25 ms | <= 2x floor |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|",
    ]
    for r in results:
        c50, c99, f50, f99 = pct(r.core, 50), pct(r.core, 99), pct(r.floor, 50), pct(r.floor, 99)
        same = (r.per_run.queries, r.per_run.transactions) == (
            r.floor_per_run.queries,
            r.floor_per_run.transactions,
        )
        trips = f"{round_trips(r.per_run, store)}" + ("" if same else " (floor differs!)")
        lines.append(
            f"| `{r.case.name}` | {c50:.2f} | {c99:.2f} | {f50:.2f} | {f99:.2f} "
            f"| {c50 / f50:.1f}x | {c99 / f99:.1f}x "
            f"| {r.per_run.cpu * 1000:.2f} / {r.floor_per_run.cpu * 1000:.2f} "
            f"| {r.per_run.queries} / {r.per_run.transactions} | {trips} "
            f"| {'yes' if c99 <= TARGET_P99_MS else '**no**'} "
            f"| {'yes' if c99 <= TARGET_RATIO * f99 else '**no**'} |"
        )
    return "\n".join(lines)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def machine() -> str:
    cpu = "unknown"
    mem = "unknown"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal"):
                mem = f"{int(row.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import aiosqlite
    import asyncpg

    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLAlchemy "
        f"{sqlalchemy.__version__}, asyncpg {asyncpg.__version__}, aiosqlite "
        f"{aiosqlite.__version__}, SQLite {__import__('sqlite3').sqlite_version}"
    )


def code_version() -> str:
    """The commit measured, and whether the work tree differed from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%h %cI"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


async def server_version(app: App) -> str:
    async with app.engine.connect() as conn:
        if app.engine.dialect.name == "postgresql":
            return "PostgreSQL " + str((await conn.exec_driver_sql("SHOW server_version")).scalar())
        return "SQLite " + str((await conn.exec_driver_sql("SELECT sqlite_version()")).scalar())


# -- running --------------------------------------------------------------------------------


def prepare(store: str, rebuild: bool) -> tuple[str, str, float]:
    """(url, how the data came to be, seconds): done before the event loop starts."""
    started = time.perf_counter()
    if store == "sqlite":
        url, note = prepare_sqlite(rebuild)
    else:
        url = os.environ.get("COACHBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
        url, note = prepare_postgres(url, rebuild)
    return url, note, time.perf_counter() - started


async def calibrate(engine: AsyncEngine, runs: int = 300) -> float:
    """p50 (ms) of an empty transaction (`SELECT 1`) through the engine: how fast this
    machine answers right now, so runs taken at different times can be compared."""
    samples = []
    for i in range(runs + 50):
        started = time.perf_counter()
        async with engine.connect() as conn:
            await conn.begin()
            (await conn.exec_driver_sql("SELECT 1")).fetchall()
            await conn.rollback()
        if i >= 50:
            samples.append(time.perf_counter() - started)
    return pct(samples, 50)


async def bench_store(
    store: str, url: str, args: argparse.Namespace
) -> tuple[list[Result], str, float]:
    app = await bootstrap(url, clock=FakeClock(BENCH_NOW), migrate=False)
    settle_heap()  # as `coachbot run` does once started
    try:
        empty = await calibrate(app.engine)
        tap = Wiretap(app.engine)
        results = []
        for case in CASES:
            if args.only and case.key not in args.only:
                continue
            results.append(await measure(app, tap, case, args.iterations, args.warmup, args.seed))
            print(f"  {store}: measured {case.name}", file=sys.stderr, flush=True)
        return results, await server_version(app), empty
    finally:
        await app.close()


def run_store(store: str, args: argparse.Namespace) -> None:
    url, note, prepared = prepare(store, args.rebuild)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        results, version, empty = asyncio.run(bench_store(store, url, args))
    finally:
        if store == "postgres":
            asyncio.run(undo_all(url))
    spent = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    print(f"\n### {store} ({version})\n")
    print(
        f"Data: {ORGS:,} orgs x ({1 + ASSISTANTS} coaches + {ATHLETES} athletes) = "
        f"{MEMBERS:,} members, {POOL:,} accounts without an org; {note}; ready in "
        f"{prepared:.1f} s. N = {args.iterations} per command after {args.warmup} warm-up "
        "iterations; times in ms (CPU: mean CPU time of this process per run, all "
        f"threads). Measured in {spent:.0f} s; 1-minute load average "
        f"{load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} CPUs); an "
        f"empty transaction (`SELECT 1`) took {empty:.2f} ms (p50) before measuring.\n"
    )
    print(table(store, results))
    print(f"\nPeak RSS of the process so far: {peak_rss_mib():.0f} MiB\n", flush=True)


async def profile_core(url: str, args: argparse.Namespace) -> cProfile.Profile:
    app = await bootstrap(url, clock=FakeClock(BENCH_NOW), migrate=False)
    settle_heap()  # as `coachbot run` does once started
    profiler = cProfile.Profile(time.process_time)  # CPU time: robust to busy neighbours
    try:
        case = next(c for c in CASES if c.key == args.profile)
        rng = random.Random(args.seed)
        run = secrets.token_hex(3)
        targets = [case.make(i, rng, run) for i in range(args.warmup + args.iterations)]
        for i, target in enumerate(targets):
            if i >= args.warmup:
                profiler.enable()
            await handle_ok(app, target)
            profiler.disable()
            await undo(app.engine, target.undo)
    finally:
        await app.close()
    return profiler


def run_profile(args: argparse.Namespace) -> None:
    store = "sqlite" if args.store == "both" else args.store
    url, _, _ = prepare(store, args.rebuild)
    try:
        profiler = asyncio.run(profile_core(url, args))
    finally:
        if store == "postgres":
            asyncio.run(undo_all(url))
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


@contextmanager
def exclusive_run() -> Iterator[None]:
    """One run at a time: two runs would share the scratch SQLite file and the PostgreSQL
    database (and its pool of no-org accounts), and each would time the other's load."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "commands.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("waiting for another bench.commands run to finish ...", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            for scratch in CACHE.glob(f"{SCRATCH}*"):
                scratch.unlink()
            fcntl.flock(lock, fcntl.LOCK_UN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.commands",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--iterations", type=int, default=500, help="measured, per command")
    parser.add_argument("--warmup", type=int, default=50, help="untimed, per command")
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only", nargs="*", choices=[c.key for c in CASES], help="measure these commands only"
    )
    parser.add_argument(
        "--profile",
        choices=[c.key for c in CASES],
        help="cProfile the core on this command instead of measuring",
    )
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be positive and --warmup not negative")
    with exclusive_run():
        if args.profile:
            run_profile(args)
            return
        print(f"## coachbot command benchmark, {date.today().isoformat()}\n")
        print(f"Machine: {machine()}")
        print(f"Code: {code_version()}")
        for store in ("sqlite", "postgres") if args.store == "both" else (args.store,):
            run_store(store, args)


if __name__ == "__main__":
    main()
