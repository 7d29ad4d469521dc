"""Files on their way out to Slack, against the double's upload flow: an export in a DM,
a chart in an ephemeral answer (an image block of a private upload), what an ephemeral
answer cannot show going to the DM, a channel post's files, and an upload that fails
without losing or failing the text."""

from __future__ import annotations

import csv
import io
import json
import logging

import aiohttp
import pytest

from bot.messages import Attachment, ChannelRef, Outgoing, Via
from tests.adapters.slack.conftest import SlackClub
from tests.adapters.slack.double import SlackDouble

HC, AVA = "hc@lake.run", "ava@lake.run"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
CHART = Attachment("progress.png", PNG, "image/png", alt="planned vs done, 4 weeks")
TABLE = Attachment("weeks.csv", b"week,km\n1,20\n", "text/csv", alt="the weeks as a table")


async def club_with_ava(s: SlackClub) -> None:
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, "/profile")
    await s.say(AVA, "/log 8k 42:10")
    await s.due()


async def test_an_export_arrives_in_the_dm_after_its_text(slack_lite: SlackClub) -> None:
    s = slack_lite
    await club_with_ava(s)
    before = len(s.double.calls)
    said = await s.say(AVA, "/export")
    assert "on its way" in said.text
    await s.due()
    dm = f"D{s.user_id(AVA)}"
    calls = [c.method for c in s.double.calls[before:]]
    text_at = next(
        i for i, c in enumerate(s.double.calls[before:]) if c.method == "chat.postMessage"
    )
    assert calls.index("files.getUploadURLExternal") > text_at  # the text went first
    assert calls.count("upload") == 2 and calls.count("files.completeUploadExternal") == 1
    shared = s.double.shared(dm)
    data = {u.filename.split("-")[1]: u.data or b"" for u in shared}
    assert json.loads(data["profile"])["account"]["email"] == AVA
    [run] = list(csv.DictReader(io.StringIO(data["activities"].decode())))
    assert (run["distance_m"], run["duration_s"]) == ("8000", "2530")
    assert all(u.title == u.filename for u in shared)


async def test_a_failed_upload_keeps_the_text_and_is_counted(
    slack_lite: SlackClub, caplog: pytest.LogCaptureFixture
) -> None:
    s = slack_lite
    await club_with_ava(s)
    s.double.fail_next("files.completeUploadExternal", "internal_error")
    await s.say(AVA, "/export")
    caplog.set_level(logging.INFO, logger="coachbot.sends")
    sent = await s.due()
    assert [m.kind for m in sent] == ["export"]  # the message counts as sent: its text went
    texts = s.dms_to(AVA)
    assert any("Your coachbot export" in t for t in texts)
    assert any("I could not attach coachbot-profile" in t for t in texts)
    assert s.double.shared(f"D{s.user_id(AVA)}") == []
    assert any("failed to slack: internal_error" in r.getMessage() for r in caplog.records), (
        caplog.text
    )
    assert await s.due() == []  # and it is not sent again


async def test_a_chart_in_an_ephemeral_answer_is_an_image_block(slack_lite: SlackClub) -> None:
    s = slack_lite
    user = s.person(AVA)
    url = s.double.response_url("chart")
    answer = Outgoing(Via.REPLY, "Your progress: 3 of 4 sessions done.", files=(CHART,))
    await s.front.bot.deliver([answer], response_url=url, user_id=user)
    text, image = s.double.responses("chart")
    assert "3 of 4 sessions" in text["text"] and text["response_type"] == "ephemeral"
    [block] = image["blocks"]
    assert block["type"] == "image" and block["alt_text"] == CHART.alt
    [upload] = s.double.shared()
    assert block["slack_file"] == {"id": upload.id}
    assert upload.channel is None and upload.data == PNG  # private to the bot, not shared
    assert image["response_type"] == "ephemeral" and image["replace_original"] is False


async def test_what_an_ephemeral_answer_cannot_show_goes_to_the_dm(
    slack_lite: SlackClub,
) -> None:
    s = slack_lite
    user = s.person(AVA)
    s.double.refuse_images = True  # Slack would not show the image there just now
    url = s.double.response_url("both")
    answer = Outgoing(Via.REPLY, "Your weeks.", files=(CHART, TABLE))
    await s.front.bot.deliver([answer], response_url=url, user_id=user)
    in_dm = s.double.shared(f"D{user}")
    assert sorted(u.filename for u in in_dm) == ["progress.png", "weeks.csv"]
    said = [r.get("text", "") for r in s.double.responses("both")]
    assert said[0] == "Your weeks."
    assert "I sent progress.png, weeks.csv to our direct messages." in said[-1]


async def test_a_channel_post_shares_its_files_in_the_channel(slack_lite: SlackClub) -> None:
    s = slack_lite
    post = Outgoing(
        Via.CHANNEL,
        "5k-squad leaderboard",
        channel=ChannelRef("slack", "T0HOME", "C0042", "#5k-squad"),
        files=(CHART,),
    )
    await s.front.sender.send(post, nonce="1")
    assert [p["text"] for p in s.double.posts("C0042")] == ["5k-squad leaderboard"]
    [upload] = s.double.shared("C0042")
    assert upload.data == PNG


async def test_the_double_holds_slack_to_its_upload_rules(double: SlackDouble) -> None:
    """What the upload flow refuses: a wrong length, and completing an unknown id or one
    whose bytes never came — so a sender that skipped a step could not pass."""
    headers = {"Authorization": "Bearer xoxb-test-token"}
    async with aiohttp.ClientSession(headers=headers) as http:
        api = double.api_url
        async with http.post(f"{api}files.getUploadURLExternal", data={"filename": "a.csv"}) as r:
            assert (await r.json())["error"] == "invalid_arguments"  # no length
        form = {"filename": "a.csv", "length": "4"}
        async with http.post(f"{api}files.getUploadURLExternal", data=form) as r:
            got = await r.json()
        async with http.post(got["upload_url"], data=b"12345") as r:
            assert r.status == 400  # not the declared length
        files = json.dumps([{"id": got["file_id"], "title": "a"}])
        async with http.post(f"{api}files.completeUploadExternal", data={"files": files}) as r:
            assert (await r.json())["error"] == "file_not_found"  # its bytes never came
        async with http.post(got["upload_url"], data=b"1234") as r:
            assert r.status == 200
        unknown = json.dumps([{"id": "F999999999"}])
        async with http.post(f"{api}files.completeUploadExternal", data={"files": unknown}) as r:
            assert (await r.json())["error"] == "file_not_found"
        async with http.post(f"{api}files.completeUploadExternal", data={"files": files}) as r:
            assert (await r.json())["ok"] is True
        async with http.post(f"{api}files.completeUploadExternal", data={"files": files}) as r:
            assert (await r.json())["error"] == "file_not_found"  # once only
