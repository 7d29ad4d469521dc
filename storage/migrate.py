"""Apply Alembic migrations programmatically (on start and by `coachbot db upgrade`)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import Conflict, StoreUnavailable
from storage.engine import missing_sqlite_file

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def head_revision() -> str:
    """The newest schema revision this coachbot knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def schema_problem(engine: AsyncEngine) -> str | None:
    """Why the database cannot serve right now (for `/readyz`): unreachable, or its schema
    not at this coachbot's newest revision; None when it can. Never the URL."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            try:
                current = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            except Exception:  # no such table: never migrated
                current = None
    except Exception as exc:  # any driver's error: not ready, and why
        return f"database unreachable: {_why(exc)}"
    head = head_revision()
    if current != head:
        return (
            f"database schema at revision {current!r}, this coachbot needs {head!r} "
            "(run `coachbot db upgrade`)"
        )
    return None


class DatabaseUnusable(RuntimeError):
    """The database cannot serve coachbot: unreachable, refused, migrated by a newer
    coachbot, or read-only. The message is one line saying which (never the URL)."""


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision`; idempotent, so every start may call it. A
    database coachbot cannot use raises DatabaseUnusable; that includes one it cannot
    write to, found at start-up rather than at the first command."""
    try:
        await _upgrade(engine, revision)
    except CommandError as exc:
        raise DatabaseUnusable(_unknown_revision(exc)) from None
    except Exception as exc:
        unusable = as_unusable(exc)
        if unusable is None:
            raise
        raise unusable from None


def as_unusable(exc: BaseException) -> DatabaseUnusable | None:
    """A failure to open or write the database as DatabaseUnusable (None: a bug)."""
    if isinstance(exc, DatabaseUnusable):
        return exc
    if isinstance(
        exc, (DBAPIError, OSError, TimeoutError, sqlite3.Error, Conflict, StoreUnavailable)
    ) or type(exc).__module__.startswith("asyncpg"):
        # asyncpg raises its own errors while connecting (a wrong password, no such
        # database); SQLAlchemy does not wrap those
        return DatabaseUnusable(_why(exc))
    return None


def _unknown_revision(exc: CommandError) -> str:
    message = str(exc)
    if "Can't locate revision" in message:
        known = message.rsplit(" ", 1)[-1].strip("'\"")
        return (
            f"it is at schema revision {known!r}, which this coachbot does not know: a newer "
            "coachbot has migrated it (run that version, or restore a backup)"
        )
    return f"its migration failed: {message.splitlines()[0]}"


def _why(exc: BaseException) -> str:
    """One line on why a database could not be opened or written."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return _why(exc.orig)
    if isinstance(exc, (Conflict, StoreUnavailable)) and isinstance(exc.__cause__, DBAPIError):
        return _why(exc.__cause__)
    if isinstance(exc, socket.gaierror):
        return f"its host is unknown ({exc.strerror})"
    if isinstance(exc, ConnectionRefusedError):
        return "the server refused the connection (is PostgreSQL running on that host and port?)"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect ({exc.strerror})"
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "read-only" in line or "readonly" in line:
        return (
            f"it is read-only ({line}); coachbot writes on every command, so it does not "
            "start on a database it cannot write to"
        )
    return line


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


async def current_revision(engine: AsyncEngine) -> str | None:
    """The schema revision the database is at (None: no coachbot schema)."""
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def inspect(engine: AsyncEngine) -> str:
    """`coachbot doctor`'s database check: the database answers, is at this coachbot's
    newest schema revision, and takes a write (one that changes nothing, rolled back).
    Returns what it found in a few words; raises DatabaseUnusable saying what is wrong.
    Unlike `upgrade`, it changes nothing."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            return await _inspect(engine)
    except Exception as exc:
        unusable = as_unusable(exc)
        if unusable is None:
            raise
        raise unusable from None


CHECK_SECONDS = 30.0  # a database that has not answered by then is reported as such


async def _inspect(engine: AsyncEngine) -> str:
    if engine.dialect.name == "sqlite":
        missing = missing_sqlite_file(engine.url.render_as_string(hide_password=False))
        if missing is not None:
            raise DatabaseUnusable(
                f"its SQLite file {missing} does not exist (coachbot db upgrade creates it)"
            )
    current = await current_revision(engine)
    head = head_revision()
    if current is None:
        raise DatabaseUnusable("it has no coachbot schema yet (run coachbot db upgrade)")
    if current not in known_revisions():
        raise DatabaseUnusable(
            f"it is at schema revision {current!r}, which this coachbot does not know: a "
            "newer coachbot has migrated it (run that version, or restore a backup)"
        )
    if current != head:
        raise DatabaseUnusable(
            f"it is at schema revision {current}, not this coachbot's newest, {head} (run "
            "coachbot db upgrade; coachbot run also migrates when it starts)"
        )
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        finally:
            await transaction.rollback()
    return f"{engine.dialect.name}, schema revision {current}, the newest"


async def _upgrade(engine: AsyncEngine, revision: str) -> None:
    await _alembic(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Alembic's downgrade, with the same care for SQLite as an upgrade. coachbot itself
    only ever upgrades; the migration tests go down to check each step is reversible."""
    await _alembic(engine, command.downgrade, revision)


async def _alembic(engine: AsyncEngine, step: Any, revision: str) -> None:
    cfg = alembic_config()

    def _run(connection: Any) -> None:
        cfg.attributes["connection"] = connection
        step(cfg, revision)

    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign
            # keys enforced, that DROP would cascade into every table that refers to it
            # (the comments of activities, ...). The pragma only takes effect outside a
            # transaction, so it goes to the driver's connection before BEGIN.
            await _pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(_run)
                # a database that can be read but not written (a read-only file or role, a
                # standby) is found now, by a write that changes nothing
                await conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
        finally:
            if sqlite:
                await _pragma(conn, "PRAGMA foreign_keys=ON")


async def _pragma(conn: AsyncConnection, statement: str) -> None:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(statement)
