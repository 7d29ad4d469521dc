"""A club run entirely from a Discord server, on both stores: set-up, coaches, members,
groups, the library, plans, logs, notes, leaderboards and DMs — every root command at
least once, through the real discord.py client and the local Discord double."""

from __future__ import annotations

from typing import Any

from tests.adapters.discord.conftest import Answer, Discord, Starter, text_of
from tests.adapters.discord.double import DiscordDouble


class Journey:
    """Runs commands and remembers which ones were used."""

    def __init__(self, bot: Discord) -> None:
        self.bot = bot
        self.used: set[str] = set()

    async def ok(self, command: str, **kw: Any) -> Answer:
        self.used.add(command.lstrip("/").split()[0])
        answer = await self.bot.ok(command, **kw)
        assert answer.deferred_privately and answer.ephemeral
        return answer

    async def no(self, command: str, **kw: Any) -> Answer:
        self.used.add(command.lstrip("/").split()[0])
        answer = await self.bot.no(command, **kw)
        assert answer.deferred_privately and answer.ephemeral
        return answer


async def test_a_club_runs_from_discord(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    guild = double.add_guild("Lakeside", ("general", "5k-squad"))
    _general, squad = list(guild.channels)
    hc, kai, ava, ben = (double.add_user(n) for n in ("Harriet", "Kai", "Ava", "Ben"))
    bot = await start_discord(db_url)
    run = Journey(bot)
    g = {"guild": guild}
    await bot.known_as(hc, guild, "hc@lake.run")

    said = await run.ok("/setup-org", by=hc, **g, name="Lakeside Striders", tz="Europe/London")
    assert "Lakeside Striders is set up" in said.text
    said = await run.ok("/add-coach", by=hc, **g, email="kai@lake.run", user=kai)
    assert "joined Lakeside Striders as an assistant coach" in said.text
    for person, email in ((ava, "ava@lake.run"), (ben, "ben@lake.run")):
        said = await run.ok("/add-member", by=hc, **g, email=email, user=person)
        assert f"<{email}> joined Lakeside Striders as an athlete" in said.text
    # a member option takes a mention as well as an e-mail
    said = await run.ok(
        "/assign-athlete", by=hc, **g, coach=f"<@{kai['id']}>", athlete="ava@lake.run"
    )
    assert "ava is now on kai's roster" in said.text
    said = await run.ok("/roster", by=kai, **g)
    assert "ava@lake.run" in said.text and "ben@lake.run" not in said.text
    said = await run.ok("/members", by=kai, **g)
    assert all(e in said.text for e in ("hc@lake.run", "ava@lake.run", "ben@lake.run"))
    await run.ok("/member", by=hc, **g, member="ava@lake.run", level="advanced", labels="u20")
    said = await run.ok("/profile", by=hc, **g, member=f"<@{ava['id']}>")
    assert "Level: advanced" in said.text and said.followups[0]["embeds"][0]["fields"]

    # groups, with their channel
    await run.ok("/group create", by=kai, **g, name="5k-squad")
    said = await run.ok(
        "/group add", by=kai, **g, name="5k-squad", members=f"ava@lake.run <@{ben['id']}>"
    )
    assert "Added to 5k-squad" in said.text
    said = await run.ok("/group link", by=kai, guild=guild, channel=squad, name="5k-squad")
    assert "#5k-squad is now 5k-squad's channel" in said.text
    said = await run.ok("/group list", by=ava, **g)
    assert "5k-squad" in said.text
    said = await run.ok("/group show", by=kai, **g, name="5k-squad")
    assert "Ava <ava@lake.run>" in said.text and "ben <ben@lake.run>" in said.text

    # the library and a plan
    await run.ok(
        "/workout create",
        by=kai,
        **g,
        name="Easy 8k",
        type="run",
        kind="easy",
        distance="8k",
        desc="Conversational pace, flat route",
    )
    await run.ok("/workout create", by=kai, **g, name="Hills", type="run", visibility="coaches")
    said = await run.ok("/workout list", by=ava, **g)
    assert "Easy 8k" in said.text and "Hills" not in said.text
    said = await run.ok("/workout show", by=ava, **g, name="Easy 8k")
    assert "Conversational pace" in said.text
    await run.ok("/workout edit", by=kai, **g, name="Hills", rename="Hill repeats")
    await run.ok("/workout delete", by=kai, **g, name="Hill repeats")
    await run.ok("/plan create", by=kai, **g, name="Base", weeks=2)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await run.ok("/plan set", by=kai, **g, plan="Base", week=1, day=day, workout="Easy 8k")
    said = await run.ok("/plan show", by=kai, **g, name="Base")
    assert "Easy 8k" in said.text
    said = await run.ok("/plan list", by=kai, **g)
    assert "Base" in said.text
    said = await run.ok(
        "/assign-plan", by=kai, **g, plan="Base", athlete="ava@lake.run", start="today"
    )
    assert "Base" in said.text

    # the athlete's side
    said = await run.ok("/today", by=ava, **g)
    assert "Easy 8k" in said.text
    said = await run.ok("/week", by=ava, **g)
    assert "Easy 8k" in said.text
    said = await run.ok("/my-plan", by=ava, **g)
    assert "Base" in said.text
    said = await run.ok("/log", by=ava, **g, what="8.2k 41:30", type="run", effort=6)
    assert "Logged #" in said.text
    activity = said.text.split("Logged #", 1)[1].split(":", 1)[0]
    await run.ok("/log", by=ben, **g, what="5k 30:00", private=True)
    said = await run.ok("/activities", by=ava, **g, period="week")
    assert "8.20 km" in said.text
    await run.ok("/activity edit", by=ava, **g, activity=f"#{activity}", effort=7)
    said = await run.ok("/comment", by=kai, **g, activity=f"#{activity}", text="Strong: keep it up")
    said = await run.no("/skip", by=ben, **g, reason="sore calf")
    assert said.text == "You have no session today, so there is nothing to skip."
    await run.ok("/privacy", by=ben, **g, setting="share_pace", switch="off")
    said = await run.ok("/settings", by=ava, **g, units="mi", name="Ava R.")
    said = await run.ok("/leaderboard", by=ava, guild=guild, channel=squad)
    assert "Posted" in said.text
    board = double.posts_in(squad)[-1]
    assert board["embeds"] and "Ava R." in text_of(board)
    assert not board["flags"] & 64  # a channel post is public
    await run.ok("/activity delete", by=ava, **g, activity=f"#{activity}")

    # coaches' notes, the audit, invitations
    said = await run.ok("/note", by=kai, **g, member="ava@lake.run", text='Watch her "kick": 200m')
    said = await run.ok("/notes", by=kai, **g, member="ava@lake.run")
    assert 'Watch her "kick": 200m' in said.text
    said = await run.ok("/add-member", by=hc, **g, email="dee@lake.run", group="5k-squad")
    assert "/join " in said.text
    said = await run.ok("/invitations list", by=hc, **g)
    assert "dee@lake.run" in said.text
    await run.ok("/invitations revoke", by=hc, **g, invitation="dee@lake.run")
    said = await run.ok("/invite-link", by=hc, **g, uses=3, group="5k-squad")
    assert "/join " in said.text
    said = await run.ok("/audit", by=hc, **g)
    assert "add_member" in said.text or "Audit" in said.text
    said = await run.ok("/help", by=ava, **g, topic="log")
    assert "/log" in said.text

    # refusals: roles and the policy
    said = await run.no("/members", by=ava, **g)
    assert "not open to your role" in said.text
    said = await run.no("/notes", by=ava, **g, member="ava@lake.run")
    said = await run.no("/audit", by=kai, **g)
    said = await run.no("/join", by=ava, **g, code="AAAAA-BBBBB")

    # changes of the club
    await run.ok("/unassign-athlete", by=hc, **g, coach="kai@lake.run", athlete="ava@lake.run")
    await run.ok("/group remove", by=kai, **g, name="5k-squad", members="ben@lake.run")
    await run.ok("/group rename", by=kai, **g, name="5k-squad", new_name="10k-squad")
    await run.ok("/group delete", by=kai, **g, name="10k-squad")
    said = await run.no("/plan delete", by=kai, **g, name="Base")
    assert "stays so those schedules keep their history" in said.text
    await run.ok("/plan create", by=kai, **g, name="Spare", weeks=1)
    await run.ok("/plan delete", by=kai, **g, name="Spare")
    await run.ok("/remove-member", by=hc, **g, member="ben@lake.run")
    await run.ok("/transfer-head-coach", by=hc, **g, member="kai@lake.run")
    said = await run.ok("/remove-coach", by=kai, **g, member="hc@lake.run")

    # DMs went out through the outbox: welcomes, the plan
    await bot.due_now()
    assert any("Welcome to Lakeside Striders" in text_of(m) for m in double.dms_to(ava))
    assert any("new training plan" in text_of(m) for m in double.dms_to(ava))
    assert any("Strong: keep it up" in text_of(m) for m in double.dms_to(ava))

    synced = {c["name"] for c in double.commands[None]}
    assert run.used == synced, synced - run.used
