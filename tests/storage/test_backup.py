"""Issue 14 item 5 (first part): `coachbot db backup PATH` and `coachbot db restore PATH`.

Round trips on both stores (a club built through the real core, backed up while its app
is open, restored into a fresh empty database, every row compared, and the restored
club served again); SQLite's copy is consistent while another connection writes; a
restore never goes onto a database that is not empty. PostgreSQL needs `pg_dump` and
`pg_restore`: without them those tests skip saying so (and fail under CI=true, where the
PostgreSQL client tools are installed: .ci/run uses psql).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from adapters.console.sender import ConsoleSender
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from storage.backup import BackupError, backup, restore
from storage.engine import make_engine
from storage.migrate import head_revision
from storage.models import Base
from tests.cli.test_startup_errors import postgres_sql
from tests.conftest import IN_CI, Club

WAIT = 30.0  # seconds a thread may take before the test fails


def need_pg_tools() -> None:
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not installed (apt-get install postgresql-client)"
    if IN_CI:
        pytest.fail(f"CI=true but {message}: the PostgreSQL backup tests must run")
    pytest.skip(f"{message}: PostgreSQL backup tests skipped")


@pytest.fixture
async def empty_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database on the same store as `db_url`."""
    if db_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    base = make_url(db_url)
    name = f"{base.database}_restore"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    await postgres_sql(db_url, drop, f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await postgres_sql(db_url, drop)


async def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    engine = make_engine(url)
    try:
        found: dict[str, list[tuple[Any, ...]]] = {}
        async with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                found[table.name] = [tuple(row) for row in await conn.execute(query)]
            version = await conn.execute(text("SELECT version_num FROM alembic_version"))
            found["alembic_version"] = [tuple(row) for row in version]
        return found
    finally:
        await engine.dispose()


async def build_club(club: Club) -> None:
    await club.basic_club()
    await club.ok("hc@lake.run", "/group create Hills")
    await club.ok("hc@lake.run", "/group add Hills ava ben")
    await club.ok("hc@lake.run", "/plan create Base weeks:2")
    await club.ok("ava@lake.run", "/log 10k 50:00")
    await club.ok("ben@lake.run", "/log 5k 25:00 private")


# -- round trips on both stores --------------------------------------------------------


async def test_round_trip(
    club: Club, db_url: str, empty_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    if not db_url.startswith("sqlite"):
        need_pg_tools()
    await build_club(club)
    path = tmp_path / "club.backup"
    made = await backup(db_url, path)  # the club's app is still open: "while it runs"
    assert made.revision == head_revision()
    before = await rows(db_url)
    assert before["activities"] and before["memberships"]

    loaded = await restore(empty_url, path)
    assert loaded.revision == head_revision()
    assert await rows(empty_url) == before

    # the restored club serves: new rows take new keys (sequences came along)
    app = await bootstrap(empty_url, clock=clock, sender=ConsoleSender())
    try:
        again = Club(app, clock)
        await again.ok("hc@lake.run", "/add-member dee@lake.run")
        await again.ok("dee@lake.run", "/profile")
        await again.ok("cy@lake.run", "/log 8k 40:00")
        said = await again.ok("hc@lake.run", "/activities ava")
        assert "10" in said.text
    finally:
        await app.close()


async def test_restore_refuses_a_database_that_is_not_empty(
    club: Club, db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("sqlite"):
        need_pg_tools()
    await build_club(club)
    path = tmp_path / "club.backup"
    await backup(db_url, path)
    before = await rows(db_url)
    with pytest.raises(BackupError, match="not empty") as refused:
        await restore(db_url, path)
    assert "restore only goes onto an empty database" in str(refused.value)
    assert "@" not in str(refused.value)  # never the URL
    assert await rows(db_url) == before


async def test_backup_never_overwrites(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "taken"
    path.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        await backup(db_url, path)
    assert path.read_bytes() == b"precious"
    with pytest.raises(BackupError, match="does not exist"):
        await backup(db_url, tmp_path / "no" / "such" / "folder" / "x.backup")


async def test_restore_checks_what_the_file_is(db_url: str, empty_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello, not a backup")
    with pytest.raises(BackupError, match="not a"):
        await restore(empty_url, junk)
    with pytest.raises(BackupError, match="cannot read"):
        await restore(empty_url, tmp_path / "missing.backup")
    if db_url.startswith("sqlite"):
        dump = tmp_path / "pg.backup"
        dump.write_bytes(b"PGDMP\x01\x0e\x00")
        with pytest.raises(BackupError, match="is a PostgreSQL backup; this database is SQLite"):
            await restore(empty_url, dump)
    else:
        other = tmp_path / "sqlite.backup"
        with sqlite3.connect(other) as db:
            db.execute("CREATE TABLE t (x)")
        with pytest.raises(BackupError, match="is a SQLite backup; this database is PostgreSQL"):
            await restore(empty_url, other)


# -- SQLite: consistent while the bot writes ----------------------------------------------


def _writer(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=WAIT, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    return db


def _pairs(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return sorted(db.execute("SELECT n, half FROM pairs"))


async def test_sqlite_backup_is_one_instant_with_a_write_half_done(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A transaction in progress when the copy is taken is in it wholly or not at all."""
    source = make_url(sqlite_url).database or ""
    writer = _writer(source)
    try:
        writer.execute("CREATE TABLE pairs (n INTEGER, half TEXT)")
        writer.execute("BEGIN IMMEDIATE")
        writer.executemany("INSERT INTO pairs VALUES (?, ?)", [(1, "a"), (1, "b")])
        writer.execute("COMMIT")
        writer.execute("BEGIN IMMEDIATE")  # the bot, mid-command, holding the write lock
        writer.execute("INSERT INTO pairs VALUES (2, 'a')")
        path = tmp_path / "mid.backup"
        await asyncio.wait_for(backup(sqlite_url, path), WAIT)  # not blocked by the writer
        writer.execute("INSERT INTO pairs VALUES (2, 'b')")
        writer.execute("COMMIT")
    finally:
        writer.close()
    restored = tmp_path / "restored.db"
    await restore(f"sqlite+aiosqlite:///{restored}", path)
    assert _pairs(restored) == [(1, "a"), (1, "b")]
    assert len(_pairs(Path(source))) == 4


async def test_sqlite_backup_while_a_writer_goes_on(sqlite_url: str, tmp_path: Path) -> None:
    """A writer commits pairs of rows in a loop before, during and after the backup; the
    restored copy has whole pairs only, numbered without a gap, and passes SQLite's
    integrity check."""
    source = make_url(sqlite_url).database or ""
    setup = _writer(source)
    setup.execute("CREATE TABLE pairs (n INTEGER, half TEXT)")
    setup.close()
    stop = threading.Event()
    warmed = threading.Event()  # enough written before the backup starts
    went_on = threading.Event()  # and more after it ended
    committed: list[int] = []
    goal: list[int] = []

    def write() -> None:
        db = _writer(source)
        try:
            n = 0
            while not stop.is_set():
                n += 1
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT INTO pairs VALUES (?, ?)", [(n, "a"), (n, "b")])
                db.execute("COMMIT")
                committed.append(n)
                if n == 50:
                    warmed.set()
                if goal and n >= goal[0]:
                    went_on.set()
        finally:
            db.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert await asyncio.to_thread(warmed.wait, WAIT)
        path = tmp_path / "busy.backup"
        await asyncio.wait_for(backup(sqlite_url, path), WAIT)
        # and the writer was never stopped by it: it goes on committing afterwards
        goal.append(len(committed) + 20)
        assert await asyncio.to_thread(went_on.wait, WAIT)
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, WAIT)
    restored = tmp_path / "restored.db"
    await restore(f"sqlite+aiosqlite:///{restored}", path)
    pairs = _pairs(restored)
    numbers = sorted({n for n, _ in pairs})
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 50
    assert pairs == sorted((n, half) for n in numbers for half in ("a", "b"))


async def test_sqlite_restore_refuses_a_backup_of_a_newer_coachbot(
    sqlite_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "new.backup"
    await backup(sqlite_url, path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    target = tmp_path / "restored.db"
    with pytest.raises(BackupError, match="newer coachbot"):
        await restore(f"sqlite+aiosqlite:///{target}", path)
    assert not target.exists()


async def test_sqlite_backup_is_one_file(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "one.backup"
    await backup(sqlite_url, path)
    beside = await asyncio.to_thread(os.listdir, tmp_path)
    assert sorted(name for name in beside if name.startswith("one")) == ["one.backup"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert path.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only


# -- PostgreSQL without its client tools -------------------------------------------------


async def test_postgresql_backup_without_pg_dump_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    with pytest.raises(BackupError) as refused:
        await backup("postgresql+asyncpg://coach:pw@127.0.0.1:1/club", tmp_path / "x.backup")
    assert str(refused.value).startswith("pg_dump is not installed")
    assert "postgresql-client" in str(refused.value)
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(BackupError, match="pg_restore is not installed"):
        await restore("postgresql+asyncpg://coach:pw@127.0.0.1:1/club", dump)


async def test_sqlite_errors_are_one_line(sqlite_url: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, but long enough to be read as one" * 20)
    with pytest.raises(BackupError, match="cannot back up the database of COACHBOT_DATABASE_URL"):
        await backup(f"sqlite+aiosqlite:///{junk}", tmp_path / "x.backup")
    assert not (tmp_path / "x.backup").exists()  # and nothing half-written is left
    assert [n for n in await asyncio.to_thread(os.listdir, tmp_path) if "partial" in n] == []

    path = tmp_path / "good.backup"
    await backup(sqlite_url, path)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    read_only = f"sqlite+aiosqlite:///file:{empty}?mode=ro&uri=true"
    with pytest.raises(BackupError, match="cannot restore into the database"):
        await restore(read_only, path)
