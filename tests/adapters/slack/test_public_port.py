"""Issue 15 item 2: with Slack in HTTP mode, `coachbot run`'s one public server carries
both Slack's `/slack/events` and the calendar feeds — wired by the very functions `coachbot
run` uses (`bot.cli.public_server`, `platform_senders`), on one loopback port."""

from __future__ import annotations

import json
import re

import aiohttp

from adapters.slack.manifest import PATH
from bot.bootstrap import bootstrap
from bot.cli import platform_senders, public_server
from bot.clock import FakeClock
from bot.ports import FrontEnd
from tests.adapters.slack.conftest import settings_for
from tests.adapters.slack.double import SlackDouble, signed_headers
from tests.adapters.wiring import free_port, serving
from tests.conftest import Club

PUBLIC_URL = "https://coach.example.org"


async def test_slack_events_and_the_feeds_share_the_public_port(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> None:
    settings = settings_for(double, sqlite_url, http_port=free_port(), public_url=PUBLIC_URL)
    public = public_server(settings)
    assert public is not None
    fronts: list[FrontEnd] = []
    senders = platform_senders(settings, fronts, public)
    app = await bootstrap(
        sqlite_url, clock=clock, migrate=False, senders=senders, public_url=settings.public_url
    )
    try:
        async with serving(fronts, within=10.0):
            [slack] = fronts
            assert slack.public is public  # type: ignore[attr-defined]
            club = Club(app, clock)
            await club.basic_club()
            said = await club.ok("ava@lake.run", "/calendar")
            path = re.search(re.escape(PUBLIC_URL) + r"(/calendar/[\w-]+\.ics)", said.text)
            assert path, said.text
            base = f"http://127.0.0.1:{settings.http_port}"
            body = json.dumps({"type": "url_verification", "challenge": "c-1", "token": "t"})
            headers = signed_headers(body, content_type="application/json")
            async with aiohttp.ClientSession() as http:
                async with http.post(base + PATH, data=body, headers=headers) as events:
                    assert events.status == 200 and "c-1" in await events.text()
                async with http.get(base + path[1]) as feed:
                    assert feed.status == 200
                    assert (await feed.read()).startswith(b"BEGIN:VCALENDAR")
    finally:
        await app.close()
    assert not public.serving  # Slack's stop closed the shared listener
