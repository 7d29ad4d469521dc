"""`/progress [MEMBER] [weeks:N]` (issue 15 item 1): planned vs done distance per week, as
each viewer may see it (SPEC §2), with a chart drawn from exactly the rows of its text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.messages import Chart, ChartKind
from tests.conftest import Club
from tests.unit.test_training import AVA, BEN, HC, KAI, NOOR, Lake, seed_lake, seed_plan

MONDAY_BEFORE = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # London is on UTC in winter
THURSDAY = datetime(2027, 1, 7, 9, 0, tzinfo=UTC)
# week 1: Easy 8k Mon, Tempo 10k Tue, Spin (a ride, no distance) Wed, Easy 8k Fri: 26 km
# week 2: Easy 8k Mon
TWO_WEEKS = {
    (1, "mon"): "Easy",
    (1, "tue"): "Tempo",
    (1, "wed"): "Spin",
    (1, "fri"): "Easy",
    (2, "mon"): "Easy",
}
USAGE = "Usage: /progress [MEMBER] [weeks:1-26]"


async def two_weeks(club: Club) -> Lake:
    """ava on Base from Mon 28 Dec: Monday's Easy done (8.2 km, 42:10), Tuesday's Tempo
    done by a private 10 km, Wednesday's Spin skipped, a 5 km run on Thursday's rest day,
    Friday's Easy missed; Mon 4 Jan's Easy done (8 km). Now: Thursday 7 Jan, 09:00."""
    club.clock.set(MONDAY_BEFORE)
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, TWO_WEEKS)
    await club.ok(HC, f"/assign-plan Base {AVA} start:today")
    await club.ok(AVA, "/log 8.2k 42:10")
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/log 10k 50:00 private")
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/skip legs")
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/log 5k 26:00")
    club.clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await club.ok(AVA, "/log 8k 40:00")
    club.clock.set(THURSDAY)
    await club.app.scheduling.due_now()
    return lake


def table(text: str) -> list[list[str]]:
    """The cells of each week's row (columns split on two spaces or more)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Week of"))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("Total:"):
            break
        rows.append([cell.strip() for cell in line.split("  ") if cell.strip()])
    return rows


def number(cell: str) -> float | None:
    """A distance cell as a number in the reply's unit ("—": not shown)."""
    if cell == "—":
        return None
    value, unit = cell.split()
    return float(value) / 1000 if unit == "m" else float(value)


def assert_chart_is_the_text(chart: Chart | None, text: str, unit: str) -> None:
    """The numbers behind the chart are the numbers of the text, row by row."""
    assert chart is not None and chart.kind is ChartKind.WEEKLY
    assert chart.unit == unit
    rows = table(text)
    assert list(chart.labels) == [row[0] for row in rows]
    assert chart.title in text.splitlines()[0]
    assert [round(v, 2) for v in chart.values("planned")] == [number(r[1]) for r in rows]
    done_shown = len(rows[0]) == 4
    if done_shown:
        assert [round(v, 2) for v in chart.values("done")] == [number(r[2]) for r in rows]
    else:
        assert [s.name for s in chart.series] == ["planned"]
    assert list(chart.marks) == [r[-1] for r in rows]


async def test_own_progress_counts_everything_of_ones_own(club: Club) -> None:
    await two_weeks(club)
    said = await club.ok(AVA, "/progress weeks:2")
    text = said.text
    assert text.splitlines()[0] == (
        "Your progress, 2 weeks to Sun 10 Jan 2027: planned vs done distance:"
    )
    # the private run is ava's own: it completed Tuesday and counts in her done distance
    assert table(text) == [
        ["28 Dec 2026", "26.00 km", "23.20 km", "2/4"],
        ["04 Jan", "8.00 km", "8.00 km", "1/1"],
    ]
    assert "Total: planned 34.00 km, done 31.20 km; 3 of 5 sessions done (1 skipped, 1 missed" in (
        text
    )
    assert ":10" not in text and "42" not in text  # no duration is ever shown
    assert_chart_is_the_text(said.reply.chart, text, "km")
    assert said.reply.chart is not None and said.reply.chart.summary.startswith("Bar chart of")


