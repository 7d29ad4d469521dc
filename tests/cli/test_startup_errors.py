"""Issue 11 item 8: a start-up or CLI error is one line naming the setting or argument and
what is wrong, with a non-zero exit and no traceback (docs/DESIGN.md: what stops start-up,
what is retried).

Every case runs the real CLI as a process (`python -m bot.cli` on this worktree's code);
the platform cases point the Slack and Discord API or gateway at a closed loopback port,
which refuses at once, or at the local doubles.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from tests.adapters.discord.double import TOKEN as DISCORD_TOKEN
from tests.adapters.discord.double import DiscordDouble
from tests.adapters.slack.double import APP_TOKEN, BOT_TOKEN, SlackDouble
from tests.conftest import need_postgres

ROOT = Path(__file__).resolve().parents[2]


def coachbot(
    directory: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`coachbot ARGS` in `directory`, with no COACHBOT_ setting but those given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COACHBOT_")}
    environment.update(
        PYTHONPATH=str(ROOT),
        COACHBOT_LOG_LEVEL="WARNING",
        COACHBOT_ADMIN_PORT="0",  # any free port: tests run side by side
        COACHBOT_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'coachbot.db'}",
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=directory,
        env=environment,
        timeout=60,
        check=False,
    )


def one_line(ran: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single line on stderr, after checking the exit code and that it says `words`."""
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1, ran.stderr
    assert ran.returncode == 2, (ran.returncode, ran.stderr)
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def at_revision(url: str, revision: str) -> None:
    """Set the migrated SQLite database's schema revision by hand."""
    with sqlite3.connect(make_url(url).database or "") as db:
        db.execute("UPDATE alembic_version SET version_num = ?", (revision,))


# -- the database --------------------------------------------------------------------------


def test_item_08_database_from_a_newer_migration_sqlite(tmp_path: Path) -> None:
    assert coachbot(tmp_path, "db", "upgrade").returncode == 0
    at_revision(f"sqlite+aiosqlite:///{tmp_path / 'coachbot.db'}", "0099")
    for args in (("db", "upgrade"), ("console", "--as", "ann@club.org")):
        one_line(
            coachbot(tmp_path, *args),
            "COACHBOT_DATABASE_URL",
            "schema revision '0099'",
            "newer coachbot",
        )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql+asyncpg://coach@127.0.0.1:{port}/club", ["refused the connection"]),
        ("postgresql+asyncpg://coach@no-such-host.invalid:5432/club", ["host is unknown"]),
        ("postgresql+asyncpg://coach@127.0.0.1:99999/club", ["port 99999", "1 to 65535"]),
        ("postgresql+asyncpg://coach@127.0.0.1:{port}/club?sslmode=bogus", ["sslmode", "ssl="]),
        ("postgresql+asyncpg://coach@127.0.0.1:{port}/club?ssl=bogus", ["ssl=bogus"]),
    ],
    ids=["refused", "unknown-host", "port-99999", "sslmode", "ssl-value"],
)
def test_item_08_postgresql_that_cannot_be_reached(
    tmp_path: Path, closed_port: int, url: str, words: list[str]
) -> None:
    env = {"COACHBOT_DATABASE_URL": url.format(port=closed_port)}
    line = one_line(coachbot(tmp_path, "db", "upgrade", env=env), "COACHBOT_DATABASE_URL", *words)
    assert "coach@" not in line  # the URL (which may hold a password) is not echoed


def test_item_08_env_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"COACHBOT_LOG_LEVEL=INFO\nCOACHBOT_SMTP_FROM=caf\xe9@x.org\n")
    one_line(coachbot(tmp_path, "db", "upgrade"), ".env", "not UTF-8", "0xe9", "line 2")


@pytest.mark.parametrize("value", ["3/3", "1-3", "0/0", "a/3", "1/"])
def test_malformed_discord_shards_stop_start_up_in_one_line(tmp_path: Path, value: str) -> None:
    ran = coachbot(tmp_path, "run", env={"COACHBOT_DISCORD_SHARDS": value})
    line = one_line(ran, "COACHBOT_DISCORD_SHARDS", "ID/COUNT", "0/3")
    assert repr(value) in line


