"""Club runs on Slack (issue 15 item 3), over real HTTP against the Slack double: the
manifest's slash commands, the run posted to the group's channel in Block Kit with
Going / Maybe / Can't buttons, and a press of one — a signed `block_actions` request —
recording the presser's answer, answered to them alone while the post stays as it is."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from adapters.slack.manifest import manifest
from storage.models import Account, EventRsvp
from tests.adapters.slack.conftest import SlackClub

HC, AVA, CY = "hc@lake.run", "ava@lake.run", "cy@lake.run"


def test_the_manifest_has_the_event_commands() -> None:
    commands = {
        c["command"]: c for c in manifest("https://x.example")["features"]["slash_commands"]
    }
    event = commands["/event"]["usage_hint"]
    assert 'create group:G "TITLE" date:D time:HH:MM' in event and "cancel #ID" in event
    assert commands["/events"]["usage_hint"] == "[group:G]"
    # past Slack's 50 slash commands, /rsvp (its buttons run it) is typed /coachbot rsvp
    assert "/rsvp" not in commands and "/coachbot rsvp" in commands["/coachbot"]["description"]


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


async def answers(slack: SlackClub) -> dict[str, str]:
    async with slack.app.core.uow() as uow:
        rows = await uow.session.execute(
            select(Account.email, EventRsvp.answer).join(
                Account, Account.id == EventRsvp.account_id
            )
        )
        return {str(email): answer for email, answer in rows.all()}


async def test_a_run_is_posted_with_buttons_and_a_press_answers_it(slack: SlackClub) -> None:
    s = slack
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders" tz:Europe/London')
    for athlete in (AVA, CY):
        await s.say(HC, f"/add-member {athlete}")
        await s.say(athlete, "/profile")
    await s.say(HC, "/group create Long")
    await s.say(HC, f"/group add Long {AVA}")
    # no linked channel yet: refused, pointing at /group link
    refused = await s.say(HC, '/event create group:Long "Long run" date:sat time:08:00')
    assert "/group link Long" in refused.text
    await s.say(HC, "/group link Long", channel="long-runs")
    said = await s.say(
        HC, '/event create group:Long "Long run" date:sat time:08:00 place:"The gate"'
    )
    assert not said.in_channel  # the coach's answer is theirs alone
    found = re.search(r"\(#([A-Z2-9]{7})\)", said.text)
    assert found, said.text
    run = f"#{found[1]}"
    await s.due()
    [post] = s.double.posts(s.channel_id("long-runs"))
    assert "Long run" in post["text"] and "Where: The gate" in post["text"]
    [actions] = [b for b in blocks_of(post) if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("Going", f"rsvp {run} going"),
        ("Maybe", f"rsvp {run} maybe"),
        ("Can't", f"rsvp {run} no"),
    ]
    # ava presses Going on the channel's message: a signed block_actions request
    pressed = await s.click(AVA, f"rsvp {run} going", message=post, channel="long-runs")
    assert pressed.status == 200
    [reply] = pressed.responses
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "You're going to Long run" in reply["text"] and "Going 1" in reply["text"]
    assert await answers(s) == {AVA: "going"}
    # the post is everyone's: still there with its buttons; ava changes her answer
    pressed = await s.click(AVA, f"rsvp {run} no", message=post, channel="long-runs")
    assert "Going 0 · Maybe 0 · Can't 1" in pressed.responses[0]["text"]
    assert await answers(s) == {AVA: "no"}
    # cy, not of the group, presses too: refused as if there were no such run
    pressed = await s.click(CY, f"rsvp {run} going", message=post, channel="long-runs")
    assert f"No event '{run}' in your groups" in pressed.responses[0]["text"]
    assert pressed.responses[0]["replace_original"] is False
    assert await answers(s) == {AVA: "no"}
    # /events and /rsvp typed as slash commands
    assert "Going 0 · Maybe 0 · Can't 1" in (await s.say(AVA, "/events")).text
    assert "You're a maybe" in (await s.say(AVA, f"/rsvp {run} maybe")).text
    # calling it off: said in the channel
    assert "is cancelled" in (await s.say(HC, f"/event cancel {run}")).text
    await s.due()
    posts = s.double.posts(s.channel_id("long-runs"))
    assert len(posts) == 2 and "Called off" in posts[1]["text"]
    assert not [b for b in blocks_of(posts[1]) if b["type"] == "actions"]
