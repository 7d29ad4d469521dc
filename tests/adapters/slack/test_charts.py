"""Charts end to end on Slack (issue 15, "Done when"): the real drawer — matplotlib in its
worker process — draws what the real core asks for, and the real Slack app delivers it to
the Web API double on loopback. The Monday board lands in the group's linked channel as
its text and a PNG shared in that channel; `/leaderboard` typed in that channel likewise;
an athlete's `/progress` is an ephemeral answer and then the image, an image block of a
private upload. On both stores."""

from __future__ import annotations

from adapters.chart_render import DPI, ROW_IN, WEEKLY_HEIGHT_IN, WIDTH_IN
from adapters.charts import ChartPool
from tests.adapters.charts_world import MONDAY_POST, decoded_size, draw_with
from tests.adapters.charts_world import drawer as drawer  # the module's fixture
from tests.adapters.slack.conftest import SlackClub, plain

HC, AVA, BEN = "hc@lake.run", "ava@lake.run", "ben@lake.run"


async def squad_with_runs(s: SlackClub) -> str:
    """Lakeside (London): ava and ben in Squad, linked to #squad, each with a run this
    week (Mon 04 Jan 2027). Returns the channel's id."""
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    for athlete in (AVA, BEN):
        await s.say(HC, f"/add-member {athlete}")
        await s.say(athlete, "/profile")
    await s.say(HC, "/group create Squad")
    for athlete in (AVA, BEN):
        await s.say(HC, f"/group add Squad {athlete}")
    await s.say(HC, "/group link Squad", channel="squad")
    await s.say(AVA, "/log 8k 42:10")
    await s.say(BEN, "/log 12k 61:00")
    await s.due()
    return s.channel_id("squad")


async def test_the_monday_board_is_posted_with_its_png(slack: SlackClub, drawer: ChartPool) -> None:
    s = slack
    draw_with(s.app, drawer)
    channel = await squad_with_runs(s)
    assert s.double.shared(channel) == []
    s.clock.set(MONDAY_POST)
    sent = await s.due()
    [board] = [m for m in sent if m.kind == "leaderboard"]
    assert board.chart is not None and [f.name for f in board.files] == [board.chart.name]
    [post] = s.double.posts(channel)
    text = plain(post["text"])
    assert text.startswith("Squad leaderboard") and "week of Mon 04 Jan 2027" in text
    assert "ben" in text and "12.00" in text
    [upload] = s.double.shared(channel)
    assert upload.filename == board.chart.name and upload.alt == board.chart.summary
    width, height = decoded_size(upload.data)
    assert width == round(WIDTH_IN * DPI)
    assert 2 * ROW_IN * DPI < height < (2 * ROW_IN + 2) * DPI  # two athletes' rows
    # the text went first, then the file was shared in the same channel
    methods = [c.method for c in s.double.calls]
    assert methods.index("files.getUploadURLExternal") > max(
        i
        for i, c in enumerate(s.double.calls)
        if c.method == "chat.postMessage" and c.args.get("channel") == channel
    )
    assert await s.due() == []  # once


async def test_leaderboard_typed_in_the_channel_posts_its_png_there(
    slack: SlackClub, drawer: ChartPool
) -> None:
    s = slack
    draw_with(s.app, drawer)
    channel = await squad_with_runs(s)
    said = await s.say(AVA, "/leaderboard", channel="squad")
    # typed in that channel: the board is posted there by its response_url, in_channel
    [confirmation] = said.replies
    assert plain(confirmation["text"]) == "Posted Squad's leaderboard to #squad."
    [board] = said.in_channel
    assert plain(board["text"]).startswith("Squad leaderboard") and "ben" in board["text"]
    methods = [c.method for c in said.calls]
    assert methods.index("files.getUploadURLExternal") > methods.index(
        f"respond:{said.key}", 1
    )  # the text first
    [upload] = s.double.shared(channel)
    assert upload.filename == "leaderboard-distance.png"
    assert upload.alt and upload.alt.startswith("Bar chart of Squad leaderboard")
    assert decoded_size(upload.data)[0] == round(WIDTH_IN * DPI)
    # nothing of it was shared anywhere else
    assert [u.channel for u in s.double.shared()] == [channel]


async def test_progress_is_an_ephemeral_answer_and_its_image(
    slack: SlackClub, drawer: ChartPool
) -> None:
    s = slack
    draw_with(s.app, drawer)
    channel = await squad_with_runs(s)
    said = await s.say(AVA, "/progress", channel="squad")
    text, image = said.responses
    assert text["response_type"] == "ephemeral" and "progress" in plain(text["text"])
    assert image["response_type"] == "ephemeral" and image["replace_original"] is False
    [block] = image["blocks"]
    assert block["type"] == "image" and block["alt_text"].startswith("Bar chart of")
    [upload] = s.double.shared()
    assert block["slack_file"] == {"id": upload.id}
    assert upload.channel is None  # private to the bot: shown to ava alone
    assert s.double.shared(channel) == [] and s.double.posts(channel) == []
    width, height = decoded_size(upload.data)
    assert (width, height) == (round(WIDTH_IN * DPI), round(WEEKLY_HEIGHT_IN * DPI))
