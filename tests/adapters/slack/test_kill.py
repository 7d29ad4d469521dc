"""Issue 11, item 2: exactly once survives `kill -9`, on SQLite and PostgreSQL.

A real `coachbot run` process sends a due batch of DMs to the Slack double over real
HTTP; it is killed with SIGKILL mid-send and started again. Every athlete gets the
DM, and no more repeat than the documented window (docs/DESIGN.md "The window left"):
on Slack, which has no idempotency key, the one message the platform accepted and the
dead process had not yet marked sent. The restarted process takes back the dead one's
leased rows at once (no two-minute wait: the test's own time limit is far shorter).

30 people (it was 300 before the sender paced conversations.open): each first DM opens
its conversation, which Slack allows about 50 times a minute (Tier 3), and the window
is one message whatever the batch, so a longer batch would only be slower.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections import Counter
from pathlib import Path

from tests.adapters.crash import coachbot_run, outbox_rows, seed_due_dms
from tests.adapters.slack.double import BOT_TOKEN, SIGNING_SECRET, TEAM, SlackDouble

PEOPLE = 30
WINDOW = 1  # documented in docs/DESIGN.md: the message accepted but not yet marked sent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(db_url: str, double: SlackDouble) -> None:
    def link(i: int) -> tuple[str, str, str, str]:
        double.add_user(f"U{i}", f"k{i}@club.run", f"k{i}")
        return "slack", TEAM, f"U{i}", "slack_email"

    await seed_due_dms(db_url, PEOPLE, link)


async def start(db_url: str, double: SlackDouble, tmp_path: Path) -> asyncio.subprocess.Process:
    settings = {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COACHBOT_SLACK_API_URL": double.api_url,
        "COACHBOT_HTTP_HOST": "127.0.0.1",
        "COACHBOT_HTTP_PORT": str(free_port()),
    }
    return await coachbot_run(db_url, settings, tmp_path)


def delivered(double: SlackDouble) -> Counter[str]:
    return Counter(str(post["channel"]) for post in double.posts())


async def test_item_02_kill_9_mid_send_repeats_at_most_the_window(
    db_url: str, double: SlackDouble, tmp_path: Path
) -> None:
    await seed(db_url, double)
    first = await start(db_url, double, tmp_path)
    try:
        async with asyncio.timeout(60):
            await double.wait_for(lambda: len(double.posts()) >= PEOPLE // 3)
        first.send_signal(signal.SIGKILL)  # mid-send: nothing gets to clean up
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    before = sum(delivered(double).values())
    assert before < PEOPLE, "the batch was sent before the kill: nothing was tested"

    second = await start(db_url, double, tmp_path)
    try:
        # well inside the two-minute lease: the dead process's rows come back at once
        async with asyncio.timeout(60):
            await double.wait_for(lambda: len(delivered(double)) >= PEOPLE)
            second.send_signal(signal.SIGTERM)  # and a graceful stop after it (issue 14)
            assert await second.wait() == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
    # nothing left leased or unsent
    assert {(r.status, r.lease_owner) for r in await outbox_rows(db_url)} == {("sent", None)}

    counts = delivered(double)
    assert len(counts) == PEOPLE  # everyone got it
    repeated = sum(n - 1 for n in counts.values())
    assert repeated <= WINDOW, f"{repeated} repeated after kill -9: {counts.most_common(3)}"
