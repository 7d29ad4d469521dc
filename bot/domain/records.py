"""Personal bests (issue 13 item 7): which of an athlete's runs make a best time at the
standard distances, as plain data the storage query is built from.

A best time is a time the athlete really ran, never one worked out: a run counts at a
standard distance when it was measured (distance and duration both logged) and its
distance is at least that distance and at most `OVER` more. Its whole time is the best
time, so a 10.3 km run in 45:00 says "10k in 45:00", which is true (they covered 10 km
within it), while a 15 km run says nothing about 10k at all: cutting a time out of a
longer run, or scaling it by pace, would claim a time nobody measured. Races and
uploaded files are runs like any other here; a race shows its name beside its time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Standard:
    label: str
    metres: float


STANDARDS: tuple[Standard, ...] = (
    Standard("5k", 5000.0),
    Standard("10k", 10000.0),
    Standard("half", 21097.5),
    Standard("marathon", 42195.0),
)
OVER = 0.05  # a run up to 5% longer than the distance still counts (GPS, a long course)
BEST_TYPE = "run"  # only runs make running bests


def window(standard: Standard) -> tuple[float, float]:
    """The distances, in metres, of the runs that count at this standard distance."""
    return standard.metres, standard.metres * (1 + OVER)
