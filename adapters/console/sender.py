"""The console's way of delivering messages: it reaches anyone, by e-mail.

In a transcript or a test the dispatcher's return value is what gets printed, so the
sender only has to accept; in the REPL it prints as the messages go out (a background
tick may send while the user types).
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.console.files import FileFolder, file_line
from bot.messages import Attachment, Outgoing


class ConsoleSender:
    platform = "console"

    def __init__(self, echo: Callable[[Outgoing], None] | None = None) -> None:
        self.echo = echo

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        if self.echo is not None:
            self.echo(message)

    async def reaches_by_email(self, email: str) -> bool:
        return True  # SPEC §5: the console reaches anyone by e-mail


def print_files(files: tuple[Attachment, ...], folder: FileFolder | None) -> None:
    """A line per file, after writing them to the console's files folder (if any)."""
    written = folder.keep(files) if folder is not None else []
    for index, file in enumerate(files):
        print(file_line(file, written[index] if index < len(written) else None), flush=True)


def message_printer(folder: FileFolder | None = None) -> Callable[[Outgoing], None]:
    """How the live console shows a message sent over time: its text, then its files."""

    def show(message: Outgoing) -> None:
        where = message.channel.name if message.channel else f"DM to {message.email}"
        print(f"[{where}] {message.text}", flush=True)
        print_files(message.files, folder)

    return show


print_message = message_printer()
