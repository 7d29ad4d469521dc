"""A club whose calendar feeds are served over real HTTP: the core with a public URL, the
public server (`adapters.public`) on a loopback port, and a client that fetches a feed
and parses it back with icalendar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp
from icalendar import Calendar

from adapters.console.sender import ConsoleSender
from adapters.public import PublicServer
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from tests.conftest import Club

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"
URL = re.compile(r"(http://127\.0\.0\.1:\d+/calendar/([A-Za-z0-9_-]+)\.ics)")


@dataclass
class Fetched:
    status: int
    headers: Any
    body: bytes

    @property
    def calendar(self) -> Calendar:
        assert self.status == 200, (self.status, self.body)
        return Calendar.from_ical(self.body)

    def events(self) -> dict[date, Any]:
        """The feed's events by their start day (all-day events: a date)."""
        found: dict[date, Any] = {}
        for event in self.calendar.walk("VEVENT"):
            start = event.decoded("dtstart")
            found[start if isinstance(start, date) else start.date()] = event
        return found


class FeedClub(Club):
    def __init__(self, club: Club, server: PublicServer, http: aiohttp.ClientSession) -> None:
        super().__init__(club.app, club.clock)
        self.server = server
        self.http = http

    async def link(self, email: str, line: str = "/calendar") -> str:
        """The URL a `/calendar` line hands out (checked to be the reply's alone)."""
        said = await self.ok(email, line)
        found = URL.search(said.text)
        assert found, said.text
        assert all(found[1] not in m.text for m in said.messages if m is not said.reply)
        return found[1]

    async def fetch(self, url: str, **headers: str) -> Fetched:
        async with self.http.get(url, headers=headers) as response:
            return Fetched(response.status, response.headers, await response.read())


@asynccontextmanager
async def feed_club(db_url: str, clock: FakeClock) -> AsyncIterator[FeedClub]:
    """`basic_club` with two workouts (one for coaches only) and ava on a two-week plan
    from Mon 04 Jan 2027: Easy 8k on Tuesdays, the coaches' Secret on Thursdays."""
    server = PublicServer("127.0.0.1", 0)
    app = await bootstrap(db_url, clock=clock, migrate=False, sender=ConsoleSender())
    server.serve_feeds(app.core.calendar_feed)
    await server.start()
    app.core.public_url = server.url
    try:
        async with aiohttp.ClientSession() as http:
            club = FeedClub(Club(app, clock), server, http)
            await club.basic_club()
            await club.ok(
                HC,
                '/workout create "Easy 8k" type:run kind:easy distance:8k '
                'desc:"relaxed, chatty pace"',
            )
            await club.ok(
                HC,
                "/workout create Secret type:run kind:tempo duration:40m visibility:coaches "
                'desc:"HIDDEN 3x10 at threshold"',
            )
            await club.ok(HC, "/plan create Base weeks:2")
            for week in (1, 2):
                await club.ok(HC, f'/plan set Base week:{week} day:tue workout:"Easy 8k"')
                await club.ok(HC, f"/plan set Base week:{week} day:thu workout:Secret")
            await club.ok(HC, f"/assign-plan Base {AVA} start:2027-01-04")
            yield club
    finally:
        await server.stop()
        await app.close()
