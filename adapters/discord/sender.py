"""The outbox's way out to Discord: DMs and channel posts, for the dispatcher.

- A DM goes to the Discord user linked to the recipient's account (`Core.identities`):
  its DM channel is opened (`POST /users/@me/channels`, cached by discord.py) and the
  message posted with the outbox row id as `nonce` and `enforce_nonce` — so a re-send
  after a crash between Discord's "ok" and our "sent" is dropped by Discord (SPEC §6).
  A message of several pages gives each page its own nonce (`<row>`, `<row>.1`, ...).
- Limits: Discord allows a bot 50 requests a second in all (the global rate limit,
  https://discord.com/developers/docs/topics/rate-limits#global-rate-limit); the sender
  declares them (`limits`) and what one message costs under them (`cost`: a request per
  page, plus one to open a DM channel discord.py has not cached), and the Router's
  throttle for Discord paces the dispatcher to them. discord.py keeps the per-route
  buckets itself.
- Errors: a rate limit longer than discord.py waits out itself (`RateLimited`, or a 429
  it gave up on) is `SendError(retry_after=...)`, which holds Discord's lane; 403 (the
  person blocked the bot or closed their DMs) and 404 are permanent — the dispatcher marks
  the recipient unreachable on Discord; anything else is retried with back-off.
- Check-in actions (`Outgoing.actions`) become buttons whose click runs the action's
  command as the person who clicked (see `views.CheckIn`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord

from adapters.discord.render import NO_PINGS, pages
from adapters.discord.views import check_in_view
from bot.messages import Outgoing, Via
from bot.ports import Limits, SendError

log = logging.getLogger("coachbot.discord.sender")

DEFAULT_RETRY_AFTER = 60.0
# the global limit, less room for the interactions (command answers) of the same bot
LIMITS = Limits(per_second=40.0)
Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


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
        self, client: discord.Client, identities: Identities, *, limits: Limits = LIMITS
    ) -> None:
        self.client = client
        self.identities = identities
        self.limits = limits
        self._dm_opened: set[int] = set()  # accounts whose DM channel is open (and cached)

    def cost(self, message: Outgoing) -> int:
        """A request per page, and one more to open a DM channel not yet open."""
        requests = len(pages(message))
        if message.via is Via.DM and message.account_id not in self._dm_opened:
            requests += 1
        return requests

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
        channel = await self.client.create_dm(discord.Object(user_id))
        if message.account_id is not None:
            self._dm_opened.add(message.account_id)
        return channel

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
