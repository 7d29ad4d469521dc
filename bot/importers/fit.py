"""FIT (Garmin/ANT binary) activity import, with fitdecode.

Why strict. fitdecode is run with CRC checks and error handling set to *raise*: a FIT file
carries its own length and checksum, so a file that is cut short, fails its checksum or
contradicts its own message layout is refused rather than half-read. A half-read file
would silently log a shorter activity than the athlete ran (the session summary sits at
the *end* of a normal recording, so a truncated file would fall back to whatever records
survived), and the athlete would never know to send it again.

The Strava Android file (app 201.10) in the shared fixtures is refused for that reason,
and that is deliberate. Its header claims 78,236 body bytes but the file holds 78,219,
and at byte 7,451 a `record` whose 2-byte `speed` field was written as 1 byte (the bytes
after it line up only that way) knocks the stream out of step: decoded leniently, that
record already says 38.9 m/s and the year 2085, and the next byte is read as a message
header for an undefined local message 11 (fitdecode raises on that even with
`ErrorHandling.IGNORE`, since the message length is unknowable). The session summary
happens to precede the damage in that file, but none of it can be verified (the
checksum covers bytes that are not there), so the athlete is asked to export again or
send GPX/TCX instead.

Which numbers are used: the `session` message (sport, start_time, total_distance,
total_timer_time, falling back to total_elapsed_time). Several sessions (multisport) are
added up. With no session at all, start, distance and elapsed time come from the
`record` messages. Only sub-files whose `file_id.type` is `activity` count: settings,
monitoring, courses and workouts are valid FIT files but not something to log.

Chained files. A FIT file may be several FIT files back to back, each with its own
header and `file_id`. One activity among settings or other non-activity parts is logged;
two or more activities are refused, naming how many, exactly as a TCX file with several
activities is: one upload logs one activity (one reply, one `#ID`, one session matched),
and adding them up would silently log a run that never happened (a file chained to a copy
of itself would count double). The athlete sends them one file at a time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import fitdecode

from bot.importers._model import ImportRefused, ParsedActivity, as_utc

CUT_SHORT = (
    "This FIT file is cut short — it ends before its data does; "
    "export it again from your watch or app."
)
_DAMAGED_HEADER = (
    "This FIT file is damaged — its header is not valid; export it again from your watch or app."
)
_BAD_CHECKSUM = (
    "This FIT file is damaged — its checksum does not match its contents; "
    "export it again from your watch or app."
)
_BAD_LAYOUT = (
    "This FIT file is damaged — part of its data does not match its own layout; "
    "export it again from your watch or app, or send it as GPX or TCX."
)
_UNREADABLE = "This FIT file is damaged and cannot be read; export it again from your watch or app."

_SPORTS = {
    "running": "run",
    "cycling": "ride",
    "swimming": "swim",
    "walking": "walk",
    "hiking": "hike",
    "training": "strength",
    "strength": "strength",
    "strength_training": "strength",
}

# What a non-activity FIT file holds, in the athlete's words.
_FILE_KINDS = {
    "settings": "device settings",
    "sport": "sport settings",
    "device": "device information",
    "monitoring_a": "all-day health monitoring data",
    "monitoring_b": "all-day health monitoring data",
    "monitoring_daily": "all-day health monitoring data",
    "course": "a course (a planned route)",
    "workout": "a planned workout",
    "schedules": "a training schedule",
    "totals": "lifetime totals",
    "goals": "goals",
    "weight": "weight measurements",
    "blood_pressure": "blood pressure readings",
    "segment": "a segment",
    "segment_list": "a segment list",
    "activity_summary": "only an activity summary",
}


@dataclass
class _Session:
    start: dt.datetime | None
    sport: object
    distance_m: float | None
    duration_s: float | None


@dataclass
class _Collected:
    """What one pass over the messages keeps; everything else is ignored."""

    file_types: list[object] = field(default_factory=list)
    activities: int = 0  # chained sub-files whose file_id says `activity`
    sessions: list[_Session] = field(default_factory=list)
    record_times: list[dt.datetime] = field(default_factory=list)
    record_distance_m: float | None = None
    other_sport: object = None  # from `sport` or `lap` messages, for files without sessions


def _frames(data: bytes) -> Iterator[Any]:
    """Yield fitdecode's header and data frames; turn every decoding failure into a refusal.

    The broad `except` is confined to fitdecode's own iteration: fuzzing shows it can
    also fail with struct, index or assertion errors on hostile bytes, and none of those
    may reach the athlete. Our own handling of the frames stays outside the `try`, so
    mistakes there still surface in tests.
    """
    reader = fitdecode.FitReader(
        data,
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.RAISE,
    )
    iterator = iter(reader)
    while True:
        try:
            frame = next(iterator)
        except StopIteration:
            return
        except fitdecode.FitEOFError as exc:
            raise ImportRefused(CUT_SHORT) from exc
        except fitdecode.FitHeaderError as exc:
            # fitdecode words a header that ends early as "truncated"; anything else is
            # a header that is simply wrong.
            message = CUT_SHORT if "truncated" in str(exc) else _DAMAGED_HEADER
            raise ImportRefused(message) from exc
        except fitdecode.FitCRCError as exc:
            raise ImportRefused(_BAD_CHECKSUM) from exc
        except fitdecode.FitParseError as exc:
            raise ImportRefused(_BAD_LAYOUT) from exc
        except MemoryError:  # the worker's memory limit (bot/importers/pool.py)
            raise
        except Exception as exc:
            raise ImportRefused(_UNREADABLE) from exc
        if isinstance(frame, fitdecode.FitHeader | fitdecode.FitDataMessage):
            yield frame


def _value(message: Any, name: str) -> object:
    return message.get_value(name, fallback=None)


def _number(value: object) -> float | None:
    """A scalar number, or None: a damaged definition can turn a field into a tuple."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _absolute_time(value: object) -> dt.datetime | None:
    """fitdecode gives datetimes for absolute times and bare ints for device-relative ones;
    the latter cannot be placed on the calendar, so they count as missing."""
    return as_utc(value) if isinstance(value, dt.datetime) else None


