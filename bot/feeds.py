"""Private calendar feeds (issue 15 `/calendar`): the tokens, and the feed itself as the
public HTTP server asks for it (`Core.calendar_feed`).

A token is 32 random bytes (`secrets`), URL-safe; the store keeps its SHA-256 only, so
the database never holds a URL that works, and a URL says nothing but itself (no id,
no name, no org). A fetch looks the hash up and then asks the policy again, with the
owner's membership as it is now: a member who was removed, suspended or forgotten, a
coach who is no longer one, a group that was deleted — each answers exactly as an
unknown token does (None, a 404), so a URL reveals nothing about what it was.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.agenda import status_of
from bot.domain.feed import FeedContent, FeedEvent, FeedSession, feed_window
from bot.ical import calendar_bytes
from bot.identity import member_viewer
from bot.policy import Action, Target, decide, feed_shows_description

if TYPE_CHECKING:
    from storage.repositories.calendar import FeedOwner
    from storage.unit_of_work import UnitOfWork

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): base64url without padding
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
FEED_PATH = "/calendar/"
FEED_SUFFIX = ".ics"


def new_feed_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_feed_token(text: str) -> bool:
    """Whether `text` could be a token at all (anything else is a 404 with no lookup)."""
    return len(text) == TOKEN_LENGTH and set(text) <= _TOKEN_CHARS


def feed_url(public_url: str, token: str) -> str:
    """`COACHBOT_PUBLIC_URL/calendar/TOKEN.ics`."""
    return f"{public_url.rstrip('/')}{FEED_PATH}{token}{FEED_SUFFIX}"


def _instants(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants bounding local days `first..last`."""
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


class CalendarFeeds:
    def __init__(
        self, units: Callable[[], UnitOfWork], clock: Clock, default_timezone: str = "UTC"
    ) -> None:
        self.units = units
        self.clock = clock
        self.default_timezone = default_timezone

    async def feed(self, token: str) -> bytes | None:
        """The iCalendar file a token's URL serves now, or None when it serves nothing."""
        if not is_feed_token(token):
            return None
        async with self.units() as uow:
            owner = await uow.repo.calendar_feed_owner(feed_token_hash(token))
            if owner is None:
                return None
            if owner.kind == "group":
                content = await self._group_feed(uow, owner)
            else:
                content = await self._own_feed(uow, owner)
            if content is None:
                return None
            event_zone = owner.org.timezone or self.default_timezone
        return calendar_bytes(content, self.clock.now(), event_zone)

    async def _own_feed(self, uow: UnitOfWork, owner: FeedOwner) -> FeedContent | None:
        """The owner's sessions as they see them (`/schedule`'s reads and statuses),
        and their groups' events."""
        account, member = owner.account, owner.membership
        viewer = member_viewer(member)
        if not decide(viewer, Action.CALENDAR, Target(account_id=account.id, own=True)):
            return None
        zone = account.timezone or owner.org.timezone or self.default_timezone
        today = self.clock.now().astimezone(ZoneInfo(zone)).date()
        first, last = feed_window(today)
        repo = uow.repo
        planned = [p for p in await repo.planned_between(member.id, first, last) if p.workout]
        shown = await repo.feed_descriptions([p.workout.id for p in planned if p.workout])
        sessions = []
        for session in planned:
            workout = session.workout
            assert workout is not None
            visibility, text = shown.get(workout.id, ("coaches", None))
            sessions.append(
                FeedSession(
                    day=session.day,
                    name=workout.name,
                    type=workout.type,
                    kind=workout.kind,
                    distance_m=workout.distance_m,
                    duration_s=workout.duration_s,
                    status=str(status_of(session, today, own=True)),
                    edited=session.edited,
                    description=text if feed_shows_description(visibility) else None,
                )
            )
        groups = [g.id for g in await repo.groups_of(member.id)]
        events = await self._events(uow, groups, first, last, ZoneInfo(zone))
        return FeedContent(
            name=f"Training ({owner.org.name})",
            zone=zone,
            units=account.units,
            uid_seed=f"sessions:{member.id}",
            sessions=tuple(sessions),
            events=events,
        )

    async def _group_feed(self, uow: UnitOfWork, owner: FeedOwner) -> FeedContent | None:
        """A coach's feed of one group's events, in the org's time zone."""
        viewer = member_viewer(owner.membership)
        if owner.group_id is None or not decide(viewer, Action.CALENDAR_GROUP):
            return None
        group = await uow.repo.group_in_org(owner.group_id, owner.org.id)
        if group is None:
            return None
        zone = owner.org.timezone or self.default_timezone
        today = self.clock.now().astimezone(ZoneInfo(zone)).date()
        first, last = feed_window(today)
        return FeedContent(
            name=f"{group.name} ({owner.org.name})",
            zone=zone,
            units=owner.account.units,
            uid_seed=f"group:{group.id}",
            events=await self._events(uow, [group.id], first, last, ZoneInfo(zone)),
        )

    async def _events(
        self, uow: UnitOfWork, group_ids: list[int], first: date, last: date, zone: ZoneInfo
    ) -> tuple[FeedEvent, ...]:
        if not group_ids:
            return ()
        start, end = _instants(first, last, zone)
        return tuple(await uow.repo.group_events_between(group_ids, start, end))
