"""Charts beside the text (issue 15 item 1): each chart is drawn from exactly the rows its
text shows — the numbers behind `/leaderboard`'s, the weekly board's and `/compliance`'s
charts are compared with their text here (`/progress`: tests/unit/test_progress.py) —
and at the core's exits a message with a chart carries its PNG, or, when drawing fails,
goes as text alone. The real drawer: tests/adapters/test_chart_drawer.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.commands.leaderboard import SHOWN, board_chart
from bot.messages import Attachment, Chart, ChartKind, Outgoing, Table, Via
from bot.render import METRES_PER_MILE
from tests.conftest import Club
from tests.unit import test_compliance
from tests.unit.test_leaderboard import (
    AVA,
    BEN,
    CY,
    MON,
    SQUAD,
    TUE,
    Done,
    add_runs,
    board,
    give_sessions,
    log_week,
    squads,
)


class FakeDrawer:
    """Records the charts it is asked for; draws a stand-in PNG, or fails."""

    def __init__(self, *, fails: bool = False) -> None:
        self.charts: list[Chart] = []
        self.fails = fails

    async def draw(self, chart: Chart) -> Attachment:
        self.charts.append(chart)
        if self.fails:
            raise RuntimeError("the drawing process died")
        return Attachment(chart.name, b"\x89PNG\r\n\x1a\n" + chart.title.encode(), "image/png")


def wire(club: Club, drawer: FakeDrawer) -> None:
    club.core.drawer = drawer
    club.app.scheduling.dispatcher.drawer = drawer


def seconds(cell: str) -> int:
    parts = [int(p) for p in cell.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def assert_board_chart_is_its_text(chart: Chart | None, text: str, by: str, unit: str) -> None:
    """Labels, order, numbers and marks of a board's chart are its text's rows."""
    rows = board(text)
    assert chart is not None and chart.kind is ChartKind.RANKED
    assert chart.title == text.splitlines()[0]
    assert list(chart.labels) == [name for _, name, _ in rows]
    (values,) = [s.values for s in chart.series]
    for value, mark, (_, name, cells) in zip(values, chart.marks, rows, strict=True):
        if by == "distance":
            number, shown_unit = cells[0], cells[1]
            assert shown_unit == unit, name
            assert round(value, 2) == float(number) and mark == number, name
        elif by == "time":
            assert round(value * 3600) == seconds(cells[2]) and mark == cells[2], name
        elif by == "runs":
            assert value == int(cells[-1]) and mark == cells[-1], name
        else:
            assert f"{value:.0f}%" == cells[0] == mark, name


@pytest.mark.parametrize("by", ["distance", "time", "runs"])
async def test_a_boards_chart_is_its_text(club: Club, by: str) -> None:
    await squads(club)
    await log_week(club)
    said = await club.ok(BEN, f"/leaderboard by:{by}")
    assert_board_chart_is_its_text(said.reply.chart, said.text, by, "km")
    assert said.reply.chart is not None
    assert said.reply.chart.unit == {"distance": "km", "time": "hours", "runs": "activities"}[by]


async def test_a_board_in_miles_charts_miles(club: Club) -> None:
    await squads(club)
    await log_week(club)
    await club.ok(AVA, "/settings units:mi")
    said = await club.ok(AVA, "/leaderboard")
    assert_board_chart_is_its_text(said.reply.chart, said.text, "distance", "mi")
    chart = said.reply.chart
    assert chart is not None and chart.unit == "mi"
    assert chart.values("mi")[0] == pytest.approx(21_100 / METRES_PER_MILE)  # ben: 13.11 mi


async def test_hidden_pace_and_private_runs_are_not_charted(club: Club) -> None:
    await squads(club)
    await log_week(club)
    await add_runs(club, Done(AVA, TUE, 30, 150, private=True))  # counts for no board
    await club.ok(CY, "/privacy share_pace off")
    by_time = await club.ok(AVA, "/leaderboard by:time")
    assert_board_chart_is_its_text(by_time.reply.chart, by_time.text, "time", "km")
    assert by_time.reply.chart is not None and "cy" not in by_time.reply.chart.labels
    by_distance = await club.ok(BEN, "/leaderboard")
    assert_board_chart_is_its_text(by_distance.reply.chart, by_distance.text, "distance", "km")
    chart = by_distance.reply.chart
    assert chart is not None and dict(zip(chart.labels, chart.values("km"), strict=True)) == {
        "ben": pytest.approx(21.1),
        "ava": pytest.approx(15.0),  # her private 30 km: nowhere
        "cy": 0.0,
    }


async def test_a_consistency_boards_chart_is_its_text(club: Club) -> None:
    await squads(club)
    await give_sessions(club, AVA, {MON: "completed", TUE: "scheduled"})
    await give_sessions(club, BEN, {MON: "completed", TUE: "completed"})
    said = await club.ok(CY, "/leaderboard by:consistency")
    assert_board_chart_is_its_text(said.reply.chart, said.text, "consistency", "km")
    assert said.reply.chart is not None and said.reply.chart.labels == ("ben", "ava")


async def test_no_one_to_rank_no_chart(club: Club) -> None:
    await squads(club)
    await club.ok(AVA, "/privacy share_with_group off")
    await club.ok(BEN, "/privacy share_with_group off")
    await club.ok(CY, "/privacy share_with_group off")
    said = await club.ok(AVA, "/leaderboard")
    assert "No athlete of this group shares" in said.text
    assert said.reply.chart is None


def test_a_long_board_charts_the_rows_its_text_shows() -> None:
    body = tuple((str(i + 1), f"a{i}", f"{99 - i}.00 km", "—", "1") for i in range(SHOWN))
    shown = Table("10k leaderboard", ("#", "Athlete", "Distance", "Time", "Activities"), body)
    values = [99.0 - i for i in range(SHOWN + 5)]  # the board had 5 rows more than it shows
    chart = board_chart(shown, values, "distance", "km")
    assert chart is not None and len(chart.labels) == SHOWN
    assert chart.values("km") == tuple(values[:SHOWN])
    assert f"{SHOWN} athletes (the first {SHOWN})" in chart.summary


async def test_compliances_chart_is_its_text(club: Club) -> None:
    await test_compliance.three_days(club)
    said = await club.ok(test_compliance.HC, "/compliance")
    chart = said.reply.chart
    assert chart is not None and chart.kind is ChartKind.STACKED
    names = test_compliance.names(said.text)
    assert list(chart.labels) == names == ["cy", "ava", "ben"]
    assert chart.title == said.text.splitlines()[0].rstrip(":")
    for i, name in enumerate(names):
        _, due, done, skipped, missed, percent, *_ = test_compliance.row(said.text, name)
        drawn = [chart.values(part)[i] for part in ("done", "skipped", "missed")]
        assert drawn == [float(done), float(skipped), float(missed)], name
        assert sum(drawn) == float(due) and chart.marks[i] == percent, name
    # statuses only: no distance, and so nothing of anyone's activities, is drawn
    assert [s.name for s in chart.series] == ["done", "skipped", "missed"]


async def test_compliance_with_no_one_planned_has_no_chart(club: Club) -> None:
    lake = await test_compliance.seed_lake(club)
    assert lake
    said = await club.ok(test_compliance.HC, "/compliance")
    assert said.reply.chart is None


# -- at the core's exits ----------------------------------------------------------------


async def test_an_answer_and_a_post_carry_their_png(club: Club) -> None:
    drawer = FakeDrawer()
    wire(club, drawer)
    await squads(club)
    await log_week(club)
    said = await club.ok(AVA, "/leaderboard")
    (image,) = said.reply.files
    assert image.mime == "image/png" and image.name == "leaderboard-distance.png"
    assert said.reply.chart is not None and image.alt == said.reply.chart.summary
    assert image.alt.startswith("Bar chart of 10k-squad leaderboard") and "led by ben" in image.alt
    # typed in the group's channel: the post carries it; the confirmation has no chart
    posted = await club.ok(AVA, "/leaderboard", channel=SQUAD)
    (post,) = [m for m in posted.messages if m.via is Via.CHANNEL]
    assert len(post.files) == 1 and post.text.startswith("10k-squad leaderboard")
    assert posted.reply.files == ()
    assert len(drawer.charts) == 2


async def test_a_chart_not_drawn_leaves_the_text_to_go_alone(
    club: Club, caplog: pytest.LogCaptureFixture
) -> None:
    await squads(club)
    await log_week(club)
    plain = await club.ok(AVA, "/leaderboard")
    wire(club, FakeDrawer(fails=True))
    with caplog.at_level(logging.INFO, logger="coachbot.charts"):
        said = await club.ok(AVA, "/leaderboard")
    assert said.reply.text == plain.reply.text and said.reply.ok
    assert said.reply.files == ()
    assert any("not drawn" in r.getMessage() for r in caplog.records)
    failed = [r for r in caplog.records if getattr(r, "fields", {}).get("outcome") == "failed"]
    assert failed and failed[0].__dict__["fields"]["event"] == "chart"


async def test_a_stuck_drawer_does_not_hold_the_answer(club: Club) -> None:
    from bot.charting import with_charts
    from bot.observe import Observed

    class Stuck:
        async def draw(self, chart: Chart) -> Attachment:
            import asyncio

            await asyncio.Event().wait()
            raise AssertionError("never")

    message = Outgoing(Via.REPLY, "text", chart=Chart(ChartKind.RANKED, "t", "km", (), ()))
    (out,) = await with_charts([message], Stuck(), Observed(), seconds=0.01)
    assert out.text == "text" and out.files == ()


async def test_the_weekly_board_post_carries_its_png(club: Club) -> None:
    drawer = FakeDrawer()
    wire(club, drawer)
    await squads(club)
    await log_week(club)
    club.clock.set(datetime(2027, 1, 11, 8, 1, tzinfo=UTC))  # Monday 08:01 in London
    sent = await club.app.scheduling.due_now()
    (post,) = [m for m in sent if m.kind == "leaderboard"]
    assert post.via is Via.CHANNEL and "week of Mon 04 Jan 2027" in post.text
    assert_board_chart_is_its_text(post.chart, post.text, "distance", "km")
    (image,) = post.files
    assert image.alt == (post.chart.summary if post.chart else None)


async def test_the_weekly_board_goes_as_text_when_its_chart_fails(club: Club) -> None:
    wire(club, FakeDrawer(fails=True))
    await squads(club)
    await log_week(club)
    club.clock.set(datetime(2027, 1, 11, 8, 1, tzinfo=UTC))
    sent = await club.app.scheduling.due_now()
    (post,) = [m for m in sent if m.kind == "leaderboard"]
    assert post.files == () and "1  ben" in post.text
