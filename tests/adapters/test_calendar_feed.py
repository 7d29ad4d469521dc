"""Issue 15 item 2: `/calendar` hands out a private URL whose ICS feed the public server
serves. Every feed here is fetched over real HTTP from the running server and parsed
back with icalendar, on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.clock import FakeClock
from tests.adapters.calendar_world import AVA, BEN, CY, HC, KAI, FeedClub, feed_club
from tests.unit.test_erasure import confirmed
from tests.unit.test_events import EVENT_ID

TUE, THU = date(2027, 1, 5), date(2027, 1, 7)
NEXT_TUE, NEXT_THU = date(2027, 1, 12), date(2027, 1, 14)


@pytest.fixture
async def lake(db_url: str, clock: FakeClock) -> AsyncIterator[FeedClub]:
    async with feed_club(db_url, clock) as club:
        yield club


async def test_the_feed_is_the_athletes_schedule_over_http(lake: FeedClub) -> None:
    url = await lake.link(AVA)
    got = await lake.fetch(url)
    assert got.status == 200
    assert got.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in got.headers["Cache-Control"]
    calendar = got.calendar
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"  # her club's: she set none
    assert str(calendar["X-WR-CALNAME"]) == "Training (Lakeside Striders)"
    events = got.events()
    assert sorted(events) == [TUE, THU, NEXT_TUE, NEXT_THU]  # one per session, no rest days
    easy, secret = events[TUE], events[THU]
    assert str(easy["SUMMARY"]) == "Easy 8k"
    assert easy.decoded("dtstart") == TUE and easy.decoded("dtend") == date(2027, 1, 6)
    assert str(easy["DESCRIPTION"]) == "run, easy, 8.00 km\n\nrelaxed, chatty pace"
    # a coaches' workout: its name, type, kind and targets, never its description
    assert str(secret["SUMMARY"]) == "Secret"
    assert str(secret["DESCRIPTION"]) == "run, tempo, 40:00"
    assert b"HIDDEN" not in got.body
    # the UIDs are stable from one fetch to the next (calendar apps update in place)
    again = (await lake.fetch(url)).events()
    assert {d: str(e["UID"]) for d, e in again.items()} == {
        d: str(e["UID"]) for d, e in events.items()
    }
    assert len({str(e["UID"]) for e in events.values()}) == 4


async def test_moved_and_cleared_sessions_change_the_feed(lake: FeedClub) -> None:
    url = await lake.link(AVA)
    before = (await lake.fetch(url)).events()
    await lake.ok(KAI, f"/session move {AVA} 2027-01-07 to:2027-01-08")
    await lake.ok(KAI, f"/session clear {AVA} 2027-01-12")
    await lake.ok(KAI, f'/session set {AVA} 2027-01-14 workout:"Easy 8k"')
    after = (await lake.fetch(url)).events()
    assert sorted(after) == [TUE, date(2027, 1, 8), NEXT_THU]
    assert str(after[date(2027, 1, 8)]["SUMMARY"]) == "Secret"
    assert "Moved here by your coach." in str(after[date(2027, 1, 8)]["DESCRIPTION"])
    # the day whose workout was replaced keeps its UID, with the new workout
    assert str(after[NEXT_THU]["UID"]) == str(before[NEXT_THU]["UID"])
    assert str(after[NEXT_THU]["SUMMARY"]) == "Easy 8k"
    assert str(after[TUE]["UID"]) == str(before[TUE]["UID"])


async def test_statuses_dates_and_units_are_the_athletes(lake: FeedClub) -> None:
    """Kiritimati is UTC+14: at 11:00 UTC on Tuesday it is already Wednesday there, so
    Tuesday's session is missed in her feed; the feed is in her zone and her miles."""
    await lake.ok(AVA, "/settings tz:Pacific/Kiritimati units:mi")
    lake.clock.set(datetime(2027, 1, 5, 11, 0, tzinfo=UTC))
    url = await lake.link(AVA)
    got = await lake.fetch(url)
    assert str(got.calendar["X-WR-TIMEZONE"]) == "Pacific/Kiritimati"
    events = got.events()
    assert str(events[TUE]["DESCRIPTION"]).startswith("run, easy, 4.97 mi\nMissed.")
    assert "Missed" not in str(events[THU]["DESCRIPTION"])
    await lake.ok(BEN, "/settings tz:UTC")  # ben on UTC: Tuesday is still to come
    await lake.ok(HC, f"/assign-plan Base {BEN} start:2027-01-04")
    ben = (await lake.fetch(await lake.link(BEN))).events()
    assert str(ben[TUE]["DESCRIPTION"]) == "run, easy, 8.00 km\n\nrelaxed, chatty pace"


async def test_a_done_session_says_so(lake: FeedClub) -> None:
    lake.clock.set(datetime(2027, 1, 5, 18, 0, tzinfo=UTC))
    await lake.ok(AVA, "/log 8k 42:10")
    events = (await lake.fetch(await lake.link(AVA))).events()
    assert "\nDone." in str(events[TUE]["DESCRIPTION"])


