"""Local wall-clock times to instants, with SPEC §6's DST rules.

A reminder at a local time that does not exist that day (the spring-forward gap) is
due at the first minute after the gap — 02:30 in Berlin on 2027-03-28 goes at 03:00; a
time that occurs twice (fall back) is due once, at its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _exists(local: datetime) -> bool:
    """A naive local time exists when it survives a round trip through UTC."""
    zone = local.tzinfo
    assert zone is not None
    back = local.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def due_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant a local `at` on `day` happens (first occurrence; after a gap)."""
    local = datetime.combine(day, at, zone).replace(fold=0)
    if _exists(local):
        return local.astimezone(UTC)
    probe = local.replace(second=0, microsecond=0)
    for _ in range(24 * 60):  # gaps are at most a few hours; walk minute by minute
        probe = (probe.replace(tzinfo=None) + timedelta(minutes=1)).replace(tzinfo=zone)
        if _exists(probe):
            return probe.astimezone(UTC)
    raise ValueError(f"no valid local time after {local}")


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant the local day ends (the next local midnight, DST-aware)."""
    return due_instant(day + timedelta(days=1), time(0), zone)


def next_occurrence(
    now: datetime, at: time, zone: ZoneInfo, *, weekday: int | None = None
) -> datetime:
    """The first instant strictly after `now` when local `at` happens (on `weekday`)."""
    day = local_today(now, zone) - timedelta(days=1)
    for _ in range(15):
        if weekday is None or day.weekday() == weekday:
            instant = due_instant(day, at, zone)
            if instant > now:
                return instant
        day += timedelta(days=1)
    raise ValueError("no occurrence within two weeks")
