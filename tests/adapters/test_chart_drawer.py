"""The real drawer (issue 15): matplotlib in worker processes. Its PNGs are real images of
the size the layout promises (read back with Pillow), the same chart gives the same bytes
with no tool name or date in them, and drawing never holds up the event loop."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import zlib
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from adapters.chart_render import DPI, ROW_IN, WEEKLY_HEIGHT_IN, WIDTH_IN
from adapters.charts import ChartPool, ChartsBusy, running_charts
from bot.messages import Chart, ChartKind, Series

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def board(n: int) -> Chart:
    names = tuple(f"Athlete {i:02d} Lopez-Garcia" for i in range(n))
    km = tuple(round(120 - i * 2.3, 2) for i in range(n))
    return Chart(
        ChartKind.RANKED,
        "10k-squad leaderboard — distance (measured activities of every type), week of Mon "
        "04 Jan 2027, in km",
        "km",
        names,
        (Series("km", km),),
        marks=tuple(f"{v:.2f}" for v in km),
        summary=f"Bar chart of the board: {n} athletes.",
        name="leaderboard-distance.png",
    )


STACKED = Chart(
    ChartKind.STACKED,
    "Compliance, week of Mon 04 Jan 2027, the whole club",
    "sessions",
    ("cy", "ava", "ben"),
    (Series("done", (0, 1, 3)), Series("skipped", (0, 1, 0)), Series("missed", (3, 1, 0))),
    marks=("0%", "33%", "100%"),
)
WEEKLY = Chart(
    ChartKind.WEEKLY,
    "ava's progress, 8 weeks to Sun 10 Jan 2027: planned vs done distance",
    "mi",
    tuple(f"{d:02d} Nov" for d in range(1, 9)),
    (
        Series("planned", (10, 12, 0, 14, 16, 12, 18, 8)),
        Series("done", (9, 12, 2, 0, 15, 13, 1, 3)),
    ),
    marks=("3/4", "4/4", "—", "0/4", "4/4", "4/4", "1/4", "1/1"),
    caption="n/m above a week: its sessions done of those planned",
)


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk of a PNG."""
    found, at = [], len(SIGNATURE)
    while at < len(png):
        size = int.from_bytes(png[at : at + 4], "big")
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + size]
        crc = int.from_bytes(png[at + 8 + size : at + 12 + size], "big")
        assert zlib.crc32(kind + data) == crc
        found.append((kind, data))
        at += 12 + size
    return found


@pytest.fixture(scope="module")
def pool() -> ChartPool:
    return ChartPool(workers=1, waiting=2)


@pytest.fixture(autouse=True, scope="module")
def _close(pool: ChartPool) -> object:
    yield None
    pool.close()


@pytest.fixture
async def warm(pool: ChartPool) -> AsyncIterator[ChartPool]:
    await pool.warm()
    yield pool


async def test_a_50_athlete_board_is_a_png_of_the_promised_size(warm: ChartPool) -> None:
    image = await warm.draw(board(50))
    assert image.data.startswith(SIGNATURE)
    assert image.mime == "image/png" and image.name == "leaderboard-distance.png"
    assert image.alt == "Bar chart of the board: 50 athletes."
    with Image.open(io.BytesIO(image.data)) as png:
        png.load()
        width, height = png.size
    assert width == round(WIDTH_IN * DPI)
    # the figure grows with the rows: 50 rows of ROW_IN, plus title and axis
    assert 50 * ROW_IN * DPI < height < (50 * ROW_IN + 2) * DPI


