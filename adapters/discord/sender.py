"""The outbox's way out to Discord: DMs and channel posts, for the dispatcher.

- A DM goes to the Discord user linked to the recipient's account (`Core.identities`):
  its DM channel is opened once (`POST /users/@me/channels`) and its id kept — discord.py
  keeps only its latest 128 — and the message posted with the outbox row id as `nonce`
  and `enforce_nonce`, so a re-send after a crash between Discord's "ok" and our "sent"
  is dropped by Discord (SPEC §6). A message of several pages gives each page its own
  nonce (`<row>`, `<row>.1`, ...). A DM someone writes to the bot tells us their
  channel for free (`remember_dm`).
- Limits: Discord allows a bot 50 requests a second in all (the global rate limit,
  https://discord.com/developers/docs/topics/rate-limits#global-rate-limit); interaction
  answers are not counted. The sender declares that (`limits`) and what one message
  costs under it (`cost`: a request per page, plus one to open a DM channel it does not
  know yet); its `throttle` paces the Router's lane for Discord and the front end's own
  posts (DM replies, a command's channel post) alike (`bot.pacing`). discord.py keeps
  the per-route buckets itself, and waits out a short 429 by itself.
- Errors: a rate limit longer than discord.py waits out itself (`RateLimited`, or a 429
  it gave up on) is `SendError(retry_after=...)`, which holds Discord's throttle; 403 (the
  person blocked the bot or closed their DMs) and 404 are permanent — the dispatcher marks
  the recipient unreachable on Discord; anything else is retried with back-off.
- Check-in actions (`Outgoing.actions`) become buttons whose click runs the action's
  command as the person who clicked (see `views.CheckIn`).
- Files (`Outgoing.files`) follow the text in messages of their own, packed within
  Discord's limits (`adapters.discord.files`), each with its own nonce (`<row>.f0`, ...);
  one that fails is logged, counted and said, and never fails the text before it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import discord

from adapters.discord.files import (
    FILE_LIMIT,
    MAX_FILES,
    as_discord,
    bundles,
    counted,
    left_out_line,
)
from adapters.discord.render import NO_PINGS, pages
from adapters.discord.views import check_in_view
from bot.messages import Attachment, Outgoing, Via
from bot.observe import Observed
from bot.pacing import Throttle, bot_key
from bot.ports import Limits, SendError

log = logging.getLogger("coachbot.discord.sender")

DEFAULT_RETRY_AFTER = 60.0
# the global limit; interaction answers do not count, the front end's posts share the pace
LIMITS = Limits(per_second=50.0)
Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


async def post(
    channel: discord.abc.Messageable,
    message: Outgoing,
    *,
    nonce: str | None = None,
    observed: Observed | None = None,
) -> list[discord.Message]:
    """Every page of `message` to `channel`, buttons on the last one; then its files."""
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
    if message.files:
        sent += await post_files(channel.send, message.files, nonce=nonce, observed=observed)
    return sent


async def post_files(
    send: Callable[..., Awaitable[Any]],
    files: tuple[Attachment, ...],
    *,
    nonce: str | None = None,
    observed: Observed | None = None,
    limit: int = FILE_LIMIT,
) -> list[discord.Message]:
    """The files of a message whose text went already, in as few messages as Discord's
    limits allow, through `send` (a channel's, or an interaction's follow-up). A message
    of files that fails is counted and said, never raised."""
    observed = observed or Observed()
    packed = bundles(files, limit)
    counted(observed, packed)
    sent: list[discord.Message] = []
    failed: list[str] = []
    for index, group in enumerate(packed.messages):
        names = [f.name for f in group]
        kwargs: dict[str, Any] = {"files": as_discord(group), "allowed_mentions": NO_PINGS}
        if nonce is not None:
            kwargs["nonce"] = f"{nonce}.f{index}"
        try:
            sent.append(await send(**kwargs))
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as exc:
            observed.files("discord", "failed", names, type(exc).__name__)
            failed += names
            continue
        observed.files("discord", "sent", names)
    notes = [left_out_line(packed.left_out, limit)] if packed.left_out else []
    if failed:
        notes.append(f"I could not attach {', '.join(failed)} here; please ask again later.")
    if notes:
        try:
            await send(content="\n".join(notes), allowed_mentions=NO_PINGS)
        except (discord.HTTPException, aiohttp.ClientError, OSError):
            log.info("could not say that files failed")
    return sent


def _retry_after(exc: discord.HTTPException) -> float:
    header = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(float(header), 1.0) if header else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


@contextmanager
def discord_failures() -> Iterator[None]:
    """Discord's refusals and a network failure inside the block, as `SendError`s."""
    try:
        yield
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


