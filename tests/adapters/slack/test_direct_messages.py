"""Direct messages to the bot: DM forms, files, and the check-in buttons of the daily DM."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.adapters.slack.conftest import SlackClub, plain
from tests.conftest import need_shared

HC, AVA = "hc@lake.run", "ava@lake.run"


async def club_on_a_plan(s: SlackClub) -> None:
    """ava follows a plan with an easy 8k today (Monday 2027-01-04) and tomorrow."""
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, "/profile")
    await s.say(HC, '/workout create "Easy 8k" type:run kind:easy distance:8k visibility:public')
    await s.say(HC, '/plan create "Base" weeks:2')
    await s.say(HC, '/plan set "Base" week:1 day:mon workout:"Easy 8k"')
    await s.say(HC, '/plan set "Base" week:1 day:tue workout:"Easy 8k"')
    await s.say(HC, f'/assign-plan "Base" {AVA} start:2027-01-04')


@pytest.mark.parametrize(
    ("typed", "answer", "status"),
    [
        ("8k 42:10", "Logged #", "completed"),
        ("8k easy 42:10", "Logged #", "completed"),
        ("done", "", "completed"),
        ("skip sore calf", "", "skipped"),
        ("today", "Easy 8k", "scheduled"),  # a command's name runs the command
    ],
)
async def test_dm_forms_check_in(
    slack_lite: SlackClub, typed: str, answer: str, status: str
) -> None:
    s = slack_lite
    await club_on_a_plan(s)
    said = await s.dm(AVA, typed)
    assert said.status == 200
    [reply] = said.posts
    assert reply["channel"] == f"D{s.user_id(AVA)}"  # answered in the DM itself
    assert answer in plain(reply["text"])
    assert status in (await s.say(AVA, "/today")).text


async def test_a_dm_log_on_both_stores(slack: SlackClub) -> None:
    s = slack
    await club_on_a_plan(s)
    said = await s.dm(AVA, "8k 42:10")
    assert re.search(r"Logged #[A-Z2-9]{7}: run, 8\.00 km, 42:10", said.text), said.text
    assert "completed" in (await s.say(AVA, "/today")).text


async def test_join_by_plain_words_in_a_dm(slack_lite: SlackClub) -> None:
    """Slack keeps /join for itself; `join CODE` typed to the bot works."""
    s = slack_lite
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders"')
    link = (await s.say(HC, "/invite-link uses:2")).text
    code = link.split("/coachbot join ")[1].split()[0]
    said = await s.dm("newbie@lake.run", f"join {code}")
    assert "You joined Lakeside Striders" in said.text


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"bot_id": "B0OTHER"}, "another bot"),
        ({"subtype": "message_changed"}, "an edit"),
        ({"channel": "C0001", "channel_type": "channel"}, "not a DM"),
        ({"text": "   "}, "nothing said"),
    ],
)
async def test_messages_that_are_not_for_the_bot_are_ignored(
    slack_lite: SlackClub, event: dict[str, Any], why: str
) -> None:
    s = slack_lite
    await club_on_a_plan(s)
    body = s.event_body(AVA, {"text": "8k 42:10", **event})
    before = len(s.double.calls)
    assert await s.post(body, "application/json") == 200
    assert s.double.calls[before:] == [], why
    assert "scheduled" in (await s.say(AVA, "/today")).text


async def test_a_gpx_file_in_a_dm_is_downloaded_and_logged(slack_lite: SlackClub) -> None:
    s = slack_lite
    gpx = need_shared("fixtures", "activities", "cerknicko-jezero.gpx")
    await club_on_a_plan(s)
    s.double.files["run.gpx"] = gpx.read_bytes()
    file = {
        "id": "F0RUN",
        "name": "run.gpx",
        "filetype": "gpx",
        "size": len(s.double.files["run.gpx"]),
        "url_private": s.double.file_url("run.gpx"),
        "url_private_download": s.double.file_url("run.gpx"),
    }
    said = await s.dm(AVA, "my run", files=[file])
    [download] = [c for c in said.calls if c.method == "file"]
    assert download.headers["Authorization"].startswith("Bearer xoxb-")
    logged = re.search(r"Logged (#[A-Z2-9]{7})", said.text)
    assert logged, said.text
    # the recording is from August 2010
    activities = (await s.say(AVA, "/activities 2010-08-01..2010-08-31")).text
    assert f"{logged[1]} Thu 05 Aug" in activities and "km" in activities


@pytest.mark.parametrize(
    ("url", "size"),
    [
        ("https://attacker.example/steal.gpx", 100),  # never gets the token
        ("", 100),
        (None, 26 * 1024 * 1024),  # too big to be an activity file
    ],
)
async def test_files_that_cannot_be_fetched_safely_are_refused(
    slack_lite: SlackClub, url: str | None, size: int
) -> None:
    s = slack_lite
    await club_on_a_plan(s)
    s.double.files["big.gpx"] = b"<gpx/>"
    file = {"name": "big.gpx", "size": size, "url_private": url or s.double.file_url("big.gpx")}
    if url == "":
        file["url_private"] = ""
    said = await s.dm(AVA, "", files=[file])
    assert "could not download big.gpx" in said.text
    assert [c for c in said.calls if c.method == "file"] == []


async def test_a_file_that_is_not_an_activity_is_refused_clearly(slack_lite: SlackClub) -> None:
    s = slack_lite
    await club_on_a_plan(s)
    s.double.files["notes.txt"] = b"just some text"
    file = {"name": "notes.txt", "size": 14, "url_private": s.double.file_url("notes.txt")}
    said = await s.dm(AVA, "", files=[file])
    assert said.text and "Logged" not in said.text
    assert "scheduled" in (await s.say(AVA, "/today")).text


async def test_the_daily_dm_has_check_in_buttons_that_work(slack_lite: SlackClub) -> None:
    s = slack_lite
    await club_on_a_plan(s)
    await s.due()  # the plan DM; today's reminder time had passed when it was assigned
    s.clock.set(datetime(2027, 1, 5, 6, 0, tzinfo=UTC))  # Tuesday 06:00 in London
    await s.due()
    [daily] = [p for p in s.double.posts(f"D{s.user_id(AVA)}") if "Good morning" in p["text"]]
    [buttons] = [b for b in daily["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in buttons["elements"]] == [
        ("coachbot.done", "done"),
        ("coachbot.skip", "skip"),
    ]
    message = {"type": "message", "text": daily["text"], "blocks": daily["blocks"]}
    clicked = await s.click(AVA, "done", message=message)
    [update] = clicked.responses
    assert update["replace_original"] is True
    assert [b["type"] for b in update["blocks"]].count("actions") == 0  # buttons gone
    assert "✓" in str(update["blocks"][-1])
    assert "completed" in (await s.say(AVA, "/today")).text


async def test_a_refused_click_keeps_the_buttons(slack_lite: SlackClub) -> None:
    s = slack_lite
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders"')
    clicked = await s.click(HC, "done")  # the head coach has no session today
    assert clicked.responses == []  # the message with the buttons stays as it is
    [answer] = clicked.posts  # the refusal is said in the DM
    assert answer["channel"] == f"D{s.user_id(HC)}"
    assert "session" in plain(answer["text"])


async def test_a_shared_file_without_a_url_is_looked_up_with_files_info(
    slack_lite: SlackClub,
) -> None:
    """Slack Connect files arrive as "check_file_info"; files.info gives the URL."""
    s = slack_lite
    gpx = need_shared("fixtures", "activities", "cerknicko-jezero.gpx")
    await club_on_a_plan(s)
    s.double.files["F0SHARED"] = gpx.read_bytes()
    said = await s.dm(AVA, "", files=[{"id": "F0SHARED", "file_access": "check_file_info"}])
    assert [c.args["file"] for c in said.calls if c.method == "files.info"] == ["F0SHARED"]
    assert "Logged #" in said.text
