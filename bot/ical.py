"""A calendar feed written as iCalendar (RFC 5545) with the icalendar library.

- Each session is an all-day event on its day (the athlete's local date: a session has
  no clock time), `SUMMARY` the workout's name, `DESCRIPTION` its type, kind and targets
  in the owner's units, its status once settled, and the workout's description only
  when the feed may show it (`FeedSession.description`).
- Each group event is a timed event in the org's time zone (a `VTIMEZONE` is included),
  an hour long unless it says otherwise; a cancelled one stays, marked `CANCELLED`, so a
  subscribed calendar shows the cancellation instead of silently losing the run.
- UIDs are stable: a session's is derived from the feed's seed and its day, an event's
  from its public key. A calendar app re-reading the feed updates what changed, drops a
  day whose session was cleared or moved away, and adds the day it moved to.
- `X-WR-TIMEZONE` names the owner's zone and `X-WR-CALNAME` the feed, as the common
  calendar apps read them; `REFRESH-INTERVAL` asks them to re-read every few hours.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from bot.domain.feed import FeedContent, FeedEvent, FeedSession
from bot.render import fmt_distance, fmt_duration

PRODID = "-//coachbot//calendar feed//EN"
EVENT_LENGTH = timedelta(hours=1)
REFRESH = timedelta(hours=3)
SETTLED = {"done": "Done", "skipped": "Skipped", "missed": "Missed"}
EDITED = {"moved": "Moved here by your coach.", "set": "Set by your coach."}


def session_uid(seed: str, session: FeedSession) -> str:
    digest = hashlib.sha256(f"{seed}:{session.day.isoformat()}".encode()).hexdigest()
    return f"session-{digest[:32]}@coachbot"


def session_text(session: FeedSession, units: str) -> str:
    targets = [session.type, session.kind]
    if session.distance_m:
        targets.append(fmt_distance(session.distance_m, units))
    if session.duration_s:
        targets.append(fmt_duration(session.duration_s))
    lines = [", ".join(targets)]
    if session.status in SETTLED:
        lines.append(f"{SETTLED[session.status]}.")
    if session.edited in EDITED:
        lines.append(EDITED[session.edited])
    if session.description:
        lines += ["", session.description]
    return "\n".join(lines)


def session_event(content: FeedContent, session: FeedSession, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", session_uid(content.uid_seed, session))
    event.add("dtstamp", stamp)
    event.add("dtstart", session.day)
    event.add("dtend", session.day + timedelta(days=1))
    event.add("summary", session.name)
    event.add("description", session_text(session, content.units))
    event.add("categories", [session.type])
    event.add("transp", "TRANSPARENT")  # a training day does not make one busy all day
    return event


def group_event(found: FeedEvent, zone: ZoneInfo, stamp: datetime) -> Event:
    event = Event()
    start = found.starts_at.astimezone(zone)
    event.add("uid", f"event-{found.key}@coachbot")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + EVENT_LENGTH)
    event.add("summary", f"{found.title} ({found.group})")
    if found.place:
        event.add("location", found.place)
    if found.notes:
        event.add("description", found.notes)
    event.add("status", "CANCELLED" if found.cancelled else "CONFIRMED")
    return event


def calendar_bytes(content: FeedContent, now: datetime, event_zone: str) -> bytes:
    """The feed as an iCalendar file. `event_zone` is the org's zone, the one group
    events are announced in; the owner's own zone is `content.zone`."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", content.name)
    calendar.add("x-wr-timezone", content.zone)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for session in content.sessions:
        calendar.add_component(session_event(content, session, now))
    zone = ZoneInfo(event_zone)
    for found in content.events:
        calendar.add_component(group_event(found, zone, now))
    if content.events:
        calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
