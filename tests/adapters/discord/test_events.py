"""Club runs on Discord (issue 15 item 3), through the real discord.py client and the
Discord double: the typed options of `/event create`, `/event cancel`, `/events` and
`/rsvp`; the run posted to the group's channel with Going / Maybe / Can't buttons; a
component interaction on that post recording the presser's answer, answered to them
alone, the buttons staying for everyone else."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from adapters.discord.views import PREFIX
from storage.models import EventRsvp
from tests.adapters.discord.conftest import Starter, mention, text_of
from tests.adapters.discord.double import DiscordDouble
from tests.adapters.test_schedule_forms import _options, _tree


def test_the_discord_options_of_the_event_commands() -> None:
    tree = _tree()
    assert _options(tree["event create"]) == [
        ("title", True, False),
        ("group", True, True),
        ("date", True, False),
        ("time", True, False),
        ("place", False, False),
        ("notes", False, False),
    ]
    assert _options(tree["event cancel"]) == [("event", True, False)]
    assert _options(tree["events"]) == [("group", False, True)]
    assert _options(tree["rsvp"]) == [("event", True, False), ("answer", True, False)]
    answer = tree["rsvp"]["options"][1]
    assert [c["value"] for c in answer["choices"]] == ["going", "maybe", "no"]


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (button["label"], button["custom_id"])
        for row in message.get("components") or []
        for button in row.get("components") or []
    ]


async def test_a_run_is_posted_with_buttons_and_a_press_answers_it(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    guild = double.add_guild("Lakeside", ("general", "long-runs"))
    _general, long_runs = list(guild.channels)
    hc, ava, cy = (double.add_user(n) for n in ("Harriet", "Ava", "Cy"))
    bot = await start_discord(sqlite_url)
    g = {"guild": guild}
    await bot.ok("/setup-org", by=hc, **g, name="Lakeside Striders", tz="Europe/London")
    await bot.add(ava, by=hc, **g)
    await bot.add(cy, by=hc, **g)
    await bot.ok("/group create", by=hc, **g, name="Long")
    await bot.ok("/group add", by=hc, **g, name="Long", members=mention(ava))
    said = await bot.no(
        "/event create", by=hc, **g, group="Long", title="Long run", date="sat", time="08:00"
    )
    assert "/group link Long" in said.text
    await bot.ok("/group link", by=hc, guild=guild, channel=long_runs, name="Long")
    said = await bot.no(
        "/event create", by=hc, **g, group="Long", title="Long run", date="sat", time="8 am"
    )
    assert "is not a time of day" in said.text
    said = await bot.ok(
        "/event create",
        by=hc,
        **g,
        group="Long",
        title="Long run",
        date="sat",
        time="08:00",
        place="The gate",
    )
    assert said.ephemeral
    found = re.search(r"\(#([A-Z2-9]{7})\)", said.text)
    assert found, said.text
    run = f"#{found[1]}"
    await bot.due_now()
    post = double.posts_in(long_runs)[-1]
    assert "Long run" in text_of(post) and "Where: The gate" in text_of(post)
    assert not post["flags"] & 64  # a channel post, public
    offered = [
        ("Going", f"{PREFIX}rsvp {run} going"),
        ("Maybe", f"{PREFIX}rsvp {run} maybe"),
        ("Can't", f"{PREFIX}rsvp {run} no"),
    ]
    assert buttons(post) == offered
    # ava presses Going on the channel's post: a component interaction in the guild
    pressed = await bot.click(
        ava, post, f"{PREFIX}rsvp {run} going", guild=guild, channel=long_runs
    )
    assert pressed.ephemeral and not pressed.refused
    assert "You're going to Long run" in pressed.text and "Going 1" in pressed.text
    assert buttons(double.posts_in(long_runs)[-1]) == offered  # still everyone's
    assert await answers(bot.app) == [("going",)]
    # cy, not of the group, is refused as if there were no such run
    pressed = await bot.click(cy, post, f"{PREFIX}rsvp {run} going", guild=guild, channel=long_runs)
    assert pressed.refused and f"No event '{run}' in your groups" in pressed.text
    assert await answers(bot.app) == [("going",)]
    # the typed forms
    said = await bot.ok("/rsvp", by=ava, **g, event=run, answer="maybe")
    assert "You're a maybe" in said.text
    said = await bot.ok("/events", by=ava, **g, group="Long")
    assert "Going 0 · Maybe 1 · Can't 0" in said.text and said.ephemeral
    said = await bot.ok("/event cancel", by=hc, **g, event=run)
    assert "is cancelled" in said.text
    await bot.due_now()
    off = double.posts_in(long_runs)[-1]
    assert "Called off" in text_of(off) and buttons(off) == []


async def answers(app: Any) -> list[tuple[str]]:
    async with app.sessions() as session:
        return [tuple(r) for r in (await session.execute(select(EventRsvp.answer))).all()]
