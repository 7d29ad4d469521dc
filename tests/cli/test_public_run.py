"""Issue 15 item 2, end to end: the real `coachbot run` process with Discord only (against
the local double) and COACHBOT_PUBLIC_URL set serves the calendar feeds on its public
server, COACHBOT_HTTP_HOST:HTTP_PORT, alone; `/readyz` waits for it; a taken public port
stops start-up with one line naming the setting. Which settings start the server is
`Settings.public_server`."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar

from adapters.console.sender import ConsoleSender
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from bot.config import Settings
from tests.adapters.discord.double import TOKEN, DiscordDouble
from tests.adapters.wiring import free_port
from tests.cli.test_admin_run import environment, until_ready
from tests.cli.test_startup_errors import coachbot, one_line
from tests.conftest import Club


async def a_feed(db_url: str, public_url: str) -> str:
    """A club in the database where ava follows a plan from today; her feed's path."""
    app = await bootstrap(
        db_url, clock=FakeClock(datetime.now(UTC)), sender=ConsoleSender(), public_url=public_url
    )
    try:
        club = Club(app, app.core.clock)  # type: ignore[arg-type]
        await club.ok("hc@lake.run", '/setup-org "Lakeside Striders" tz:Europe/London')
        await club.ok("hc@lake.run", "/add-member ava@lake.run")
        await club.ok("ava@lake.run", "/profile")
        await club.ok("hc@lake.run", '/workout create "Easy 8k" type:run distance:8k')
        await club.ok("hc@lake.run", "/plan create Base weeks:1")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            await club.ok("hc@lake.run", f'/plan set Base week:1 day:{day} workout:"Easy 8k"')
        await club.ok("hc@lake.run", "/assign-plan Base ava@lake.run start:today")
        said = await club.ok("ava@lake.run", "/calendar")
    finally:
        await app.close()
    found = re.search(re.escape(public_url) + r"(/calendar/[\w-]+\.ics)", said.text)
    assert found, said.text
    return found[1]


async def test_discord_only_serves_the_feeds_on_the_public_port(tmp_path: Path) -> None:
    double = DiscordDouble()
    await double.start()
    admin, public = free_port(), free_port()
    path = await a_feed(
        f"sqlite+aiosqlite:///{tmp_path / 'coachbot.db'}", "https://coach.example.org"
    )
    env = environment(
        tmp_path,
        COACHBOT_DISCORD_TOKEN=TOKEN,
        COACHBOT_DISCORD_API_URL=double.api_url,
        COACHBOT_DISCORD_GATEWAY_URL=double.gateway_url,
        COACHBOT_ADMIN_PORT=str(admin),
        COACHBOT_PUBLIC_URL="https://coach.example.org",
        COACHBOT_HTTP_PORT=str(public),
        COACHBOT_LOG_LEVEL="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{public}"
    try:
        async with asyncio.timeout(60):
            await until_ready(f"http://127.0.0.1:{admin}")
        async with aiohttp.ClientSession() as http:
            async with http.get(base + path) as got:
                assert got.status == 200, await got.text()
                assert got.content_type == "text/calendar"
                calendar = Calendar.from_ical(await got.read())
            async with http.get(f"{base}/calendar/{'x' * 43}.ics") as unknown:
                assert (unknown.status, await unknown.text()) == (404, "Not found\n")
            async with http.post(f"{base}/slack/events") as slack:
                assert slack.status in (404, 405)  # no Slack here: only the feeds
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, err = await process.communicate()
        await double.stop()
    assert process.returncode == 0, err
    assert {str(e["SUMMARY"]) for e in calendar.walk("VEVENT")} == {"Easy 8k"}
    log = err.decode()
    assert f"public server: serving {base}" in log
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in log and "/calendar/" not in log  # no access log, no path


def test_a_taken_public_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        closed = free_port()
        ran = coachbot(
            tmp_path,
            "run",
            env={
                "COACHBOT_DISCORD_TOKEN": TOKEN,
                "COACHBOT_DISCORD_API_URL": f"http://127.0.0.1:{closed}/api/v10",
                "COACHBOT_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{closed}",
                "COACHBOT_ADMIN_PORT": "0",
                "COACHBOT_PUBLIC_URL": "https://coach.example.org",
                "COACHBOT_HTTP_PORT": str(port),
            },
        )
    one_line(ran, "COACHBOT_HTTP_HOST:HTTP_PORT", f"127.0.0.1:{port}")


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "serves"),
    [
        ({}, False),  # the console's demo: no port taken
        ({"public_url": "https://coach.example.org"}, True),
        ({"http_port": 3001}, True),
        ({"discord_token": "t"}, False),  # Discord alone, no feeds asked for
        ({"discord_token": "t", "public_url": "https://coach.example.org"}, True),
        ({"slack_bot_token": "x", "slack_signing_secret": "s"}, True),  # Slack's HTTP mode
        ({"slack_bot_token": "x", "slack_app_token": "a"}, False),  # Socket Mode
    ],
)
def test_which_settings_start_the_public_server(values: dict[str, object], serves: bool) -> None:
    assert settings(**values).public_server is serves


def test_the_public_url_is_checked_and_kept_without_a_trailing_slash(tmp_path: Path) -> None:
    assert settings(public_url="https://coach.example.org/").public_url == (
        "https://coach.example.org"
    )
    assert settings(public_url=" ").public_url is None
    for bad in ("coach.example.org", "ftp://coach.example.org", "https://u:p@coach.example.org"):
        with pytest.raises(ValueError, match="public_url"):
            settings(public_url=bad)
    one_line(
        coachbot(tmp_path, "run", env={"COACHBOT_PUBLIC_URL": "coach.example.org"}),
        "COACHBOT_PUBLIC_URL",
    )
