"""The outbox's way into Slack (`adapters.routing.PlatformSender`).

A DM finds its recipient's Slack user through their chat identity in this workspace, or
— for an invitee who has no account yet — through `users.lookupByEmail` (SPEC §5), opens
the conversation once (`conversations.open`, the channel id cached) and posts with
`chat.postMessage`. A channel post goes to its channel's id.

Failures become `SendError`s the dispatcher understands: HTTP 429 carries Slack's
`Retry-After`, errors that no retry can fix (the user is gone, the channel archived) are
permanent, anything else is retried with back-off.

Limits: chat.postMessage "generally allows posting one message per second per channel,
while also maintaining a workspace-wide limit" (https://api.slack.com/docs/rate-limits,
the Special tier). The sender declares that as `Limits(per_second=..., per_recipient=1)`:
one second between two messages to one conversation, and a workspace-wide pace Slack
does not publish — "several hundred messages per minute" in its older guide, so 5 a
second. The Router's throttle for Slack paces the dispatcher to them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import payload
from adapters.slack.identity import Directory
from bot.messages import Outgoing, Via
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
LIMITS = Limits(per_second=5.0, per_recipient=1.0)


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


class SlackSender:
    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        directory: Directory,
        identities: Identities,
        *,
        limits: Limits = LIMITS,
    ) -> None:
        self.client = client
        self.directory = directory
        self.identities = identities
        self.limits = limits
        self._home: str | None = None
        self._dm_channels: dict[str, str] = {}

    # -- the PlatformSender protocol ------------------------------------------------------

    def cost(self, message: Outgoing) -> int:
        """One chat.postMessage (conversations.open counts in its own tier)."""
        return 1

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        """Deliver one outbox message. Slack has no idempotency key for chat.postMessage,
        so `nonce` is unused (docs/DESIGN.md: the one window left)."""
        try:
            if message.via is Via.CHANNEL:
                if message.channel is None or message.channel.platform != "slack":
                    raise SendError("not a Slack channel", permanent=True)
                channel = message.channel.channel_id
            else:
                channel = await self.dm_channel(await self._recipient(message))
            await self.post(channel, payload(message))
        except SlackApiError as exc:
            raise send_error(exc) from None
        except (OSError, TimeoutError) as exc:
            raise SendError(f"Slack unreachable: {type(exc).__name__}") from None

    async def reaches_by_email(self, email: str) -> bool:
        try:
            return await self.directory.user_id_for(email) is not None
        except SlackApiError as exc:
            raise send_error(exc) from None
        except (OSError, TimeoutError) as exc:
            raise SendError(f"Slack unreachable: {type(exc).__name__}") from None

    # -- pieces the listeners share -------------------------------------------------------

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
        if message.account_id is not None:
            home = await self.home_team()
            for platform, space, user in await self.identities(message.account_id):
                if platform == "slack" and (home is None or space == home):
                    return user
        if message.email:
            found = await self.directory.user_id_for(message.email)
            if found is not None:
                return found
        raise SendError("no Slack user in this workspace for the recipient", permanent=True)
