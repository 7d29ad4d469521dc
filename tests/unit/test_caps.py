"""Issue 11 item 4: every list argument has a maximum and merges repeats; every message
has a maximum length — through the real core, on both stores.

The issue's case: `/group add squad` with one member repeated 50,000 times took 60-85 s,
answered with 250,000 characters, and did not merge the repeats.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from bot.commands.base import LIST_MAX, MEMBERS_MAX
from bot.messages import TEXT_LIMIT, Outgoing, Via, bounded, within_limit
from bot.schedule.dispatcher import Dispatcher
from storage.models import AuditEntry, GroupMember, Membership, OutboxMessage
from storage.outbox import OutboxStore
from tests.conftest import Club
from tests.schedule import Recorder
from tests.unit.test_training import AVA, BEN, HC, count, seed_athletes, seed_group, seed_lake


async def group_size(club: Club, group_id: int) -> int:
    return await count(club, GroupMember, GroupMember.group_id == group_id)


async def test_item_04_one_member_repeated_50000_times_is_added_once(club: Club) -> None:
    lake = await seed_lake(club)
    squad = await seed_group(club, lake, "squad")
    said = await club.ok(HC, "/group add squad " + " ".join([AVA] * 50_000))
    assert said.text == "Added to squad: ava." and len(said.text) < 100
    assert await group_size(club, squad) == 1
    # and the same again, in any spelling, is merged too
    said = await club.ok(HC, "/group add squad " + " ".join(["AVA@lake.run", AVA] * 25_000))
    assert said.text == "Nobody new to add. Already in it: ava."


async def test_item_04_one_person_named_two_ways_counts_once(club: Club) -> None:
    lake = await seed_lake(club)
    squad = await seed_group(club, lake, "squad")
    said = await club.ok(HC, f"/group add squad {AVA} ava {BEN} ava")
    assert said.text == "Added to squad: ava, ben."
    assert await group_size(club, squad) == 2
    said = await club.ok(HC, f"/group remove squad ava {AVA} ava")  # was refused as "not in"
    assert said.text == "Removed from squad: ava."
    assert await group_size(club, squad) == 1


async def test_item_04_more_distinct_members_than_the_maximum_are_refused(club: Club) -> None:
    lake = await seed_lake(club)
    squad = await seed_group(club, lake, "squad", AVA)
    audits = await count(club, AuditEntry)
    names = [f"runner{n}@lake.run" for n in range(MEMBERS_MAX + 1)]
    said = await club.no(HC, "/group add squad " + " ".join(names * 400))
    first, *rest = said.text.split("\n")
    assert first == (
        f"members: at most {MEMBERS_MAX} different members in one command; split them over several."
    )
    assert [line.startswith("Usage: /group add") for line in rest] == [True]
    assert await group_size(club, squad) == 1 and await count(club, AuditEntry) == audits
    # exactly the maximum is not refused for its number (these people just don't exist)
    said = await club.no(HC, "/group add squad " + " ".join(names[:MEMBERS_MAX]))
    assert "at most" not in said.text and "runner0@lake.run" in said.text


async def test_item_04_labels_merge_repeats_and_have_a_maximum(club: Club) -> None:
    lake = await seed_lake(club)
    said = await club.ok(HC, f"/member {AVA} labels:hills,Hills,track,hills,track")
    assert "labels hills, track" in said.text
    async with club.core.uow() as uow:
        labels = await uow.session.scalar(
            select(Membership.labels).where(Membership.id == lake.members[AVA])
        )
    assert labels == ["hills", "track"]
    many = ",".join(f"l{n}" for n in range(LIST_MAX + 1))
    said = await club.no(HC, f"/member {AVA} labels:{many}")
    assert said.text.startswith(f"labels: up to {LIST_MAX} items")


async def test_item_04_long_lists_are_summarised_with_how_to_narrow_them(club: Club) -> None:
    lake = await seed_lake(club)
    big = await seed_group(club, lake, "big")
    await seed_athletes(club, lake, "runner", 150, big)
    show = await club.ok(HC, "/group show big")
    assert show.text.startswith("big — 150 athletes")
    assert show.text.endswith("… and 90 more; narrow with /members group:big label:L.")
    members = await club.ok(HC, "/members group:big")
    assert "(first 40; narrow with group: or label:)" in members.text
    names = " ".join(f"runner{n:04d}@lake.run" for n in range(100))
    added = await club.ok(HC, f"/group add squad {names}".replace("squad", "big"))
    assert added.text.endswith("and 80 more.") or "Already in it" in added.text
    for said in (show, members, added):
        assert len(said.text) <= TEXT_LIMIT


async def test_item_04_no_message_exceeds_the_ceiling(club: Club) -> None:
    """The backstop: whatever a command builds, no message is longer than 4,000
    characters, and the cut says so on a line of its own."""
    await seed_lake(club)
    note = "n" * 1900
    for n in range(5):
        await club.ok(AVA, f'/log 5k 25:00 date:2026-12-2{n + 1} "{note}"')
    said = await club.ok(AVA, "/activities")
    assert len(said.text) <= TEXT_LIMIT
    assert said.text.split("\n")[-1].startswith("… and ")
    assert said.text.split("\n")[-1].endswith("(a reply holds at most 4,000 characters).")
    huge = within_limit(Outgoing(Via.DM, "\n".join(f"- athlete {n}" for n in range(50_000))))
    assert len(huge.text) <= TEXT_LIMIT and huge.text.endswith(
        "… and 49,715 more lines not shown (a reply holds at most 4,000 characters)."
    )
    assert bounded("x" * 250_000).endswith(
        "… and the rest not shown (a reply holds at most 4,000 characters)."
    )


async def test_item_04_the_dispatcher_sends_nothing_over_the_ceiling(club: Club) -> None:
    """A DM row longer than the ceiling (written before it existed, or by a renderer)
    still goes out bounded: the dispatcher applies the same limit when it sends."""
    now = club.clock.now()
    async with club.app.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "key": "note:long",
                    "kind": "note",
                    "email": "ann@club.run",
                    "text": "\n".join(f"- line {n}" for n in range(2_000)),
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
            ],
        )
    platform = Recorder(club.clock)
    await Dispatcher(OutboxStore(club.app.sessions), club.clock, platform).drain()
    [sent] = platform.sent
    assert len(sent.message.text) <= TEXT_LIMIT
    assert sent.message.text.endswith("not shown (a reply holds at most 4,000 characters).")
