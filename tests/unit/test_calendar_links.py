"""`/calendar` links (issue 15 item 2) as stored: the database holds the SHA-256 of each
token and never the token or a working URL (not in the feeds table, not in the outbox,
not in any text column); each `/calendar` adds a link up to a limit; `/calendar reset`
revokes them all, and says how many."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from bot.commands.calendar import MAX_LIVE
from storage.models import CalendarFeed
from tests.conftest import Club
from tests.unit.test_erasure import texts_naming

AVA, KAI = "ava@lake.run", "kai@lake.run"
TOKEN = re.compile(r"/calendar/([A-Za-z0-9_-]{43})\.ics")


async def token_of(club: Club, email: str, line: str = "/calendar") -> str:
    said = await club.ok(email, line)
    found = TOKEN.search(said.text)
    assert found, said.text
    return found[1]


async def stored(club: Club) -> list[CalendarFeed]:
    async with club.core.uow() as uow:
        rows = (await uow.session.scalars(select(CalendarFeed).order_by(CalendarFeed.id))).all()
        uow.session.expunge_all()  # read, kept as they were
        return list(rows)


async def test_only_the_hash_of_a_token_is_stored(club: Club) -> None:
    club.core.public_url = "https://coach.example"
    await club.basic_club()
    token = await token_of(club, AVA)
    [row] = await stored(club)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (row.kind, row.group_id, row.revoked_at) == ("athlete", None, None)
    assert await texts_naming(club, token) == []  # no column of any table holds it
    assert await texts_naming(club, token[:20]) == []
    assert await texts_naming(club, row.token_hash) == ["calendar_feeds.token_hash"]


async def test_links_add_up_to_a_limit_and_reset_revokes_them(club: Club) -> None:
    club.core.public_url = "https://coach.example"
    await club.basic_club()
    tokens = {await token_of(club, AVA) for _ in range(MAX_LIVE)}
    assert len(tokens) == MAX_LIVE  # random, each one new
    refused = await club.no(AVA, "/calendar")
    assert f"You have {MAX_LIVE} links to this calendar already" in refused.text
    assert "/calendar reset" in refused.text
    said = await club.ok(AVA, "/calendar reset")
    assert said.text.startswith(f"Revoked {MAX_LIVE} earlier links: they stop answering now.")
    rows = await stored(club)
    assert [r.revoked_at is not None for r in rows] == [True] * MAX_LIVE + [False]
    # another member's, and a coach's group feed, are other feeds: untouched by ava's reset
    await club.ok(KAI, "/group create Squad")
    await token_of(club, KAI, "/calendar group:Squad")
    await token_of(club, KAI)
    first = await club.ok(KAI, "/calendar reset group:Squad")  # either order
    assert first.text.startswith("Revoked 1 earlier link: it stops answering now.")
    live = [r for r in await stored(club) if r.revoked_at is None]
    assert sorted((r.kind, r.group_id is not None) for r in live) == [
        ("athlete", False),
        ("athlete", False),
        ("group", True),
    ]


async def test_reset_with_no_earlier_link(sqlite_club: Club) -> None:
    sqlite_club.core.public_url = "https://coach.example"
    await sqlite_club.basic_club()
    said = await sqlite_club.ok(AVA, "/calendar reset")
    assert said.text.startswith("There was no earlier link to revoke. Your new link:")
