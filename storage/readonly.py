"""Sessions for work that only reads and must not hold SQLite's write lock.

`storage.engine` opens every SQLite transaction with `BEGIN IMMEDIATE`, so a command
takes the write lock when it starts. Work that only reads (the dispatcher rendering a
claimed batch) would then keep every other writer waiting for as long as it reads. On
SQLite `read_only_sessions` gives it a second engine on the same file whose transactions
begin `DEFERRED` (a WAL reader: it sees a snapshot and blocks no writer) and whose
connections refuse writes (`PRAGMA query_only`). It keeps no pooled connection
(`NullPool`: each session opens one and closes it), so it needs no disposing. PostgreSQL
readers never block writers: there the given sessions are returned as they are, as they
are for an in-memory SQLite database (a second connection would see another database).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, NullPool

from storage.engine import BUSY_TIMEOUT_MS


def read_only_sessions(sessions: async_sessionmaker[Any]) -> async_sessionmaker[Any]:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return sessions
    if engine.url.database in (None, "", ":memory:") or "mode=memory" in str(engine.url):
        return sessions
    reader = create_async_engine(
        engine.url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
    )
    sync_engine = reader.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: DBAPIConnection, _rec: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN DEFERRED")

    return async_sessionmaker(reader, expire_on_commit=False, autoflush=False)
