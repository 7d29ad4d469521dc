"""`coachbot db backup PATH` and `coachbot db restore PATH` (docs/DESIGN.md, "Backup and
restore").

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies every page in
one step inside one read transaction, so the copy is the database as of one instant even
while the bot goes on writing (in WAL mode a reader blocks no writer and no writer blocks
it). The copy is written next to PATH, checked (`PRAGMA integrity_check`), switched out of
WAL mode so it is one self-contained file, and only then renamed to PATH: a failed
backup never leaves a half-written PATH.

PostgreSQL: `pg_dump -Fc` (one snapshot, also while the bot runs) and `pg_restore` in one
transaction, when the client tools are installed; the URL's parts go to them as libpq's
environment variables, so the password is never on a command line.

Restore only goes onto an empty database (no tables): it never merges into or overwrites
a club. Every failure is a `BackupError` with one line saying what is wrong (never the
database URL: it may hold a password).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.engine import BUSY_TIMEOUT_MS, is_sqlite, make_engine, sqlite_target
from storage.migrate import as_unusable, known_revisions

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"

# the asyncpg URL query keys (storage.engine.ASYNCPG_QUERY) as libpq environment variables
_LIBPQ_ENV = {
    "ssl": "PGSSLMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "servicefile": "PGSERVICEFILE",
    "krbsrvname": "PGKRBSRVNAME",
    "gsslib": "PGGSSLIB",
}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done: one line saying why."""


@dataclass(frozen=True)
class Done:
    """What a backup or restore did, for its one line of output."""

    store: str  # "sqlite" | "postgresql"
    revision: str | None
    size: int  # bytes of the backup file

    def describe(self) -> str:
        at = f"schema revision {self.revision}" if self.revision else "no coachbot schema"
        return f"{self.store}, {at}, {_size(self.size)}"


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


async def backup(url: str, path: Path) -> Done:
    """Copy the database at `url` to the new file `path` (never overwritten)."""
    await asyncio.to_thread(_new_file, path)
    if is_sqlite(url):
        return await asyncio.to_thread(_sqlite_backup, url, path)
    return await _pg_backup(url, path)


async def restore(url: str, path: Path) -> Done:
    """Load the backup `path` into the empty database at `url`."""
    head = await asyncio.to_thread(_head, path)
    if is_sqlite(url):
        if head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{path} is a PostgreSQL backup; this database is SQLite")
        if head != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database file")
        return await asyncio.to_thread(_sqlite_restore, url, path)
    if head == SQLITE_MAGIC:
        raise BackupError(f"{path} is a SQLite backup; this database is PostgreSQL")
    if not head.startswith(PG_DUMP_MAGIC):
        raise BackupError(f"{path} is not a pg_dump custom-format backup (pg_dump -Fc)")
    return await _pg_restore(url, path)


def _new_file(path: Path) -> None:
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never overwrites a file")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path} ({exc.strerror or exc})") from None


# -- SQLite ------------------------------------------------------------------------------


def _open_source(url: str) -> sqlite3.Connection:
    target, uri = sqlite_target(url)
    if target == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    if not uri and not Path(target).exists():
        raise BackupError(f"the SQLite file {target} does not exist")
    return sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000)


