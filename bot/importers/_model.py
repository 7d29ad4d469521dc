"""The importer's result and refusal types, and the checks every format shares.

They live apart from `bot.importers.__init__` so that the per-format modules can import
them without an import cycle; `bot.importers` re-exports them as the public API.

The plausibility checks are done once, here, on the parsed result rather than inside
each parser: a wrong clock or a corrupt distance looks the same whichever format carried
it, and the athlete should get the same sentence for it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

MAX_FILE_BYTES = 25 * 1024 * 1024
"""Largest upload we parse. A day-long 1 Hz FIT recording is a few MB; 25 MB leaves room
for GPX/TCX verbosity while keeping the (pure-Python, CPU-bound) parse bounded."""

ACTIVITY_TYPES = frozenset({"run", "ride", "swim", "strength", "walk", "hike", "other"})

# Limits for a single activity. Anything beyond them is a broken file or a broken clock,
# and logging it would poison the athlete's totals and the club's leaderboards.
EARLIEST_START = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)  # devices with a mis-set timezone run up to ~14 h ahead
MAX_DISTANCE_M = 1_000_000.0
MAX_DURATION_S = 7 * 24 * 3600.0


@dataclass(frozen=True)
class ParsedActivity:
    """One recorded activity, reduced to what coachbot logs.

    `duration_s` is timer time where the format records one (FIT, TCX: a paused watch
    does not count the café stop), else elapsed time (GPX); `distance_m`/`duration_s` are None
    when the file simply does not say, which is different from 0.
    """

    source: Literal["gpx", "fit", "tcx"]
    start: dt.datetime  # timezone-aware, UTC
    activity_type: str  # one of ACTIVITY_TYPES
    distance_m: float | None
    duration_s: float | None


class ImportRefused(ValueError):
    """The file cannot become an activity; `.message` is one sentence for the athlete.

    A ValueError so callers that already treat bad input as ValueError keep working,
    but with its own type so the bot can show `.message` verbatim and never a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def to_utc(value: dt.datetime) -> dt.datetime | None:
    """Normalise a timestamp to aware UTC, or None if it has no place on the UTC calendar.

    GPX and TCX both define their times as UTC, so a naive time (common in hand-made or
    older files) is taken as UTC rather than as the server's local time. An offset of a
    day or more, or a date pushed past year 1/9999 by its offset, is not a real time.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def as_utc(value: dt.datetime) -> dt.datetime:
    """`to_utc`, refusing the file when the time cannot be placed."""
    converted = to_utc(value)
    if converted is None:
        raise ImportRefused("This activity's start time is not a valid date.")
    return converted


def check_plausible(activity: ParsedActivity, now: dt.datetime) -> ParsedActivity:
    """Refuse values no real activity can have; return the activity unchanged otherwise."""
    start = activity.start
    if start < EARLIEST_START:
        raise ImportRefused(
            f"This activity's start time ({start:%Y-%m-%d}) is before 1990, so the "
            "device's clock must have been wrong; fix the date in your app and export again."
        )
    if start > now + FUTURE_SLACK:
        raise ImportRefused(
            f"This activity's start time ({start:%Y-%m-%d}) is in the future, so the "
            "device's clock must have been wrong; fix the date in your app and export again."
        )
    distance = activity.distance_m
    if distance is not None and not (math.isfinite(distance) and 0.0 <= distance <= MAX_DISTANCE_M):
        raise ImportRefused(
            "This file reports a distance that no single activity can have "
            "(negative, not a number, or over 1000 km), so it looks damaged."
        )
    duration = activity.duration_s
    if duration is not None and not (math.isfinite(duration) and 0.0 <= duration <= MAX_DURATION_S):
        raise ImportRefused(
            "This file reports a duration that no single activity can have "
            "(negative, not a number, or over 7 days), so it looks damaged."
        )
    if activity.activity_type not in ACTIVITY_TYPES:  # a bug in a parser, not bad input
        raise AssertionError(f"unmapped activity type {activity.activity_type!r}")
    return activity


_SPORT_WORDS = {
    "run": "run",
    "running": "run",
    "trail_running": "run",
    "ride": "ride",
    "cycling": "ride",
    "biking": "ride",
    "bike": "ride",
    "hike": "hike",
    "hiking": "hike",
    "walk": "walk",
    "walking": "walk",
    "swim": "swim",
    "swimming": "swim",
}


def sport_from_word(word: str) -> str:
    """Map a free-text sport name (GPX `<type>`, TCX `Sport`) to an activity type.

    These fields are free text in practice ("Running", "cycling", "trail-running"), so
    they are compared case- and separator-insensitively; anything unknown is "other"
    rather than a guess.
    """
    key = "_".join(word.strip().lower().replace("-", " ").split())
    return _SPORT_WORDS.get(key, "other")
