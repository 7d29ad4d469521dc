"""The Discord front end: a discord.py client serving the core's commands.

- Slash commands: `CoachTree.interaction_check` is the middleware (ARCHITECTURE §5-6):
  every command is acknowledged first with an ephemeral deferral — well inside Discord's
  3 s, whatever the work costs — then the typed options, by parameter name, are run
  through `Core.handle_command`, which builds the command from them (no text in
  between). The answer is an ephemeral follow-up; a channel post the core returned (a
  leaderboard typed in its linked channel) is posted to its channel.
  A deferral that fails (another process already answered this interaction) stops there:
  the command never runs twice.
- DMs to the bot: free text runs the DM forms (`8k easy 42:10`, `done`, `skip`); an
  attached activity file is logged via `Core.handle_file`. Each message is handled once,
  recorded by `Core.first_delivery`.
- Buttons: the check-in buttons of daily DMs and an invitation's Accept / Decline
  (`views.CheckIn`).
- Files of an answer (a chart) follow its text as ephemeral follow-ups with attachments,
  within the interaction's own upload limit (`adapters.discord.files`).
- An unexpected error is logged and answered with the core's short apology, never a
  stack trace and never silence.
- Start-up: `COACHBOT_DISCORD_API_URL` / `COACHBOT_DISCORD_GATEWAY_URL` point discord.py's
  REST routes and gateway at another Discord-compatible server (a local double in tests);
  the commands are synced per configured guild, else globally. `COACHBOT_DISCORD_SHARDS`
  (ID/COUNT) connects as that shard: Discord sends it the events of its servers
  ((guild_id >> 22) % COUNT == ID), and DMs to shard 0.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands

from adapters.buttons import button_line
from adapters.discord.commands import build_commands, local_suggestions
from adapters.discord.files import FILE_LIMIT
from adapters.discord.identity import interaction_caller, message_caller
from adapters.discord.render import NO_PINGS, pages
from adapters.discord.sender import LIMITS, DiscordSender, post_files
from adapters.discord.views import CheckIn
from adapters.network import network_reason, quiet_network_retries
from bot.commands.base import CommandSpec
from bot.config import Settings
from bot.core import APOLOGY, Core
from bot.importers import MAX_FILE_BYTES
from bot.messages import Outgoing, Via
from bot.pacing import send_now
from bot.ports import FrontEndStartError, Limits
from bot.schedule.routing import recipient_key

log = logging.getLogger("coachbot.discord")

MAX_RATELIMIT_WAIT = 30.0  # longer rate limits are raised (a send is re-planned), not slept


def point_at(api_url: str, gateway_url: str) -> None:
    """discord.py's REST base and gateway are process-wide class attributes."""
    discord.http.Route.BASE = api_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def guild_ids_of(value: object) -> tuple[int, ...]:
    """`1,2` or a list of ids (a setting the core may grow: COACHBOT_DISCORD_GUILD_IDS)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = value.split(",")
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    return tuple(int(str(item).strip()) for item in items if str(item).strip())


class DiscordStartError(FrontEndStartError):
    """The Discord front end cannot start (the token refused, Discord unreachable)."""


class Handled:
    """Which interactions and DMs the adapter is answering and has finished answering
    (shutdown waits for the first; tests and benchmarks that must know when the last
    follow-up went out, for the second); keeps the newest."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._events: OrderedDict[int, asyncio.Event] = OrderedDict()
        self.in_progress: set[int] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self, key: int) -> None:
        self.in_progress.add(key)
        self._idle.clear()

    async def settled(self) -> None:
        """Until nothing started is still being answered."""
        await self._idle.wait()

    def _event(self, key: int) -> asyncio.Event:
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
            while len(self._events) > self.keep:
                self._events.popitem(last=False)
        return event

    def finish(self, key: int) -> None:
        self._event(key).set()
        self.in_progress.discard(key)
        if not self.in_progress:
            self._idle.set()

    async def wait(self, key: int, within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            await self._event(key).wait()


class CoachTree(app_commands.CommandTree["CoachClient"]):
    async def interaction_check(self, interaction: discord.Interaction[CoachClient], /) -> bool:
        if interaction.type is not discord.InteractionType.application_command:
            return True  # autocomplete answers at once, without deferring
        front = self.client.front
        if front.draining:
            return False  # stopping: left unanswered here, for a process that goes on
        front.handled.start(interaction.id)
        return await front.acknowledge(interaction)

    async def on_error(
        self, interaction: discord.Interaction[CoachClient], error: app_commands.AppCommandError, /
    ) -> None:
        log.error("discord command failed", exc_info=error)
        await self.client.front.apologise(interaction)
        self.client.front.handled.finish(interaction.id)


class CoachClient(discord.Client):
    def __init__(
        self,
        front: DiscordFrontEnd,
        *,
        guild_ready_timeout: float,
        shard: tuple[int, int] | None = None,
    ) -> None:
        # coachbot has no voice: say nothing about the voice libraries it does not need
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True  # a DM's content reaches a bot without message_content
        super().__init__(
            intents=intents,
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            allowed_mentions=NO_PINGS,
            # COACHBOT_DISCORD_SHARDS: Discord sends this process its shard's servers only
            shard_id=shard[0] if shard is not None else None,
            shard_count=shard[1] if shard is not None else None,
        )
        self.front = front
        self.tree = CoachTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CheckIn)
        await self.front.sync_commands()

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d guilds", self.user, len(self.guilds))
        self.front.ready.set()

    async def on_disconnect(self) -> None:
        if not self.front.ready.is_set():
            self.front.lost_before_ready.set()  # never connected: a start-up failure

    async def on_message(self, message: discord.Message) -> None:
        await self.front.on_direct_message(message)


