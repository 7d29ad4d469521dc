"""Stopping `coachbot run` on SIGTERM or SIGINT (docs/DESIGN.md "Stopping and restarting").

The first signal starts a graceful stop: every front end takes no new work and finishes
what it took, the dispatcher finishes the message it is sending and puts the rest of
its batch back, and the rows this process still leases are handed back, so another
process sends them at once. What still runs after `GRACE` seconds is cancelled; the
process exits 0 inside 10 s. A second signal exits at once (status 128 + its number),
leaving its leases to the next process on this host or to their expiry.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.ports import FrontEnd

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger("coachbot")

GRACE = 8.0  # seconds for the work in flight; the rest of the 10 s is for closing
RELEASE_WITHIN = 1.0  # seconds for handing back the leases (one UPDATE)
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_stop_signals() -> asyncio.Future[int]:
    """A future the first SIGTERM/SIGINT completes with its number; a second one exits
    the process at once."""
    loop = asyncio.get_running_loop()
    first: asyncio.Future[int] = loop.create_future()

    def received(number: int) -> None:
        if not first.done():
            first.set_result(number)
            return
        os.write(2, f"coachbot: {signal.Signals(number).name} again: exiting at once\n".encode())
        os._exit(128 + number)

    for number in SIGNALS:
        loop.add_signal_handler(number, received, number)
    return first


async def stop_gracefully(
    app: App, front_ends: Sequence[FrontEnd], *, grace: float = GRACE
) -> bool:
    """Take no new work anywhere, let the commands and the send in flight finish (within
    `grace` seconds), then hand back this process's outbox leases. True when everything
    finished in time; otherwise what still ran was cancelled, and its rows are handed
    back all the same (a send cut short may repeat, as after `kill -9`)."""
    finished = True
    try:
        async with asyncio.timeout(grace):
            await asyncio.gather(*(front.drain() for front in front_ends), app.scheduling.stop())
    except TimeoutError:
        finished = False
        log.warning("still busy after %.0f s of stopping: cancelling what is left", grace)
        await app.scheduling.abandon()
    try:
        async with asyncio.timeout(RELEASE_WITHIN):
            back = await app.scheduling.dispatcher.release()
    except Exception:  # the store is gone: the rows wait for their lease instead
        log.warning("could not hand back this process's outbox leases", exc_info=True)
    else:
        if back:
            log.info("handed back %s outbox messages to the next process", back)
    return finished
