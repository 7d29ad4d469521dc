"""The outbox's way into Slack (`bot.ports.PlatformSender`).

A DM finds its recipient's Slack user through their chat identity in this workspace, or
— for an invitee who has no account yet — through `users.lookupByEmail` (SPEC §5), opens
the conversation once (`conversations.open`, the channel id cached) and posts with
`chat.postMessage`. A channel post goes to its channel's id.

Failures become `SendError`s the dispatcher understands (`slack_failures`): HTTP 429
carries Slack's `Retry-After`, errors that no retry can fix (the user is gone, the
channel archived) are permanent, anything else is retried with back-off.

Limits (https://api.slack.com/docs/rate-limits): chat.postMessage "generally allows
posting one message per second per channel, while also maintaining a workspace-wide
limit" (the Special tier), and conversations.open is Tier 3, "50+ per minute". The
sender declares them: one second between two messages to one conversation, 50 opens a
minute, and a workspace-wide pace Slack does not publish — "several hundred messages
per minute" in its older guide, so 300 a minute. Its `throttle` paces the Router's lane
for Slack and the listeners' interactive answers alike (`bot.pacing`); `opens` and
`conversation` tell the throttle which messages open a conversation and where each
lands, from the DM channels this process already knows. `bot_key` (a hash of the token)
lets the processes of one bot share that pace on PostgreSQL (`bot.pacing.SharedPace`).

Files (`Outgoing.files`: a chart, an export) follow the text in the same conversation,
uploaded and shared there (`adapters.slack.files`); the text goes first, so a failed
upload loses nothing of it and never fails the send: it is logged, counted, and said in
a short line after the text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape, payload
from adapters.slack.files import Uploader, UploadFailed
from adapters.slack.identity import Directory
from bot.messages import Attachment, Outgoing, Via
from bot.observe import Observed
from bot.pacing import Throttle, bot_key
from bot.ports import Limits, SendError

log = logging.getLogger("coachbot.slack.sender")

# Errors after which the same request can never succeed.
PERMANENT = frozenset(
    {
        "user_not_found",
        "users_not_found",
        "cannot_dm_bot",
        "account_inactive",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_disabled",
        "restricted_action",
    }
)

Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]
LIMITS = Limits(per_second=5.0, window=60.0, per_recipient=1.0, opens_per_minute=50.0)


def send_error(exc: SlackApiError) -> SendError:
    """Slack's answer -> what the dispatcher should do about it."""
    response = exc.response
    status = getattr(response, "status_code", None)
    error = str(response.get("error") or "error") if response is not None else "error"
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", None) or {}
        raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            wait = max(float(raw[0] if isinstance(raw, list) else raw), 0.0)
        except ValueError:
            wait = 1.0
        return SendError("ratelimited", retry_after=wait)
    return SendError(error, permanent=error in PERMANENT)


@contextmanager
def slack_failures() -> Iterator[None]:
    """Slack's refusals and a network failure inside the block, as `SendError`s."""
    try:
        yield
    except SlackApiError as exc:
        raise send_error(exc) from None
    except (OSError, TimeoutError) as exc:
        raise SendError(f"Slack unreachable: {type(exc).__name__}") from None