class DiscordSender:
    """The dispatcher's Sender (and the Router's PlatformSender) for Discord."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        identities: Identities,
        *,
        limits: Limits = LIMITS,
        observed: Observed | None = None,
        token: str = "",
    ) -> None:
        self.client = client
        self.identities = identities
        self.limits = limits
        self.observed = observed or Observed()
        self.throttle = Throttle.under(limits)  # Discord's one pace, for every request
        # the processes (shards) of this bot token share its pace on PostgreSQL
        self.bot_key = bot_key(token) if token else ""
        self._dm_channels: dict[int, int] = {}  # Discord user -> their DM channel with us
        self._user_of: dict[int, int] = {}  # account -> its Discord user, once resolved

    def cost(self, message: Outgoing) -> int:
        """A request per page and per message of files, and one more to open a DM channel
        not known yet."""
        requests = len(pages(message)) + -(-len(message.files) // MAX_FILES)
        if message.via is Via.DM and self._dm_channel_of(message.account_id) is None:
            requests += 1
        return requests

    async def prepare(self, message: Outgoing) -> None:
        """Before its slot is reserved: the DM's Discord user, found once per process, so
        that `cost` knows a DM channel the person told us of by writing to the bot."""
        if message.via is Via.DM and message.account_id is not None:
            if message.account_id not in self._user_of:
                with contextlib.suppress(SendError):
                    await self._recipient(message)

    async def reaches_by_email(self, email: str) -> bool:
        """Discord cannot find people by e-mail."""
        return False

    def remember_dm(self, user_id: int, channel_id: int) -> None:
        """A DM the person wrote to us tells us their DM channel for free."""
        self._dm_channels[user_id] = channel_id

    def _dm_channel_of(self, account_id: int | None) -> int | None:
        user = self._user_of.get(account_id) if account_id is not None else None
        return self._dm_channels.get(user) if user is not None else None

    async def _recipient(self, message: Outgoing) -> int:
        if message.account_id is None:
            raise SendError("Discord cannot reach someone by e-mail", permanent=True)
        for platform, _space, user_id in await self.identities(message.account_id):
            if platform == self.platform and user_id.isdigit():
                self._user_of[message.account_id] = int(user_id)
                return int(user_id)
        raise SendError("no Discord account is linked to this person", permanent=True)

    async def _channel(self, message: Outgoing) -> discord.abc.Messageable:
        if message.via is Via.CHANNEL:
            if message.channel is None or not message.channel.channel_id.isdigit():
                raise SendError("a channel post without a Discord channel", permanent=True)
            return self.client.get_partial_messageable(int(message.channel.channel_id))
        user_id = await self._recipient(message)
        known = self._dm_channels.get(user_id)
        if known is not None:
            return self.client.get_partial_messageable(known, type=discord.ChannelType.private)
        channel = await self.client.create_dm(discord.Object(user_id))
        self._dm_channels[user_id] = channel.id
        return channel

    async def send(self, message: Outgoing, *, nonce: str | None = None) -> None:
        """`nonce`: the outbox row id (None for a command's own channel post)."""
        with discord_failures():
            channel = await self._channel(message)
            try:
                await post(channel, message, nonce=nonce, observed=self.observed)
            except discord.NotFound:
                if message.via is Via.DM and message.account_id is not None:
                    # that DM channel is gone: open one afresh next time
                    self._dm_channels.pop(self._user_of.get(message.account_id, 0), None)
                raise

    async def reply(self, channel: discord.abc.Messageable, message: Outgoing) -> None:
        """A reply in the DM someone wrote in (no nonce: it is not an outbox row)."""
        with discord_failures():
            await post(channel, message, observed=self.observed)
