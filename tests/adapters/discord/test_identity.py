"""Identity and tenancy on Discord (SPEC §1, §5): no e-mails, so people are linked by
`/join CODE` or by a coach's `/add-member EMAIL user:@member`; a guild serves the one org
bound to it by `/setup-org`; an unbound guild, and an unlinked person, read and change
nothing."""

from __future__ import annotations

from typing import Any

from tests.adapters.discord.conftest import Discord, Starter, text_of
from tests.adapters.discord.double import DiscordDouble, Guild

UNBOUND = (
    "This workspace is not set up for coachbot yet: a head coach can bind it with /setup-org NAME."
)
OTHER_ORG = (
    "This workspace belongs to an organization you are not a member of, so I can't act on "
    "it for you."
)
UNKNOWN = "I don't know you yet."


async def lakeside(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    """A bound guild: Harriet heads Lakeside Striders, Ava is an athlete linked by mention."""
    guild = double.add_guild("Lakeside", ("general",))
    hc, ava = double.add_user("Harriet"), double.add_user("Ava")
    await bot.known_as(hc, guild, "hc@lake.run")
    await bot.ok("/setup-org", by=hc, guild=guild, name="Lakeside Striders")
    await bot.ok("/add-member", by=hc, guild=guild, email="ava@lake.run", user=ava)
    return {"guild": guild, "hc": hc, "ava": ava}


async def test_an_unbound_guild_only_sets_up(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    elsewhere = double.add_guild("Elsewhere")
    for command, values in (
        ("/members", {}),
        ("/profile", {"member": "ava@lake.run"}),
        ("/group create", {"name": "sneaky"}),
        ("/log", {"what": "5k 25:00"}),
    ):
        said = await bot.no(command, by=club["hc"], guild=elsewhere, **values)
        assert UNKNOWN in said.text or said.text == UNBOUND
    # the head coach, known in that guild too, binds it to the club with /setup-org
    await bot.known_as(club["hc"], elsewhere, "hc@lake.run")
    said = await bot.no("/members", by=club["hc"], guild=elsewhere)
    assert said.text == UNBOUND
    said = await bot.ok("/setup-org", by=club["hc"], guild=elsewhere, name="Lakeside Striders")
    said = await bot.ok("/members", by=club["hc"], guild=elsewhere)
    assert "ava@lake.run" in said.text


async def test_a_guild_serves_only_its_own_org(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    river = double.add_guild("Riverside")
    rc, ray = double.add_user("Rick"), double.add_user("Ray")
    await bot.known_as(rc, river, "rc@river.run")
    await bot.ok("/setup-org", by=rc, guild=river, name="Riverside Runners")
    await bot.ok("/add-member", by=rc, guild=river, email="ray@river.run", user=ray)
    # Riverside's head coach, in Lakeside's guild, is refused whatever he asks
    await bot.known_as(rc, club["guild"], "rc@river.run")
    for command, values in (
        ("/members", {}),
        ("/profile", {"member": "ava@lake.run"}),
        ("/add-member", {"email": "spy@river.run"}),
        ("/setup-org", {"name": "Takeover"}),
    ):
        said = await bot.no(command, by=rc, guild=club["guild"], **values)
        assert said.text == OTHER_ORG or "already" in said.text
        assert "ava" not in said.text
    # and Ray, linked in Riverside only, is refused there too
    said = await bot.no("/members", by=ray, guild=club["guild"])
    assert "ava" not in said.text
    # nothing of Lakeside changed: still one member besides its head coach
    said = await bot.ok("/members", by=club["hc"], guild=club["guild"])
    assert "spy@river.run" not in said.text and "ava@lake.run" in said.text


async def test_a_stranger_is_told_how_to_join_and_sees_nothing(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    zed = double.add_user("Zed")
    for command, values in (("/members", {}), ("/profile", {"member": "ava@lake.run"})):
        said = await bot.no(command, by=zed, guild=club["guild"], **values)
        assert said.text.startswith(UNKNOWN) and "/join CODE" in said.text
    for text in ("/members", "8k 42:10", "done"):
        [answer] = await bot.dm(zed, text)
        assert answer.startswith(UNKNOWN) and "ava" not in answer


async def test_a_coach_links_a_member_by_mention(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    said = await bot.ok("/profile", by=club["ava"], guild=club["guild"])
    assert "E-mail: ava@lake.run" in said.text
    # one Discord user is one person: linking them to a second e-mail is refused
    said = await bot.no(
        "/add-member", by=club["hc"], guild=club["guild"], email="ava2@lake.run", user=club["ava"]
    )
    assert said.text == "That chat user is already linked to a different e-mail."


async def test_join_with_the_code_from_an_invitation(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    said = await bot.ok("/add-member", by=club["hc"], guild=club["guild"], email="dee@lake.run")
    code = said.text.rsplit("/join ", 1)[1].split()[0]
    dee = double.add_user("Dee")
    said = await bot.no("/profile", by=dee)  # in a DM with the bot: not yet
    assert "/join CODE" in said.text
    said = await bot.ok("/join", by=dee, code=code)
    assert said.text == "You joined Lakeside Striders."
    await bot.due_now()
    assert any("Welcome to Lakeside Striders" in text_of(m) for m in double.dms_to(dee))
    said = await bot.ok("/profile", by=dee)
    assert "E-mail: dee@lake.run" in said.text
    # a spent code reads like any wrong one
    eve = double.add_user("Eve")
    spent = await bot.no("/join", by=eve, code=code)
    wrong = await bot.no("/join", by=eve, code="AAAAA-BBBBB")
    assert spent.text == wrong.text


async def test_the_sender_cannot_reach_people_by_email(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    assert await bot.front.sender.reaches_by_email("ava@lake.run") is False


# -- identities across guilds and DMs ------------------------------------------------------


async def test_a_newcomer_sets_up_a_club_from_discord(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    guild: Guild = double.add_guild("Fresh")
    founder = double.add_user("Fran")
    said = await bot.no("/setup-org", by=founder, guild=guild, name="Fresh Feet")
    assert "email:" in said.text  # tells them how
    await bot.ok("/setup-org", by=founder, guild=guild, name="Fresh Feet", email="fran@fresh.run")
    profile = await bot.ok("/profile", by=founder, guild=guild)
    assert "fran@fresh.run" in str(profile.followups)


async def test_a_member_linked_in_the_guild_logs_by_dm(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    [answer] = await bot.dm(club["ava"], "8k 42:10")
    assert answer.startswith("Logged #")


async def test_a_member_who_joined_by_dm_uses_the_guild(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    said = await bot.ok("/add-member", by=club["hc"], guild=club["guild"], email="dee@lake.run")
    code = said.text.rsplit("/join ", 1)[1].split()[0]
    dee = double.add_user("Dee")
    await bot.ok("/join", by=dee, code=code)
    await bot.ok("/profile", by=dee, guild=club["guild"])


async def test_a_linked_member_gets_their_discord_name(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    said = await bot.ok("/profile", by=club["ava"], guild=club["guild"])
    assert said.followups[0]["embeds"][0]["title"] == "Ava"
