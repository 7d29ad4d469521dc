"""Issue 14 item 4: `coachbot doctor` — one line per check, exit 1 on any failure.

The checks run in-process against the local doubles of Slack and Discord, a local SMTP
server (aiosmtpd) and the test databases; a few cases run the real CLI as a process to
hold its output and exit status.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import make_url

from adapters.discord.doctor import expected_commands
from adapters.mail.smtp import SmtpMailer
from adapters.slack.manifest import SCOPES
from bot.config import Settings
from bot.doctor import Check, Verdict, exit_status
from storage.engine import make_engine
from storage.migrate import DatabaseUnusable, head_revision, inspect
from tests.adapters.discord.double import APP_ID, DiscordDouble
from tests.adapters.discord.double import TOKEN as DISCORD_TOKEN
from tests.adapters.slack.double import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackDouble
from tests.adapters.test_smtp import Inbox, _free_port
from tests.cli.test_startup_errors import at_revision, coachbot, coachbot_async


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "discord_token": None,
        "smtp_url": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


# -- the report --------------------------------------------------------------------------


def test_lines_and_exit_status() -> None:
    checks = [
        Check.ok("database", "sqlite, schema revision 0009, the newest"),
        Check.skipped("smtp"),
    ]
    assert [c.line for c in checks] == [
        "database: ok (sqlite, schema revision 0009, the newest)",
        "smtp: skipped (not configured)",
    ]
    assert exit_status(checks) == 0
    failed = Check.fail("slack", "Slack refused\nCOACHBOT_SLACK_BOT_TOKEN (invalid_auth)")
    assert failed.line == "slack: FAIL: Slack refused COACHBOT_SLACK_BOT_TOKEN (invalid_auth)"
    assert exit_status([*checks, failed]) == 1


@pytest.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def discord_double() -> AsyncIterator[DiscordDouble]:
    double = DiscordDouble()
    await double.start()
    yield double
    await double.stop()


async def _synced_payload() -> list[dict[str, Any]]:
    client = discord.Client(intents=discord.Intents.none())
    try:
        return expected_commands(client)
    finally:
        await client.close()


# -- the CLI -------------------------------------------------------------------------------


def test_cli_on_a_migrated_sqlite_database_with_nothing_else_configured(tmp_path: Path) -> None:
    assert coachbot(tmp_path, "db", "upgrade").returncode == 0
    ran = coachbot(tmp_path, "doctor")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.splitlines() == [
        "settings: ok (front ends: the console)",
        f"database: ok (sqlite, schema revision {head_revision()}, the newest)",
        "slack: skipped (not configured)",
        "discord: skipped (not configured)",
        "smtp: skipped (not configured)",
    ]
    assert ran.stderr == ""


def test_cli_a_setting_that_does_not_parse_is_one_failed_line(tmp_path: Path) -> None:
    ran = coachbot(tmp_path, "doctor", env={"COACHBOT_DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert ran.returncode == 1
    assert ran.stdout.splitlines() == [
        "settings: FAIL: setting COACHBOT_DEFAULT_TIMEZONE is invalid: 'Mars/Olympus' is not "
        "an IANA time zone such as Europe/Berlin"
    ]
    assert "Traceback" not in ran.stderr


def test_cli_a_missing_database_fails_and_is_not_created(tmp_path: Path) -> None:
    ran = coachbot(tmp_path, "doctor")
    assert ran.returncode == 1
    lines = ran.stdout.splitlines()
    assert lines[1] == (
        "database: FAIL: cannot use the database of COACHBOT_DATABASE_URL: its SQLite file "
        f"{tmp_path / 'coachbot.db'} does not exist (coachbot db upgrade creates it)"
    )
    assert len(lines) == 5  # the other checks still run
    assert not (tmp_path / "coachbot.db").exists()


async def test_cli_everything_configured_and_well(
    tmp_path: Path, slack: SlackDouble, discord_double: DiscordDouble, smtp_port: int
) -> None:
    assert (await coachbot_async(tmp_path, "db", "upgrade", env={})).returncode == 0
    discord_double.commands[None] = await _synced_payload()
    env = {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_APP_TOKEN": APP_TOKEN,
        "COACHBOT_SLACK_API_URL": slack.api_url,
        "COACHBOT_DISCORD_TOKEN": DISCORD_TOKEN,
        "COACHBOT_DISCORD_API_URL": discord_double.api_url,
        "COACHBOT_DISCORD_GATEWAY_URL": discord_double.gateway_url,
        "COACHBOT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    ran = await coachbot_async(tmp_path, "doctor", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "settings",
        "database",
        "slack",
        "discord",
        "smtp",
    ]
    assert all(": ok (" in line for line in lines), lines
    assert lines[0] == "settings: ok (front ends: Slack, Discord)"
    assert "Socket Mode app token accepted" in lines[2]
    assert f"application {APP_ID}" in lines[3] and "in sync globally" in lines[3]
    assert ran.stderr == ""


async def test_cli_one_failure_makes_the_exit_status_1(tmp_path: Path, slack: SlackDouble) -> None:
    assert (await coachbot_async(tmp_path, "db", "upgrade", env={})).returncode == 0
    slack.scopes = [scope for scope in SCOPES if scope != "files:read"]
    env = {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COACHBOT_SLACK_API_URL": slack.api_url,
    }
    ran = await coachbot_async(tmp_path, "doctor", env=env)
    assert ran.returncode == 1
    assert ran.stdout.splitlines()[2].startswith(
        "slack: FAIL: COACHBOT_SLACK_BOT_TOKEN lacks the scopes files:read"
    )


# -- the database --------------------------------------------------------------------------


async def _inspect(url: str) -> str:
    engine = make_engine(url)
    try:
        return await inspect(engine)
    finally:
        await engine.dispose()


async def test_database_migrated_on_both_stores(db_url: str) -> None:
    found = await _inspect(db_url)
    store = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    assert found == f"{store}, schema revision {head_revision()}, the newest"


@pytest.mark.parametrize(
    ("revision", "words"),
    [
        ("0008", ["at schema revision 0008", "coachbot db upgrade"]),
        ("0099", ["'0099'", "newer coachbot"]),
    ],
)
async def test_database_behind_or_ahead(sqlite_url: str, revision: str, words: list[str]) -> None:
    at_revision(sqlite_url, revision)
    with pytest.raises(DatabaseUnusable) as raised:
        await _inspect(sqlite_url)
    for word in words:
        assert word in str(raised.value)


async def test_database_without_schema(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(DatabaseUnusable, match="no coachbot schema yet"):
        await _inspect(f"sqlite+aiosqlite:///{path}")


async def test_database_read_only(sqlite_url: str) -> None:
    path = make_url(sqlite_url).database
    with pytest.raises(DatabaseUnusable, match="read-only"):
        await _inspect(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")


async def test_database_unreachable(closed_port: int) -> None:
    with pytest.raises(DatabaseUnusable, match="refused the connection"):
        await _inspect(f"postgresql+asyncpg://coach@127.0.0.1:{closed_port}/club")


def _content(path: str) -> bytes:
    with sqlite3.connect(path) as db:  # the WAL folded back in
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(path).read_bytes()


async def test_the_check_changes_nothing(sqlite_url: str) -> None:
    path = make_url(sqlite_url).database or ""
    before = _content(path)
    await _inspect(sqlite_url)
    assert _content(path) == before


# -- SMTP ------------------------------------------------------------------------------------


class Logins:
    """An aiosmtpd authenticator that takes one user and password."""

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"coach",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)


class Door(Inbox):
    """The inbox, also counting the sessions that ended with QUIT."""

    def __init__(self) -> None:
        super().__init__()
        self.quits = 0

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Door, int]]:
    inbox = Door()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=Logins(),
        auth_require_tls=False,  # no certificate on loopback: login over plain SMTP
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_port(smtp_inbox: tuple[Door, int]) -> int:
    return smtp_inbox[1]


async def test_smtp_reachable_and_nothing_sent(smtp_inbox: tuple[Door, int]) -> None:
    inbox, port = smtp_inbox
    check = await SmtpMailer(f"smtp://127.0.0.1:{port}", "club@lake.run").check()
    assert check.line == (
        f"smtp: ok (the SMTP server at 127.0.0.1:{port}, no TLS offered, no login, nothing sent)"
    )
    assert inbox.messages == []
    assert inbox.quits == 1  # it said goodbye


async def test_smtp_login(smtp_inbox: tuple[Door, int]) -> None:
    inbox, port = smtp_inbox
    good = await SmtpMailer(f"smtp://coach:s3cret@127.0.0.1:{port}", "club@lake.run").check()
    assert good.outcome is Verdict.OK and "logged in as coach" in good.line, good.line
    bad = await SmtpMailer(f"smtp://coach:wrong@127.0.0.1:{port}", "club@lake.run").check()
    assert bad.outcome is Verdict.FAIL
    assert "refused the login of COACHBOT_SMTP_URL (535" in bad.line
    assert "wrong" not in bad.line  # the password is never shown
    assert inbox.messages == []


async def test_smtp_unreachable(closed_port: int) -> None:
    check = await SmtpMailer(f"smtp://127.0.0.1:{closed_port}", "x@y.org", timeout=2).check()
    assert check.outcome is Verdict.FAIL
    assert check.line.startswith(
        f"smtp: FAIL: cannot reach the SMTP server at 127.0.0.1:{closed_port}"
    )
