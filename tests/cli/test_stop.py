"""Issue 14, item 3 on the console: `coachbot run` with no platform configured stops
reading on SIGTERM or SIGINT — while it waits for someone to type — hands back its
outbox leases and exits 0, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.adapters.crash import Log, coachbot_run, outbox_rows

WAIT = 60.0  # the safety net: a process starts in seconds, even under load


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_item_03_the_console_stops_reading_and_exits_0(
    db_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    pipe = asyncio.subprocess.PIPE
    # the console keeps its log to warnings unless at DEBUG (issue 14 item 2): the line
    # saying the signal was taken is an INFO line
    debug = {"COACHBOT_LOG_LEVEL": "DEBUG"}
    process = await coachbot_run(db_url, debug, tmp_path, logged=True, stdin=pipe, stdout=pipe)
    log = Log(process)
    assert process.stdin is not None and process.stdout is not None
    try:
        async with asyncio.timeout(WAIT):
            process.stdin.write(b"/help\n")  # the input stays open: it waits for more
            await process.stdin.drain()
            while b"Commands you can use" not in await process.stdout.readline():
                pass
            process.send_signal(stop)
            assert await process.wait() == 0
            text = await log.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert f"stopping on {stop.name}" in text and "Traceback" not in text
    rows = await outbox_rows(db_url)  # the demo's welcome DMs among them
    assert rows and [r.id for r in rows if r.status == "sending" or r.lease_owner] == []
