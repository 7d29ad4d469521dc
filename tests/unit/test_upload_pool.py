"""Issue 11 item 7: uploads are parsed in worker processes, a bounded number at once, in a
bounded memory budget — never on the bot's event loop.

Real worker processes throughout; the large and hostile files are generated here. How
much an upload slows other members' commands is measured in `bench/upload.py`, not here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from collections.abc import Iterator

import pytest

import bot.commands.activities
import bot.importers
import bot.importers.pool
from adapters.console.transcript import console_caller
from bot.importers import MAX_FILE_BYTES, ImportRefused, ParsedActivity
from bot.importers.pool import BUSY, READER_STOPPED, TOO_COMPLEX, ParsePool
from storage.models import Activity
from tests.conftest import Club
from tests.unit.test_training import AVA, activities_of, count, seed_lake

UTC = dt.UTC
START = dt.datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
NOW = dt.datetime(2024, 6, 1, tzinfo=UTC)


def gpx_track(points: int, start: dt.datetime = START) -> bytes:
    """A 1 Hz run of `points` points (about 100 bytes each), about 2 m a second."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        "<trk><type>running</type><trkseg>\n"
    ]
    for i in range(points):
        when = (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(
            f'<trkpt lat="{46.0 + i * 0.000018:.7f}" lon="14.0000000">'
            f"<ele>500.0</ele><time>{when}</time></trkpt>\n"
        )
    lines.append("</trkseg></trk></gpx>\n")
    return "".join(lines).encode()


SMALL = gpx_track(61)  # one minute


@pytest.fixture
def pool() -> Iterator[ParsePool]:
    made = ParsePool(workers=1, waiting=1)
    yield made
    made.close()


async def test_item_07_uploads_are_parsed_in_another_process(
    club: Club, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old code parsed in a thread of the bot's own process, holding the GIL for
    seconds; now the parser never runs in the bot's process at all."""
    ran_here: list[str] = []

    def not_here(filename: str, data: bytes, **_: object) -> ParsedActivity:
        ran_here.append(filename)
        raise AssertionError("parsed in the bot's own process")

    for module in (bot.importers, bot.importers.pool, bot.commands.activities):
        monkeypatch.setattr(module, "parse_activity_file", not_here, raising=False)
    lake = await seed_lake(club)
    said = await club.core.handle_file(console_caller(AVA), "run.gpx", SMALL)
    assert said[0].ok and said[0].text.startswith("Logged #"), said[0].text
    assert ran_here == []
    [logged] = await activities_of(club, lake, AVA)
    assert (logged.source, logged.duration_s) == ("gpx", 60.0)


async def test_item_07_parses_at_once_are_bounded_and_the_rest_refused(pool: ParsePool) -> None:
    """One parsing and one waiting: a third upload at that moment is told the bot is busy
    (before any work); the two admitted both finish, in order."""
    files = [gpx_track(61 + n, START + dt.timedelta(days=n)) for n in range(3)]
    results = await asyncio.gather(
        *(pool.parse(f"run{n}.gpx", data, NOW) for n, data in enumerate(files)),
        return_exceptions=True,
    )
    first, second, third = results
    assert isinstance(first, ParsedActivity) and first.duration_s == 60.0
    assert isinstance(second, ParsedActivity) and second.duration_s == 61.0
    assert isinstance(third, ImportRefused) and third.message == BUSY
    # once they are done, the pool takes uploads again
    assert (await pool.parse("again.gpx", files[2], NOW)).duration_s == 62.0


async def test_item_07_busy_upload_is_one_line_and_logs_nothing(club: Club) -> None:
    lake = await seed_lake(club)
    club.core.parse_pool = ParsePool(workers=1, waiting=0)
    try:
        files = [gpx_track(61, START + dt.timedelta(days=n)) for n in range(2)]
        answers = await asyncio.gather(
            *(
                club.core.handle_file(console_caller(AVA), f"run{n}.gpx", data)
                for n, data in enumerate(files)
            )
        )
    finally:
        club.core.parse_pool.close()
    [[logged], [busy]] = answers
    assert logged.ok and logged.text.startswith("Logged #")
    assert not busy.ok and busy.text == BUSY
    assert len(await activities_of(club, lake, AVA)) == 1


async def test_item_07_file_needing_more_than_the_memory_budget_is_refused() -> None:
    """About 2 million empty elements (8 MB) need well over 128 MiB as a tree: the
    worker's own limit stops it, the athlete reads one line, and the worker goes on."""
    hostile = b"<gpx>" + b"<a/>" * 2_000_000 + b"</gpx>"
    small = ParsePool(workers=1, waiting=0, memory_bytes=128 * 1024 * 1024)
    try:
        with pytest.raises(ImportRefused) as info:
            await small.parse("big.gpx", hostile, NOW)
        assert info.value.message == TOO_COMPLEX
        assert (await small.parse("run.gpx", SMALL, NOW)).duration_s == 60.0
    finally:
        small.close()


async def test_item_07_largest_allowed_gpx_fits_the_default_budget() -> None:
    """A generated 24 MB GPX (the issue's case) parses within the default limits."""
    data = gpx_track(260_000)
    assert 24 * 1024 * 1024 < len(data) <= MAX_FILE_BYTES
    default = ParsePool()
    try:
        parsed = await default.parse("long.gpx", data, NOW)
    finally:
        default.close()
    assert parsed.duration_s == 259_999.0 and parsed.start == START


async def test_item_07_killed_worker_refuses_that_upload_and_the_next_one_works(
    pool: ParsePool,
) -> None:
    assert (await pool.parse("warm.gpx", SMALL, NOW)).duration_s == 60.0
    executor = pool._executor
    assert executor is not None
    pids = list(executor._processes)  # the real worker processes
    task = asyncio.ensure_future(pool.parse("slow.gpx", gpx_track(100_000), NOW))
    await asyncio.sleep(0)  # submitted
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(ImportRefused) as info:
        await task
    assert info.value.message == READER_STOPPED
    assert (await pool.parse("again.gpx", SMALL, NOW)).duration_s == 60.0


async def test_oversized_upload_is_refused_before_reaching_a_worker(club: Club) -> None:
    await seed_lake(club)
    data = b" " * (MAX_FILE_BYTES + 1)
    [said] = await club.core.handle_file(console_caller(AVA), "huge.gpx", data)
    assert not said.ok and "larger than 25 MB" in said.text
    assert await count(club, Activity) == 0
