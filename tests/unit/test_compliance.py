"""`/compliance` (issue 13 item 4): sessions due, done, skipped, missed and distance done
vs planned per athlete, within the caller's coaching scope, as each coach may see it
(SPEC §2, §3), on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Club
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    WEEK_PLAN,
    Lake,
    seed_group,
    seed_lake,
    seed_plan,
)


async def three_days(club: Club) -> Lake:
    """Base from Monday 4 Jan (Easy 8k, Tempo 10k, Spin ride, rest, Easy 8k, ...) for
    ava, ben and cy; Squad holds ava and ben. ava: Monday done (8.2k), Tuesday skipped
    with a ride of 20k, Wednesday missed. ben: all three done. cy: nothing. It is now
    Thursday 7 Jan, 09:00 in London."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await seed_group(club, lake, "Squad", AVA, BEN)
    for who in (AVA, BEN, CY):
        await club.ok(HC, f"/assign-plan Base {who} start:today")
    await club.ok(AVA, "/log 8.2k 42:10 effort:6")
    await club.ok(BEN, "/log 8k 40:00")
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/skip sore calf")
    await club.ok(AVA, "/log 20k 45:00 type:ride")
    await club.ok(BEN, "/log 10k 48:00")
    club.clock.advance(timedelta(days=1))
    await club.ok(BEN, "/log 25k 50:00 type:ride")
    club.clock.advance(timedelta(days=1))
    await club.app.scheduling.due_now()  # the morning's DMs and digests, out of the way
    return lake


def row(text: str, name: str) -> list[str]:
    """The cells of `name`'s line of the table (columns split on two spaces)."""
    found = [line for line in text.splitlines() if line.split("  ")[0].strip() == name]
    assert len(found) == 1, text
    return [cell.strip() for cell in found[0].split("  ") if cell.strip()]


def names(text: str) -> list[str]:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Athlete")), None)
    if start is None:
        return []
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith(" ") and "  " in line:
            body.append(line.split("  ")[0].strip())
        else:
            break
    return body


async def test_the_head_coach_sees_every_athlete_worst_first(club: Club) -> None:
    await three_days(club)
    said = await club.ok(HC, "/compliance")
    text = said.text
    assert text.splitlines()[0] == "Compliance, week of Mon 04 Jan 2027, the whole club:"
    # name, due, done, skipped, missed, %, distance done / planned
    assert row(text, "cy") == ["cy", "3", "0", "0", "3", "0%", "0 km / 26.00 km"]
    assert row(text, "ava") == ["ava", "3", "1", "1", "1", "33%", "28.20 km / 26.00 km"]
    assert row(text, "ben") == ["ben", "3", "3", "0", "0", "100%", "43.00 km / 26.00 km"]
    assert names(text) == ["cy", "ava", "ben"]
    assert said.reply.tables and said.reply.tables[0].rows[0][0] == "cy"
    assert said.dms() == []
    for duration in ("42:10", "40:00", "45:00", "48:00"):
        assert duration not in text  # no durations, ever: pace cannot be worked out


async def test_an_assistant_sees_their_roster_only(club: Club) -> None:
    await three_days(club)
    text = (await club.ok(KAI, "/compliance")).text
    assert text.splitlines()[0] == "Compliance, week of Mon 04 Jan 2027, your roster:"
    assert names(text) == ["ava"]
    assert names((await club.ok(NOOR, "/compliance")).text) == ["ben"]


async def test_group_and_coach_filters(club: Club) -> None:
    await three_days(club)
    text = (await club.ok(HC, "/compliance group:Squad")).text
    assert names(text) == ["ava", "ben"] and "group Squad" in text
    # an assistant: the group's athletes on their own roster
    text = (await club.ok(KAI, "/compliance group:squad")).text
    assert names(text) == ["ava"]
    assert names((await club.ok(HC, f"/compliance coach:{NOOR}")).text) == ["ben"]
    assert "noor's roster" in (await club.ok(HC, f"/compliance coach:{NOOR}")).text
    assert names((await club.ok(KAI, f"/compliance coach:{KAI} month")).text) == ["ava"]
    refused = await club.no(KAI, f"/compliance coach:{NOOR}")
    assert refused.text == "You can see the compliance of your own roster only, not noor's."
    assert (await club.no(HC, f"/compliance coach:{AVA}")).text.startswith("ava is not a coach")
    assert (await club.no(HC, "/compliance group:Nope")).text.startswith("No group named 'Nope'")
    both = await club.no(HC, f"/compliance group:Squad coach:{KAI}")
    assert "not both" in both.text and "Usage: /compliance" in both.text


async def test_an_athlete_is_refused_whatever_they_name(club: Club) -> None:
    await three_days(club)
    answers = {
        (await club.no(AVA, line)).text
        for line in (
            "/compliance",
            "/compliance group:Squad",
            "/compliance group:Nope",
            f"/compliance coach:{KAI}",
            "/compliance coach:nobody@else.run",
        )
    }
    assert answers == {
        "You can't use /compliance: it is not open to your role. Type /help to see yours."
    }
    assert "/compliance" not in (await club.ok(AVA, "/help")).text
    assert "/compliance" in (await club.ok(KAI, "/help")).text


