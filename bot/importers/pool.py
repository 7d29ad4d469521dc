"""Parse uploads in worker processes: off the event loop, a few at a time, in bounded memory.

Why processes, not `asyncio.to_thread`: the parsers are pure Python and CPU-bound (a FIT
file decodes at about 4 ms per KB, a 24 MB GPX takes 4 s and 300 MB), and a thread holds
the GIL for most of that, so every other member's command waited behind the upload
(`/help` went from 3 ms to 113-742 ms). A worker process has its own interpreter: the
bot's event loop keeps answering while a file is read.

The limits, and why (defaults; `ParsePool(...)` takes others):

- **Size** (`MAX_FILE_BYTES`, 25 MB): refused before any parsing, in `parse_activity_file`
  and by the adapters before they download.
- **Parses at once** (`PARSE_WORKERS`): one worker on a machine of two cores or fewer, two
  above that, so one core is always left to the bot. Workers run at a lower CPU priority
  (`nice` +10), so the bot wins whenever they compete.
- **Waiting** (`PARSE_WAITING`, 4): uploads beyond the running ones wait their turn in
  order; beyond that the athlete is told the bot is busy and to send the file again in
  a minute. Nothing is logged for a refused upload, so sending again is safe.
- **Memory** (`WORKER_MEMORY_BYTES`, 768 MiB of address space per worker, Linux
  `RLIMIT_AS`): an idle worker takes about 35 MB and a 25 MB GPX peaks at about 380 MB,
  and the memory is returned when the parse ends; a hostile file
  that would need more (millions of empty XML elements) fails with `MemoryError` inside
  the worker and is refused as too complex, without touching the bot's own memory. The
  bot's total for uploads is then at most `PARSE_WORKERS` x 768 MiB, plus the bytes of the
  waiting files (at most `PARSE_WAITING` x 25 MB).

A worker that dies (killed by the operating system) breaks the pool: that upload is
refused with a "try again" line and the next upload starts fresh workers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

from bot.importers import MAX_FILE_BYTES, ImportRefused, ParsedActivity, parse_activity_file

PARSE_WORKERS = 1 if (os.cpu_count() or 1) <= 2 else 2
PARSE_WAITING = 4
WORKER_MEMORY_BYTES = 768 * 1024 * 1024
WORKER_NICE = 10

BUSY = (
    "I'm reading other members' files right now; please send this one again in a minute "
    "(nothing was logged)."
)
TOO_COMPLEX = (
    "This file is too complex to read within my memory limit; export just the one "
    "activity (as FIT if you can) and send that."
)
READER_STOPPED = "Reading this file failed on my side and nothing was logged; please send it again."


ORPHAN_CHECK = 0.5  # seconds between a worker's looks at whether its parent still lives


def exit_with_parent(parent: int, every: float = ORPHAN_CHECK) -> None:
    """In a worker process: exit when the process that started it is gone. A parent that
    stops gracefully shuts its pools down, but one that exits at once (a second signal,
    `kill -9`) cannot, and a worker left behind would hold the parent's output pipes open
    (whoever waits for them waits for ever) and its memory. A daemon thread watches the
    parent id, as the standard library's pools have no such option; Linux's
    PR_SET_PDEATHSIG would fire when the *thread* that spawned the worker ends instead.
    `parent` is the starter's pid as it passed it: a parent gone before this runs (while
    the worker was still starting) is caught too, as the worker then has another."""

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_worker(memory_bytes: int | None, nice: int, parent: int) -> None:
    """Runs once in each worker process, before its first file."""
    exit_with_parent(parent)
    if memory_bytes is not None:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        except (ImportError, ValueError, OSError):  # not on this platform: size still bounds
            pass
    if nice:
        try:
            os.nice(nice)
        except (AttributeError, OSError):
            pass


def _parse_in_worker(filename: str, data: bytes, now: dt.datetime) -> ParsedActivity | str:
    """The worker's job: the activity, or the refusal's sentence (a plain string pickles
    the same on every Python; the exception's cause is of no use to the bot)."""
    try:
        return parse_activity_file(filename, data, now=now)
    except ImportRefused as exc:
        return exc.message
    except MemoryError:
        return TOO_COMPLEX


class ParsePool:
    """Reads uploaded activity files in worker processes (see the module's notes)."""

    def __init__(
        self,
        workers: int = PARSE_WORKERS,
        waiting: int = PARSE_WAITING,
        memory_bytes: int | None = WORKER_MEMORY_BYTES,
        nice: int = WORKER_NICE,
    ) -> None:
        self.workers, self.waiting = workers, waiting
        self.memory_bytes, self.nice = memory_bytes, nice
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._admitted = 0  # parsing now or waiting for a worker; a plain count, loop-free

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            # spawn: forking a process that runs an event loop and threads is unsafe
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.memory_bytes, self.nice, os.getpid()),
            )
        return self._executor

    async def parse(self, filename: str, data: bytes, now: dt.datetime) -> ParsedActivity:
        """The file's activity; `ImportRefused` with a sentence for the athlete otherwise."""
        if len(data) > MAX_FILE_BYTES:  # refused here too, so it is never copied to a worker
            parse_activity_file(filename, data, now=now)
        if self._admitted >= self.workers + self.waiting:
            raise ImportRefused(BUSY)
        self._admitted += 1
        try:
            executor = self._pool()
            try:
                result = await asyncio.wrap_future(
                    executor.submit(_parse_in_worker, filename, data, now)
                )
            except BrokenProcessPool:
                if self._executor is executor:
                    self._executor = None
                executor.shutdown(wait=False, cancel_futures=True)
                raise ImportRefused(READER_STOPPED) from None
        finally:
            self._admitted -= 1
        if isinstance(result, str):
            raise ImportRefused(result)
        return result

    def close(self) -> None:
        """Stop the workers (they are started again by the next upload)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: ParsePool | None = None


def shared_pool() -> ParsePool:
    """One pool per process, shared by every core in it (tests build many cores)."""
    global _shared
    if _shared is None:
        _shared = ParsePool()
    return _shared
