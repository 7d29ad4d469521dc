"""The Protocols the core needs from the outside world (ARCHITECTURE: adapters/ports.py).

The core depends on these shapes only; adapters implement them, and tests pass fakes.
"""

from __future__ import annotations

from typing import Protocol


class Mailer(Protocol):
    """Sends e-mail (invitations to people who have no chat identity yet)."""

    async def send(self, to: str, subject: str, body: str) -> None: ...


class FrontEndStartError(RuntimeError):
    """A chat front end cannot start (a token refused, a port taken); its message is one
    line naming the setting, shown to whoever ran `coachbot run`."""