class SlackSender:
    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        directory: Directory,
        identities: Identities,
        *,
        limits: Limits = LIMITS,
        observed: Observed | None = None,
    ) -> None:
        self.client = client
        self.directory = directory
        self.identities = identities
        self.limits = limits
        self.uploader = Uploader(client)
        self.observed = observed or Observed()
        self.throttle = Throttle.under(limits)  # Slack's one pace, for every request
        # the processes of this bot token share its pace on PostgreSQL (bot.pacing)
        self.bot_key = bot_key(client.token) if client.token else ""
        self._home: str | None = None
        self._dm_channels: dict[str, str] = {}  # Slack user -> their DM channel with us
        self._user_of: dict[int, str] = {}  # account -> its Slack user, once resolved

    # -- the PlatformSender protocol ------------------------------------------------------

    def cost(self, message: Outgoing) -> int:
        """One chat.postMessage (conversations.open counts in its own tier: `opens`)."""
        return 1

    def opens(self, message: Outgoing) -> int:
        """1 when the DM must open its conversation first (not known in this process)."""
        return 0 if message.via is not Via.DM or self.conversation(message) else 1

    def conversation(self, message: Outgoing) -> str | None:
        """The channel `message` will be posted in, when known without asking Slack."""
        if message.via is Via.CHANNEL:
            return message.channel.channel_id if message.channel is not None else None
        user = self._user_of.get(message.account_id) if message.account_id is not None else None
        return self._dm_channels.get(user) if user is not None else None

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        """Deliver one outbox message. Slack has no idempotency key for chat.postMessage,
        so `nonce` is unused (docs/DESIGN.md: the one window left)."""
        with slack_failures():
            if message.via is Via.CHANNEL:
                if message.channel is None or message.channel.platform != "slack":
                    raise SendError("not a Slack channel", permanent=True)
                channel = message.channel.channel_id
            else:
                channel = await self.dm_channel(await self._recipient(message))
            await self.post(channel, payload(message))
        if message.files:
            await self.share_files(channel, message.files)

    async def prepare(self, message: Outgoing) -> None:
        """Before its slot is reserved: the DM's Slack user, found once per process, so
        that `opens` and `conversation` know a channel the person told us of by writing
        to the bot (`remember_dm`) — else such a DM is paced as one that opens its
        conversation, in Tier 3's 50 a minute (found by bench/burst.py). A recipient
        not found here fails at the send, as before."""
        if message.via is Via.DM and message.account_id is not None:
            if message.account_id not in self._user_of:
                with contextlib.suppress(SendError), slack_failures():
                    await self._recipient(message)

    async def reaches_by_email(self, email: str) -> bool:
        with slack_failures():
            return await self.directory.user_id_for(email) is not None

    # -- pieces the listeners share -------------------------------------------------------

    async def share_files(self, channel: str, files: Sequence[Attachment]) -> bool:
        """Upload `files` and share them in `channel`, after its text went; a failure is
        logged, counted and said in a line of its own (best effort), never raised."""
        names = [f.name for f in files]
        try:
            await self.uploader.upload(files, channel=channel)
        except UploadFailed as exc:
            self.observed.files(self.platform, "failed", names, exc.reason)
            try:
                note = f"I could not attach {', '.join(names)} here; please ask again later."
                await self.client.chat_postMessage(channel=channel, text=escape(note))
            except (SlackApiError, OSError, TimeoutError):
                log.info("could not say that the files to %s failed", channel)
            return False
        self.observed.files(self.platform, "sent", names)
        return True

    def remember_dm(self, user_id: str, channel_id: str) -> None:
        """A DM the person wrote to us tells us their conversation id for free."""
        self._dm_channels[user_id] = channel_id

    async def dm_channel(self, user_id: str) -> str:
        known = self._dm_channels.get(user_id)
        if known is not None:
            return known
        response = await self.client.conversations_open(users=user_id)
        channel = str((response.get("channel") or {}).get("id") or "")
        if not channel:
            raise SendError("conversations.open returned no channel")
        self._dm_channels[user_id] = channel
        return channel

    async def post(self, channel: str, body: dict[str, Any]) -> None:
        try:
            await self.client.chat_postMessage(channel=channel, **body)
        except SlackApiError as exc:
            if send_error(exc).permanent:
                # a DM channel that is gone must be opened afresh next time
                for user, known in list(self._dm_channels.items()):
                    if known == channel:
                        del self._dm_channels[user]
            raise

    async def home_team(self) -> str | None:
        """The workspace this bot token belongs to (auth.test, asked once)."""
        if self._home is None:
            response = await self.client.auth_test()
            self._home = response.get("team_id")
        return self._home

    # -- inside ---------------------------------------------------------------------------

    async def _recipient(self, message: Outgoing) -> str:
        found: str | None = None
        if message.account_id is not None:
            home = await self.home_team()
            for platform, space, user in await self.identities(message.account_id):
                if platform == "slack" and (home is None or space == home):
                    found = user
                    break
        if found is None and message.email:
            found = await self.directory.user_id_for(message.email)
        if found is None:
            raise SendError("no Slack user in this workspace for the recipient", permanent=True)
        if message.account_id is not None:
            self._user_of[message.account_id] = found
        return found
