"""Issue 14, end to end: the real `coachbot run` process serves `/healthz`, `/readyz` and
`/metrics` on COACHBOT_ADMIN_HOST:ADMIN_PORT when only Discord runs (against the local
double), logs JSON when asked, stops cleanly on SIGTERM; a taken admin port stops
start-up with one line naming the setting; and the console stays quiet.

Waits are safety nets only (`asyncio.timeout`): each test asserts what happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.adapters.discord.double import TOKEN, DiscordDouble
from tests.adapters.wiring import free_port
from tests.cli.test_startup_errors import ROOT, coachbot, one_line


def environment(directory: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACHBOT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COACHBOT_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 'coachbot.db'}",
        **settings,
    )
    return env


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def until_ready(url: str) -> None:
    """Poll /readyz until it answers 200 (a refused connection: not listening yet)."""
    while True:
        try:
            if (await get(f"{url}/readyz"))[0] == 200:
                return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)


async def lines_until(process: asyncio.subprocess.Process, words: str) -> list[str]:
    """The process's stderr lines up to and including the first that has `words`."""
    assert process.stderr is not None
    read: list[str] = []
    while not read or words not in read[-1]:
        line = await process.stderr.readline()
        assert line, f"stderr ended before {words!r}: {read}"
        read.append(line.decode().rstrip("\n"))
    return read


async def test_coachbot_run_with_discord_only_serves_the_admin_endpoints(tmp_path: Path) -> None:
    double = DiscordDouble()
    await double.start()
    port = free_port()
    env = environment(
        tmp_path,
        COACHBOT_DISCORD_TOKEN=TOKEN,
        COACHBOT_DISCORD_API_URL=double.api_url,
        COACHBOT_DISCORD_GATEWAY_URL=double.gateway_url,
        COACHBOT_ADMIN_PORT=str(port),
        COACHBOT_LOG_FORMAT="json",
        COACHBOT_LOG_LEVEL="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with asyncio.timeout(60):
            await until_ready(url)
        assert await get(f"{url}/healthz") == (200, "ok\n")
        status, text = await get(f"{url}/metrics")
        assert status == 200
        names = {family.name for family in text_string_to_metric_families(text)}
        assert {
            "coachbot_commands",
            "coachbot_sends",
            "coachbot_outbox_depth",
            "coachbot_outbox_oldest_due_age_seconds",
            "coachbot_rate_limit_waits",
            "coachbot_scheduler_lag_seconds",
        } <= names
        # the admin port serves its own three paths, nothing of Slack's
        assert (await get(f"{url}/slack/events"))[0] == 404
        # the chart worker was started in the background at start-up (issue 15): its
        # line comes, ready or not yet when /readyz said ready, before any chart is asked
        async with asyncio.timeout(60):
            early = await lines_until(process, "worker(s) ready")
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, err = await process.communicate()
        await double.stop()
    assert process.returncode == 0, err
    lines = early + err.decode().splitlines()
    records = [json.loads(line) for line in lines]  # COACHBOT_LOG_FORMAT=json: every line
    said = [r["message"] for r in records]
    assert any(m.startswith(f"admin: serving {url}/healthz") for m in said), said
    assert any("connected to Discord" in m for m in said), said
    assert any(m.startswith("charts: ") and "worker(s) ready" in m for m in said), said
    assert TOKEN not in err.decode()
    assert not any(r["logger"].startswith("apscheduler") for r in records)


def test_a_taken_admin_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
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
                "COACHBOT_ADMIN_PORT": str(port),
            },
        )
    one_line(ran, "COACHBOT_ADMIN_HOST:ADMIN_PORT", f"127.0.0.1:{port}")


def test_a_malformed_admin_port_or_log_format_is_named(tmp_path: Path) -> None:
    one_line(coachbot(tmp_path, "run", env={"COACHBOT_ADMIN_PORT": "70000"}), "ADMIN_PORT")
    one_line(coachbot(tmp_path, "run", env={"COACHBOT_LOG_FORMAT": "xml"}), "LOG_FORMAT")


def test_the_console_stays_quiet_between_replies(tmp_path: Path) -> None:
    """`coachbot run` with no tokens at the default level (INFO): replies on stdout and
    not one log line — no command lines, no scheduler ticks — on stderr."""
    ran = coachbot(tmp_path, "run", env={"COACHBOT_LOG_LEVEL": "INFO"}, stdin="/help\n/members\n")
    assert ran.returncode == 0, ran.stderr
    assert "Commands you can use:" in ran.stdout
    assert ran.stderr == ""
