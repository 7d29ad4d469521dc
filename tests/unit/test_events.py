"""Club runs with RSVP (issue 15 item 3) through the real core on both stores: `/event
create`, `/rsvp`, `/events`, `/event cancel`, each with its refusals, the channel post
with its buttons sent exactly once through the outbox, and the calendar's reads.

The club is `Club.basic_club()` (Europe/London; Monday 2027-01-04 09:00 UTC) with group
Squad (ava, ben) linked to the console channel #squad, and group Solo (cy) linked to none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.console.transcript import console_caller
from bot.messages import Button, Via
from storage.models import ClubEvent, EventRsvp, OutboxMessage
from tests.conftest import Club

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"
SATURDAY_RUN = '/event create group:Squad "Saturday long run" date:sat time:08:00'
EVENT_ID = re.compile(r"\(#([A-Z2-9]{7})\)")


async def squads(club: Club) -> None:
    await club.basic_club()
    await club.ok(HC, "/group create Squad")
    await club.ok(HC, f"/group add Squad {AVA} {BEN}")
    await club.ok(HC, "/group link Squad", channel="#squad")
    await club.ok(HC, "/group create Solo")
    await club.ok(HC, f"/group add Solo {CY}")


async def called(club: Club, line: str = SATURDAY_RUN, who: str = KAI) -> str:
    """A run called by `who`; its `#ID`."""
    said = await club.ok(who, line)
    found = EVENT_ID.search(said.text)
    assert found, said.text
    return f"#{found[1]}"


async def count(club: Club, model: type, *where: object) -> int:
    async with club.core.uow() as uow:
        query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await uow.session.scalar(query) or 0)


# -- /event create ----------------------------------------------------------------------


async def test_an_assistant_calls_a_run_posted_once_to_the_groups_channel(club: Club) -> None:
    await squads(club)
    said = await club.ok(KAI, SATURDAY_RUN + ' place:"Riverside gate" notes:"18k, two pace groups"')
    event = EVENT_ID.search(said.text)
    assert event
    pid = event[1]
    assert "When: Sat 09 Jan 2027, 08:00 (Europe/London)" in said.text
    assert "Where: Riverside gate" in said.text
    [post] = [m for m in said.messages if m.via is Via.CHANNEL]
    assert post.channel is not None and post.channel.name == "#squad"
    assert post.kind == "event_post"
    assert "Saturday long run" in post.text and "Notes: 18k, two pace groups" in post.text
    assert post.actions == (
        Button("Going", f"rsvp #{pid} going"),
        Button("Maybe", f"rsvp #{pid} maybe"),
        Button("Can't", f"rsvp #{pid} no"),
    )
    # the post holds the event only: nobody's answer, nothing private
    assert "ava" not in post.text
    # exactly once: the row is sent and stays sent
    assert await club.app.scheduling.due_now() == []
    rows = await count(club, OutboxMessage, OutboxMessage.kind == "event_post")
    assert rows == 1
    async with club.core.uow() as uow:
        stored = (await uow.session.scalars(select(ClubEvent))).one()
        assert stored.starts_at == datetime(2027, 1, 9, 8, 0, tzinfo=UTC)
        assert stored.place == "Riverside gate" and stored.cancelled_at is None
    assert "event_create" in (await club.ok(HC, "/audit")).text


async def test_times_are_the_clubs_whatever_the_coachs_own_zone(club: Club) -> None:
    await squads(club)
    await club.ok(KAI, "/settings tz:Asia/Tokyo")  # 18:00 there: Tuesday is not tomorrow
    said = await club.ok(KAI, '/event create group:Squad "Intervals" date:tomorrow time:18:30')
    assert "Tue 05 Jan 2027, 18:30 (Europe/London)" in said.text


@pytest.mark.parametrize(
    ("who", "line", "words"),
    [
        (AVA, SATURDAY_RUN, "You can't use /event create: it is not open to your role."),
        (KAI, SATURDAY_RUN.replace("Squad", "Nope"), "No group named 'Nope'. See /group list."),
        (
            KAI,
            SATURDAY_RUN.replace("Squad", "Solo"),
            "Solo has no linked channel to post the event to: type /group link Solo in the "
            "group's channel first.",
        ),
        (KAI, '/event create group:Squad "Early" date:today time:08:59', "is in the past"),
        (KAI, '/event create group:Squad "Old" date:2027-01-01 time:10:00', "is in the past"),
        (KAI, '/event create group:Squad "Late" date:sat time:25:00', "not a time of day"),
        (KAI, '/event create group:Squad "Late" date:sat time:8', "not a time of day"),
        (KAI, '/event create group:Squad "Feb" date:2027-02-30 time:08:00', "date: "),
        (KAI, '/event create group:Squad "" date:sat time:08:00', "title must not be empty"),
        (KAI, "/event create group:Squad date:sat time:08:00", "title is missing"),
        (
            KAI,
            f'/event create group:Squad "{"x" * 101}" date:sat time:08:00',
            "title is 101 characters long; the most is 100.",
        ),
        (
            KAI,
            f'/event create group:Squad "Long" date:sat time:08:00 notes:"{"n" * 2001}"',
            "notes is 2,001 characters long; the most is 2,000.",
        ),
        (KAI, '/event create group:Squad "Run" time:08:00', "date is missing"),
    ],
    ids=[
        "athlete",
        "unknown-group",
        "no-linked-channel",
        "earlier-today",
        "past-date",
        "bad-hour",
        "bad-time",
        "no-such-date",
        "empty-title",
        "no-title",
        "long-title",
        "long-notes",
        "no-date",
    ],
)
async def test_event_create_refusals(club: Club, who: str, line: str, words: str) -> None:
    await squads(club)
    said = await club.no(who, line)
    assert words in said.text
    assert "Traceback" not in said.text
    if who == KAI and "linked channel" not in words and "No group" not in words:
        assert "Usage: /event create group:G" in said.text
    assert await count(club, ClubEvent) == 0
    assert await count(club, OutboxMessage, OutboxMessage.kind == "event_post") == 0


# -- /rsvp ------------------------------------------------------------------------------


async def test_one_answer_per_person_changeable_with_the_counts(club: Club) -> None:
    await squads(club)
    pid = await called(club)
    said = await club.ok(AVA, f"/rsvp {pid} going")
    assert said.text.startswith("You're going to Saturday long run")
    assert "Going 1 · Maybe 0 · Can't 0" in said.text
    assert "remind you by DM 2 hours before" in said.text
    assert said.dms() == [] and [m for m in said.messages if m.via is Via.CHANNEL] == []
    await club.ok(BEN, f"/rsvp {pid.lower()} maybe")  # an id is typed in any case
    said = await club.ok(AVA, f"/rsvp {pid} no")
    assert said.text.startswith("Noted: you can't make")
    assert "Going 0 · Maybe 1 · Can't 1" in said.text
    said = await club.ok(AVA, f"/rsvp {pid} going")
    assert "Going 1 · Maybe 1 · Can't 0" in said.text
    assert await count(club, EventRsvp) == 2
    # coaches come to club runs too, whichever group
    assert "Going 2" in (await club.ok(NOOR, f"/rsvp {pid} going")).text


async def test_rsvp_refusals(club: Club) -> None:
    await squads(club)
    pid = await called(club)
    # not a member of the group: answered as if no such event existed
    hidden = (await club.no(CY, f"/rsvp {pid} going")).text
    missing = (await club.no(CY, "/rsvp #ZZZZZZZ going")).text
    assert hidden == missing.replace("#ZZZZZZZ", pid)
    assert hidden == f"No event '{pid}' in your groups. See /events for upcoming ones."
    assert "No event '#1' in your groups" in (await club.no(AVA, "/rsvp #1 going")).text
    said = await club.no(AVA, f"/rsvp {pid} perhaps")
    assert "answer must be one of going, maybe, no" in said.text and "Usage: /rsvp" in said.text
    assert "needs an organization" in (await club.no("zed@else.run", f"/rsvp {pid} going")).text
    await club.ok(HC, f"/member {BEN} status:suspended")
    assert "suspended" in (await club.no(BEN, f"/rsvp {pid} going")).text
    # a cancelled event takes no answer
    other = await called(club, SATURDAY_RUN.replace("sat", "sun"))
    await club.ok(HC, f"/event cancel {other}")
    said = await club.no(AVA, f"/rsvp {other} going")
    assert "was cancelled; there is nothing to answer" in said.text
    # nor one that has started
    club.clock.set(datetime(2027, 1, 9, 8, 0, tzinfo=UTC))
    said = await club.no(AVA, f"/rsvp {pid} going")
    assert "has already started; it is too late to answer" in said.text
    assert await count(club, EventRsvp) == 0


# -- /events ----------------------------------------------------------------------------


async def test_events_lists_what_each_may_see_with_who_is_going(club: Club) -> None:
    await squads(club)
    pid = await called(club)
    later = await called(club, '/event create group:Squad "Tempo" date:2027-01-12 time:18:00')
    await club.ok(AVA, f"/rsvp {pid} going")
    await club.ok(BEN, f"/rsvp {pid} no")
    await club.ok(HC, f"/rsvp {pid} going")
    seen = (await club.ok(AVA, "/events")).text
    assert seen.startswith("Upcoming events in your groups:")
    assert seen.index(pid) < seen.index(later)  # soonest first
    assert "Going 2 · Maybe 0 · Can't 1 — going: ava, hc" in seen
    assert "Your answer: going." in seen and "Your answer: none yet." in seen
    assert (await club.ok(HC, "/events")).text.startswith("Upcoming events in the club:")
    assert "going: ava, hc" in (await club.ok(NOOR, "/events group:Squad")).text
    # cy, of Solo only, sees none of Squad's, and a group not theirs reads as missing
    assert (await club.ok(CY, "/events")).text == (
        "No upcoming events in your groups. A coach calls one with /event create."
    )
    hidden = (await club.no(CY, "/events group:Squad")).text
    assert hidden == (await club.no(CY, "/events group:Nope")).text.replace("Nope", "Squad")
    assert (await club.ok(KAI, "/events group:Solo")).text == "No upcoming events in Solo."
    assert "/events needs an organization" in (await club.no("zed@else.run", "/events")).text
    # cancelled and started events are no longer upcoming
    await club.ok(KAI, f"/event cancel {later}")
    assert later not in (await club.ok(AVA, "/events")).text
    club.clock.set(datetime(2027, 1, 9, 8, 0, tzinfo=UTC))
    assert "No upcoming events" in (await club.ok(AVA, "/events")).text


# -- /event cancel ----------------------------------------------------------------------


async def test_calling_a_run_off_tells_those_going_once(club: Club) -> None:
    await squads(club)
    pid = await called(club)
    for who, answer in ((AVA, "going"), (BEN, "maybe"), (KAI, "going"), (NOOR, "going")):
        await club.ok(who, f"/rsvp {pid} {answer}")
    assert "not open to your role" in (await club.no(AVA, f"/event cancel {pid}")).text
    said = await club.ok(KAI, f"/event cancel {pid}")
    assert "is cancelled. I'm telling the 2 people going by DM and the group's channel." in (
        said.text
    )
    # those going, not the coach who called it off, not the maybe
    assert sorted(m.email or "" for m in said.dms()) == [AVA, NOOR]
    assert all(m.text.startswith("Called off: this club run is cancelled.") for m in said.dms())
    [post] = [m for m in said.messages if m.via is Via.CHANNEL]
    assert post.channel is not None and post.channel.name == "#squad"
    assert post.kind == "event_cancel_post" and post.actions == ()
    assert await club.app.scheduling.due_now() == []
    said = await club.no(HC, f"/event cancel {pid}")
    assert "was cancelled; there is nothing to call off" in said.text
    assert "No event '#ZZZZZZZ'" in (await club.no(HC, "/event cancel #ZZZZZZZ")).text
    assert await count(club, OutboxMessage, OutboxMessage.kind == "event_cancel") == 2
    assert "event_cancel" in (await club.ok(HC, "/audit")).text
    later = await called(club, SATURDAY_RUN.replace("sat", "sun"))
    club.clock.set(datetime(2027, 1, 10, 8, 0, tzinfo=UTC))
    assert "too late to call off" in (await club.no(KAI, f"/event cancel {later}")).text


async def test_an_event_cancelled_before_its_post_went_out_is_never_posted(club: Club) -> None:
    await squads(club)
    answer = await club.core.handle(console_caller(KAI), SATURDAY_RUN)  # nothing sent yet
    found = EVENT_ID.search(answer[0].text)
    assert found
    said = await club.ok(HC, f"/event cancel #{found[1]}")
    posts = [m for m in said.messages if m.via is Via.CHANNEL]
    assert [p.kind for p in posts] == ["event_cancel_post"]


# -- the calendar's reads -----------------------------------------------------------------


async def test_the_calendar_reads_a_groups_and_an_athletes_events(club: Club) -> None:
    await squads(club)
    first = await called(club)
    second = await called(club, '/event create group:Squad "Tempo" date:2027-01-12 time:18:00')
    await club.ok(HC, "/group link Solo", channel="#solo")
    solo = await called(club, '/event create group:Solo "Hills" date:2027-01-20 time:07:00')
    await club.ok(KAI, f"/event cancel {second}")
    start = datetime(2027, 1, 4, tzinfo=UTC)
    window = (start, start + timedelta(days=30))
    async with club.core.uow() as uow:
        repo = uow.repo
        squad = await uow.session.scalar(
            select(ClubEvent.group_id).where(ClubEvent.public_id == first[1:])
        )
        assert squad is not None
        rows = await repo.group_events_between([squad], *window)
        assert [(r.key, r.cancelled) for r in rows] == [(first[1:], False), (second[1:], True)]
        assert rows[0].starts_at == datetime(2027, 1, 9, 8, 0, tzinfo=UTC)
        assert (rows[0].title, rows[0].group, rows[0].place) == ("Saturday long run", "Squad", None)
        assert await repo.group_events_between([squad], start, start + timedelta(days=5)) == []
        solo_group = await uow.session.scalar(
            select(ClubEvent.group_id).where(ClubEvent.public_id == solo[1:])
        )
        assert solo_group is not None and solo_group != squad
        both = await repo.group_events_between([squad, solo_group], *window)
        assert [r.key for r in both] == [first[1:], second[1:], solo[1:]]