async def test_a_coach_sees_no_trace_of_a_private_activity(club: Club) -> None:
    await two_weeks(club)
    said = await club.ok(KAI, f"/progress {AVA} weeks:2")
    assert said.text.startswith("ava's progress, 2 weeks to Sun 10 Jan 2027")
    # Tuesday's private 10 km is gone, and the session it completed reads as missed
    assert table(said.text) == [
        ["28 Dec 2026", "26.00 km", "13.20 km", "1/4"],
        ["04 Jan", "8.00 km", "8.00 km", "1/1"],
    ]
    assert "2 of 5 sessions done (1 skipped, 2 missed" in said.text
    assert_chart_is_the_text(said.reply.chart, said.text, "km")


async def test_hidden_pace_changes_nothing_and_shows_no_time(club: Club) -> None:
    await two_weeks(club)
    await club.ok(AVA, "/privacy share_pace off")
    said = await club.ok(HC, f"/progress {AVA} weeks:2")
    assert table(said.text)[0] == ["28 Dec 2026", "26.00 km", "13.20 km", "1/4"]
    assert "42:10" not in said.text and "26:00" not in said.text
    assert_chart_is_the_text(said.reply.chart, said.text, "km")


async def test_a_coach_without_the_activities_grant_sees_statuses_only(club: Club) -> None:
    await two_weeks(club)
    # noor coaches, but not ava: SPEC §2 lets her see the schedule, not the activities
    said = await club.ok(NOOR, f"/progress {AVA} weeks:2")
    assert table(said.text) == [["28 Dec 2026", "26.00 km", "1/4"], ["04 Jan", "8.00 km", "1/1"]]
    assert "done 13" not in said.text and "Total: planned 34.00 km;" in said.text
    assert "ava doesn't share their activities with you" in said.text
    assert_chart_is_the_text(said.reply.chart, said.text, "km")
    # ava's own coach, once she shares nothing with coaches: the same
    await club.ok(AVA, "/privacy share_with_coaches off")
    said = await club.ok(KAI, f"/progress {AVA} weeks:2")
    assert table(said.text)[0] == ["28 Dec 2026", "26.00 km", "1/4"]
    assert_chart_is_the_text(said.reply.chart, said.text, "km")


async def test_miles_everywhere_for_a_viewer_in_miles(club: Club) -> None:
    await two_weeks(club)
    await club.ok(AVA, "/settings units:mi")
    said = await club.ok(AVA, "/progress weeks:2")
    assert table(said.text)[0] == ["28 Dec 2026", "16.16 mi", "14.42 mi", "2/4"]
    assert "km" not in said.text
    assert_chart_is_the_text(said.reply.chart, said.text, "mi")


async def test_eight_weeks_by_default_back_from_this_one(club: Club) -> None:
    await two_weeks(club)
    said = await club.ok(AVA, "/progress")
    rows = table(said.text)
    assert [r[0] for r in rows][:2] == ["16 Nov 2026", "23 Nov 2026"]
    assert len(rows) == 8 and rows[-1][0] == "04 Jan"
    assert rows[0] == ["16 Nov 2026", "0 km", "0 km", "—"]  # before the plan: nothing
    assert_chart_is_the_text(said.reply.chart, said.text, "km")


@pytest.mark.parametrize(
    ("who", "line", "says"),
    [
        (AVA, f"/progress {BEN}", "You can see your own progress only."),
        (KAI, "/progress nobody@lake.run", "No member nobody@lake.run in your organization."),
        (AVA, "/progress weeks:27", "weeks"),
        (AVA, "/progress weeks:0", "weeks"),
        (AVA, "/progress weeks:many", "weeks"),
    ],
)
async def test_refusals_say_what_was_wrong(club: Club, who: str, line: str, says: str) -> None:
    await seed_lake(club)
    said = await club.no(who, line)
    assert says in said.text
    assert said.reply.chart is None
    if "weeks" in line:
        assert USAGE in said.text


async def test_no_plan_still_shows_what_was_done(club: Club) -> None:
    await seed_lake(club)
    await club.ok(BEN, "/log 6k 33:00")
    said = await club.ok(BEN, "/progress weeks:2")
    assert table(said.text) == [
        ["28 Dec 2026", "0 km", "0 km", "—"],
        ["04 Jan", "0 km", "6.00 km", "—"],
    ]
    assert said.text.endswith(
        "You have no training plan yet; a coach assigns one with /assign-plan."
    )
    assert_chart_is_the_text(said.reply.chart, said.text, "km")
    # a coach who may see ben's schedule but not his activities: nothing to show
    said = await club.ok(KAI, f"/progress {BEN}")
    assert said.text == "ben has no training plan yet; a coach assigns one with /assign-plan."
    assert said.reply.chart is None
