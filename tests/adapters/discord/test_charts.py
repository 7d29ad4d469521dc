"""Charts end to end on Discord (issue 15, "Done when"): the real drawer — matplotlib in
its worker process — draws what the real core asks for, and the real discord.py client
sends it to the Discord double. The Monday board lands in the group's linked channel as
its text and an attached PNG; `/leaderboard` in that channel likewise; an athlete's
`/progress` is an ephemeral follow-up carrying the image. On both stores."""

from __future__ import annotations

from typing import Any

from adapters.chart_render import DPI, ROW_IN, WEEKLY_HEIGHT_IN, WIDTH_IN
from adapters.charts import ChartPool
from bot.clock import FakeClock
from tests.adapters.charts_world import MONDAY_POST, decoded_size, draw_with
from tests.adapters.charts_world import drawer as drawer  # the module's fixture
from tests.adapters.discord.conftest import Discord, Starter, mention, plain, text_of
from tests.adapters.discord.double import EPHEMERAL, DiscordDouble


async def squad_with_runs(
    double: DiscordDouble, start_discord: Starter, url: str, drawer: ChartPool
) -> tuple[Discord, dict[str, Any]]:
    """Lakeside (London): ava and ben in Squad, linked to #squad, each with a run this
    week (Mon 04 Jan 2027)."""
    guild = double.add_guild("Lakeside", ("general", "squad"))
    _general, squad = list(guild.channels)
    hc, ava, ben = (double.add_user(n) for n in ("Harriet", "Ava", "Ben"))
    bot = await start_discord(url)
    draw_with(bot.app, drawer)
    g = {"guild": guild}
    await bot.ok("/setup-org", by=hc, **g, name="Lakeside Striders", tz="Europe/London")
    for athlete in (ava, ben):
        await bot.add(athlete, by=hc, **g)
    await bot.ok("/group create", by=hc, **g, name="Squad")
    for athlete in (ava, ben):
        await bot.ok("/group add", by=hc, **g, name="Squad", members=mention(athlete))
    await bot.ok("/group link", by=hc, **g, channel=squad, name="Squad")
    await bot.ok("/log", by=ava, **g, what="8k 42:10", type="run")
    await bot.ok("/log", by=ben, **g, what="12k 61:00", type="run")
    await bot.due_now()
    return bot, {"guild": guild, "squad": squad, "ava": ava, "ben": ben}


async def test_the_monday_board_is_posted_with_its_png(
    double: DiscordDouble,
    start_discord: Starter,
    db_url: str,
    drawer: ChartPool,
    clock: FakeClock,
) -> None:
    bot, club = await squad_with_runs(double, start_discord, db_url, drawer)
    before = len(double.posts_in(club["squad"]))
    clock.set(MONDAY_POST)
    sent = await bot.due_now()
    [board] = [m for m in sent if m.kind == "leaderboard"]
    assert board.chart is not None
    text, files = double.posts_in(club["squad"])[before:]
    said = plain(text_of(text))
    assert "Squad leaderboard" in said and "week of Mon 04 Jan 2027" in said and "Ben" in said
    assert not text["attachments"] and not files["flags"] & EPHEMERAL  # the text first
    [attachment] = files["attachments"]
    assert attachment["filename"] == board.chart.name
    assert attachment["description"] == board.chart.summary  # alt text
    assert files["nonce"] == f"{text['nonce']}.f0"  # its own key against a re-send
    width, height = decoded_size(double.attached([files])[board.chart.name])
    assert width == round(WIDTH_IN * DPI)
    assert 2 * ROW_IN * DPI < height < (2 * ROW_IN + 2) * DPI  # two athletes' rows
    assert await bot.due_now() == []  # once


async def test_leaderboard_in_the_channel_posts_its_png_there(
    double: DiscordDouble, start_discord: Starter, db_url: str, drawer: ChartPool
) -> None:
    bot, club = await squad_with_runs(double, start_discord, db_url, drawer)
    before = len(double.posts_in(club["squad"]))
    answer = await bot.ok(
        "/leaderboard", by=club["ava"], guild=club["guild"], channel=club["squad"]
    )
    # the caller is told privately; the board is a message of the channel, its PNG the
    # next one, both public
    [confirmation] = answer.followups
    assert answer.ephemeral and "Posted Squad's leaderboard to #squad." in answer.text
    assert not confirmation["attachments"]
    text, files = double.posts_in(club["squad"])[before:]
    assert "Squad leaderboard" in plain(text_of(text)) and not text["attachments"]
    assert not (text["flags"] | files["flags"]) & EPHEMERAL
    got = double.attached([files])
    assert list(got) == ["leaderboard-distance.png"]
    assert decoded_size(got["leaderboard-distance.png"])[0] == round(WIDTH_IN * DPI)


async def test_progress_is_an_ephemeral_follow_up_with_its_image(
    double: DiscordDouble, start_discord: Starter, db_url: str, drawer: ChartPool
) -> None:
    bot, club = await squad_with_runs(double, start_discord, db_url, drawer)
    before = len(double.posts_in(club["squad"]))
    answer = await bot.ok("/progress", by=club["ava"], guild=club["guild"], channel=club["squad"])
    assert answer.ephemeral and "progress" in answer.text
    assert not answer.followups[0]["attachments"]  # the text first, on its own
    with_files = [m for m in answer.followups if m["attachments"]]
    [attachment] = [a for m in with_files for a in m["attachments"]]
    assert attachment["filename"].endswith(".png")
    assert attachment["description"].startswith("Bar chart of")
    data = double.attached(with_files)[attachment["filename"]]
    assert decoded_size(data) == (round(WIDTH_IN * DPI), round(WEEKLY_HEIGHT_IN * DPI))
    assert double.posts_in(club["squad"])[before:] == []  # nothing in the channel