def _collect(data: bytes) -> _Collected:
    found = _Collected()
    in_activity = False
    for frame in _frames(data):
        if isinstance(frame, fitdecode.FitHeader):
            in_activity = False  # a chained FIT file starts: its own file_id decides
            continue
        name = frame.name
        if name == "file_id":
            file_type = _value(frame, "type")
            found.file_types.append(file_type)
            in_activity = file_type == "activity"
            found.activities += in_activity
        elif not in_activity:
            continue
        elif name == "session":
            timer = _number(_value(frame, "total_timer_time"))
            found.sessions.append(
                _Session(
                    start=_absolute_time(_value(frame, "start_time")),
                    sport=_value(frame, "sport"),
                    distance_m=_number(_value(frame, "total_distance")),
                    duration_s=(
                        timer if timer is not None else _number(_value(frame, "total_elapsed_time"))
                    ),
                )
            )
        elif name == "record":
            when = _absolute_time(_value(frame, "timestamp"))
            if when is not None:
                found.record_times.append(when)
            distance = _number(_value(frame, "distance"))
            if distance is not None and math.isfinite(distance):
                found.record_distance_m = max(distance, found.record_distance_m or 0.0)
        elif name in ("sport", "lap") and found.other_sport is None:
            found.other_sport = _value(frame, "sport")
    return found


def _activity_type(sport: object) -> str:
    return _SPORTS.get(sport, "other") if isinstance(sport, str) else "other"


def parse_fit(data: bytes) -> ParsedActivity:
    """Parse FIT bytes (already known to carry the `.FIT` signature) into an activity."""
    found = _collect(data)
    if not found.file_types:
        raise ImportRefused(
            "This FIT file does not say what it holds, so it cannot be logged as an activity."
        )
    if "activity" not in found.file_types:
        first = found.file_types[0]
        kind = _FILE_KINDS.get(first) if isinstance(first, str) else None
        if kind is None:
            raise ImportRefused("This FIT file holds something other than a recorded activity.")
        raise ImportRefused(f"This FIT file holds {kind}, not an activity.")
    if found.activities > 1:
        raise ImportRefused(
            f"This FIT file holds {found.activities} activities chained together; "
            "please send them one file at a time."
        )

    record_start = min(found.record_times) if found.record_times else None
    if found.sessions:
        starts = [s.start for s in found.sessions if s.start is not None]
        start = min(starts) if starts else record_start
        distances = [s.distance_m for s in found.sessions if s.distance_m is not None]
        durations = [s.duration_s for s in found.sessions if s.duration_s is not None]
        types = {
            _activity_type(s.sport if s.sport is not None else found.other_sport)
            for s in found.sessions
        }
        distance = math.fsum(distances) if distances else None
        duration = math.fsum(durations) if durations else None
        activity_type = types.pop() if len(types) == 1 else "other"
    elif found.record_times:
        start = record_start
        distance = found.record_distance_m
        duration = (max(found.record_times) - min(found.record_times)).total_seconds()
        activity_type = _activity_type(found.other_sport)
    else:
        raise ImportRefused("This FIT activity holds no recorded data, so there is nothing to log.")

    if start is None:
        raise ImportRefused("This FIT activity has no start time, so it cannot be logged.")
    return ParsedActivity(
        source="fit",
        start=start,
        activity_type=activity_type,
        distance_m=distance,
        duration_s=duration,
    )
