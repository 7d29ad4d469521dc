"""The interactive console: type as any member of the local club.

`:as EMAIL` switches who is typing, `#channel: TEXT` types in a channel, `:upload PATH`
sends the bot a GPX/FIT/TCX file, `:quit` leaves.
With input that is not a terminal no prompt is shown, so `echo /help | coachbot run`
prints just the answer and exits 0 at the end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from adapters.console.files import FileFolder
from adapters.console.sender import print_files
from adapters.console.transcript import console_caller, to_records, upload_file
from bot import grammar
from bot.core import Core

DEMO_LINES = (
    '/setup-org "Demo Running Club" tz:Europe/London',
    "/add-coach sam.coach@demo.club",
    "/group create 10k-squad",
    "/add-member ann@demo.club group:10k-squad",
    "/add-member ben@demo.club group:10k-squad",
    "/add-member cara@demo.club",
)


DEMO_HEAD_COACH = "coach@demo.club"


async def seed_demo(core: Core, head_coach: str = DEMO_HEAD_COACH) -> None:
    """Seed a small club through the core itself: the same commands a newcomer would type."""
    for line in DEMO_LINES:
        await core.handle(console_caller(head_coach), line)
    for person in ("sam.coach@demo.club", "ann@demo.club", "ben@demo.club", "cara@demo.club"):
        await core.handle(console_caller(person), "/profile")
    for line in (
        "/assign-athlete sam.coach@demo.club ann@demo.club",
        "/assign-athlete sam.coach@demo.club ben@demo.club",
        '/workout create "Easy 8k" type:run kind:easy distance:8k',
        '/workout create "6x800" type:run kind:interval duration:50m '
        'desc:"2k warm-up, 6x800 at 5k pace with 400 jog, 2k cool-down"',
        '/workout create "Long run" type:run kind:long distance:16k',
        '/plan create "10k Base" weeks:6',
        '/plan set "10k Base" week:1 day:tue workout:"Easy 8k"',
        '/plan set "10k Base" week:1 day:thu workout:"6x800"',
        '/plan set "10k Base" week:1 day:sun workout:"Long run"',
        '/plan set "10k Base" week:2 day:tue workout:"Easy 8k"',
        '/plan set "10k Base" week:2 day:thu workout:"6x800"',
        '/plan set "10k Base" week:2 day:sun workout:"Long run"',
        '/assign-plan "10k Base" group:10k-squad',
    ):
        await core.handle(console_caller(head_coach), line)


def _read_line(stream: TextIO, prompt: str | None) -> asyncio.Future[str]:
    """The next line ("" at the end of input), read in a daemon thread of its own: a
    stop while it waits for someone to type leaves it behind (asyncio's own threads
    would hold up the exit until the next line)."""
    if prompt is not None:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(outcome: str | BaseException) -> None:
        if line.done():
            return
        if isinstance(outcome, BaseException):
            line.set_exception(outcome)
        else:
            line.set_result(outcome)

    def read() -> None:
        try:
            outcome: str | BaseException = stream.readline()
        except Exception as exc:
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return line


async def repl(
    core: Core,
    email: str,
    stream: TextIO | None = None,
    after_each: Callable[[], Awaitable[object]] | None = None,
    stop: asyncio.Future[Any] | None = None,
    files: FileFolder | None = None,
) -> int:
    """Read and answer lines until the end of input, `:quit`, or `stop` completing (a
    signal: the line being answered is finished first; 0 in every case). A file the bot
    sends prints as a line of its own, and is written to `files` when given."""
    stream = stream or sys.stdin
    interactive = stream.isatty()
    current = grammar.parse_email(email)
    if interactive:
        print(f"coachbot console — you are {current}. Type /help, ':as EMAIL' or ':quit'.")
    while True:
        if stop is not None and stop.done():
            return 0
        reading = _read_line(stream, f"{current}> " if interactive else None)
        if stop is not None:
            await asyncio.wait((reading, stop), return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                if interactive:
                    print()  # off the prompt's line
                return 0  # stopped while waiting for a line: it is left unread
        line = await reading
        if not line:
            return 0
        text = line.strip()
        if not text or text.startswith("# "):
            continue
        if text in (":quit", ":q", ":exit"):
            return 0
        if text.startswith(":as"):
            try:
                current = grammar.parse_email(text[3:])
            except grammar.GrammarError as exc:
                print(exc.message)
            continue
        channel = None
        if text.startswith("#") and ":" in text:
            channel, text = (part.strip() for part in text.split(":", 1))
        caller = console_caller(current, channel)
        if text.startswith(":upload "):
            messages = await upload_file(core, caller, text[8:].strip(), Path.cwd())
        else:
            messages = await core.handle(caller, text)
        for record in to_records(0, messages, channel):
            if record.via == "reply":
                print(record.text)
            else:
                print(f"[{record.channel}] {record.text}")
            print_files(record.files, files)
        if after_each is not None:
            await after_each()  # DMs the line caused go out (and print) before the next
