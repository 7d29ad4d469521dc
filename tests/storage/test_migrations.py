"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL, and
`coachbot db upgrade` applies them — or stops with one line naming a bad setting.

PostgreSQL runs in a schema of its own (via `search_path`) inside the test database, so
"an empty database" here never disturbs the shared one the other storage tests use.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Connection, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot import cli
from bot.ports import Conflict
from storage.engine import make_engine, translate_errors
from storage.migrate import alembic_config, upgrade
from storage.models import Account, Base
from tests.conftest import need_postgres
from tests.storage import old_shape

SCHEMA = "coachbot_migration_check"


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


@pytest.fixture(params=["sqlite", "postgres"])
async def empty(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a database (or schema) with nothing in it yet."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        yield engine
        await engine.dispose()
        return
    url = need_postgres()
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": SCHEMA}})
    translate_errors(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await admin.dispose()


async def _sync(engine: AsyncEngine, fn: Any) -> Any:
    async with engine.connect() as conn:
        return await conn.run_sync(fn)


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_the_empty_database_is_empty(empty: AsyncEngine) -> None:
    """The control for the comparison below: it does see a missing schema."""
    assert await _sync(empty, _table_names) == set()
    diff = await _sync(empty, _diff)
    added = {d[1].name for d in diff if d[0] == "add_table"}
    assert added == set(Base.metadata.tables)


async def test_migrations_build_exactly_the_models_schema(empty: AsyncEngine) -> None:
    await upgrade(empty)
    assert await _sync(empty, _table_names) == {*Base.metadata.tables, "alembic_version"}
    assert await _sync(empty, _diff) == []


def _normal(sql: object) -> str:
    return re.sub(r"[\s()]", "", str(sql)).lower()


def _where_of(index: Any) -> str:
    """The predicate of a reflected partial index, normalised ("" for a full index)."""
    options = index.get("dialect_options", {})
    for key in ("sqlite_where", "postgresql_where"):
        if options.get(key) is not None:
            return _normal(options[key])
    return ""


def _constraints(conn: Connection) -> dict[str, Any]:
    """What autogenerate does not compare: CHECK constraints, partial-index predicates and
    the ON DELETE rule of every foreign key (the cascades SPEC §1 relies on)."""
    insp = inspect(conn)
    found: dict[str, Any] = {}
    for table in Base.metadata.tables:
        found[f"{table} checks"] = sorted(c["name"] for c in insp.get_check_constraints(table))
        found[f"{table} partial"] = sorted(
            (i["name"], where) for i in insp.get_indexes(table) if (where := _where_of(i))
        )
        found[f"{table} on delete"] = sorted(
            (fk["constrained_columns"][0], (fk.get("options", {}).get("ondelete") or "").upper())
            for fk in insp.get_foreign_keys(table)
        )
    return found


def _model_constraints(dialect: str) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for name, table in Base.metadata.tables.items():
        expected[f"{name} checks"] = sorted(
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)
        )
        expected[f"{name} partial"] = sorted(
            (str(i.name), _normal(i.dialect_options[dialect]["where"]))
            for i in table.indexes
            if i.dialect_options[dialect]["where"] is not None
        )
        expected[f"{name} on delete"] = sorted(
            (fk.parent.name, (fk.ondelete or "").upper()) for fk in table.foreign_keys
        )
    return expected


async def test_migrations_carry_the_checks_and_cascades(empty: AsyncEngine) -> None:
    await upgrade(empty)
    dialect = "sqlite" if empty.dialect.name == "sqlite" else "postgresql"
    expected = _model_constraints(dialect)
    assert expected["memberships partial"] == [("uq_memberships_one_head_coach", "is_head_coach")]
    assert "ck_memberships_has_a_role" in expected["memberships checks"]
    assert await _sync(empty, _constraints) == expected


def _snapshot(conn: Connection) -> dict[str, Any]:
    insp = inspect(conn)
    shape: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        shape[table] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]), _where_of(i))
                for i in insp.get_indexes(table)
            ),
            sorted(str(sorted(u.items(), key=str)) for u in insp.get_unique_constraints(table)),
        )
    versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    shape["alembic_version"] = list(versions)
    return shape


async def test_upgrade_twice_is_a_no_op(empty: AsyncEngine) -> None:
    await upgrade(empty)
    first = await _sync(empty, _snapshot)
    assert first["alembic_version"] == [head_revision()]
    async with empty.begin() as conn:
        await conn.execute(
            insert(Account).values(
                email="kept@club.run",
                display_name="kept",
                display_name_set=False,
                units="km",
                reminder_time="06:00",
                locale="en",
                notify_daily=True,
                notify_digest=True,
                notify_leaderboard=True,
                share_activities=True,
                share_with_coaches=True,
                share_with_group=True,
                share_with_org=False,
                share_pace=True,
                share_profile=True,
                created_at=datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
            )
        )
    await upgrade(empty)
    assert await _sync(empty, _snapshot) == first
    async with empty.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Account)) == 1


