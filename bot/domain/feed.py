"""What a calendar feed holds (issue 15 `/calendar`), as plain data: no database, no
clock, no file format (`bot.ical` writes it as iCalendar).

An athlete's feed holds their sessions over a window — `FEED_WEEKS_BACK` weeks back and
everything planned ahead (a plan starts at most a year ahead and lasts at most 52 weeks,
so `FEED_DAYS_AHEAD` holds the rest of any plan) — and the events of their groups; a
group's feed holds that group's events over the same window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

FEED_WEEKS_BACK = 4
FEED_DAYS_AHEAD = 2 * 366 + 7


def feed_window(today: date) -> tuple[date, date]:
    """The first and last day a feed covers, as of the owner's local `today`."""
    return today - timedelta(weeks=FEED_WEEKS_BACK), today + timedelta(days=FEED_DAYS_AHEAD)


@dataclass(frozen=True)
class FeedSession:
    """One session as its own athlete sees it: an all-day event on its (local) day.

    `description` is the workout's description only when a feed may show it (a `public`
    workout: `bot.policy.feed_shows_description`), else None."""

    day: date
    name: str
    type: str
    kind: str
    distance_m: float | None
    duration_s: float | None
    status: str  # bot.domain.agenda.Status: done, skipped, missed, to come
    edited: str | None = None  # set | moved | cleared (issue 13's session edits)
    description: str | None = None


@dataclass(frozen=True)
class FeedEvent:
    """A group's event (a club run) as a feed shows it. `key` is stable for the event's
    life (its public id), so a calendar app updates it in place; `starts_at` is an aware
    instant, shown in the org's time zone."""

    key: str
    group: str
    title: str
    starts_at: datetime
    place: str | None = None
    notes: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class FeedContent:
    """A whole feed: its name, the time zone its dates are in, the units its distances are
    in, and a seed that makes its events' UIDs stable and unique to this feed's owner."""

    name: str
    zone: str
    units: str
    uid_seed: str
    sessions: tuple[FeedSession, ...] = ()
    events: tuple[FeedEvent, ...] = ()