def test_item_08_read_only_sqlite_database_stops_start_up(tmp_path: Path) -> None:
    assert coachbot(tmp_path, "db", "upgrade").returncode == 0
    url = f"sqlite+aiosqlite:///file:{tmp_path / 'coachbot.db'}?mode=ro&uri=true"
    for args in (("db", "upgrade"), ("run",)):
        one_line(
            coachbot(tmp_path, *args, env={"COACHBOT_DATABASE_URL": url}),
            "COACHBOT_DATABASE_URL",
            "read-only",
        )


@pytest.fixture
async def own_postgres() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own (it is made read-only or odd)."""
    import asyncpg

    base = make_url(need_postgres())
    name = f"{base.database}_startup"
    admin = await asyncpg.connect(
        host=base.host,
        port=base.port or 5432,
        user=base.username,
        password=base.password,
        database=base.database,
    )
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def postgres_sql(url: str, *statements: str) -> None:
    import asyncpg

    parts = make_url(url)
    conn = await asyncpg.connect(
        host=parts.host,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        database=parts.database,
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def coachbot_async(directory: Path, *args: str, env: dict[str, str]) -> Ran:
    return await asyncio.to_thread(coachbot, directory, *args, env=env)


Ran = subprocess.CompletedProcess[str]


async def test_item_08_postgresql_from_a_newer_migration(tmp_path: Path, own_postgres: str) -> None:
    env = {"COACHBOT_DATABASE_URL": own_postgres}
    assert (await coachbot_async(tmp_path, "db", "upgrade", env=env)).returncode == 0
    await postgres_sql(own_postgres, "UPDATE alembic_version SET version_num = '0099'")
    one_line(
        await coachbot_async(tmp_path, "db", "upgrade", env=env),
        "COACHBOT_DATABASE_URL",
        "schema revision '0099'",
    )


async def test_item_08_read_only_postgresql_stops_start_up(
    tmp_path: Path, own_postgres: str
) -> None:
    env = {"COACHBOT_DATABASE_URL": own_postgres}
    assert (await coachbot_async(tmp_path, "db", "upgrade", env=env)).returncode == 0
    name = make_url(own_postgres).database
    await postgres_sql(
        own_postgres, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
    )
    one_line(await coachbot_async(tmp_path, "run", env=env), "COACHBOT_DATABASE_URL", "read-only")


# -- arguments and transcripts -------------------------------------------------------------


def test_item_08_console_as_not_an_email(tmp_path: Path) -> None:
    one_line(
        coachbot(tmp_path, "console", "--as", "notanemail"),
        "--as",
        "'notanemail' is not a valid e-mail address",
    )


@pytest.fixture
def transcript(tmp_path: Path) -> Path:
    path = tmp_path / "t.txt"
    path.write_text("coach@club.org: /help\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("db", "words"),
    [
        ("nonsense", ["must start with sqlite+aiosqlite://"]),
        ("sqlite+aiosqlite:///{tmp}/no/such/folder/x.db", ["does not exist"]),
        ("postgresql+asyncpg://coach@127.0.0.1:99999/club", ["port 99999"]),
    ],
    ids=["nonsense", "no-folder", "port"],
)
def test_item_08_script_db_argument_is_named(
    tmp_path: Path, transcript: Path, db: str, words: list[str]
) -> None:
    line = one_line(
        coachbot(tmp_path, "script", str(transcript), "--db", db.format(tmp=tmp_path)),
        "argument --db",
        *words,
    )
    assert "COACHBOT_DATABASE_URL" not in line


def test_item_08_an_unreachable_db_argument_blames_the_argument(
    tmp_path: Path, transcript: Path, closed_port: int
) -> None:
    db = f"postgresql+asyncpg://coach@127.0.0.1:{closed_port}/club"
    line = one_line(coachbot(tmp_path, "script", str(transcript), "--db", db), "--db", "refused")
    assert "COACHBOT_DATABASE_URL" not in line


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"coach@club.org: /help\ncoach@club.org: /setup-org Caf\xe9\n", ["line 2", "UTF-8"]),
        ("coach@club.org: /setup-org A\u2028B\n".encode(), ["line 1", "U+2028"]),
        (b"# fine\r\ncoach@club.org: /help\rcoach@club.org: /help\n", ["line 2", "carriage"]),
    ],
    ids=["not-utf8", "line-separator", "lone-cr"],
)
def test_item_08_transcript_that_is_not_lines_of_text(
    tmp_path: Path, content: bytes, words: list[str]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    ran = coachbot(tmp_path, "script", str(path))
    one_line(ran, "bad.txt", *words)
    assert ran.stdout == ""  # refused before anything is replayed


def test_item_08_transcript_with_crlf_line_ends_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"# windows\r\ncoach@club.org: /setup-org Crlf\r\n")
    ran = coachbot(tmp_path, "script", str(path), "--json")
    assert ran.returncode == 0, ran.stderr
    assert '"line": 2' in ran.stdout and "Crlf is set up" in ran.stdout


# -- the platforms -------------------------------------------------------------------------


@pytest.fixture
def slack_unreachable(closed_port: int) -> Iterator[dict[str, str]]:
    yield {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_API_URL": f"http://127.0.0.1:{closed_port}/api/",
    }


def test_item_08_slack_socket_mode_with_an_unreachable_api(
    tmp_path: Path, slack_unreachable: dict[str, str], closed_port: int
) -> None:
    env = {**slack_unreachable, "COACHBOT_SLACK_APP_TOKEN": APP_TOKEN}
    one_line(
        coachbot(tmp_path, "run", env=env),
        "cannot reach Slack at COACHBOT_SLACK_API_URL",
        f"127.0.0.1:{closed_port}",
    )


def test_item_08_slack_http_mode_with_an_unreachable_api(
    tmp_path: Path, slack_unreachable: dict[str, str]
) -> None:
    env = {**slack_unreachable, "COACHBOT_SLACK_SIGNING_SECRET": "s", "COACHBOT_HTTP_PORT": "1"}
    one_line(coachbot(tmp_path, "run", env=env), "cannot reach Slack at COACHBOT_SLACK_API_URL")


async def test_item_08_slack_socket_mode_with_a_refused_app_token(tmp_path: Path) -> None:
    double = SlackDouble()
    await double.start()
    try:
        env = {
            "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
            "COACHBOT_SLACK_APP_TOKEN": "xapp-wrong",
            "COACHBOT_SLACK_API_URL": double.api_url,
        }
        one_line(await coachbot_async(tmp_path, "run", env=env), "COACHBOT_SLACK_APP_TOKEN")
    finally:
        await double.stop()


def test_item_08_discord_with_an_unreachable_api(tmp_path: Path, closed_port: int) -> None:
    env = {
        "COACHBOT_DISCORD_TOKEN": DISCORD_TOKEN,
        "COACHBOT_DISCORD_API_URL": f"http://127.0.0.1:{closed_port}/api/v10",
        "COACHBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{closed_port}",
    }
    one_line(
        coachbot(tmp_path, "run", env=env),
        "cannot reach Discord at COACHBOT_DISCORD_API_URL",
        f"127.0.0.1:{closed_port}",
    )


async def test_item_08_discord_with_an_unreachable_gateway(
    tmp_path: Path, closed_port: int
) -> None:
    double = DiscordDouble()
    await double.start()
    try:
        env = {
            "COACHBOT_DISCORD_TOKEN": DISCORD_TOKEN,
            "COACHBOT_DISCORD_API_URL": double.api_url,
            "COACHBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{closed_port}",
        }
        one_line(
            await coachbot_async(tmp_path, "run", env=env),
            "cannot reach the Discord gateway at COACHBOT_DISCORD_GATEWAY_URL",
            f"127.0.0.1:{closed_port}",
        )
    finally:
        await double.stop()


async def test_item_08_discord_with_a_refused_token(tmp_path: Path) -> None:
    """Discord answers a wrong token's login with 401 (the double accepts any token, so a
    server that refuses every request stands in for Discord here)."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    application = web.Application()
    application.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        env = {
            "COACHBOT_DISCORD_TOKEN": "wrong-token",
            "COACHBOT_DISCORD_API_URL": f"http://127.0.0.1:{port}/api/v10",
            "COACHBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}",
        }
        one_line(
            await coachbot_async(tmp_path, "run", env=env), "Discord refused COACHBOT_DISCORD_TOKEN"
        )
    finally:
        await runner.cleanup()
