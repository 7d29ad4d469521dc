"""The bolt app: slash commands, DMs (`message.im`) and buttons -> the core.

Every listener acknowledges first — inside Slack's 3 seconds whatever the database or
`users.info` are doing — and then works: it claims the delivery (`Core.first_delivery`, so
a retry or a duplicate `event_id` never repeats a side effect, across restarts and
processes), resolves the caller, runs the line through `Core.handle` and answers —
ephemeral through the request's `response_url`, in a DM with `chat.postMessage`, and a
channel post (a leaderboard typed in its linked channel) for everyone in that channel.

One middleware reads each request once into an `Incoming` (who, which workspace, where,
its delivery key) with a lazily resolved `Caller`: the person's verified e-mail and
workspace admin right from `users.info`, and — for a line that mentions people — the
e-mail Slack verified for each of them (SPEC §5a: a mention stands for that e-mail).
A person of another workspace (a channel shared between organizations) is refused there
and then, before the core is asked anything, so such a request can never read or change
the org bound to this one. Buttons are the check-in's, an invitation's Accept/Decline and
a club run's Going / Maybe / Can't (in a channel: answered to the presser alone).

Files with an answer (`Outgoing.files`, a chart) follow its text. An ephemeral answer
cannot carry a shared file, so an image is uploaded privately and shown in a second
ephemeral message by an image block (`slack_file: {"id": ...}`); a file that is not an
image (or an image Slack would not show there) is shared in the person's DM with the bot
instead, and the ephemeral answer says so. A DM answer and a channel post share their
files in their own conversation. The text always goes first (docs/DESIGN.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.buttons import button_line
from adapters.slack.blocks import ACTION_PREFIX, blocks_for, escape, payload, slack_wording
from adapters.slack.files import UploadFailed, image_blocks, is_image
from adapters.slack.identity import Directory
from adapters.slack.manifest import slash_roots
from adapters.slack.sender import SlackSender, slack_failures
from adapters.slack.translate import Origin, command_line, dm_line, is_direct, origin_of
from bot.commands.base import Caller
from bot.core import APOLOGY, Core
from bot.messages import Attachment, Outgoing, Via
from bot.pacing import send_now
from bot.ports import SendError

log = logging.getLogger("coachbot.slack")

MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")  # a mention, as translate.plain_text leaves it
MAX_MENTIONS = 20  # users.info lookups one line may cost
UNRESOLVED = (
    "I couldn't ask Slack who you mentioned just now, so I did nothing. "
    "Please try again in a minute."
)
FOREIGN = "This channel is shared with another workspace; use coachbot from your own workspace."
FILE_LIMIT = 25 * 1024 * 1024  # bytes; activity files are far smaller
Sleep = Callable[[float], Awaitable[None]]


class Incoming:
    """One request as the core needs it; the Slack user is resolved once, on demand."""

    def __init__(self, bot: SlackBot, origin: Origin, home_team: str) -> None:
        self.bot = bot
        self.origin = origin
        self.home_team = home_team
        self._caller: Caller | None = None

    @property
    def foreign(self) -> bool:
        return self.origin.is_foreign(self.home_team)

    async def first_delivery(self) -> bool:
        if self.origin.delivery is None:
            return True
        return await self.bot.core.first_delivery("slack", self.origin.delivery)

    async def caller(self) -> Caller | None:
        """The Caller, or None when the person may not use this workspace's bot (a bot
        user, or a member of another workspace as users.info tells)."""
        if self._caller is None:
            user = await self.bot.directory.user(self.origin.user_id)
            if user.is_bot:
                return None
            if self._elsewhere(user.team_id):
                return None
            self._caller = Caller(
                platform="slack",
                user_id=self.origin.user_id,
                space_id=self.home_team,
                email=user.email,
                display_name=user.name,
                channel=self.origin.channel(self.home_team),
                # a failed users.info: the core asks to try again, deciding nothing
                email_unknown=user.failed,
                space_admin=user.is_admin,
            )
        return self._caller

    def _elsewhere(self, team_id: str | None) -> bool:
        """A person of another workspace, whose e-mail that workspace's admins set."""
        return bool(team_id) and str(team_id).startswith("T") and team_id != self.home_team

    async def with_mentions(self, caller: Caller, line: str) -> Caller | None:
        """The caller with the users `line` mentions and the e-mail Slack verified for
        each (None: none, a bot, or a person of another workspace); None when Slack could
        not say for one of them (the line is then not run at all)."""
        wanted = list(dict.fromkeys(MENTION.findall(line)))[:MAX_MENTIONS]
        if not wanted:
            return caller
        users = await asyncio.gather(*(self.bot.directory.user(uid) for uid in wanted))
        if any(user.failed for user in users):
            return None
        mentions = tuple(
            (user.user_id, None if user.is_bot or self._elsewhere(user.team_id) else user.email)
            for user in users
        )
        return replace(caller, mentions=mentions)


