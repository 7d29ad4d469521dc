"""Issue 14, item 3 on Discord: a graceful stop, with a real `coachbot run` process, on
SQLite and PostgreSQL.

On SIGTERM or SIGINT the process closes its gateway session (no new event reaches it)
and still answers the slash command it is working on, over the REST session it keeps
open until that answer is out; then it exits 0. The double holds the command's
deferral (`hold`) for as long as the test needs the command to be in flight.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.adapters.crash import Log, coachbot_run, outbox_rows, seed_due_dms
from tests.adapters.discord.double import TOKEN, DiscordDouble

WAIT = 60.0  # the safety net of each test: a process starts in seconds, even under load


async def start(db_url: str, double: DiscordDouble, tmp_path: Path) -> asyncio.subprocess.Process:
    settings = {
        "COACHBOT_DISCORD_TOKEN": TOKEN,
        "COACHBOT_DISCORD_API_URL": double.api_url,
        "COACHBOT_DISCORD_GATEWAY_URL": double.gateway_url,
    }
    return await coachbot_run(db_url, settings, tmp_path, logged=True)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_item_03_a_command_in_flight_is_answered_after_the_gateway_closed(
    db_url: str, double: DiscordDouble, tmp_path: Path, stop: signal.Signals
) -> None:
    ann = double.add_user("ann")
    deferral = double.hold("POST", r"/interactions/\d+/[^/]+/callback")
    process = await start(db_url, double, tmp_path)
    log = Log(process)
    try:
        async with asyncio.timeout(WAIT):
            await log.seen("connected to Discord")
            payload = await double.slash("help", by=ann)
            await double.wait_for(lambda: double.callbacks.get(int(payload["id"])), within=WAIT)
            process.send_signal(stop)
            await log.seen("Discord: taking no new events; 1 in progress")
            assert double.sessions[TOKEN].closed  # the gateway: nothing new comes in
            deferral.set()
            assert await process.wait() == 0
            text = await log.close()
    finally:
        deferral.set()
        if process.returncode is None:
            process.kill()
            await process.wait()
    [answer] = double.answers(payload)
    assert "Commands you can use" in answer["content"] + str(answer.get("embeds"))
    assert "Traceback" not in text


async def test_item_03_a_send_in_flight_is_recorded_and_the_rest_handed_back(
    db_url: str, double: DiscordDouble, tmp_path: Path
) -> None:
    people = [double.add_user(f"k{i}") for i in range(4)]
    await seed_due_dms(db_url, 4, lambda i: ("discord", "", people[i]["id"], "created"))
    sending = double.hold("POST", r"/channels/\d+/messages")
    process = await start(db_url, double, tmp_path)
    log = Log(process)
    try:
        async with asyncio.timeout(WAIT):
            await double.wait_for(lambda: double.created, within=WAIT)  # one DM in flight
            process.send_signal(signal.SIGTERM)
            await log.seen("stopping on SIGTERM")
            sending.set()
            assert await process.wait() == 0
    finally:
        sending.set()
        if process.returncode is None:
            process.kill()
            await process.wait()
    rows = await outbox_rows(db_url)
    sent = [r for r in rows if r.status == "sent"]
    assert len(sent) == len(double.created) and 0 < len(sent) < len(rows)
    assert {(r.status, r.lease_owner, r.attempts) for r in rows if r not in sent} == {
        ("pending", None, 0)
    }
