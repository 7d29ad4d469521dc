"""Engine and session factory for both stores.

SQLite: WAL, a busy timeout, foreign keys on, and every transaction opened with
`BEGIN IMMEDIATE` so a command takes the write lock when it starts; two concurrent
commands then queue on the busy timeout instead of failing later with "database is
locked" when a reader tries to upgrade. PostgreSQL: asyncpg with a small pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from bot.ports import Conflict, StoreUnavailable

BUSY_TIMEOUT_MS = 30_000

# What asyncpg accepts from a URL's query string (SQLAlchemy hands it the pairs as text);
# anything else (libpq's `sslmode`, `connect_timeout`...) would fail at the first connect.
ASYNCPG_QUERY = {
    "ssl": {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
    "target_session_attrs": {
        "any",
        "primary",
        "standby",
        "prefer-standby",
        "read-write",
        "read-only",
    },
    "passfile": None,
    "service": None,
    "servicefile": None,
    "krbsrvname": None,
    "gsslib": {"gssapi", "sspi"},
}


def check_url(value: str) -> str:
    """`value` if coachbot can open a database at it, else ValueError saying what is wrong
    (never echoing the URL: it may hold a password). Checked before start-up, for
    COACHBOT_DATABASE_URL (`bot.config`) and `--db` (`bot.cli`): reading a URL is the
    store's business, so the settings need no SQLAlchemy of their own."""
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    try:
        url = make_url(value)
        port = url.port  # a port that is not a number raises here
    except (exc.ArgumentError, ValueError) as error:
        raise ValueError(f"is not a database URL ({error})") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"has port {port}; a TCP port is 1 to 65535")
    if url.get_backend_name() == "postgresql":
        for key, given in url.query.items():
            if key not in ASYNCPG_QUERY:
                hint = " (for TLS write ?ssl=require)" if key == "sslmode" else ""
                raise ValueError(f"has ?{key}=, which asyncpg does not understand{hint}")
            allowed = ASYNCPG_QUERY[key]
            if allowed is not None and not (isinstance(given, str) and given in allowed):
                raise ValueError(
                    f"has ?{key}={given}; it may be one of {', '.join(sorted(allowed))}"
                )
    database = url.database or ""
    if url.query.get("uri") == "true":  # sqlite+aiosqlite:///file:PATH?mode=ro&uri=true
        database = database.removeprefix("file:")
    if url.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ValueError(f"names a SQLite file in {folder}, which does not exist")
    return value


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_target(url: str) -> tuple[str, bool]:
    """What `sqlite3.connect` takes for a SQLite URL, as SQLAlchemy reads it: the file
    (or `file:...?mode=ro` URI, or `:memory:`) and whether it is a URI."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    return str(args[0]), bool(kwargs.get("uri"))


def missing_sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names when it does not exist yet (opening it would create
    an empty one), else None."""
    target, uri = sqlite_target(url)
    if uri or target == ":memory:" or Path(target).exists():
        return None
    return target


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine with the per-store settings described above."""
    if is_sqlite(url):
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
        )
        _tune_sqlite(engine)
    else:
        engine = create_async_engine(
            url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
        )
    translate_errors(engine)
    return engine


def make_sqlite_reader(url: Any) -> AsyncEngine:
    """A second engine on a SQLite file for work that only reads (see storage.readonly):
    its transactions begin DEFERRED (a WAL reader that blocks no writer), its connections
    refuse writes, and it pools none (NullPool), so it needs no disposing."""
    engine = create_async_engine(
        url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
    )
    _tune_sqlite(engine, read_only=True)
    translate_errors(engine)
    return engine


def _tune_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    sync_engine = engine.sync_engine
    begin = "BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE"

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _rec: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


def translate_errors(engine: AsyncEngine) -> None:
    """Raise the core's own exceptions instead of the driver's (ARCHITECTURE: the core
    imports no SQLAlchemy): a broken constraint becomes `Conflict`, a store that cannot
    run the statement `StoreUnavailable`. Every statement of the project passes here, so
    no caller needs to know which driver is underneath."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _translate(context: ExceptionContext) -> None:
        error = context.sqlalchemy_exception
        if isinstance(error, exc.IntegrityError):
            raise Conflict(str(error.orig)) from error
        if isinstance(error, exc.OperationalError):
            raise StoreUnavailable(str(error.orig)) from error
