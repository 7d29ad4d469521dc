"""One outbox, several platforms: the Sender the dispatcher uses when coachbot serves
Slack, Discord and the console at once.

A DM goes to the first platform (in the configured order) where the recipient has a chat
identity; a person who has none yet (an invitee) is reached by the first sender that can
find people by e-mail (Slack's users.lookupByEmail; the console reaches anyone). A
channel post goes to the platform of its channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from bot.messages import Outgoing, Via
from bot.schedule.dispatcher import SendError


class PlatformSender(Protocol):
    platform: str

    async def send(self, message: Outgoing, *, nonce: str) -> None: ...

    async def reaches_by_email(self, email: str) -> bool: ...


Identities = Callable[[int], Awaitable[list[tuple[str, str, str]]]]


class Router:
    platform = "router"

    def __init__(self, senders: Sequence[PlatformSender], identities: Identities) -> None:
        self.senders = list(senders)
        self.identities = identities

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        sender = await self._pick(message)
        if sender is None:
            raise SendError("no platform can reach this recipient", permanent=True)
        await sender.send(message, nonce=nonce)

    async def _pick(self, message: Outgoing) -> PlatformSender | None:
        if message.via is Via.CHANNEL and message.channel is not None:
            return next((s for s in self.senders if s.platform == message.channel.platform), None)
        if message.account_id is not None:
            platforms = {p for p, _, _ in await self.identities(message.account_id)}
            for sender in self.senders:
                if sender.platform in platforms:
                    return sender
        if message.email:
            for sender in self.senders:
                if await sender.reaches_by_email(message.email):
                    return sender
        return None
