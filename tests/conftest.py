"""Shared fixtures: a migrated store per test (SQLite always, PostgreSQL when
COACHBOT_TEST_POSTGRES_URL is set), the fake clock, and a `Club` driver that types
commands as named people through the real core."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text

from adapters.console.sender import ConsoleSender
from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.messages import Outgoing, Via
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Base

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _per_worker_postgres() -> str | None:
    """Under pytest-xdist each worker gets a database of its own (`<name>_gw0`, ...),
    made fresh here before any test module reads the URL."""
    url = os.environ.get("COACHBOT_TEST_POSTGRES_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"

    async def create() -> None:
        import asyncpg

        admin = await asyncpg.connect(
            host=base.host,
            port=base.port or 5432,
            user=base.username,
            password=base.password,
            database=base.database,
        )
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(create())
    worker_url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["COACHBOT_TEST_POSTGRES_URL"] = worker_url
    return worker_url


POSTGRES_URL = _per_worker_postgres()
IN_CI = os.environ.get("CI") == "true"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def need_postgres() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI=true but COACHBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests must run")
    pytest.skip("COACHBOT_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")


def need_shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"{path} is missing; CI always has ../shared")
    pytest.skip(f"{path} is absent (a clone without ../shared)")


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that runs `cli.main` in this process sets up coachbot's logging (a handler
    on the root logger, levels): undone after it, so no later test logs through it."""
    from bot.cli import NEVER_BELOW, QUIET_UNLESS_DEBUG
    from bot.logs import CoachbotHandler

    names = [*QUIET_UNLESS_DEBUG, *NEVER_BELOW]
    root = logging.getLogger()
    level, levels = root.level, {name: logging.getLogger(name).level for name in names}
    yield
    for handler in [h for h in root.handlers if isinstance(h, CoachbotHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, was in levels.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated with Alembic; each test gets a copy (fast, and real)."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def make() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(make())
    return path


_pg_migrated = False


async def _fresh_postgres(url: str) -> None:
    global _pg_migrated
    engine = make_engine(url)
    try:
        if not _pg_migrated:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
            await upgrade(engine)
            _pg_migrated = True
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "coachbot.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    url = need_postgres()
    await _fresh_postgres(url)
    return url


@pytest.fixture
async def postgres_url() -> str:
    """A fresh, migrated PostgreSQL database (skipped, or failed under CI, without one)."""
    url = need_postgres()
    await _fresh_postgres(url)
    return url


@pytest.fixture
async def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "coachbot.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))  # a Monday


@dataclass
class Said:
    """What the bot answered to one line."""

    messages: list[Outgoing]

    @property
    def reply(self) -> Outgoing:
        replies = [m for m in self.messages if m.via is Via.REPLY]
        assert len(replies) == 1, self.messages
        return replies[0]

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def ok(self) -> bool:
        return self.reply.ok

    def dms(self, email: str | None = None) -> list[Outgoing]:
        return [m for m in self.messages if m.via is Via.DM and (email is None or m.email == email)]

    @property
    def everything(self) -> str:
        return "\n".join(m.text for m in self.messages)


class Club:
    """Types lines to the real core as named people (console identities)."""

    def __init__(self, app: App, clock: FakeClock) -> None:
        self.app = app
        self.core = app.core
        self.clock = clock

    async def say(self, email: str, line: str, channel: str | None = None) -> Said:
        """The answer, then every message the line caused (DMs go out through the outbox)."""
        answer = await self.core.handle(console_caller(email, channel), line)
        return Said(answer + await self.app.scheduling.due_now())

    async def as_(self, caller: Caller, line: str) -> Said:
        """A line typed by any chat identity (Slack, Discord), and what it caused."""
        return Said(await self.core.handle(caller, line) + await self.app.scheduling.due_now())

    async def ok(self, email: str, line: str, channel: str | None = None) -> Said:
        said = await self.say(email, line, channel)
        assert said.ok, f"{email}: {line} -> {said.text}"
        return said

    async def no(self, email: str, line: str, channel: str | None = None) -> Said:
        said = await self.say(email, line, channel)
        assert not said.ok, f"{email}: {line} was allowed -> {said.text}"
        return said

    async def basic_club(self) -> None:
        """hc heads 'Lakeside'; kai and noor coach; ava, ben, cy are athletes; kai has ava."""
        await self.ok("hc@lake.run", '/setup-org "Lakeside Striders" tz:Europe/London')
        for coach in ("kai@lake.run", "noor@lake.run"):
            await self.ok("hc@lake.run", f"/add-coach {coach}")
            await self.ok(coach, "/profile")
        for athlete in ("ava@lake.run", "ben@lake.run", "cy@lake.run"):
            await self.ok("hc@lake.run", f"/add-member {athlete}")
            await self.ok(athlete, "/profile")
        await self.ok("hc@lake.run", "/assign-athlete kai@lake.run ava@lake.run")
        await self.ok("hc@lake.run", "/assign-athlete noor@lake.run ben@lake.run")


@pytest.fixture
async def app(db_url: str, clock: FakeClock) -> AsyncIterator[App]:
    application = await bootstrap(db_url, clock=clock, migrate=False, sender=ConsoleSender())
    yield application
    await application.close()


@pytest.fixture
async def club(app: App, clock: FakeClock) -> Club:
    return Club(app, clock)


@pytest.fixture
async def sqlite_club(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Club]:
    """For tests that need no second store (pure core behaviour)."""
    application = await bootstrap(sqlite_url, clock=clock, migrate=False, sender=ConsoleSender())
    yield Club(application, clock)
    await application.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): refuses at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
