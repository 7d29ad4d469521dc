"""Apply Alembic migrations programmatically (on start and by `coachbot db upgrade`)."""

from __future__ import annotations

import socket
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.ports import Conflict, StoreUnavailable

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@cache
def head_revision() -> str | None:
    """The newest schema revision this coachbot knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


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
    except (DBAPIError, OSError, TimeoutError, sqlite3.Error, Conflict, StoreUnavailable) as exc:
        raise DatabaseUnusable(_why(exc)) from None
    except Exception as exc:
        # asyncpg raises its own errors while connecting (a wrong password, no such
        # database); SQLAlchemy does not wrap those
        if type(exc).__module__.startswith("asyncpg"):
            raise DatabaseUnusable(_why(exc)) from None
        raise


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


async def _upgrade(engine: AsyncEngine, revision: str) -> None:
    cfg = alembic_config()

    def _run(connection: Any) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

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
