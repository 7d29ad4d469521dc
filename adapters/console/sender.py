"""The console's way of delivering messages: it reaches anyone, by e-mail.

In a transcript or a test the dispatcher's return value is what gets printed, so the
sender only has to accept; in the REPL it prints as the messages go out (a background
tick may send while the user types).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Outgoing


class ConsoleSender:
    platform = "console"

    def __init__(self, echo: Callable[[Outgoing], None] | None = None) -> None:
        self.echo = echo

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        if self.echo is not None:
            self.echo(message)

    async def reaches_by_email(self, email: str) -> bool:
        return True  # SPEC §5: the console reaches anyone by e-mail


def print_message(message: Outgoing) -> None:
    where = message.channel.name if message.channel else f"DM to {message.email}"
    print(f"[{where}] {message.text}", flush=True)
