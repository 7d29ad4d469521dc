"""The outbox's way out to Discord: DMs and channel posts, for the dispatcher.

- A DM goes to the Discord user linked to the recipient's account (`Core.identities`):
  its DM channel is opened (`POST /users/@me/channels`, cached by discord.py) and the
  message posted with the outbox row id as `nonce` and `enforce_nonce` — so a re-send
  after a crash between Discord's "ok" and our "sent" is dropped by Discord (SPEC §6).
  A message of several pages gives each page its own nonce (`<row>`, `<row>.1`, ...).
- Pacing: DMs are opened at most `DM_PER_SECOND` a second, well inside Discord's global
  50 requests a second, leaving room for interactions; discord.py keeps the per-route
  buckets. The clock and the sleep are injected, so tests never wait.
- Errors: a rate limit longer than discord.py waits out itself (`RateLimited`, or a 429
  it gave up on) is `SendError(retry_after=...)`, which pauses the dispatcher; 403 (the
  person blocked the bot or closed their DMs) and 404 are permanent — the dispatcher marks
  the recipient unreachable on Discord; anything else is retried with back-off.
- Check-in actions (`Outgoing.actions`) become buttons whose click runs the action's
  command as the person who clicked (see `views.CheckIn`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord

from adapters.discord.render import NO_PINGS, pages
from adapters.discord.views import check_in_view
from bot.messages import Outgoing, Via
from bot.schedule.dispatcher import SendError

log = logging.getLogger("coachbot.discord.sender")

DM_PER_SECOND = 10.0
DEFAULT_RETRY_AFTER = 60.0
Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


class Pacer:
    """At most `per_second` starts a second, evenly spaced; `now` and `sleep` injectable."""

    def __init__(
        self,
        per_second: float = DM_PER_SECOND,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self.now = now
        self.sleep = sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = self.now()
            if now < self._next:
                await self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


async def post(
    channel: discord.abc.Messageable, message: Outgoing, *, nonce: str | None = None
) -> list[discord.Message]:
    """Every page of `message` to `channel`, buttons on the last one."""
    sent = []
    shown = pages(message)
    for index, page in enumerate(shown):
        last = index == len(shown) - 1
        kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if page.embed is not None:
            kwargs["embed"] = page.embed
        if last and message.actions:
            kwargs["view"] = check_in_view(message.actions)
        if nonce is not None:
            kwargs["nonce"] = nonce if index == 0 else f"{nonce}.{index}"
        sent.append(await channel.send(page.content, **kwargs))
    return sent


def _retry_after(exc: discord.HTTPException) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(float(header), 1.0) if header else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


class DiscordSender:
    """The dispatcher's Sender (and the Router's PlatformSender) for Discord."""

    platform = "discord"

    def __init__(
        self, client: discord.Client, identities: Identities, *, pacer: Pacer | None = None
    ) -> None:
        self.client = client
        self.identities = identities
        self.pacer = pacer or Pacer()

    async def reaches_by_email(self, email: str) -> bool:
        """Discord cannot find people by e-mail."""
        return False

    async def _recipient(self, message: Outgoing) -> int:
        if message.account_id is None:
            raise SendError("Discord cannot reach someone by e-mail", permanent=True)
        for platform, _space, user_id in await self.identities(message.account_id):
            if platform == self.platform and user_id.isdigit():
                return int(user_id)
        raise SendError("no Discord account is linked to this person", permanent=True)

    async def _channel(self, message: Outgoing) -> discord.abc.Messageable:
        if message.via is Via.CHANNEL:
            if message.channel is None or not message.channel.channel_id.isdigit():
                raise SendError("a channel post without a Discord channel", permanent=True)
            return self.client.get_partial_messageable(int(message.channel.channel_id))
        user_id = await self._recipient(message)
        await self.pacer.wait()
        return await self.client.create_dm(discord.Object(user_id))

    async def send(self, message: Outgoing, *, nonce: str | None = None) -> None:
        """`nonce`: the outbox row id (None for a command's own channel post)."""
        try:
            channel = await self._channel(message)
            await post(channel, message, nonce=nonce)
        except SendError:
            raise
        except discord.RateLimited as exc:
            raise SendError("rate limited by Discord", retry_after=exc.retry_after) from exc
        except discord.Forbidden as exc:
            # 50007: the person blocked the bot or accepts no DMs; 50001: no access
            raise SendError(f"Discord refused: {exc.text or exc.status}", permanent=True) from exc
        except discord.NotFound as exc:
            raise SendError(f"Discord knows no such target: {exc.text}", permanent=True) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise SendError("rate limited by Discord", retry_after=_retry_after(exc)) from exc
            raise SendError(f"Discord answered {exc.status}: {exc.text}") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SendError(f"Discord unreachable: {type(exc).__name__}") from exc
