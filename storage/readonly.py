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

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.engine import make_sqlite_reader


def read_only_sessions(sessions: async_sessionmaker[Any]) -> async_sessionmaker[Any]:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return sessions
    if engine.url.database in (None, "", ":memory:") or "mode=memory" in str(engine.url):
        return sessions
    reader = make_sqlite_reader(engine.url)
    return async_sessionmaker(reader, expire_on_commit=False, autoflush=False)