class SlackBot:
    def __init__(
        self,
        core: Core,
        client: AsyncWebClient,
        directory: Directory,
        sender: SlackSender,
        *,
        signing_secret: str | None,
        bot_token: str,
        api_url: str,
        sleep: Sleep = asyncio.sleep,
        workers: int = 4,
    ) -> None:
        self.core = core
        self.client = client
        self.directory = directory
        self.sender = sender
        self.bot_token = bot_token
        self.sleep = sleep
        self.session: aiohttp.ClientSession | None = None
        self.roots = frozenset(slash_roots())
        self._file_hosts = {urlsplit(api_url).hostname or "slack.com"}
        # The work after ack() runs `workers` requests at a time: a burst queues here
        # (cheaply) instead of crowding the event loop that has to acknowledge the next
        # requests within Slack's 3 seconds (bench/slack_ack.py measures this).
        self.workers = asyncio.Semaphore(workers)
        self.in_flight = 0
        self.finished = 0  # listener runs completed (tests and stop() wait on these)
        self._progress = asyncio.Condition()
        self.bolt = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            process_before_response=False,
            raise_error_for_unhandled_request=False,
        )
        self.bolt.middleware(self._read_request)
        self.bolt.command(_any_command())(self._tracked(self.on_command))
        self.bolt.event("message")(self._tracked(self._message))
        self.bolt.action(_our_actions())(self._tracked(self.on_action))

    # -- work in flight -----------------------------------------------------------------

    def _tracked(self, listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Count each listener run, so shutdown can let the work after ack() finish."""

        @functools.wraps(listener)
        async def run(**kwargs: Any) -> None:
            self.in_flight += 1
            try:
                await listener(**kwargs)
            except Exception:
                log.exception("Slack listener %s failed", listener.__name__)
            finally:
                self.in_flight -= 1
                self.finished += 1
                async with self._progress:
                    self._progress.notify_all()

        return run

    async def settled(self, finished: int = 0) -> None:
        """Wait until at least `finished` listener runs are done and none is running."""
        async with self._progress:
            while self.in_flight or self.finished < finished:
                await self._progress.wait()

    # -- middleware ---------------------------------------------------------------------

    async def _read_request(
        self,
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[BoltResponse | None]],
    ) -> BoltResponse | None:
        origin = origin_of(body)
        if origin is not None:
            authorized = context.authorize_result
            home = (authorized.team_id if authorized else None) or context.team_id or ""
            context["coachbot"] = Incoming(self, origin, home)
        return await next()

    # -- slash commands -----------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        incoming: Incoming | None = context.get("coachbot")
        if incoming is None or incoming.foreign:
            await ack({"text": FOREIGN, "response_type": "ephemeral"})
            return
        await ack()
        async with self.workers:
            await self._command(incoming, body)

    async def _command(self, incoming: Incoming, body: dict[str, Any]) -> None:
        response_url = str(body.get("response_url") or "")
        caller = await self._go_on(incoming, response_url)
        if caller is None:
            return
        line = command_line(str(body.get("command", "")), str(body.get("text", "")))
        caller = await incoming.with_mentions(caller, line)
        if caller is None:
            await self.respond(response_url, _ephemeral(UNRESOLVED))
            return
        answer = await self.core.handle(caller, line)
        await self.deliver(
            answer,
            response_url=response_url,
            here=incoming.origin.channel_id,
            user_id=incoming.origin.user_id,
        )

    # -- direct messages ----------------------------------------------------------------

    async def _message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        async with self.workers:  # bolt acknowledged the event before calling us
            await self.on_message(event, context)

    async def on_message(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel = str(event.get("channel") or "")
        if event.get("channel_type") != "im" and not is_direct(channel):
            return
        if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
            return
        incoming: Incoming | None = context.get("coachbot")
        user = str(event.get("user") or "")
        if incoming is None or not user:
            return
        self.sender.remember_dm(user, channel)
        if incoming.foreign:
            await self.post(channel, payload(_said(FOREIGN)))
            return
        claimed = await self._claim(incoming)
        if claimed is None:
            await self.post(channel, payload(_said(APOLOGY)))
        if not claimed:
            return
        caller = await incoming.caller()
        if caller is None:
            await self.post(channel, payload(_said(FOREIGN)))
            return
        files = [f for f in event.get("files") or [] if isinstance(f, dict)]
        answer: list[Outgoing] = []
        if files:
            for file in files:
                answer += await self._log_file(caller, file)
        elif str(event.get("text") or "").strip():
            line = dm_line(str(event["text"]), self.roots)
            mentioned = await incoming.with_mentions(caller, line)
            if mentioned is None:
                await self.post(channel, payload(_said(UNRESOLVED)))
                return
            answer = await self.core.handle(mentioned, line)
        await self.deliver(answer, dm_channel=channel)

    async def _log_file(self, caller: Caller, file: dict[str, Any]) -> list[Outgoing]:
        if not (file.get("url_private_download") or file.get("url_private")) and file.get("id"):
            file = await self._file_info(file)  # Slack Connect: "file_access": "check_file_info"
        name = str(file.get("name") or file.get("title") or "activity")
        data = await self._download(file)
        if data is None:
            return [Outgoing(Via.REPLY, f"I could not download {name} from Slack.", ok=False)]
        return await self.core.handle_file(caller, name, data)

    async def _file_info(self, file: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self.client.files_info(file=str(file["id"]))
        except (SlackApiError, OSError, TimeoutError) as exc:
            log.warning("files.info failed: %s", type(exc).__name__)
            return file
        found = response.get("file")
        return {**file, **found} if isinstance(found, dict) else file

    async def _download(self, file: dict[str, Any]) -> bytes | None:
        """The file's bytes, fetched with the bot token — which only ever goes to Slack's
        own hosts (or the configured API host), never to a URL pointing elsewhere."""
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        host = urlsplit(url).hostname or ""
        trusted = host in self._file_hosts or host == "slack.com" or host.endswith(".slack.com")
        if not url or not trusted or int(file.get("size") or 0) > FILE_LIMIT:
            return None
        session = self._session()
        try:
            async with session.get(
                url, headers={"Authorization": f"Bearer {self.bot_token}"}, allow_redirects=False
            ) as response:
                if response.status != 200:
                    log.warning("file download answered HTTP %s", response.status)
                    return None
                data = await response.content.read(FILE_LIMIT + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("file download failed: %s", type(exc).__name__)
            return None
        return data if len(data) <= FILE_LIMIT else None

    # -- buttons ------------------------------------------------------------------------

    async def on_action(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        async with self.workers:
            await self._action(body, action, context)

    async def _action(
        self, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        incoming: Incoming | None = context.get("coachbot")
        response_url = str(body.get("response_url") or "")
        if incoming is None or incoming.foreign:
            await self.respond(response_url, _ephemeral(FOREIGN))
            return
        caller = await self._go_on(incoming, response_url)
        if caller is None:
            return
        answer = await self.core.handle(caller, button_line(str(action.get("value") or "")))
        replies = [m for m in answer if m.via is Via.REPLY]
        channel = incoming.origin.channel_id
        in_dm = bool(channel) and is_direct(str(channel))
        if in_dm and replies and all(m.ok for m in replies):
            # the check-in is done: the buttons give way to what it did (a channel's
            # message, a club run's Going / Maybe / Can't, is everyone's: it stays as it
            # is and the presser alone is answered)
            kept = [
                b
                for b in (body.get("message") or {}).get("blocks") or []
                if b.get("type") != "actions"
            ]
            said = "\n".join(m.text for m in replies)
            await self.respond(
                response_url,
                {
                    "replace_original": True,
                    "text": escape(slack_wording(said)),
                    "blocks": [*kept, *blocks_for(_said("✓ " + said))],
                },
            )
            answer = [m for m in answer if m.via is not Via.REPLY]
        elif not in_dm:
            # never touching the shared message: a reply to a button press may otherwise
            # be taken to replace it
            for reply in replies:
                private = {
                    **payload(reply),
                    "response_type": "ephemeral",
                    "replace_original": False,
                }
                await self.respond(response_url, private)
            answer = [m for m in answer if m.via is not Via.REPLY]
        await self.deliver(
            answer,
            response_url=response_url,
            dm_channel=channel if channel and is_direct(channel) else None,
            user_id=incoming.origin.user_id,
        )

    # -- answering ----------------------------------------------------------------------

    async def _go_on(self, incoming: Incoming, response_url: str) -> Caller | None:
        """The caller of a first delivery; None (answered where useful) for a repeat, a
        store that could not say, or a person coachbot cannot act for."""
        claimed = await self._claim(incoming)
        if claimed is None:
            await self.respond(response_url, _ephemeral(APOLOGY))
        if not claimed:
            return None
        caller = await incoming.caller()
        if caller is None:
            await self.respond(response_url, _ephemeral(FOREIGN))
        return caller

    async def _claim(self, incoming: Incoming) -> bool | None:
        """True for a first delivery, False for a repeat, None when the store could not
        say — then nothing runs (a retry must never repeat a side effect)."""
        try:
            first = await incoming.first_delivery()
        except Exception:
            log.exception("could not record delivery %s", incoming.origin.delivery)
            return None
        if not first:
            log.info("repeated delivery %s ignored", incoming.origin.delivery)
        return first

    async def deliver(
        self,
        answer: list[Outgoing],
        *,
        response_url: str = "",
        here: str | None = None,
        dm_channel: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Replies to the caller alone; channel posts to everyone in their channel. DMs are
        never in `answer` (the core queues them in the outbox, the dispatcher sends).
        Files follow each message's text (see the module's notes)."""
        for message in answer:
            body = payload(message)
            if message.via is Via.CHANNEL:
                target = message.channel
                if target is None or target.platform != "slack":
                    log.warning("a channel post for another platform was dropped")
                    continue
                if response_url and target.channel_id == here:
                    await self.respond(response_url, {**body, "response_type": "in_channel"})
                else:
                    await self.post(target.channel_id, body)
                if message.files:
                    await self.sender.share_files(target.channel_id, message.files)
            elif message.via is Via.REPLY:
                if dm_channel:
                    await self.post(dm_channel, body)
                    if message.files:
                        await self.sender.share_files(dm_channel, message.files)
                elif response_url:
                    await self.respond(response_url, {**body, "response_type": "ephemeral"})
                    if message.files:
                        await self._ephemeral_files(response_url, message.files, user_id)

    async def _ephemeral_files(
        self, response_url: str, files: tuple[Attachment, ...], user_id: str | None
    ) -> None:
        """Images in an ephemeral message of their own; what it cannot show, in the DM."""
        images = [f for f in files if is_image(f)]
        to_dm = [f for f in files if not is_image(f)]
        if images:
            observed = self.sender.observed
            names = [f.name for f in images]
            try:
                ids = await self.sender.uploader.upload(images, channel=None)
            except UploadFailed as exc:
                observed.files("slack", "failed", names, exc.reason)
                note = f"I could not attach {', '.join(names)} here; please ask again later."
                await self.respond(response_url, _ephemeral(note))
            else:
                shown = await self.respond(
                    response_url,
                    {
                        "response_type": "ephemeral",
                        "replace_original": False,
                        "text": escape("\n".join(f.alt or f.name for f in images)),
                        "blocks": image_blocks(images, ids),
                    },
                )
                if shown:
                    observed.files("slack", "sent", names)
                else:  # Slack would not show them there: they go to the DM instead
                    to_dm = images + to_dm
        if not to_dm:
            return
        names_text = ", ".join(f.name for f in to_dm)
        try:
            with slack_failures():
                channel = await self.sender.dm_channel(user_id or "")
        except SendError as exc:
            self.sender.observed.files("slack", "failed", [f.name for f in to_dm], exc.reason)
            return
        if await self.sender.share_files(channel, to_dm):
            await self.respond(
                response_url, _ephemeral(f"I sent {names_text} to our direct messages.")
            )

    async def respond(self, response_url: str, body: dict[str, Any]) -> bool:
        """Post to the request's `response_url`; whether Slack took it."""
        if not response_url:
            return False
        body = {k: v for k, v in body.items() if v is not None}
        try:
            async with self._session().post(response_url, json=body) as response:
                if response.status >= 300:
                    log.warning("response_url answered HTTP %s", response.status)
                    return False
                if response.content_type == "application/json":
                    answer = await response.json()
                    if isinstance(answer, dict) and answer.get("ok") is False:
                        log.warning("response_url refused: %s", answer.get("error"))
                        return False
                return True
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("response_url unreachable: %s", type(exc).__name__)
            return False

    async def post(self, channel: str, body: dict[str, Any]) -> None:
        """chat.postMessage for an interactive answer, in its turn in Slack's one pace
        (the sender's throttle, which the outbox's sends share): a 429 holds Slack for
        both and is waited out once (`bot.pacing.send_now`)."""

        async def attempt() -> None:
            with slack_failures():
                await self.sender.post(channel, body)

        try:
            await send_now(
                self.sender.throttle, self.core.clock, self.sleep, attempt, to=f"channel:{channel}"
            )
        except SendError as exc:
            log.warning("chat.postMessage to %s failed: %s", channel, exc.reason)

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self.session

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _said(text: str) -> Outgoing:
    return Outgoing(Via.REPLY, text)


def _ephemeral(text: str) -> dict[str, Any]:
    return {"text": escape(text), "response_type": "ephemeral", "replace_original": False}


def _any_command() -> re.Pattern[str]:
    """Every slash command: the core answers unknown ones with a pointer to /help."""
    return re.compile(r"^/[A-Za-z0-9_-]+$")


def _our_actions() -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(ACTION_PREFIX)}")
