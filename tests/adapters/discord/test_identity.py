"""Identity and tenancy on Discord (SPEC §1, §5a): Discord shows no e-mail, so each
Discord user acts with their own e-mail-less account from their first command; they reach
a club by `/join CODE` or by accepting an invitation addressed to them; an e-mail someone
types is never a key. A guild serves the one org bound to it by someone with Manage
Server; elsewhere a person reads and changes nothing.

The `test_finding_*` tests are issue 10's findings, each tried as the attacker would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.console.transcript import console_caller
from storage.models import Activity
from tests.adapters.discord.conftest import Discord, Starter, mention, text_of
from tests.adapters.discord.double import DiscordDouble, Guild

UNBOUND = (
    "This workspace is not set up for coachbot yet: a head coach can bind it with /setup-org NAME."
)
OTHER_ORG = (
    "This workspace belongs to an organization you are not a member of, so I can't act on "
    "it for you."
)
SOMEONE_ELSE = "That code was made for someone else."


async def lakeside(double: DiscordDouble, bot: Discord) -> dict[str, Any]:
    """A bound guild: Harriet (Manage Server) heads Lakeside Striders; Ava, invited by
    mention, accepted."""
    guild = double.add_guild("Lakeside", ("general",))
    hc, ava = double.add_user("Harriet"), double.add_user("Ava")
    await bot.ok("/setup-org", by=hc, guild=guild, name="Lakeside Striders")
    await bot.add(ava, by=hc, guild=guild)
    return {"guild": guild, "hc": hc, "ava": ava}


async def console(bot: Discord, email: str, line: str) -> str:
    """A line typed on the console (whose e-mail is proven), and the reply."""
    [reply, *_] = await bot.app.core.handle(console_caller(email), line)
    return reply.text


async def notes_of(bot: Discord, email: str) -> list[str | None]:
    """The notes of the activities the account of `email` owns."""
    async with bot.app.core.uow() as uow:
        account = await uow.repo.account_by_email(email)
        assert account is not None
        found = await uow.session.scalars(
            select(Activity.notes).where(Activity.account_id == account.id)
        )
        return list(found)


async def code_of(bot: Discord, command: str, **kw: Any) -> str:
    said = await bot.ok(command, **kw)
    return said.text.rsplit("/join ", 1)[1].split()[0]


async def test_an_unbound_guild_only_sets_up(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    elsewhere = double.add_guild("Elsewhere")
    for command, values in (
        ("/members", {}),
        ("/profile", {"member": mention(club["ava"])}),
        ("/group create", {"name": "sneaky"}),
        ("/log", {"what": "5k 25:00"}),
    ):
        said = await bot.no(command, by=club["hc"], guild=elsewhere, **values)
        assert said.text == UNBOUND
    # the head coach binds it to the club with /setup-org, where she may manage the server
    await bot.ok("/setup-org", by=club["hc"], guild=elsewhere, name="Lakeside Striders")
    said = await bot.ok("/members", by=club["hc"], guild=elsewhere)
    assert "Ava" in said.text


async def test_a_guild_serves_only_its_own_org(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    river = double.add_guild("Riverside")
    rc, ray = double.add_user("Rick"), double.add_user("Ray")
    await bot.ok("/setup-org", by=rc, guild=river, name="Riverside Runners")
    await bot.add(ray, by=rc, guild=river)
    # Riverside's head coach, in Lakeside's guild, is refused whatever he asks
    for command, values in (
        ("/members", {}),
        ("/profile", {"member": mention(club["ava"])}),
        ("/add-member", {"person": "spy@river.run"}),
        ("/setup-org", {"name": "Takeover"}),
    ):
        said = await bot.no(command, by=rc, guild=club["guild"], **values)
        assert said.text == OTHER_ORG or "already" in said.text
        assert "Ava" not in said.text
    # and Ray, a member of Riverside, is refused there too
    said = await bot.no("/members", by=ray, guild=club["guild"])
    assert "Ava" not in said.text
    said = await bot.ok("/members", by=club["hc"], guild=club["guild"])
    assert "spy@river.run" not in said.text and "Ava" in said.text


async def test_a_stranger_is_told_how_to_join_and_sees_nothing(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    zed = double.add_user("Zed")
    for command, values in (("/members", {}), ("/profile", {"member": mention(club["ava"])})):
        said = await bot.no(command, by=zed, guild=club["guild"], **values)
        assert said.text == OTHER_ORG
    for text in ("/members", "8k 42:10", "done"):
        [answer] = await bot.dm(zed, text)
        assert "/join CODE" in answer and "Ava" not in answer


async def test_a_mention_is_an_offer_the_member_accepts(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    said = await bot.ok("/profile", by=club["ava"], guild=club["guild"])
    assert "E-mail: —" in said.text  # Discord proves none
    said = await bot.no(
        "/add-member", by=club["hc"], guild=club["guild"], person=mention(club["ava"])
    )
    assert "already a member" in said.text
    # a Decline button says no, and the inviting coach hears it
    ben = double.add_user("Ben")
    await bot.ok("/add-member", by=club["hc"], guild=club["guild"], person=mention(ben))
    message, buttons = await bot.offer(ben)
    said = await bot.click(ben, message, buttons["decline"])
    assert "You declined the invitation to Lakeside Striders" in said.text
    assert message["components"] == []  # the buttons went away
    await bot.due_now()
    assert any("declined" in text_of(m) for m in double.dms_to(club["hc"]))
    said = await bot.ok("/members", by=club["hc"], guild=club["guild"])
    assert "Ben" not in said.text


async def test_join_with_the_code_from_an_invitation(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    code = await code_of(
        bot, "/add-member", by=club["hc"], guild=club["guild"], person="dee@lake.run"
    )
    dee = double.add_user("Dee")
    said = await bot.no("/members", by=dee)  # in a DM with the bot: not yet
    assert "/join CODE" in said.text
    said = await bot.ok("/join", by=dee, code=code)
    assert said.text == "You joined Lakeside Striders."
    await bot.due_now()
    assert any("Welcome to Lakeside Striders" in text_of(m) for m in double.dms_to(dee))
    said = await bot.ok("/profile", by=dee)
    assert "dee@lake.run" not in said.text  # the e-mail was the coach's word, not proof
    await bot.ok("/profile", by=dee, guild=club["guild"])  # and the guild serves her
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


async def test_a_member_logs_by_dm_with_the_name_discord_gives(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    [answer] = await bot.dm(club["ava"], "8k 42:10")
    assert answer.startswith("Logged #")
    said = await bot.ok("/profile", by=club["ava"], guild=club["guild"])
    assert said.followups[0]["embeds"][0]["title"] == "Ava"


# -- issue 10's findings -----------------------------------------------------------------


async def test_finding_01_discord_mention_makes_an_offer_not_a_link(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    """`/add-member dana@… user:@someone` once linked @someone to dana's account; now it
    is an invitation addressed to @someone, who joins with their own account."""
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    g = {"by": club["hc"], "guild": club["guild"]}
    # dana (console: a proven e-mail) joins on first use and logs a private run
    await bot.ok("/add-member", **g, person="dana@lake.run")
    await console(bot, "dana@lake.run", "/help")
    assert "Logged" in await console(bot, "dana@lake.run", '/log 5k 25:00 private "secret"')

    someone = double.add_user("Sam")
    said = await bot.ok("/add-member", **g, person="dana@lake.run", user=someone)
    assert "already a member" not in said.text
    await bot.accept(someone)  # the Accept button of the DM addressed to Sam
    said = await bot.ok("/profile", by=someone, guild=club["guild"])
    assert "dana@lake.run" not in said.text
    said = await bot.ok("/activities", by=someone, guild=club["guild"])
    assert "secret" not in said.text and "5.00 km" not in said.text
    async with bot.app.core.uow() as uow:
        sam = await uow.repo.account_by_identity("discord", "", someone["id"])
        assert sam is not None and sam.email is None

    # dana is removed; a second user named later for her e-mail never gets her runs
    await bot.ok("/remove-member", **g, member="dana@lake.run")
    later = double.add_user("Lee")
    await bot.ok("/add-member", **g, person="dana@lake.run", user=later)
    await bot.accept(later)
    said = await bot.ok("/activities", by=later, guild=club["guild"])
    assert "secret" not in said.text and "5.00 km" not in said.text
    said = await bot.ok("/profile", by=later)
    assert "dana@lake.run" not in said.text
    assert await notes_of(bot, "dana@lake.run") == ["secret"]  # still hers alone


async def test_finding_02_discord_setup_org_claims_no_email(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    bot = await start_discord(db_url)
    guild: Guild = double.add_guild("Fresh")
    founder = double.add_user("Fran")
    # the synced command has no email: option, and typed by hand it is refused
    [setup] = [c for c in double.commands[None] if c["name"] == "setup-org"]
    assert "email" not in {o["name"] for o in setup.get("options", [])}
    [answer] = await bot.dm(founder, '/setup-org "Fresh Feet" email:fran@fresh.run')
    assert "email: is not an option here" in answer
    async with bot.app.core.uow() as uow:
        assert await uow.repo.account_by_email("fran@fresh.run") is None
    # the real owner of that e-mail is never blocked by the attempt
    assert "set up" in await console(bot, "fran@fresh.run", '/setup-org "Fran Runs"')

    # in a guild, binding needs Manage Server; with it, no e-mail is needed
    said = await bot.no("/setup-org", by=founder, guild=guild, name="Fresh", manage_guild=False)
    assert "Manage Server" in said.text
    said = await bot.no("/members", by=founder, guild=guild)
    assert said.text == UNBOUND  # the refusal saved nothing
    said = await bot.ok("/setup-org", by=founder, guild=guild, name="Fresh Feet")
    assert "Fresh Feet is set up" in said.text
    profile = await bot.ok("/profile", by=founder, guild=guild)
    assert "fran@fresh.run" not in profile.text


async def test_finding_03_discord_join_keeps_own_account(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    """A Discord user typing the code of an invitation made for an existing e-mail account
    joins with their own account; that account and its private runs stay out of reach."""
    bot = await start_discord(db_url)
    club = await lakeside(double, bot)
    g = {"by": club["hc"], "guild": club["guild"]}
    # eve (console) was a member and logged a private run; she was removed
    await bot.ok("/add-member", **g, person="eve@lake.run")
    await console(bot, "eve@lake.run", "/help")  # first use: joined
    assert "Logged" in await console(bot, "eve@lake.run", '/log 10k 50:00 private "eve only"')
    await bot.ok("/remove-member", **g, member="eve@lake.run")
    code = await code_of(bot, "/add-member", **g, person="eve@lake.run")
    mal = double.add_user("Mal")
    said = await bot.ok("/join", by=mal, code=code)
    assert said.text == "You joined Lakeside Striders."
    said = await bot.ok("/activities", by=mal, guild=club["guild"])
    assert "eve only" not in said.text and "10.00 km" not in said.text
    said = await bot.ok("/profile", by=mal)
    assert "eve@lake.run" not in said.text
    # eve's account is untouched: still hers, with no club and no Discord identity
    async with bot.app.core.uow() as uow:
        eve = await uow.repo.account_by_email("eve@lake.run")
        assert eve is not None
        assert await uow.repo.membership_of(eve.id) is None
        assert [i.platform for i in await uow.repo.identities_of(eve.id)] == ["console"]
    assert await notes_of(bot, "eve@lake.run") == ["eve only"]
    # the head coach hears who used the code, by mention
    await bot.due_now()
    told = [text_of(m) for m in double.dms_to(club["hc"])]
    assert any(mention(mal) in t and "eve@lake.run" in t for t in told), told


async def test_finding_16_binding_needs_the_admin_right_on_discord(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    guild = double.add_guild("Open")
    squatter, admin = double.add_user("Sly"), double.add_user("Ada")
    said = await bot.no("/setup-org", by=squatter, guild=guild, name="Mine", manage_guild=False)
    assert "Manage Server" in said.text
    await bot.ok("/setup-org", by=admin, guild=guild, name="Open Runners")
    # only the head coach releases it, and then the guild is free again
    said = await bot.no("/unbind", by=squatter, guild=guild)
    assert "Open Runners" not in said.text
    await bot.add(squatter, by=admin, guild=guild)
    said = await bot.no("/unbind", by=squatter, guild=guild)
    assert "not open to your role" in said.text
    said = await bot.ok("/unbind", by=admin, guild=guild)
    assert "no longer serves Open Runners" in said.text
    said = await bot.no("/members", by=admin, guild=guild)
    assert said.text == UNBOUND


async def test_a_code_typed_by_the_wrong_person_on_discord(
    double: DiscordDouble, start_discord: Starter, sqlite_url: str
) -> None:
    bot = await start_discord(sqlite_url)
    club = await lakeside(double, bot)
    g = {"by": club["hc"], "guild": club["guild"]}
    mal = double.add_user("Mal")
    # a coach invitation's code: only its e-mail's proven owner
    coach_code = await code_of(bot, "/add-coach", **g, person="newcoach@lake.run")
    said = await bot.no("/join", by=mal, code=coach_code)
    assert said.text.startswith(SOMEONE_ELSE)
    # an addressed invitation's code: only the identity it names
    ned = double.add_user("Ned")
    addressed = await code_of(bot, "/add-member", **g, person=mention(ned))
    said = await bot.no("/join", by=mal, code=addressed)
    assert said.text.startswith(SOMEONE_ELSE)
    said = await bot.ok("/join", by=ned, code=addressed)
    assert said.text == "You joined Lakeside Striders."
    await bot.due_now()
    told = [text_of(m) for m in double.dms_to(club["hc"])]
    assert any(mention(ned) in t and "joined as an athlete" in t for t in told), told
    said = await bot.ok("/members", **g)
    assert "Mal" not in said.text and "newcoach" not in said.text
