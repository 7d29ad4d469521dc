"""Issue 14, item 3: a graceful stop on Slack, with real `coachbot run` processes, on
SQLite and PostgreSQL.

On SIGTERM or SIGINT the process takes no new request (its HTTP listener is closed),
answers the command it is working on, hands back the outbox rows it leased, and exits
0; a second process sends those rows, each exactly once. The double holds a Web API
method (`gate`) for as long as the test needs the work to be in flight: no test waits
on the clock, and `asyncio.timeout` is only a safety net.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from adapters.slack.manifest import PATH
from bot.bootstrap import bootstrap
from bot.cli import platform_senders
from bot.clock import FakeClock
from bot.ports import FrontEnd
from bot.shutdown import stop_gracefully
from tests.adapters.crash import Log, coachbot_run, outbox_rows, seed_due_dms
from tests.adapters.slack.conftest import settings_for
from tests.adapters.slack.double import (
    APP_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    SlackDouble,
    form,
    signed_headers,
)
from tests.adapters.slack.test_front_end import envelope
from tests.adapters.wiring import free_port, serving
from tests.schedule.test_dispatch import Naps

WAIT = 60.0  # the safety net of each test: a process starts in seconds, even under load


@asynccontextmanager
async def started(
    db_url: str, double: SlackDouble, tmp_path: Path, *, socket: bool = False
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Log, str]]:
    """`coachbot run` serving Slack over HTTP (or in Socket Mode), once it listens; its
    events URL. Killed at the end if a test left it running."""
    port = free_port()
    settings = {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COACHBOT_SLACK_API_URL": double.api_url,
        "COACHBOT_HTTP_HOST": "127.0.0.1",
        "COACHBOT_HTTP_PORT": str(port),
    }
    if socket:
        settings["COACHBOT_SLACK_APP_TOKEN"] = APP_TOKEN
    process = await coachbot_run(db_url, settings, tmp_path, logged=True)
    log = Log(process)
    try:
        async with asyncio.timeout(WAIT):
            await log.seen("Slack: connected in Socket Mode" if socket else "Slack: serving")
        yield process, log, f"http://127.0.0.1:{port}{PATH}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def slash(url: str, double: SlackDouble, user: str, line: str, key: str) -> int:
    """A signed slash command from `user`, answered at the double's response URL `key`."""
    command, _, text = line.partition(" ")
    body = form(
        {
            "team_id": TEAM,
            "channel_id": f"D{user}",
            "channel_name": "directmessage",
            "user_id": user,
            "command": command,
            "text": text,
            "response_url": double.response_url(key),
            "trigger_id": f"trigger.{key}",
        }
    )
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_item_03_a_command_in_flight_is_answered_and_no_new_one_taken(
    db_url: str, double: SlackDouble, tmp_path: Path, stop: signal.Signals
) -> None:
    double.add_user("UANN", "ann@club.run", "ann")
    gate = double.gate("users.info")  # who is asking: held while the test acts
    async with started(db_url, double, tmp_path) as (process, log, url):
        async with asyncio.timeout(WAIT):
            assert await slash(url, double, "UANN", "/help", "first") == 200  # acknowledged
            await double.wait_for(lambda: double.calls_to("users.info"))  # the work goes on
            process.send_signal(stop)
            await log.seen("Slack: taking no new requests; 1 in progress")
            with pytest.raises(aiohttp.ClientConnectionError):  # the listener is closed
                await slash(url, double, "UANN", "/help", "second")
            gate.set()
            assert await process.wait() == 0
            text = await log.close()
    [answer] = double.responses("first")
    assert "Commands you can use" in answer["text"]
    assert double.responses("second") == []
    assert "Traceback" not in text


async def test_item_03_socket_mode_closes_its_socket_and_answers_the_command_in_flight(
    db_url: str, double: SlackDouble, tmp_path: Path
) -> None:
    double.add_user("UANN", "ann@club.run", "ann")
    gate = double.gate("users.info")
    async with started(db_url, double, tmp_path, socket=True) as (process, log, _):
        async with asyncio.timeout(WAIT):
            command = envelope(1, "UANN", "/help")
            command["payload"]["response_url"] = double.response_url("s1")  # type: ignore[index]
            await double.socket_send(command)
            await double.wait_for(lambda: double.calls_to("users.info"))  # acked, working
            process.send_signal(signal.SIGTERM)
            await log.seen("Slack: taking no new requests; 1 in progress")
            assert double.open_sockets == 0  # nothing new can come in
            gate.set()
            assert await process.wait() == 0
    [answer] = double.responses("s1")
    assert "Commands you can use" in answer["text"]


