"""Issue 11, item 2 on Discord: exactly once survives `kill -9`, on SQLite and PostgreSQL.

A real `coachbot run` process serving Discord sends a due batch of DMs to the Discord
double over real HTTP and its gateway. The double kills it with SIGKILL from inside its
Create Message handler, right after creating a message and before answering: the one
message Discord accepted and the dead process never marked sent — the whole window
(docs/DESIGN.md "The window left"), forced every run rather than hoped for. Started
again, the process takes back the dead one's leases at once and re-sends that message
with the same nonce, enforced; the double answers it with the message it already created
(as Discord does within its nonce window), so everyone has exactly one DM.

60 people, not Slack's 300: Discord DMs are paced at 10 a second (`DM_PER_SECOND`), and
the window is one message whatever the batch, so a longer batch would only be slower.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

from tests.adapters.crash import coachbot_run, outbox_rows, seed_due_dms
from tests.adapters.discord.double import TOKEN, DiscordDouble

PEOPLE = 60
KILL_AT = PEOPLE // 3  # the created message the first process dies on


async def seed(db_url: str, double: DiscordDouble) -> dict[int, int]:
    """PEOPLE athletes linked to Discord users, each with a DM due now; the DM channel
    of each one's Discord user, by the outbox row (whose id is the nonce)."""
    people = [double.add_user(f"k{i}") for i in range(PEOPLE)]
    rows = await seed_due_dms(db_url, PEOPLE, lambda i: ("discord", "", people[i]["id"], "created"))
    return {row: double.dm_channel(int(p["id"])) for row, p in zip(rows, people, strict=True)}


async def start(db_url: str, double: DiscordDouble, tmp_path: Path) -> asyncio.subprocess.Process:
    settings = {
        "COACHBOT_DISCORD_TOKEN": TOKEN,
        "COACHBOT_DISCORD_API_URL": double.api_url,
        "COACHBOT_DISCORD_GATEWAY_URL": double.gateway_url,
    }
    return await coachbot_run(db_url, settings, tmp_path)


def created_per_channel(double: DiscordDouble) -> Counter[int]:
    return Counter(int(message["channel_id"]) for message in double.created)


async def test_item_02_kill_9_mid_send_repeats_nothing_on_discord(
    db_url: str, double: DiscordDouble, tmp_path: Path
) -> None:
    channels = await seed(db_url, double)
    first = await start(db_url, double, tmp_path)
    killed: list[dict[str, Any]] = []

    async def kill_mid_send(message: dict[str, Any]) -> None:
        if len(double.created) == KILL_AT:
            double.after_create = None
            killed.append(message)
            first.send_signal(signal.SIGKILL)  # nothing gets to clean up, or read our answer
            await first.wait()

    double.after_create = kill_mid_send
    try:
        async with asyncio.timeout(60):
            await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert first.returncode == -signal.SIGKILL
    [last] = killed  # accepted by "Discord", never answered: the process could not mark it
    assert last["nonce"] is not None and len(double.created) == KILL_AT

    second = await start(db_url, double, tmp_path)
    try:
        # well inside the two-minute lease: the dead process's rows come back at once
        await double.wait_for(lambda: len(created_per_channel(double)) >= PEOPLE, within=60)
        async with asyncio.timeout(60):
            second.send_signal(signal.SIGTERM)  # and a graceful stop after it (issue 14)
            assert await second.wait() == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    # nothing left leased or unsent
    assert {(r.status, r.lease_owner) for r in await outbox_rows(db_url)} == {("sent", None)}

    counts = created_per_channel(double)
    assert set(counts) == set(channels.values())  # everyone got it
    assert [n for n in counts.values() if n > 1] == []  # and no one twice
    # the restarted process did re-send the killed message, and the nonce caught it
    assert (int(last["channel_id"]), last["nonce"]) in double.nonce_repeats
    # each re-send carried its own row's id: no two rows share a nonce
    assert {int(m["nonce"]): int(m["channel_id"]) for m in double.created} == channels
