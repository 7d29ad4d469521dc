"""Where a message's chart becomes its PNG (issue 15): at the core's exits — `Core.handle`
for answers and channel posts, the dispatcher for what it renders (the weekly board).

A command describes its chart as plain data (`bot.messages.Chart`) built from the rows its
text shows; here the `Drawer` port turns it into an `Attachment` added to the message's
`files`, with the chart's one-line summary as the image's alt text. The text always goes:
with no drawer wired (tests, tools), or when drawing fails or takes too long, the message
leaves as text alone, and the failure is a log line and a metric — never an error to the
member, who still reads every number in the text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from bot.messages import Outgoing
from bot.observe import OK, Observed
from bot.ports import Drawer

log = logging.getLogger("coachbot.charts")

DRAW_TIMEOUT = 10.0  # seconds: a stuck drawing process never holds an answer back longer
FAILED = "failed"


async def with_charts(
    messages: Sequence[Outgoing],
    drawer: Drawer | None,
    observed: Observed,
    *,
    seconds: float = DRAW_TIMEOUT,
) -> list[Outgoing]:
    """`messages`, each one with a chart carrying its PNG in `files` as well (`seconds`:
    the longest a chart may take)."""
    if drawer is None or not any(m.chart is not None for m in messages):
        return list(messages)
    return [await _drawn(m, drawer, observed, seconds) for m in messages]


async def _drawn(message: Outgoing, drawer: Drawer, observed: Observed, seconds: float) -> Outgoing:
    chart = message.chart
    if chart is None:
        return message
    started = time.perf_counter()
    try:
        image = await asyncio.wait_for(drawer.draw(chart), seconds)
    except Exception:
        # the text says everything the chart shows: it goes alone
        log.warning("chart %s not drawn; its message goes as text only", chart.kind, exc_info=True)
        observed.chart(FAILED, time.perf_counter() - started, kind=chart.kind)
        return message
    observed.chart(OK, time.perf_counter() - started, kind=chart.kind)
    if not image.alt:
        image = replace(image, alt=chart.summary or chart.title)
    return replace(message, files=(*message.files, image))