async def test_the_same_chart_is_the_same_bytes_with_no_tool_or_date(warm: ChartPool) -> None:
    first, second = await warm.draw(board(12)), await warm.draw(board(12))
    assert first.data == second.data
    kinds = [kind for kind, _ in chunks(first.data)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(kinds), kinds
    assert b"atplotlib" not in first.data
    assert (await warm.draw(board(13))).data != first.data


async def test_every_kind_draws(warm: ChartPool) -> None:
    for chart, height in ((STACKED, None), (WEEKLY, WEEKLY_HEIGHT_IN)):
        image = await warm.draw(chart)
        with Image.open(io.BytesIO(image.data)) as png:
            png.load()
            assert png.size[0] == round(WIDTH_IN * DPI)
            if height is not None:
                assert png.size[1] == round(height * DPI)
        assert image.alt == chart.title  # no summary given: the title stands in


async def test_an_empty_board_still_draws(warm: ChartPool) -> None:
    nothing = Chart(ChartKind.RANKED, "empty", "km", ("ava",), (Series("km", (0.0,)),))
    assert (await warm.draw(nothing)).data.startswith(SIGNATURE)


async def test_drawing_never_holds_up_the_event_loop(warm: ChartPool) -> None:
    """The loop keeps turning while a chart is drawn: it is drawn in another process."""
    drawing = asyncio.ensure_future(warm.draw(board(50)))
    turns = 0
    while not drawing.done():
        await asyncio.sleep(0)
        turns += 1
    assert drawing.result().data.startswith(SIGNATURE)
    assert turns > 20, turns
    assert warm._executor is not None
    pids = {p.pid for p in warm._executor._processes.values()}  # type: ignore[union-attr]
    assert pids and os.getpid() not in pids


async def test_beyond_the_waiting_room_a_chart_is_refused_not_queued(pool: ChartPool) -> None:
    busy = ChartPool(workers=1, waiting=1)
    try:
        first = asyncio.ensure_future(busy.draw(STACKED))
        second = asyncio.ensure_future(busy.draw(STACKED))
        await asyncio.sleep(0)
        with pytest.raises(ChartsBusy):
            await busy.draw(STACKED)
        assert (await first).data == (await second).data
    finally:
        busy.close()


async def test_coachbot_run_starts_the_workers_beside_start_up_and_stops_them() -> None:
    """`running_charts` (what `coachbot run` wraps its serving in): nothing is awaited on
    the way in, so start-up is not held up; once the warming is done a worker is alive
    before any member asks, and the first chart is drawn by it — no worker start paid;
    on the way out the workers are gone."""
    pool = ChartPool(workers=1, waiting=1)
    try:
        async with running_charts(pool) as warming:
            assert warming is not None and not warming.done()  # start-up went on at once
            assert pool.worker_pids()  # the worker is starting, in the background
            async with asyncio.timeout(60):  # a safety net: the warm-up takes 1-3 s
                await warming
            warm = pool.worker_pids()
            assert len(warm) == 1 and os.getpid() not in warm
            assert pool._executor is not None
            processes = list(pool._executor._processes.values())  # type: ignore[union-attr]
            first = await pool.draw(board(3))
            assert first.data.startswith(SIGNATURE)
            assert pool.worker_pids() == warm  # drawn by the worker started at start-up
        assert pool.worker_pids() == set() and pool._executor is None
        assert processes and not any(p.is_alive() for p in processes)
    finally:
        pool.close()


async def test_running_charts_leaves_a_fake_drawer_alone() -> None:
    async with running_charts(object()) as warming:
        assert warming is None


async def test_a_stop_while_warming_ends_the_workers_at_once() -> None:
    """A start-up that fails (a taken port) or a stop within seconds does not wait the
    1-3 s a worker takes to import matplotlib: it is ended."""
    pool = ChartPool(workers=1, waiting=1)
    try:
        async with running_charts(pool) as warming:
            assert warming is not None
            assert pool.worker_pids()  # started on the way in
            assert not warming.done()  # it cannot be: the loop has not turned since
            assert pool._executor is not None
            processes = list(pool._executor._processes.values())  # type: ignore[union-attr]
        assert warming.cancelled() and pool._executor is None
        assert processes and not any(p.is_alive() for p in processes)
        assert processes[0].exitcode is not None and processes[0].exitcode < 0  # terminated
    finally:
        pool.close()


class WorkersThatDie(ChartPool):
    """A pool whose workers die as they start (as if killed by the out-of-memory killer)."""

    def start(self) -> asyncio.Future[list[bytes]]:
        executor = self._pool()
        return asyncio.gather(asyncio.wrap_future(executor.submit(os._exit, 9)))


async def test_a_warm_up_that_fails_leaves_a_fresh_pool_for_the_first_chart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = WorkersThatDie(workers=1, waiting=1)
    try:
        with caplog.at_level(logging.WARNING, logger="coachbot.charts"):
            async with running_charts(pool) as warming:
                assert warming is not None
                async with asyncio.timeout(60):  # a safety net
                    await warming
                assert pool._executor is None  # the broken pool is gone
                image = await pool.draw(STACKED)  # so the first chart is drawn, not lost
                assert image.data.startswith(SIGNATURE)
        assert any("did not start" in r.getMessage() for r in caplog.records)
    finally:
        pool.close()
