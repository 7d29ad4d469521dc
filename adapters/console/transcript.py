"""Transcript replay (SPEC §8): one event per line, run through the real core.

`EMAIL: TEXT` is typed to the bot directly, `EMAIL #channel: TEXT` in a channel of the
caller's org, `@clock ISO-8601` sets the simulated clock and `@tick DURATION` advances
it. Every message the bot sends is recorded with the number of the line that caused it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.console.files import FileFolder, described
from bot import grammar
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.core import Core
from bot.importers import MAX_FILE_BYTES
from bot.messages import Attachment, ChannelRef, Outgoing, Via
from bot.schedule.service import Scheduling

LINE = re.compile(r"^(?P<who>[^\s:#]+@[^\s:#]+)(?:\s+(?P<channel>#[\w.\-]+))?:\s?(?P<text>.*)$")


@dataclass(frozen=True)
class Record:
    """One message as the transcript format prints it."""

    line: int
    to: str | None
    channel: str | None
    via: str
    ephemeral: bool
    ok: bool
    text: str
    files: tuple[Attachment, ...] = field(default=(), compare=False)

    def as_json(self) -> str:
        """SPEC §8's object; a message that carries files adds `files` (name, bytes,
        sha256), and one without has no such key."""
        shown: dict[str, Any] = {
            "line": self.line,
            "to": self.to,
            "channel": self.channel,
            "via": self.via,
            "ephemeral": self.ephemeral,
            "ok": self.ok,
            "text": self.text,
        }
        if self.files:
            shown["files"] = described(self.files)
        return json.dumps(shown, ensure_ascii=False)

    def as_plain(self) -> str:
        if self.via == "channel":
            where = f"{self.channel}"
        elif self.via == "reply":
            where = f"reply to {self.to}" + (f" in {self.channel}" if self.channel else "")
        else:
            where = f"DM to {self.to}"
        flag = "" if self.ok else " [refused]"
        body = self.text.replace("\n", "\n    ")
        files = "".join(f"\n    [file] {f.name} ({f.size:,} bytes)" for f in self.files)
        return f"[{self.line}] {where}{flag}:\n    {body}{files}"


def console_channel(name: str) -> ChannelRef:
    clean = name.lstrip("#").lower()
    return ChannelRef(platform="console", space_id="", channel_id=clean, name=f"#{clean}")


def console_caller(email: str, channel: str | None = None) -> Caller:
    return Caller(
        platform="console",
        user_id=email.strip().lower(),
        email=email.strip().lower(),
        channel=console_channel(channel) if channel else None,
    )


def to_records(line: int, messages: Iterable[Outgoing], channel: str | None) -> list[Record]:
    records = []
    for m in messages:
        if m.via is Via.CHANNEL:
            records.append(
                Record(
                    line,
                    None,
                    m.channel.name if m.channel else channel,
                    "channel",
                    False,
                    m.ok,
                    m.text,
                    m.files,
                )
            )
        elif m.via is Via.REPLY:
            records.append(Record(line, m.email, channel, "reply", True, m.ok, m.text, m.files))
        else:
            records.append(Record(line, m.email, None, "dm", False, m.ok, m.text, m.files))
    return records


class TranscriptError(ValueError):
    pass


def _read_head(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(limit)


async def upload_file(core: Core, caller: Caller, path_text: str, base: Path) -> list[Outgoing]:
    """`:upload PATH`: the console's way of sending the bot a file in a DM. Reads one
    byte past the importer's limit at most, so a huge file is refused without loading it."""
    path = (base / path_text).expanduser()
    try:
        data = await asyncio.to_thread(_read_head, path, MAX_FILE_BYTES + 1)
    except OSError as exc:
        return [Outgoing(Via.REPLY, f"I can't read {path_text}: {exc.strerror}.", ok=False)]
    return await core.handle_file(caller, path.name, data)


class Transcript:
    """Replays lines against a core whose clock is this runner's FakeClock; `scheduling`
    (the real planner and dispatcher) delivers what falls due as time moves."""

    def __init__(
        self,
        core: Core,
        clock: FakeClock,
        scheduling: Scheduling | None = None,
        *,
        base: Path | None = None,
        files: Path | None = None,
    ) -> None:
        self.core = core
        self.clock = clock
        self.scheduling = scheduling
        self.base = base or Path.cwd()  # `:upload PATH` is read relative to this folder
        self.files = FileFolder(files)  # where the files the bot sends are written
        self.started = False  # before the first typed line, @clock may set any time

    async def run_line(self, number: int, raw: str) -> list[Record]:
        """The records of one transcript line; the files they carry are written to the
        `files` folder (when given) as they come."""
        records = await self._run_line(number, raw)
        for record in records:
            self.files.keep(record.files)
        return records

    async def _run_line(self, number: int, raw: str) -> list[Record]:
        text = raw.strip()
        if not text or text.startswith("#"):
            return []
        if text.startswith("@clock"):
            when = self._parse_clock(text[len("@clock") :].strip(), number)
            if when < self.clock.now():
                if self.started:
                    raise TranscriptError(f"line {number}: @clock may not move time backwards")
                self.clock.set(when)
            return await self._advance(number, when)
        if text.startswith("@tick"):
            try:
                delta = grammar.parse_duration(text[len("@tick") :].strip())
            except grammar.GrammarError as exc:
                raise TranscriptError(f"line {number}: {exc.message}") from None
            return await self._advance(number, self.clock.now() + delta)
        match = LINE.match(text)
        if match is None:
            raise TranscriptError(f"line {number}: expected 'EMAIL: TEXT', '@clock' or '@tick'")
        self.started = True
        channel = match["channel"].lower() if match["channel"] else None
        caller = console_caller(match["who"], channel)
        if match["text"].startswith(":upload "):
            messages = await upload_file(self.core, caller, match["text"][8:].strip(), self.base)
        else:
            messages = await self.core.handle(caller, match["text"])
        records = to_records(number, messages, channel)
        if self.scheduling is not None:
            records += to_records(number, await self.scheduling.due_now(), None)
        return records

    async def _advance(self, number: int, target: datetime) -> list[Record]:
        if self.scheduling is None:
            self.clock.set(max(target, self.clock.now()))
            return []
        return to_records(number, await self.scheduling.advance(self.clock, target), None)

    @staticmethod
    def _parse_clock(value: str, number: int) -> datetime:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise TranscriptError(f"line {number}: {value!r} is not an ISO-8601 instant") from None
        if when.tzinfo is None:
            raise TranscriptError(f"line {number}: @clock needs a UTC offset, e.g. +01:00")
        return when

    async def run(self, lines: Iterable[str]) -> list[Record]:
        records: list[Record] = []
        for number, raw in enumerate(lines, start=1):
            records.extend(await self.run_line(number, raw))
        return records