# -- `coachbot db upgrade` -------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No COACHBOT_* variable and no .env from the developer's machine leaks in."""
    for name in list(os.environ):
        if name.startswith("COACHBOT_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _sqlite_tables(path: Path) -> tuple[set[str], list[str]]:
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [r[0] for r in db.execute("SELECT version_num FROM alembic_version")]
    return tables, versions


def test_db_upgrade_builds_the_database(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = clean_env / "club.db"
    monkeypatch.setenv("COACHBOT_DATABASE_URL", f"sqlite+aiosqlite:///{target}")
    assert cli.main(["db", "upgrade"]) == 0
    out, err = capsys.readouterr()
    assert "up to date" in out
    assert err == ""
    tables, versions = _sqlite_tables(target)
    assert tables >= set(Base.metadata.tables)
    assert versions == [head_revision()]
    assert cli.main(["db", "upgrade"]) == 0  # again: nothing to do, still fine
    assert _sqlite_tables(target) == (tables, versions)
    assert not (clean_env / "coachbot.db").exists()  # the URL was used, not the default


def test_db_upgrade_reads_the_url_from_dotenv(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = clean_env / "from-dotenv.db"
    (clean_env / ".env").write_text(f"COACHBOT_DATABASE_URL=sqlite+aiosqlite:///{target}\n")
    assert cli.main(["db", "upgrade"]) == 0
    assert _sqlite_tables(target)[1] == [head_revision()]


MALFORMED = [
    ("COACHBOT_DATABASE_URL", "mysql://root@localhost/coachbot"),
    ("COACHBOT_DATABASE_URL", "sqlite:///sync-driver.db"),
    ("COACHBOT_DATABASE_URL", "not a url"),
    ("COACHBOT_HTTP_PORT", "eighty"),
    ("COACHBOT_HTTP_PORT", "70000"),
    ("COACHBOT_HTTP_PORT", "0"),
    ("COACHBOT_HTTP_PORT", ""),
    ("COACHBOT_DEFAULT_TIMEZONE", "Mars/Olympus_Mons"),
    ("COACHBOT_DEFAULT_TIMEZONE", "../../etc/passwd"),
    ("COACHBOT_DEFAULT_TIMEZONE", ""),
    ("COACHBOT_LOG_LEVEL", "LOUD"),
]


def _assert_one_line_naming(
    variable: str, code: int, capsys: pytest.CaptureFixture[str], cwd: Path
) -> None:
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert variable in lines[0]
    assert "Traceback" not in err
    assert out == ""
    assert list(cwd.iterdir()) in ([], [cwd / ".env"])  # no database was created


@pytest.mark.parametrize(("variable", "value"), MALFORMED)
def test_malformed_setting_stops_with_one_line(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code = cli.main(["db", "upgrade"])
    _assert_one_line_naming(variable, code, capsys, clean_env)


def test_malformed_setting_in_dotenv_stops_with_one_line(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (clean_env / ".env").write_text("COACHBOT_HTTP_PORT=http\n")
    code = cli.main(["db", "upgrade"])
    _assert_one_line_naming("COACHBOT_HTTP_PORT", code, capsys, clean_env)


def test_malformed_url_with_the_right_prefix_stops_with_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COACHBOT_DATABASE_URL", "postgresql+asyncpg://coach@db.local:port/club")
    try:
        code = cli.main(["db", "upgrade"])
    except ValueError:
        code = 1
    _assert_one_line_naming("COACHBOT_DATABASE_URL", code, capsys, clean_env)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_unopenable_sqlite_path_stops_with_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = clean_env / "no-such-dir" / "club.db"
    monkeypatch.setenv("COACHBOT_DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    try:
        code = cli.main(["db", "upgrade"])
    except Exception:
        code = 1
    _assert_one_line_naming("COACHBOT_DATABASE_URL", code, capsys, clean_env)


# -- 0004 (public ids) on a database in the old shape -----------------------------------


async def test_public_ids_are_backfilled_on_existing_rows(empty: AsyncEngine) -> None:
    """Activities and invitations made before the ids came get one each: unique, from the
    no-look-alike alphabet, and the column then refuses a row without one."""
    await upgrade(empty, "0002")
    at = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    async with empty.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO orgs (id, name, timezone, created_at) VALUES (1, 'Lake', 'UTC', :at)"
            ),
            {"at": at},
        )
        await old_shape.account(conn, "old@club.run", at, id=1)
        for n in range(1, 31):
            await conn.execute(
                text(
                    "INSERT INTO activities (id, account_id, started_at, day, type, source, "
                    "private, created_at) VALUES (:n, 1, :at, :day, 'run', 'chat', false, :at)"
                ),
                {"n": n, "at": at, "day": at.date()},
            )
            await conn.execute(
                text(
                    "INSERT INTO invitations (id, org_id, kind, role, code_hash, status, "
                    "created_at, uses) VALUES (:n, 1, 'link', 'athlete', :hash, 'pending', :at, 0)"
                ),
                {"n": n, "hash": f"{n:064d}", "at": at},
            )
    await upgrade(empty)
    async with empty.connect() as conn:
        for table in ("activities", "invitations"):
            ids = (await conn.execute(text(f"SELECT public_id FROM {table}"))).scalars().all()
            assert len(ids) == 30 and len(set(ids)) == 30, table
            assert all(re.fullmatch(r"[A-HJKMNP-Z2-9]{7}", i) for i in ids), ids
    with pytest.raises(Conflict):  # NOT NULL: nothing is left without an id
        async with empty.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO activities (account_id, started_at, day, type, source, "
                    "private, created_at) VALUES (1, :at, :day, 'run', 'chat', false, :at)"
                ),
                {"at": at, "day": at.date()},
            )
