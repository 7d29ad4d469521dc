"""`coachbot run` as the burst benchmark starts it (bench/burst.py): `bot.cli.main(["run"])`,
the production wiring unchanged, with two seams set first.

- **The clock** (bootstrap's injected clock, the seam every test uses): frozen at
  COACHBOT_BENCH_CLOCK (a few minutes before the burst's 06:00) until the benchmark
  writes `go WALL SHIFTED` on stdin; from then on real time, moved so that the wall
  instant WALL reads SHIFTED. Every process of a run is told the same pair, so they
  agree on the time; the Slack signatures and discord.py keep the wall time.
- **The platforms' limits** (COACHBOT_BENCH_SCALE, default 1): the limits the Slack and
  Discord senders declare, multiplied, as the doubles' are (`--scale 10`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta


class BenchClock:
    """Frozen at `start` until `go(wall, shifted)`, then real time from `shifted`."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.anchor: tuple[float, datetime] | None = None

    def go(self, wall: float, shifted: datetime) -> None:
        self.anchor = (wall, shifted)

    def now(self) -> datetime:
        anchor = self.anchor
        if anchor is None:
            return self.start
        return anchor[1] + timedelta(seconds=time.time() - anchor[0])


def listen(clock: BenchClock) -> None:
    for line in sys.stdin:
        words = line.split()
        if len(words) == 3 and words[0] == "go":
            clock.go(float(words[1]), datetime.fromisoformat(words[2]))


def scale_limits(scale: float) -> None:
    """The senders' declared limits times `scale` (their keyword defaults)."""
    from adapters.discord.front import DiscordFrontEnd
    from adapters.slack.sender import SlackSender

    for function in (SlackSender.__init__, DiscordFrontEnd.__init__):
        defaults = function.__kwdefaults__
        assert defaults is not None and "limits" in defaults
        limits = defaults["limits"]
        defaults["limits"] = replace(
            limits,
            per_second=limits.per_second * scale,
            opens_per_minute=limits.opens_per_minute * scale,
        )


def main() -> int:
    import bot.bootstrap
    from bot.cli import main as coachbot

    clock = BenchClock(datetime.fromisoformat(os.environ["COACHBOT_BENCH_CLOCK"]))
    threading.Thread(target=listen, args=(clock,), daemon=True).start()
    bot.bootstrap.SystemClock = lambda: clock  # type: ignore[assignment,misc,return-value]
    scale = float(os.environ.get("COACHBOT_BENCH_SCALE", "1"))
    if scale != 1:
        scale_limits(scale)
    return coachbot(["run"])


if __name__ == "__main__":
    sys.exit(main())
