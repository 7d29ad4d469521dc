"""Issue 12 item 4, through the real discord.py client and the local Discord double: a
slash command's typed options build the command's dataclass and run it through
`Core.handle_command` — no line of text in between — and a bad value is refused in
exactly the words the same argument typed as text gets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from bot.commands.base import Caller
from storage.models import Activity, Group
from tests.adapters.discord.conftest import Discord, Starter, mention
from tests.adapters.discord.double import DiscordDouble

# quotes, a colon and a backslash: as text this needs quoting and escaping to stay whole
ODD_NAME = 'Easy "8k": flat\\route'


async def lakeside(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    """Harriet heads Lakeside Striders in a bound guild; Ava accepted her invitation."""
    guild = double.add_guild("Lakeside", ("general",))
    hc, ava = double.add_user("Harriet"), double.add_user("Ava")
    await bot.ok("/setup-org", by=hc, guild=guild, name="Lakeside Striders")
    await bot.add(ava, by=hc, guild=guild)
    return {"guild": guild, "hc": hc, "ava": ava}


def no_text(bot: Discord, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on the core refuses any line of text: only typed options get through."""

    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a slash command reached the core as text")

    monkeypatch.setattr(bot.front.core, "handle", refuse)


async def test_item_04_typed_options_run_as_values_not_text(
    double: DiscordDouble, start_discord: Starter, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    hc, ava, g = club["hc"], club["ava"], {"guild": club["guild"]}
    no_text(bot, monkeypatch)

    await bot.ok("/group create", by=hc, **g, name=ODD_NAME)
    said = await bot.ok("/group add", by=hc, **g, name=ODD_NAME, members=mention(ava))
    assert "Added to" in said.text and "Ava" in said.text
    said = await bot.ok("/group show", by=hc, **g, name=ODD_NAME)
    assert "Ava" in said.text
    # several words in one option: the quoted note stays whole, `private` is the flag
    said = await bot.ok("/log", by=ava, **g, what='8k 42:10 "felt: strong, not private"', effort=6)
    assert "Logged" in said.text
    async with bot.app.core.uow() as uow:
        assert (await uow.session.scalars(select(Group.name))).all() == [ODD_NAME]
        [(notes, effort, private)] = (
            await uow.session.execute(select(Activity.notes, Activity.effort, Activity.private))
        ).all()
    assert (notes, effort, private) == ("felt: strong, not private", 6, False)


@pytest.mark.parametrize(
    ("command", "options", "typed"),
    [
        ("/log", {"what": "8k 42:10", "date": "someday"}, "/log 8k 42:10 date:someday"),
        ("/log", {"what": "8k 42:10", "effort": 11}, "/log 8k 42:10 effort:11"),
        ("/log", {"what": '8k 42:10 "felt strong'}, '/log 8k 42:10 "felt strong'),
        ("/profile", {"member": "ava@club"}, "/profile ava@club"),
        ("/settings", {"tz": "Mars/Olympus"}, "/settings tz:Mars/Olympus"),
    ],
)
async def test_item_04_a_bad_option_is_refused_as_the_text_path_refuses_it(
    double: DiscordDouble,
    start_discord: Starter,
    sqlite_url: str,
    command: str,
    options: dict[str, Any],
    typed: str,
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    ava = club["ava"]
    guild = club["guild"]
    [by_text] = await bot.app.core.handle(
        Caller(platform="discord", user_id=ava["id"], space_id=str(guild.id)), typed
    )
    assert not by_text.ok and "\nUsage: " in by_text.text  # the grammar's refusal
    said = await bot.no(command, by=ava, guild=guild, **options)
    assert said.text == by_text.text
    async with bot.app.core.uow() as uow:  # nothing was logged either way
        assert (await uow.session.scalars(select(Activity.id))).all() == []
