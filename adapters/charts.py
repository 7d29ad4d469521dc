"""The `Drawer` port: charts drawn as PNG by matplotlib (Agg, no display) in worker
processes, never on the event loop (issue 15).

- **Processes, not threads**: drawing is CPU-bound pure Python for most of its time, and a
  thread would hold the GIL against every other member's command (the same reason as
  `bot.importers.pool`). The pool is small (`CHART_WORKERS`: one on a machine of two
  cores or fewer, two above), started on the first chart, and each worker is warmed as
  it starts: matplotlib imported, its fonts loaded, and one figure drawn, which it then
  reuses for every chart (`adapters.chart_render`).
- **Bounded**: at most `CHART_WAITING` charts wait behind the running ones; beyond that
  `draw` raises `ChartsBusy` and the message goes as text alone (`bot.charting`), as it
  does when a worker dies (the next chart starts fresh workers).
- **Deterministic bytes**: the same chart gives the same PNG, with no tool name or date in
  its metadata (`adapters.chart_render.png_of`).

The main process never imports matplotlib: the job submitted to a worker is a function of
this module that imports the renderer inside the worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import time
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from functools import partial

from bot.importers.pool import exit_with_parent
from bot.messages import Attachment, Chart, ChartKind, Series

log = logging.getLogger("coachbot.charts")

CHART_WORKERS = 1 if (os.cpu_count() or 1) <= 2 else 2
CHART_WAITING = 8
PNG = "image/png"


class ChartsBusy(RuntimeError):
    """Too many charts are waiting: this one is not drawn (its text goes alone)."""


def _start_chart_worker(parent: int) -> None:
    """Runs once in each worker: import, load the fonts and draw once, so the first chart
    a member asks for costs what every later one does."""
    from adapters.chart_render import warm

    exit_with_parent(parent)  # a parent that exits at once (a second signal) takes it along
    warm()


def _draw_in_worker(chart: Chart) -> bytes:
    from adapters.chart_render import png_of

    return png_of(chart)


WARM_UP = Chart(ChartKind.RANKED, "warm-up", "km", ("a", "b"), (Series("km", (2.0, 1.0)),))


class ChartPool:
    """Draws charts in worker processes (see the module's notes); a `bot.ports.Drawer`."""

    def __init__(self, workers: int = CHART_WORKERS, waiting: int = CHART_WAITING) -> None:
        self.workers, self.waiting = workers, waiting
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._admitted = 0  # drawing now or waiting for a worker

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            # spawn: forking a process that runs an event loop and threads is unsafe
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_chart_worker,
                initargs=(os.getpid(),),
            )
        return self._executor

    async def draw(self, chart: Chart) -> Attachment:
        if self._admitted >= self.workers + self.waiting:
            raise ChartsBusy(f"{self._admitted} charts are being drawn or waiting")
        self._admitted += 1
        try:
            executor = self._pool()
            try:
                data = await asyncio.wrap_future(executor.submit(_draw_in_worker, chart))
            except BrokenProcessPool:
                if self._executor is executor:
                    self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
                raise
        finally:
            self._admitted -= 1
        return Attachment(chart.name, data, PNG, chart.summary or chart.title)

    def start(self) -> asyncio.Future[list[bytes]]:
        """Start every worker now, without waiting for them: the processes exist when
        this returns, and the future is done once each has warmed and drawn once."""
        executor = self._pool()
        return asyncio.gather(
            *(
                asyncio.wrap_future(executor.submit(_draw_in_worker, WARM_UP))
                for _ in range(self.workers)
            )
        )

    async def warm(self) -> None:
        """Start every worker and wait until each has drawn once (benchmarks, start-up)."""
        await asyncio.gather(*(self.draw(WARM_UP) for _ in range(self.workers)))

    def close(self, *, kill: bool = False) -> None:
        """Stop the workers (the next chart starts them again); `kill`: at once, rather
        than after what they are doing (a start-up that failed while they warmed)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if kill:
            for process in list((getattr(executor, "_processes", None) or {}).values()):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)

    def worker_pids(self) -> set[int]:
        """The worker processes alive now (none before the first chart or after close)."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return {p.pid for p in list(processes.values()) if p.is_alive() and p.pid is not None}


@asynccontextmanager
async def running_charts(drawer: object) -> AsyncIterator[asyncio.Task[None] | None]:
    """`coachbot run`'s chart workers: started in the background as it starts — so the
    first chart a member asks for does not wait 1-3 s for a worker to import matplotlib —
    without holding up start-up (nothing here is awaited on the way in), and stopped on
    the way out. Yields the warming task (None when `drawer` is not a `ChartPool`: a
    test's fake, or none). A warm-up that fails is a log line: the next chart starts
    fresh workers, as after any failure."""
    if not isinstance(drawer, ChartPool):
        yield None
        return
    started = time.perf_counter()

    async def warm(drawings: asyncio.Future[list[bytes]]) -> None:
        try:
            await drawings
        except Exception:
            log.warning("chart workers did not start; the first chart will", exc_info=True)
            # a broken pool would fail that chart too: it finds none, and starts afresh
            await asyncio.to_thread(partial(drawer.close, kill=True))
        else:
            seconds = time.perf_counter() - started
            log.info("charts: %d worker(s) ready in %.1f s", drawer.workers, seconds)

    try:
        drawings = drawer.start()
    except Exception as exc:  # no process could be started: the same as a failed warm-up
        drawings = asyncio.get_running_loop().create_future()
        drawings.set_exception(exc)
    warming = asyncio.create_task(warm(drawings), name="chart workers warming")
    try:
        yield warming
    finally:
        # still warming (a start-up that failed, a stop within seconds): no member waits
        # for them, so the workers are ended now rather than after their warm-up
        cold = not warming.done()
        warming.cancel()
        await asyncio.gather(warming, return_exceptions=True)
        await asyncio.to_thread(partial(drawer.close, kill=cold))  # off the loop


_shared: ChartPool | None = None


def shared_drawer() -> ChartPool:
    """One pool per process, shared by every app in it."""
    global _shared
    if _shared is None:
        _shared = ChartPool()
    return _shared