async def test_reset_revokes_every_link_and_gives_a_new_one(lake: FeedClub) -> None:
    first = await lake.link(AVA)
    second = await lake.link(AVA)  # one more link (another device): both answer
    assert first != second
    assert (await lake.fetch(first)).status == 200
    assert (await lake.fetch(second)).status == 200
    said = await lake.ok(AVA, "/calendar reset")
    assert "Revoked 2 earlier links" in said.text
    new = await lake.link(AVA, "/calendar reset")  # reset again: the one just made goes
    assert (await lake.fetch(first)).status == 404
    assert (await lake.fetch(second)).status == 404
    assert (await lake.fetch(new)).status == 200


async def test_removed_suspended_and_forgotten_owners_get_404(lake: FeedClub) -> None:
    ava, ben, cy = await lake.link(AVA), await lake.link(BEN), await lake.link(CY)
    unknown = ava.rsplit("/", 1)[0] + "/" + "A" * 43 + ".ics"
    nothing = await lake.fetch(unknown)
    assert nothing.status == 404

    await lake.ok(HC, f"/member {AVA} status:suspended")
    suspended = await lake.fetch(ava)
    assert (suspended.status, suspended.body) == (404, nothing.body)  # the same answer
    await lake.ok(HC, f"/member {AVA} status:active")
    assert (await lake.fetch(ava)).status == 200  # suspension is checked at each fetch

    await lake.ok(HC, f"/remove-member {BEN}")
    await lake.ok(HC, f"/add-member {BEN}")  # back in the club: the old link stays dead
    await lake.ok(BEN, "/profile")
    assert (await lake.fetch(ben)).status == 404

    assert (await confirmed(lake, CY, "/forget-me")).ok
    gone = await lake.fetch(cy)
    assert (gone.status, gone.body) == (404, nothing.body)


async def test_a_coach_gets_a_groups_feed(lake: FeedClub) -> None:
    await lake.ok(KAI, "/group create 5k-squad")
    await lake.ok(KAI, f"/group add 5k-squad {AVA}")
    url = await lake.link(KAI, "/calendar group:5k-squad")
    calendar = (await lake.fetch(url)).calendar
    assert str(calendar["X-WR-CALNAME"]) == "5k-squad (Lakeside Striders)"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
    assert calendar.walk("VEVENT") == []  # no club run called yet
    # no longer a coach, no feed of the group; the group deleted, none either
    await lake.ok(HC, f"/remove-coach {KAI}")
    assert (await lake.fetch(url)).status == 404
    other = await lake.link(HC, "/calendar group:5k-squad")
    await lake.ok(HC, "/group delete 5k-squad")
    assert (await lake.fetch(other)).status == 404


async def test_club_runs_are_in_the_groups_and_its_athletes_feeds(lake: FeedClub) -> None:
    """Issue 15: events appear in the calendar feed of the group's athletes (and in the
    coaches' feed of the group), timed in the org's zone; a cancelled one says so."""
    await lake.ok(KAI, "/group create 5k-squad")
    await lake.ok(KAI, f"/group add 5k-squad {AVA}")
    await lake.ok(KAI, "/group link 5k-squad", channel="#5k-squad")
    group_url = await lake.link(KAI, "/calendar group:5k-squad")
    ava_url, cy_url = await lake.link(AVA), await lake.link(CY)
    said = await lake.ok(
        KAI, '/event create group:5k-squad "Long run" date:2027-01-09 time:08:30 place:"Pier"'
    )
    found = EVENT_ID.search(said.text)
    assert found, said.text
    tempo = EVENT_ID.search(
        (await lake.ok(KAI, '/event create group:5k-squad "Tempo" date:2027-01-13 time:18:00')).text
    )
    assert tempo
    await lake.ok(KAI, f"/event cancel #{tempo[1]}")
    for url in (group_url, ava_url):
        runs = [
            e
            for e in (await lake.fetch(url)).calendar.walk("VEVENT")
            if str(e["UID"]).startswith("event-")
        ]
        assert [str(e["SUMMARY"]) for e in runs] == ["Long run (5k-squad)", "Tempo (5k-squad)"]
        long_run, cancelled = runs
        assert long_run.decoded("dtstart") == datetime(2027, 1, 9, 8, 30, tzinfo=UTC)  # London
        assert str(long_run["LOCATION"]) == "Pier"
        assert str(long_run["UID"]) == f"event-{found[1]}@coachbot"
        assert (str(long_run["STATUS"]), str(cancelled["STATUS"])) == ("CONFIRMED", "CANCELLED")
    # an athlete of another group sees none of the squad's runs
    assert not [e for e in (await lake.fetch(cy_url)).events().values() if "Long" in e["SUMMARY"]]
    assert b"Long run" not in (await lake.fetch(cy_url)).body


async def test_not_found_answers_reveal_nothing_and_unchanged_feeds_say_304(
    lake: FeedClub,
) -> None:
    url = await lake.link(AVA)
    base = url.rsplit("/", 1)[0]
    answers = {
        (await lake.fetch(f"{base}/{name}")).body
        for name in ("short.ics", "A" * 43 + ".ics", url.rsplit("/", 1)[1][:-4] + ".txt")
    }
    assert answers == {b"Not found\n"}
    first = await lake.fetch(url)
    etag = first.headers["ETag"]
    lake.clock.advance(timedelta(minutes=5))  # the stamp changes, the schedule does not
    again = await lake.fetch(url, **{"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    await lake.ok(KAI, f"/session clear {AVA} 2027-01-12")
    changed = await lake.fetch(url, **{"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
