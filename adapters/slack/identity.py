"""Who a Slack user is: their verified e-mail, name and admin right from `users.info`, cached.

Slack's verified e-mail is what proves a Slack user's account (SPEC §5a), and a workspace
admin or owner may bind the workspace to a club, so both are looked up for every person
who talks to the bot and for everyone a command mentions — but only once per `ttl`: a
cached answer costs nothing, and a miss is resolved after the request was acknowledged
(the listeners `ack()` first), never inside Slack's 3-second window. Concurrent requests
of one user share a single lookup. A lookup that failed (an API error other than "no such
user", Slack unreachable) is marked `failed` and never cached, so it is never mistaken for
"this person has no e-mail". E-mail addresses are never logged above debug level.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("coachbot.slack.identity")


@dataclass(frozen=True)
class SlackUser:
    user_id: str
    team_id: str | None = None
    email: str | None = None
    name: str | None = None
    is_bot: bool = False
    is_admin: bool = False  # a workspace admin, owner or primary owner
    failed: bool = False  # Slack could not say who this is just now (not cached)


def _user_of(user_id: str, data: dict[str, Any]) -> SlackUser:
    profile = data.get("profile") or {}
    email = profile.get("email")
    if data.get("is_email_confirmed") is False:
        email = None  # only a verified address may claim an invitation
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or data.get("real_name")
        or data.get("name")
    )
    return SlackUser(
        user_id=user_id,
        team_id=data.get("team_id"),
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        name=name or None,
        is_bot=bool(data.get("is_bot")) or user_id == "USLACKBOT",
        is_admin=any(
            data.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner")
        ),
    )


K = TypeVar("K")
V = TypeVar("V")


class _Cache(Generic[K, V]):
    """A small expiring map; oldest entries go first when it is full."""

    def __init__(self, ttl: float, now: Callable[[], float], size: int) -> None:
        self.ttl, self.now, self.size = ttl, now, size
        self.items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> tuple[bool, V | None]:
        found = self.items.get(key)
        if found is None:
            return False, None
        if found[0] <= self.now():
            del self.items[key]
            return False, None
        return True, found[1]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        self.items.pop(key, None)
        self.items[key] = (self.now() + (self.ttl if ttl is None else ttl), value)
        while len(self.items) > self.size:
            del self.items[next(iter(self.items))]

    def drop(self, key: K) -> None:
        self.items.pop(key, None)


class Directory:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 600.0,
        miss_ttl: float = 60.0,
        now: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ) -> None:
        self.client = client
        self.miss_ttl = miss_ttl
        self._users: _Cache[str, SlackUser] = _Cache(ttl, now, size)
        self._emails: _Cache[str, str | None] = _Cache(ttl, now, size)
        self._inflight: dict[str, asyncio.Future[SlackUser]] = {}

    def cached(self, user_id: str) -> SlackUser | None:
        hit, user = self._users.get(user_id)
        return user if hit else None

    async def user(self, user_id: str) -> SlackUser:
        """The person behind a user id; a failed lookup is marked `failed` (not cached)."""
        known = self.cached(user_id)
        if known is not None:
            return known
        pending = self._inflight.get(user_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[SlackUser] = asyncio.get_running_loop().create_future()
        self._inflight[user_id] = future
        try:
            user = await self._fetch(user_id)
            future.set_result(user)
            return user
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, no "never retrieved" noise
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._inflight[user_id]

    async def _fetch(self, user_id: str) -> SlackUser:
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in ("user_not_found", "users_not_found"):
                user = SlackUser(user_id)
                self._users.put(user_id, user, self.miss_ttl)
                return user
            log.warning("users.info failed for %s: %s", user_id, error)
            return SlackUser(user_id, failed=True)
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            log.warning("users.info unreachable for %s: %s", user_id, type(exc).__name__)
            return SlackUser(user_id, failed=True)
        data = response.get("user") or {}
        user = _user_of(user_id, data)
        log.debug("users.info %s -> %s", user_id, user.email)
        self._users.put(user_id, user)
        if user.email:
            self._emails.put(user.email, user_id)
        return user

    async def user_id_for(self, email: str) -> str | None:
        """`users.lookupByEmail` (SPEC §5: how invitations reach Slack users); None when
        the workspace has no such person. Other API errors propagate to the caller."""
        email = email.strip().lower()
        hit, user_id = self._emails.get(email)
        if hit:
            return user_id
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error in ("users_not_found", "user_not_found"):
                self._emails.put(email, None, self.miss_ttl)
                return None
            raise
        data = response.get("user") or {}
        found = data.get("id")
        if not found or data.get("deleted") or data.get("is_bot"):
            self._emails.put(email, None, self.miss_ttl)
            return None
        self._emails.put(email, str(found))
        return str(found)
