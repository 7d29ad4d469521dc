"""TCX (Garmin Training Center XML) activity import, from a defusedxml tree (see `_xml`).

TCX laps carry the device's own totals (`DistanceMeters`, `TotalTimeSeconds`, the
latter being timer time), so we add those up rather than re-measure trackpoints: it
matches what the watch and Garmin Connect showed the athlete. Elements are matched by
local name, because exporters disagree on namespaces and prefixes.

A TCX file can also hold courses (planned routes) or workouts (planned sessions); those
are refused as not activities. A file with several activities is refused too, since
logging just one of them would silently drop the others.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from bot.importers import _xml
from bot.importers._model import ImportRefused, ParsedActivity, as_utc, sport_from_word

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element


def _activities(root: Element) -> list[Element]:
    return [
        activity
        for group in _xml.children(root, "Activities")
        for activity in _xml.children(group, "Activity")
    ]


def _refuse_non_activity(root: Element) -> ImportRefused:
    if any(_xml.children(group, "Course") for group in _xml.children(root, "Courses")):
        return ImportRefused("This file holds a course (a planned route), not a recorded activity.")
    if any(_xml.children(group, "Workout") for group in _xml.children(root, "Workouts")):
        return ImportRefused("This file holds a planned workout, not a recorded activity.")
    return ImportRefused("This TCX file holds no activity, so there is nothing to log.")


def _start_time(text: str | None) -> dt.datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(text.strip()))
    except ValueError as exc:
        raise ImportRefused(
            "This TCX file's start time is not a valid date; export it again from your app."
        ) from exc


def _total(laps: list[Element], name: str, what: str) -> float | None:
    """Sum a per-lap number; None when no lap has it (not 0: the file just doesn't say)."""
    values: list[float] = []
    for lap in laps:
        text = _xml.child_text(lap, name)
        if text is None:
            continue
        try:
            values.append(float(text))
        except ValueError as exc:
            raise ImportRefused(
                f"This TCX file has a lap {what} that is not a number, so it looks damaged."
            ) from exc
    return math.fsum(values) if values else None


def parse_tcx(root: Element) -> ParsedActivity:
    """Turn a parsed `TrainingCenterDatabase` element into an activity."""
    activities = _activities(root)
    if not activities:
        raise _refuse_non_activity(root)
    if len(activities) > 1:
        raise ImportRefused(
            f"This TCX file holds {len(activities)} activities; "
            "please send them one file at a time."
        )
    activity = activities[0]
    laps = _xml.children(activity, "Lap")

    start = _start_time(laps[0].get("StartTime") if laps else None) or _start_time(
        _xml.child_text(activity, "Id")
    )
    if start is None:
        raise ImportRefused("This TCX activity has no start time, so it cannot be logged.")

    sport = activity.get("Sport")
    return ParsedActivity(
        source="tcx",
        start=start,
        activity_type=sport_from_word(sport) if sport else "other",
        distance_m=_total(laps, "DistanceMeters", "distance"),
        duration_s=_total(laps, "TotalTimeSeconds", "duration"),
    )