def _revision(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None  # no such table: not a coachbot database (yet)
    return str(row[0]) if row else None


def _sqlite_backup(url: str, path: Path) -> Done:
    staging = _staging(path)
    try:
        with closing(_open_source(url)) as source, closing(sqlite3.connect(staging)) as copy:
            source.backup(copy)  # pages=-1: every page in one step, one snapshot
            revision = _revision(copy)
            _check_integrity(copy, "the copy")
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        os.replace(staging, path)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up the database of COACHBOT_DATABASE_URL ({exc})") from None
    finally:
        for leftover in (staging, Path(f"{staging}-journal")):
            leftover.unlink(missing_ok=True)
    return Done("sqlite", revision, path.stat().st_size)


def _staging(path: Path) -> Path:
    """A new, empty file beside `path` (same file system, so the rename is atomic)."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    return Path(name)


def _check_integrity(db: sqlite3.Connection, what: str) -> None:
    found = [row[0] for row in db.execute("PRAGMA integrity_check")]
    if found != ["ok"]:
        raise BackupError(f"{what} fails SQLite's integrity check ({found[0]})")


def _sqlite_restore(url: str, path: Path) -> Done:
    try:
        backup_file = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path} ({exc})") from None
    with closing(backup_file):
        try:
            _check_integrity(backup_file, str(path))
            revision = _revision(backup_file)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a usable SQLite database ({exc})") from None
        _known(revision, path)
        target, uri = sqlite_target(url)
        if target == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up or restored")
        try:
            with closing(sqlite3.connect(target, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000)) as db:
                tables = db.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                ).fetchone()[0]
                if tables:
                    raise BackupError(_not_empty(tables))
                backup_file.backup(db)
                db.execute("PRAGMA journal_mode=WAL")  # as coachbot runs it (storage.engine)
        except sqlite3.Error as exc:
            raise BackupError(
                f"cannot restore into the database of COACHBOT_DATABASE_URL ({exc})"
            ) from None
    return Done("sqlite", revision, path.stat().st_size)


def _known(revision: str | None, path: Path) -> None:
    if revision is None:
        raise BackupError(f"{path} is not a coachbot database (it has no schema revision)")
    if revision not in known_revisions():
        raise BackupError(
            f"{path} is at schema revision {revision!r}, which this coachbot does not know: "
            "a newer coachbot made it (restore it with that version)"
        )


def _not_empty(tables: int) -> str:
    return (
        f"the database of COACHBOT_DATABASE_URL is not empty ({tables} tables); restore only "
        "goes onto an empty database: point it at a new SQLite file or a new PostgreSQL "
        "database (createdb) and run the restore again"
    )


# -- PostgreSQL --------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed; PostgreSQL backups need the PostgreSQL client tools "
            "(Debian/Ubuntu: apt-get install postgresql-client), no older than the server"
        )
    return found


def libpq_environment(url: str) -> dict[str, str]:
    """The URL as libpq's PG* variables (added to this process's environment)."""
    parts = make_url(url)
    env = dict(os.environ)
    values = {
        "PGHOST": parts.host,
        "PGPORT": str(parts.port) if parts.port else None,
        "PGUSER": parts.username,
        "PGPASSWORD": parts.password,
        "PGDATABASE": parts.database,
    }
    for key, value in parts.query.items():
        if key in _LIBPQ_ENV:
            values[_LIBPQ_ENV[key]] = value if isinstance(value, str) else value[-1]
    env.update({key: str(value) for key, value in values.items() if value})
    return env


async def _run_tool(*command: str, env: dict[str, str]) -> str:
    """Run a client tool; its error output's first `error:` line on failure."""
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        lines = err.decode(errors="replace").splitlines() or [f"exit status {process.returncode}"]
        errors = [line for line in lines if "error:" in line] or lines
        name = Path(command[0]).name
        raise BackupError(f"{name} failed: {errors[0].split('error:', 1)[-1].strip()}")
    return out.decode(errors="replace")


async def _pg_backup(url: str, path: Path) -> Done:
    pg_dump = _tool("pg_dump")
    revision, _ = await _pg_state(url)
    staging = _staging(path)
    try:
        await _run_tool(pg_dump, "-Fc", "-f", str(staging), env=libpq_environment(url))
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
    return Done("postgresql", revision, await asyncio.to_thread(os.path.getsize, path))


async def _pg_restore(url: str, path: Path) -> Done:
    pg_restore = _tool("pg_restore")
    env = libpq_environment(url)
    listing = await _run_tool(pg_restore, "--list", str(path), env=env)
    if "alembic_version" not in listing:
        raise BackupError(f"{path} is not a coachbot database (it has no schema revision)")
    _, tables = await _pg_state(url)
    if tables:
        raise BackupError(_not_empty(tables))
    await _run_tool(
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        env.get("PGDATABASE") or env.get("PGUSER") or "postgres",  # asyncpg's default too
        str(path),
        env=env,
    )
    revision, _ = await _pg_state(url)
    if revision is None or revision not in known_revisions():
        raise BackupError(
            f"restored, but {path} is at schema revision {revision!r}, which this coachbot "
            "does not know: a newer coachbot made it (run that version)"
        )
    return Done("postgresql", revision, await asyncio.to_thread(os.path.getsize, path))


async def _pg_state(url: str) -> tuple[str | None, int]:
    """The schema revision (None: none) and how many tables the database has."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            )
            revision = None
            if await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
                revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        return revision, int(tables or 0)
    except Exception as exc:
        unusable = as_unusable(exc)
        if unusable is None:
            raise
        raise unusable from None
    finally:
        await engine.dispose()