def dm_link(double: SlackDouble) -> object:
    def link(i: int) -> tuple[str, str, str, str]:
        double.add_user(f"U{i}", f"k{i}@club.run", f"k{i}")
        return "slack", TEAM, f"U{i}", "slack_email"

    return link


def delivered(double: SlackDouble) -> Counter[str]:
    return Counter(str(post["channel"]) for post in double.posts())


async def test_item_03_leases_are_handed_back_and_the_next_process_sends_them_once(
    db_url: str, double: SlackDouble, tmp_path: Path
) -> None:
    people = 6
    await seed_due_dms(db_url, people, dm_link(double))  # type: ignore[arg-type]
    gate = double.gate("chat.postMessage")
    async with started(db_url, double, tmp_path) as (first, log, _):
        async with asyncio.timeout(WAIT):
            await double.wait_for(lambda: double.calls_to("chat.postMessage"))  # one in flight
            first.send_signal(signal.SIGTERM)
            await log.seen("stopping on SIGTERM")
            gate.set()
            assert await first.wait() == 0
    rows = await outbox_rows(db_url)
    # nothing leased once it is gone: the message in flight was sent, the rest handed back
    assert [(r.status, r.lease_owner, r.lease_until) for r in rows if r.status != "sent"] == [
        ("pending", None, None)
    ] * (people - len(double.posts()))
    assert 0 < len(double.posts()) < people, "the stop did not come mid-batch"
    assert all(r.attempts == 0 for r in rows if r.status == "pending")  # attempt given back
    async with started(db_url, double, tmp_path) as (second, _, _):
        async with asyncio.timeout(WAIT):
            await double.wait_for(lambda: len(delivered(double)) >= people)
            second.send_signal(signal.SIGTERM)
            assert await second.wait() == 0
    assert delivered(double) == Counter({f"DU{i}": 1 for i in range(people)})
    assert {r.status for r in await outbox_rows(db_url)} == {"sent"}


async def test_item_03_a_second_signal_exits_at_once(
    db_url: str, double: SlackDouble, tmp_path: Path
) -> None:
    double.add_user("UANN", "ann@club.run", "ann")
    gate = double.gate("users.info")  # never opened: the first stop could only wait
    async with started(db_url, double, tmp_path) as (process, log, url):
        async with asyncio.timeout(WAIT):
            assert await slash(url, double, "UANN", "/help", "held") == 200
            await double.wait_for(lambda: double.calls_to("users.info"))
            process.send_signal(signal.SIGTERM)
            await log.seen("Slack: taking no new requests; 1 in progress")
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 128 + signal.SIGTERM
            assert "SIGTERM again: exiting at once" in await log.close()
    gate.set()


async def test_item_03_past_the_deadline_the_send_in_flight_is_cut_and_its_rows_handed_back(
    db_url: str, double: SlackDouble, clock: FakeClock
) -> None:
    """`coachbot run`'s own wiring in this process: a send that never finishes is cut
    after the grace period and every row it leased goes back, its attempt given back."""
    people = 3
    await seed_due_dms(db_url, people, dm_link(double), now=clock.now())  # type: ignore[arg-type]
    gate = double.gate("chat.postMessage")  # never answered while the process stops
    settings = settings_for(double, db_url, http_port=free_port())
    fronts: list[FrontEnd] = []
    app = await bootstrap(
        db_url, clock=clock, migrate=False, senders=platform_senders(settings, fronts)
    )
    try:
        async with serving(fronts, within=WAIT):
            app.scheduling.dispatcher.sleep = Naps(clock)
            clock.advance(timedelta(seconds=1))
            await app.scheduling.start()
            async with asyncio.timeout(WAIT):
                await double.wait_for(lambda: double.calls_to("chat.postMessage"))
                assert not await stop_gracefully(app, fronts, grace=0.1)
            rows = await outbox_rows(db_url)
            assert [(r.status, r.lease_owner, r.attempts) for r in rows] == [
                ("pending", None, 0)
            ] * people
    finally:
        gate.set()
        await app.close()
