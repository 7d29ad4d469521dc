"""A club run entirely from a Discord server, on both stores: set-up, coaches, members,
groups, the library, plans, logs, notes, leaderboards and DMs — every root command at
least once, through the real discord.py client and the local Discord double."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import aiohttp
from icalendar import Calendar

from adapters.public import PublicServer
from tests.adapters.discord.conftest import Answer, Discord, Starter, mention, text_of
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


def offered(offer: tuple[dict[str, Any], dict[str, str]]) -> str:
    """The #ID an invitation DM names."""
    found = re.search(r"/accept (#[A-Z2-9]{7})", text_of(offer[0]))
    assert found, text_of(offer[0])
    return found[1]


async def test_a_club_runs_from_discord(
    double: DiscordDouble, start_discord: Starter, db_url: str
) -> None:
    guild = double.add_guild("Lakeside", ("general", "5k-squad"))
    _general, squad = list(guild.channels)
    hc, kai, ava, ben = (double.add_user(n) for n in ("Harriet", "Kai", "Ava", "Ben"))
    bot = await start_discord(db_url)
    run = Journey(bot)
    g = {"guild": guild}

    # no e-mail is needed to start a club: Manage Server is (SPEC §5a)
    said = await run.no("/setup-org", by=hc, **g, name="Lakeside Striders", manage_guild=False)
    assert "Manage Server" in said.text
    said = await run.ok("/setup-org", by=hc, **g, name="Lakeside Striders", tz="Europe/London")
    assert "Lakeside Striders is set up" in said.text
    # people are added by @mention: each gets an offer by DM and joins by accepting it
    said = await run.ok("/add-coach", by=hc, **g, person=mention(kai))
    assert "they join when they accept" in said.text
    said = await bot.accept(kai)  # the Accept button under the offer
    assert "You joined Lakeside Striders" in said.text
    await run.ok("/add-member", by=hc, **g, person=mention(ava))
    said = await run.ok("/accept", by=ava, invitation=offered(await bot.offer(ava)))
    assert "You joined Lakeside Striders" in said.text
    await run.ok("/add-member", by=hc, **g, person=mention(ben))
    said = await run.ok("/decline", by=ben, invitation=offered(await bot.offer(ben)))
    assert "declined" in said.text
    await bot.add(ben, by=hc, **g)  # asked again, he accepts
    # a member option takes a mention as well as an e-mail
    said = await run.ok("/assign-athlete", by=hc, **g, coach=mention(kai), athlete=mention(ava))
    assert "Ava is now on Kai's roster" in said.text
    said = await run.ok("/roster", by=kai, **g)
    assert "- Ava\n" in said.text + "\n" and "Ben" not in said.text  # no e-mail: a name
    said = await run.ok("/members", by=kai, **g)
    assert (
        all(f"- {p['username']} —" in said.text for p in (hc, ava, ben)) and "None" not in said.text
    )
    await run.ok("/member", by=hc, **g, member=mention(ava), level="advanced", labels="u20")
    said = await run.ok("/profile", by=hc, **g, member=mention(ava))
    assert "Level: advanced" in said.text and said.followups[0]["embeds"][0]["fields"]

    # groups, with their channel
    await run.ok("/group create", by=kai, **g, name="5k-squad")
    said = await run.ok(
        "/group add", by=kai, **g, name="5k-squad", members=f"{mention(ava)} {mention(ben)}"
    )
    assert "Added to 5k-squad" in said.text
    said = await run.ok("/group link", by=kai, guild=guild, channel=squad, name="5k-squad")
    assert "#5k-squad is now 5k-squad's channel" in said.text
    said = await run.ok("/group list", by=ava, **g)
    assert "5k-squad" in said.text
    # a club run (issue 15 item 3): called, posted with its buttons, answered, called off
    said = await run.ok(
        "/event create",
        by=kai,
        **g,
        group="5k-squad",
        title="Saturday long run",
        date="sat",
        time="08:00",
    )
    event = re.search(r"\(#([A-Z2-9]{7})\)", said.text)
    assert event, said.text
    await bot.due_now()
    assert "Saturday long run" in text_of(double.posts_in(squad)[-1])
    said = await run.ok("/rsvp", by=ava, **g, event=f"#{event[1]}", answer="going")
    assert "You're going to Saturday long run" in said.text
    said = await run.ok("/events", by=kai, **g, group="5k-squad")
    assert "going: Ava" in said.text
    said = await run.ok("/event cancel", by=kai, **g, event=f"#{event[1]}")
    assert "is cancelled" in said.text
    said = await run.ok("/group show", by=kai, **g, name="5k-squad")
    assert "Ava" in said.text and "Ben" in said.text and "None" not in said.text

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
        "/assign-plan", by=kai, **g, plan="Base", athlete=mention(ava), start="today"
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
    said = await run.ok("/comments", by=ava, **g, activity=f"#{activity}")
    assert "Strong: keep it up" in said.text
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

    # one athlete's schedule: any coach sees it, the roster's coach changes it day by day
    said = await run.ok("/schedule", by=kai, **g, member=mention(ava), period="week")
    assert "Ava R.'s schedule, week of Mon 04 Jan 2027" in said.text
    said = await run.ok("/compliance", by=kai, **g, group="5k-squad", period="week")
    assert said.text.startswith("Compliance, week of Mon 04 Jan 2027, group 5k-squad")
    said = await run.ok("/compliance", by=hc, **g, coach=mention(kai))
    assert "'s roster:" in said.text.splitlines()[0]
    # /progress (issue 15): a coach's view of an athlete, weeks as a typed option; and its
    # refusal of a number out of range, with the usage
    said = await run.ok("/progress", by=kai, **g, member=mention(ava), weeks=2)
    assert said.text.startswith("Ava R.'s progress, 2 weeks to Sun 10 Jan 2027")
    said = await run.no("/progress", by=ava, **g, weeks=27)
    assert "Usage: /progress [MEMBER] [weeks:1-26]" in said.text
    said = await run.ok("/today", by=hc, **g, member=mention(ava))
    assert "Easy 8k" in said.text
    said = await run.ok(
        "/session set", by=kai, **g, member=mention(ava), day="2027-01-12", workout="Easy 8k"
    )
    assert "is now Easy 8k" in said.text
    said = await run.no(
        "/session move", by=kai, **g, member=mention(ava), day="2027-01-05", to="2027-01-06"
    )
    assert f"Clear it first with /session clear {mention(ava)} 2027-01-06" in said.text
    await run.ok("/session clear", by=kai, **g, member=mention(ava), day="2027-01-06")
    await run.ok(
        "/session move", by=kai, **g, member=mention(ava), day="2027-01-05", to="2027-01-06"
    )
    said = await run.ok("/plan end", by=hc, **g, member=mention(ava), from_day="2027-01-09")
    assert "now ends on Fri 08 Jan" in said.text

    # a private calendar feed (issue 15): Discord alone, so the public server runs alone
    public = PublicServer("127.0.0.1", 0)
    public.serve_feeds(bot.app.core.calendar_feed)
    await public.start()
    bot.app.core.public_url = public.url
    try:
        await run.ok("/calendar", by=ava, **g)
        said = await run.ok("/calendar", by=ava, **g, reset=True)
        assert "Revoked 1 earlier link" in said.text
        link = re.search(r"(http://[\w.:]+/calendar/[\w-]+\.ics)", said.text)
        assert link, said.text
        async with aiohttp.ClientSession() as http, http.get(link[1]) as got:
            assert got.status == 200
            events = Calendar.from_ical(await got.read()).walk("VEVENT")
        assert "Easy 8k" in {str(event["SUMMARY"]) for event in events}
    finally:
        await public.stop()

    # coaches' notes, the audit, invitations
    said = await run.ok("/note", by=kai, **g, member=mention(ava), text='Watch her "kick": 200m')
    said = await run.ok("/notes", by=kai, **g, member=mention(ava))
    assert 'Watch her "kick": 200m' in said.text
    said = await run.ok("/add-member", by=hc, **g, person="dee@lake.run", group="5k-squad")
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
    said = await run.no("/notes", by=ava, **g, member=mention(ava))
    said = await run.no("/audit", by=kai, **g)
    said = await run.no("/join", by=ava, **g, code="AAAAA-BBBBB")

    # proving who one is: no SMTP here, so /verify points elsewhere; one's identities
    said = await run.no("/verify", by=ava, **g, email_or_code="ava@lake.run")
    assert "/link" in said.text
    said = await run.ok("/link", by=ava, **g)
    assert "/link " in said.text
    said = await run.ok("/identities list", by=ava, **g)
    assert "discord" in said.text.lower()

    # data rights (issue 14 item 5): one's own data, and the club's, as files in a DM
    await run.ok("/log", by=ava, **g, what="6k 30:00", type="run")
    said = await run.ok("/export", by=ava, **g)
    assert "on its way" in said.text
    said = await run.ok("/export", by=hc, **g, club=True)
    assert "club export is on its way" in said.text
    await bot.due_now()
    mine = double.attached(double.dms_to(ava))
    assert sorted(name.split("-")[1] for name in mine) == ["activities", "profile"]
    profile = json.loads(next(v for k, v in mine.items() if k.startswith("coachbot-profile")))
    assert profile["identities"][0]["platform"] == "discord"
    theirs = double.attached(double.dms_to(hc))
    runs = next(v for k, v in theirs.items() if k.startswith("club-activities"))
    listed = [r["athlete"] for r in csv.DictReader(io.StringIO(runs.decode()))]
    assert listed == ["Ava R."], listed  # ben logged his run private: never listed

    # changes of the club
    await run.ok("/unassign-athlete", by=hc, **g, coach=mention(kai), athlete=mention(ava))
    await run.ok("/group remove", by=kai, **g, name="5k-squad", members=mention(ben))
    await run.ok("/group rename", by=kai, **g, name="5k-squad", new_name="10k-squad")
    await run.ok("/group delete", by=kai, **g, name="10k-squad")
    said = await run.no("/plan delete", by=kai, **g, name="Base")
    assert "stays so those schedules keep their history" in said.text
    await run.ok("/plan create", by=kai, **g, name="Spare", weeks=1)
    await run.ok("/plan delete", by=kai, **g, name="Spare")
    await run.ok("/remove-member", by=hc, **g, member=mention(ben))
    await run.ok("/transfer-head-coach", by=hc, **g, member=mention(kai))
    said = await run.ok("/remove-coach", by=kai, **g, member=mention(hc))
    # data rights (issue 14 item 5): hc, no longer a member, forgets themselves on a second
    # command; deleting the club asks the head coach to confirm (tests/unit/test_erasure.py)
    said = await run.ok("/forget-me", by=hc, **g)
    forget = re.search(r"/forget-me ([A-Z2-9]{6})", said.text)
    assert forget, said.text
    said = await run.ok("/forget-me", by=hc, **g, code=forget[1])
    assert "Your account is deleted" in said.text
    said = await run.ok("/delete-club", by=kai, **g)
    assert "/delete-club " in said.text
    said = await run.ok("/unbind", by=kai, **g)
    assert "no longer serves Lakeside Striders" in said.text

    # DMs went out through the outbox: welcomes, the plan
    await bot.due_now()
    assert any("Welcome to Lakeside Striders" in text_of(m) for m in double.dms_to(ava))
    assert any("new training plan" in text_of(m) for m in double.dms_to(ava))
    assert any("Strong: keep it up" in text_of(m) for m in double.dms_to(ava))
    assert any("Your coach changed your schedule" in text_of(m) for m in double.dms_to(ava))

    synced = {c["name"] for c in double.commands[None]}
    assert run.used == synced, synced - run.used