class DiscordFrontEnd:
    """What `coachbot run` needs: `.sender`, `run()`, `stop()`."""

    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        guild_ids: Sequence[int] = (),
        guild_ready_timeout: float = 2.0,
        limits: Limits = LIMITS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not settings.discord_token:
            raise ValueError("COACHBOT_DISCORD_TOKEN is not set")
        self.token = settings.discord_token
        self.core = core
        self.guild_ids = tuple(guild_ids)
        self.handled = Handled()
        self.ready = asyncio.Event()  # set once connected and the guilds are known
        self.lost_before_ready = asyncio.Event()
        point_at(settings.discord_api_url, settings.discord_gateway_url)
        self.shard = settings.discord_shard
        self.client = CoachClient(self, guild_ready_timeout=guild_ready_timeout, shard=self.shard)
        self.built = build_commands(self.run_command, self.suggest)
        for command in self.built.commands:
            self.client.tree.add_command(command)
        self.sender = DiscordSender(
            self.client,
            self.core.identities,
            limits=limits,
            observed=core.observed,
            token=self.token,
        )
        self.sleep = sleep  # the wait for a turn in Discord's pace (tests pass their own)
        self.draining = False  # stopping: no new interaction or DM is taken
        self._gateway: asyncio.Future[None] | None = None

    # -- life cycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Log in and serve until cancelled (or stopped). A refused token or an unreachable
        Discord at start-up raises DiscordStartError; once connected, discord.py reconnects
        after an outage with exponential back-off (docs/DESIGN.md)."""
        quiet_network_retries(
            logging.getLogger("discord.client"), drop_while=lambda: not self.ready.is_set()
        )
        try:
            await self._log_in()
            await self._connect()
        finally:
            # drained: the gateway is closed, and the REST session stays open for the
            # answers still in flight until stop()
            if not self.client.is_closed() and not self.draining:
                await self.client.close()

    async def _log_in(self) -> None:
        try:
            await self.client.login(self.token)
        except discord.LoginFailure:
            raise DiscordStartError("Discord refused COACHBOT_DISCORD_TOKEN") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise DiscordStartError(
                f"cannot reach Discord at COACHBOT_DISCORD_API_URL {discord.http.Route.BASE} "
                f"({network_reason(exc)})"
            ) from None

    async def _connect(self) -> None:
        """The gateway: the first connection must succeed (discord.py would retry it
        forever, or fail on its missing session); later ones are discord.py's to retry."""
        connecting = self._gateway = asyncio.ensure_future(self.client.connect(reconnect=True))
        ready = asyncio.ensure_future(self.ready.wait())
        lost = asyncio.ensure_future(self.lost_before_ready.wait())
        try:
            await asyncio.wait((connecting, ready, lost), return_when=asyncio.FIRST_COMPLETED)
            if self.draining:
                return  # stopped before it was ready: nothing to report
            if not self.ready.is_set():
                failure = connecting.exception() if connecting.done() else None
                if isinstance(failure, discord.ConnectionClosed) and failure.code == 4004:
                    raise DiscordStartError("Discord refused COACHBOT_DISCORD_TOKEN")
                raise DiscordStartError(
                    "cannot reach the Discord gateway at COACHBOT_DISCORD_GATEWAY_URL "
                    f"{discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY}"
                    + (f" ({network_reason(failure)})" if failure is not None else "")
                )
            try:
                await connecting
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not self.draining or (task is not None and task.cancelling()):
                    raise
                # drain() ended the gateway: serving is over, without an error
        finally:
            for task in (connecting, ready, lost):
                task.cancel()
            await asyncio.gather(connecting, ready, lost, return_exceptions=True)

    async def drain(self) -> None:
        """Take no new events — the gateway closed (Discord delivers to the sessions still
        open: another process of the bot), an event already read is left unanswered —
        and wait until the interactions and DMs being answered are answered, over the
        REST session kept open until `stop()` (the caller bounds the wait)."""
        self.draining = True
        self.ready.clear()
        gateway, self._gateway = self._gateway, None
        if gateway is not None and not gateway.done():
            gateway.cancel()
            await asyncio.gather(gateway, return_exceptions=True)
        ws = self.client.ws
        if ws is not None and ws.open:
            await ws.close(code=1000)
        log.info("Discord: taking no new events; %s in progress", len(self.handled.in_progress))
        await self.handled.settled()

    async def stop(self) -> None:
        await self.client.close()

    async def connected(self) -> bool:
        """Connected to the gateway now (`/readyz`): ready once, and the socket open (not
        between a drop and discord.py's reconnection)."""
        ws = self.client.ws
        return (
            self.ready.is_set() and not self.client.is_closed() and ws is not None and bool(ws.open)
        )

    async def sync_commands(self) -> None:
        """Publish the command set (per configured guild, else globally). A sync Discord
        refuses is logged, and the bot serves on with the commands Discord has. Of
        several shards, shard 0 publishes (the set is the bot's, not a shard's)."""
        if self.shard is not None and self.shard[0] != 0:
            return
        tree = self.client.tree
        for guild_id in self.guild_ids or (None,):
            guild = discord.Object(guild_id) if guild_id is not None else None
            if guild is not None:
                tree.copy_global_to(guild=guild)
            try:
                await tree.sync(guild=guild)
            except discord.HTTPException:
                log.exception("Discord refused the commands for %s", guild_id or "all guilds")
                continue
            log.info("synced %d commands to %s", len(self.built.commands), guild_id or "all guilds")

    # -- slash commands and buttons ------------------------------------------------------

    async def acknowledge(self, interaction: discord.Interaction[Any]) -> bool:
        """Defer (ephemeral) before any work; False when this interaction is not ours
        to answer (already acknowledged elsewhere, or expired)."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as exc:
            log.warning("could not acknowledge interaction %s: %s", interaction.id, exc)
            self.handled.finish(interaction.id)
            return False
        return True

    async def run_command(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, options: dict[str, Any]
    ) -> None:
        try:
            caller = interaction_caller(interaction)
            await self._answer(interaction, await self.core.handle_command(caller, spec, options))
        except Exception:
            log.exception("discord interaction %s failed", interaction.id)
            await self.apologise(interaction)
        finally:
            self.handled.finish(interaction.id)

    async def run_action(self, interaction: discord.Interaction[Any], command: str) -> None:
        """A button: the same as typing `command`, answered privately. A message in a DM
        is one person's: once its button went through, its buttons are taken away. A
        channel's message (a club run's Going / Maybe / Can't) is everyone's: its
        buttons stay for the next person, and for changing one's answer."""
        if self.draining:
            return
        self.handled.start(interaction.id)
        if not await self.acknowledge(interaction):
            return
        try:
            answers = await self.core.handle(interaction_caller(interaction), button_line(command))
            await self._answer(interaction, answers)
            in_dm = interaction.guild_id is None
            if in_dm and interaction.message is not None and all(a.ok for a in answers):
                try:
                    await interaction.message.edit(view=None)
                except discord.HTTPException:
                    log.info("could not remove the buttons of message %s", interaction.message.id)
        except Exception:
            log.exception("discord button %s failed", interaction.id)
            await self.apologise(interaction)
        finally:
            self.handled.finish(interaction.id)

    async def _answer(self, interaction: discord.Interaction[Any], answers: list[Outgoing]) -> None:
        notes = await self._post_to_channels(answers)
        replies = [a for a in answers if a.via is Via.REPLY]
        if not replies and not notes:
            replies = [Outgoing(Via.REPLY, "Done.")]
        for reply in replies:
            for page in pages(reply):
                await interaction.followup.send(
                    page.content or discord.utils.MISSING,
                    embed=page.embed or discord.utils.MISSING,
                    ephemeral=True,
                    allowed_mentions=NO_PINGS,
                )
            if reply.files:  # after the text, in ephemeral follow-ups of their own
                await post_files(
                    functools.partial(interaction.followup.send, ephemeral=True),
                    reply.files,
                    observed=self.sender.observed,
                    limit=getattr(interaction, "filesize_limit", None) or FILE_LIMIT,
                )
        for note in notes:
            await interaction.followup.send(note, ephemeral=True, allowed_mentions=NO_PINGS)

    async def _post_to_channels(self, answers: list[Outgoing]) -> list[str]:
        """Channel posts first, so that "Posted to #x" is true when it is read."""
        notes = []
        for message in answers:
            if message.via is not Via.CHANNEL or message.channel is None:
                continue
            try:
                await self._paced(
                    functools.partial(self.sender.send, message),
                    to=recipient_key(message),
                    cost=self.sender.cost(message),
                )
            except Exception as exc:
                log.warning("channel post to %s failed: %s", message.channel, exc)
                notes.append(
                    f"I could not post to {message.channel.name or 'that channel'}: "
                    "check that I may send messages there."
                )
        return notes

    async def _paced(self, attempt: Callable[[], Awaitable[None]], *, to: str, cost: int) -> None:
        """A post of the front end's own (not an interaction answer, which Discord does not
        count) in its turn in Discord's one pace, shared with the outbox's sends."""
        await send_now(self.sender.throttle, self.core.clock, self.sleep, attempt, to=to, cost=cost)

    async def apologise(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.response.is_done():
                await interaction.followup.send(APOLOGY, ephemeral=True)
            else:
                await interaction.response.send_message(APOLOGY, ephemeral=True)
        except Exception:
            log.exception("could not even apologise for interaction %s", interaction.id)

    async def suggest(
        self, interaction: discord.Interaction[Any], kind: str, prefix: str
    ) -> list[str]:
        local = local_suggestions(kind, prefix)
        if local is not None:
            return local
        try:
            return await self.core.suggest(interaction_caller(interaction), kind, prefix)
        except Exception:
            log.exception("autocomplete of %s failed", kind)
            return []

    # -- DMs to the bot ------------------------------------------------------------------

    async def on_direct_message(self, message: discord.Message) -> None:
        if message.guild is not None or message.author.bot or self.draining:
            return  # the bot reads DMs only (and no bot, itself included)
        self.handled.start(message.id)
        try:
            if not await self.core.first_delivery("discord", f"message:{message.id}"):
                return
            self.sender.remember_dm(message.author.id, message.channel.id)
            caller = message_caller(message)
            if message.attachments:
                answers: list[Outgoing] = []
                for attachment in message.attachments:
                    answers += await self._file(caller, attachment)
            elif message.content.strip():
                answers = await self.core.handle(caller, message.content)
            else:
                return
            for answer in answers:
                if answer.via is Via.REPLY:
                    await self._paced(
                        functools.partial(self.sender.reply, message.channel, answer),
                        to=f"channel:{message.channel.id}",
                        cost=len(pages(answer)),
                    )
            await self._post_to_channels(answers)
        except Exception:
            log.exception("discord DM %s failed", message.id)
            try:
                await message.channel.send(APOLOGY)
            except Exception:
                log.exception("could not apologise for DM %s", message.id)
        finally:
            self.handled.finish(message.id)

    async def _file(self, caller: Any, attachment: discord.Attachment) -> list[Outgoing]:
        if attachment.size > MAX_FILE_BYTES:
            return [
                Outgoing(
                    Via.REPLY,
                    f"{attachment.filename} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, "
                    "the most I read.",
                    ok=False,
                )
            ]
        data = await attachment.read()
        return await self.core.handle_file(caller, attachment.filename, data)


def build_discord(settings: Settings, core: Core, **options: Any) -> DiscordFrontEnd:
    """The front end `coachbot run` starts (bot/cli.py): built from the core inside
    `bootstrap(senders=...)`, so its sender is one of the Router's."""
    guild_ids = options.pop("guild_ids", None)
    if guild_ids is None:
        guild_ids = guild_ids_of(getattr(settings, "discord_guild_ids", None))
    return DiscordFrontEnd(settings, core, guild_ids=guild_ids, **options)
