"""GPX activity import: defusedxml reads the XML, gpxpy models and measures the track.

Why gpxpy does not parse the text itself: before building its tree, `gpxpy.parse` scans
the whole document with regular expressions (for `xmlns` declarations) that take
quadratic time on text made of many " xmlns" fragments. Such a document is well-formed
XML, so defusedxml lets it through; at 240 KB it already costs 10 s of CPU, and 25 MB
would hold the bot for days. So we walk the tree defusedxml has already built (once,
safely, see `_xml`), copy the few fields an activity needs into gpxpy's own model
objects, and let gpxpy do the geometry. Field handling mirrors gpxpy's parser:
coordinates are mandatory numbers, a time gpxpy cannot read counts as missing.

Only tracks (`<trk>`) are recorded activities. Routes (`<rte>`) and waypoints (`<wpt>`)
are plans and places: logging them would credit an athlete with a run they only drew on
a map, so such files are refused with a sentence saying what they are.

Numbers: distance is the 2-D track length (GPS elevation is too noisy to add); duration
is the elapsed time from the first timed point to the last, since GPX has no timer of its
own. gpxpy's "moving time" is not used: it guesses stops from speeds and drops the
fastest points as outliers, which on a short or slow track throws away most of what the
athlete did (the fixtures' track with an empty segment: 32 s moving of a 76 s walk).
A track needs at least one timed point to be placed on the calendar; points without
times still count for distance, which keeps files from apps that drop most timestamps
usable.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import gpxpy.gpx
import gpxpy.gpxfield

from bot.importers import _xml
from bot.importers._model import ImportRefused, ParsedActivity, sport_from_word, to_utc

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_UNREADABLE = "This GPX file is damaged and cannot be read; export it again from your app."
_MAX_TYPE_LENGTH = 100  # a sport name; anything longer is not one


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _point_time(text: str | None) -> dt.datetime | None:
    """A point's time in UTC; unreadable times count as missing, as in gpxpy's parser."""
    if text is None:
        return None
    try:
        parsed = gpxpy.gpxfield.parse_time(text)
    except (gpxpy.gpx.GPXException, ValueError, OverflowError):
        return None
    return None if parsed is None else to_utc(parsed)


def _point(element: Element) -> gpxpy.gpx.GPXTrackPoint:
    latitude = _float(element.get("lat"))
    longitude = _float(element.get("lon"))
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        raise ImportRefused(
            "This GPX file has a track point without valid coordinates, so it looks damaged."
        )
    return gpxpy.gpx.GPXTrackPoint(
        latitude,
        longitude,
        elevation=_float(_xml.child_text(element, "ele")),
        time=_point_time(_xml.child_text(element, "time")),
    )


def _tracks(root: Element) -> tuple[list[gpxpy.gpx.GPXTrack], str | None]:
    """The tracks as gpxpy objects, and the first track's `<type>` that is a plausible word.

    `<trk><type>` exists only from GPX 1.1 on; like gpxpy, we ignore it in other versions
    (GPSBabel's 1.0 files, for one, put placeholder text there).
    """
    tracks = []
    track_type = None
    reads_type = root.get("version") == "1.1"
    for trk in _xml.children(root, "trk"):
        kind = _xml.child_text(trk, "type") if reads_type else None
        if track_type is None and kind and len(kind) <= _MAX_TYPE_LENGTH:
            track_type = kind
        track = gpxpy.gpx.GPXTrack()
        for trkseg in _xml.children(trk, "trkseg"):
            points = [_point(trkpt) for trkpt in _xml.children(trkseg, "trkpt")]
            track.segments.append(gpxpy.gpx.GPXTrackSegment(points))
        tracks.append(track)
    return tracks, track_type


def _length(gpx: gpxpy.gpx.GPX) -> float:
    """2-D length, from gpxpy's geometry."""
    try:
        return float(gpx.length_2d())
    except (ArithmeticError, ValueError) as exc:  # extreme coordinates in the maths
        raise ImportRefused(_UNREADABLE) from exc


def parse_gpx(root: Element) -> ParsedActivity:
    """Turn a parsed `<gpx>` element into an activity."""
    gpx = gpxpy.gpx.GPX()
    gpx.tracks, track_type = _tracks(root)
    points = [p for track in gpx.tracks for segment in track.segments for p in segment.points]
    if not points:
        if _xml.children(root, "rte"):
            raise ImportRefused("This file holds a route, not a recorded activity.")
        if _xml.children(root, "wpt"):
            raise ImportRefused("This file holds only waypoints, not a recorded activity.")
        raise ImportRefused("This GPX file holds no recorded track, so there is nothing to log.")

    times = [p.time for p in points if p.time is not None]
    if not times:
        raise ImportRefused("This GPX track has no times, so it cannot be logged as an activity.")

    elapsed = (max(times) - min(times)).total_seconds()
    duration = elapsed if elapsed > 0 else None  # one timed point: the file does not say

    return ParsedActivity(
        source="gpx",
        start=times[0],
        activity_type=sport_from_word(track_type) if track_type else "run",
        distance_m=_length(gpx),
        duration_s=duration,
    )