async def test_periods(club: Club) -> None:
    await three_days(club)
    month = (await club.ok(HC, "/compliance month")).text
    assert month.splitlines()[0] == "Compliance, January 2027, the whole club:"
    # week 2's Monday adds a planned Easy, not yet due
    assert row(month, "ava") == ["ava", "3", "1", "1", "1", "33%", "28.20 km / 34.00 km"]
    two = (await club.ok(HC, "/compliance 2027-01-04..2027-01-05")).text
    assert row(two, "ava") == ["ava", "2", "1", "1", "0", "50%", "28.20 km / 18.00 km"]
    assert "Mon 04 Jan 2027 to Tue 05 Jan 2027" in two
    # nothing due yet: no percentage at all, and such lines come last
    ahead = (await club.ok(HC, "/compliance 2027-01-08..2027-01-11")).text
    assert row(ahead, "ava") == ["ava", "0", "0", "0", "0", "—", "0 km / 16.00 km"]
    # a period with no session: the athletes are counted, not listed
    rest = (await club.ok(HC, "/compliance 2027-01-07")).text
    assert "No session planned in this period: 3 athletes." in rest
    assert "Athlete" not in rest
    refused = await club.no(HC, "/compliance 2027-01-01..2027-06-30")
    assert "at most 92 days" in refused.text and "Usage: /compliance" in refused.text
    assert "Usage:" in (await club.no(HC, "/compliance fortnight")).text


async def test_missed_is_judged_by_the_athletes_own_date(club: Club) -> None:
    """Thursday 06:00 UTC: Wednesday is over in London, not yet in Los Angeles."""
    await three_days(club)
    await club.ok(CY, "/settings tz:America/Los_Angeles")
    club.clock.set(datetime(2027, 1, 7, 6, 0, tzinfo=UTC))
    text = (await club.ok(HC, "/compliance")).text
    assert row(text, "cy")[:5] == ["cy", "2", "0", "0", "2"]  # Wednesday still to come
    assert row(text, "ava")[:5] == ["ava", "3", "1", "1", "1"]


async def test_a_private_activity_leaves_no_trace(club: Club) -> None:
    """cy's Monday was completed by a private run only: missed for the coaches, and its
    distance counts nowhere."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    await club.ok(HC, f"/assign-plan Base {CY} start:today")
    await club.ok(CY, "/log 8k 40:00 private")
    assert row((await club.ok(HC, "/compliance")).text, "cy") == [
        "cy", "0", "0", "0", "0", "—", "0 km / 26.00 km"
    ]  # fmt: skip
    club.clock.advance(timedelta(days=1))
    text = (await club.ok(HC, "/compliance")).text
    assert row(text, "cy") == ["cy", "1", "0", "0", "1", "0%", "0 km / 26.00 km"]
    assert "8.00 km" not in text


async def test_without_the_activities_grant_statuses_only(club: Club) -> None:
    await three_days(club)
    await club.ok(BEN, "/privacy share_with_coaches off")
    for coach in (HC, NOOR):
        text = (await club.ok(coach, "/compliance")).text
        assert row(text, "ben") == ["ben", "3", "3", "0", "0", "100%", "— / 26.00 km"], coach
        assert "43.00 km" not in text
    await club.ok(BEN, "/privacy share_with_coaches on")
    await club.ok(BEN, "/privacy share_activities off")
    assert row((await club.ok(HC, "/compliance")).text, "ben")[-1] == "— / 26.00 km"


async def test_hidden_pace_shows_distances_and_never_a_duration(club: Club) -> None:
    await three_days(club)
    await club.ok(BEN, "/privacy share_pace off")
    text = (await club.ok(HC, "/compliance")).text
    assert row(text, "ben")[-1] == "43.00 km / 26.00 km"
    assert not any(d in text for d in ("40:00", "48:00", "50:00", "/km"))


async def test_a_coach_who_is_an_athlete_never_sees_their_own_line(club: Club) -> None:
    """ben becomes head coach while on a plan and in Squad: his club, his group and the
    roster he sits on all leave his own line out; others still see it."""
    await three_days(club)
    await club.ok(HC, f"/add-coach {BEN}")
    await club.ok(HC, f"/transfer-head-coach {BEN}")
    text = (await club.ok(BEN, "/compliance")).text
    assert names(text) == ["cy", "ava"]
    assert names((await club.ok(BEN, "/compliance group:Squad")).text) == ["ava"]
    assert names((await club.ok(BEN, f"/compliance coach:{NOOR}")).text) == []
    assert "ben" in names((await club.ok(NOOR, "/compliance")).text)


@pytest.mark.parametrize("units", ["mi"])
async def test_miles(club: Club, units: str) -> None:
    await three_days(club)
    await club.ok(HC, f"/settings units:{units}")
    text = (await club.ok(HC, "/compliance")).text
    assert row(text, "ava")[-1] == "17.52 mi / 16.16 mi"
    assert " km" not in text


async def test_a_big_group_is_cut_worst_first_within_the_message_limit(club: Club) -> None:
    from bot.messages import TEXT_LIMIT
    from tests.unit.test_training import seed_athletes

    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    big = await seed_group(club, lake, "Big")
    await seed_athletes(club, lake, "runner", 45, big)
    await club.ok(HC, "/assign-plan Base group:Big start:today")
    await club.ok("runner0007@lake.run", "/log 8k 40:00")
    club.clock.advance(timedelta(days=1))
    said = await club.ok(HC, "/compliance group:Big")
    lines = said.text.splitlines()
    assert "… and 5 more: narrow it with group:G or coach:C, or a shorter period." in lines
    assert len(said.reply.tables[0].rows) == 40
    assert "runner0007" not in said.text  # 100 %: among the five not shown
    assert len(said.text) < TEXT_LIMIT
