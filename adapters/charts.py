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
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool

from bot.messages import Attachment, Chart, ChartKind, Series

CHART_WORKERS = 1 if (os.cpu_count() or 1) <= 2 else 2
CHART_WAITING = 8
PNG = "image/png"


class ChartsBusy(RuntimeError):
    """Too many charts are waiting: this one is not drawn (its text goes alone)."""


def _start_chart_worker() -> None:
    """Runs once in each worker: import, load the fonts and draw once, so the first chart
    a member asks for costs what every later one does."""
    from adapters.chart_render import warm

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

    async def warm(self) -> None:
        """Start every worker and wait until each has drawn once (benchmarks, start-up)."""
        await asyncio.gather(*(self.draw(WARM_UP) for _ in range(self.workers)))

    def close(self) -> None:
        """Stop the workers (the next chart starts them again)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: ChartPool | None = None


def shared_drawer() -> ChartPool:
    """One pool per process, shared by every app in it."""
    global _shared
    if _shared is None:
        _shared = ChartPool()
    return _shared
