"""Who a Slack user is (SPEC §5a), over real HTTP against the Slack double: the e-mail
Slack verified proves it, a mention stands for the mentioned user's verified e-mail, a
workspace admin or owner binds the workspace, a failed users.info decides nothing, and an
e-mail changed in Slack detaches the identity on the next day's first use.

The `test_finding_*` tests are issue 10's findings, each tried as the attacker would."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage.models import ChatIdentity, OutboxMessage
from tests.adapters.slack.conftest import SlackClub
from tests.adapters.slack.double import TEAM

HC, KAI, AVA, DANA, EVE, MAL, CY = (
    "hc@lake.run",
    "kai@lake.run",
    "ava@lake.run",
    "dana@lake.run",
    "eve@lake.run",
    "mal@evil.run",
    "cy@lake.run",
)
SOMEONE_ELSE = "That code was made for someone else."


async def lakeside(s: SlackClub) -> None:
    """hc (a workspace admin) heads Lakeside Striders; kai is an assistant coach."""
    s.admin(HC)
    await s.say(HC, '/setup-org "Lakeside Striders"')
    await s.say(HC, f"/add-coach {KAI}")
    await s.say(KAI, "/profile")  # first use in this workspace: joins


def code_in(text: str) -> str:
    found = re.search(r"join ([A-Z0-9]{5}-[A-Z0-9]{5})", text)
    assert found, text
    return found[1]


async def test_finding_01_slack_mention_does_not_link_another_user(slack: SlackClub) -> None:
    """An assistant coach named dana's e-mail with `user:<@U8>` (U8 verified as eve): U8
    used to become dana and read her private run."""
    s = slack
    await lakeside(s)
    await s.say(HC, f"/add-member {DANA}")
    await s.say(DANA, '/log 5k 25:00 private "dana secret"')  # first use joins her
    eve = s.person(EVE)  # U8: Slack verified eve@lake.run for this user

    said = await s.say(KAI, f"/add-member {DANA} user:{s.mention(EVE)}")
    assert "is not the e-mail Slack verified for that user" in said.text
    said = await s.say(KAI, f"/add-member {s.mention(EVE)}")  # the mention is eve's e-mail
    assert EVE in said.text and DANA not in said.text
    await s.due()
    assert any("invited you to join Lakeside Striders" in t for t in s.dms_to(EVE))

    for line in ("/activities", f"/activities {DANA}", f"/activities <@{s.user_id(DANA)}>"):
        said = await s.say(EVE, line)
        assert "dana secret" not in said.text and "5.00 km" not in said.text
    said = await s.say(EVE, "/profile")
    assert f"E-mail: {EVE}" in said.text
    async with s.app.core.uow() as uow:
        account = await uow.repo.account_by_identity("slack", TEAM, eve)
        assert account is not None and account.email == EVE


async def test_finding_16_binding_needs_the_admin_right_on_slack(slack_lite: SlackClub) -> None:
    s = slack_lite
    said = await s.say(MAL, '/setup-org "Mine"')  # no admin right in this workspace
    assert "Only a workspace admin or owner can bind" in said.text
    assert "not set up for coachbot yet" in (await s.say(MAL, "/members")).text
    s.admin(HC, owner=True)  # the owner (users.info is_owner) may
    assert "is set up" in (await s.say(HC, '/setup-org "Lakeside Striders"')).text
    # only the head coach releases it
    await s.say(HC, f"/add-member {CY}")
    await s.say(CY, "/profile")
    assert "not open to your role" in (await s.say(CY, "/unbind")).text
    assert "no longer serves Lakeside Striders" in (await s.say(HC, "/unbind")).text
    assert "not set up for coachbot yet" in (await s.say(HC, "/members")).text


async def test_slack_identity_detached_when_its_email_changes(slack_lite: SlackClub) -> None:
    s = slack_lite
    await lakeside(s)
    await s.say(HC, f"/add-member {AVA}")
    await s.say(AVA, '/log 5k 25:00 "before"')
    async with s.app.core.uow() as uow:
        old = await uow.repo.account_by_email(AVA)
        assert old is not None
        old_id = old.id

    s.double.set_email(s.user_id(AVA), "ava@elsewhere.org")  # changed in Slack's profile
    s.clock.advance(timedelta(days=1))  # the next day's first use reads users.info again
    said = await s.say(AVA, "/profile")  # met afresh: an account of the new e-mail, no club
    assert "not a member" in said.text
    async with s.app.core.uow() as uow:
        fresh = await uow.repo.account_by_identity("slack", TEAM, s.user_id(AVA))
        assert fresh is not None and fresh.id != old_id and fresh.email == "ava@elsewhere.org"
        assert [i.platform for i in await uow.repo.identities_of(old_id)] == []
        told = await uow.session.scalars(
            select(OutboxMessage.text).where(OutboxMessage.account_id == old_id)
        )
        assert any("no longer proves this account's e-mail" in t for t in told)
    assert "before" not in (await s.say(AVA, "/activities")).text
    said = await s.say(HC, "/members")
    assert AVA in said.text and "ava@elsewhere.org" not in said.text  # the old account stays


async def test_a_failed_slack_lookup_creates_nothing(slack_lite: SlackClub) -> None:
    s = slack_lite
    await lakeside(s)
    newcomer = s.person("new@lake.run")
    for error, status in (("internal_error", 200), ("fatal_error", 200), ("down", 503)):
        s.double.fail_next("users.info", error, status=status)
        said = await s.say("new@lake.run", "/profile")
        assert "I couldn't ask Slack who you are just now" in said.text
    async with s.app.core.uow() as uow:
        assert await uow.repo.account_by_email("new@lake.run") is None
        found = await uow.session.scalars(
            select(ChatIdentity).where(ChatIdentity.user_id == newcomer)
        )
        assert list(found) == []
    # a mention Slack cannot look up runs nothing either
    s.person(EVE)
    s.double.fail_next("users.info", "internal_error")
    said = await s.say(HC, f"/add-member {s.mention(EVE)}")
    assert "I couldn't ask Slack who you mentioned" in said.text
    assert "No pending" in (await s.say(HC, f"/invitations revoke {EVE}")).text
    # once Slack answers, the person is met with their verified e-mail
    await s.say("new@lake.run", "/help")
    async with s.app.core.uow() as uow:
        assert await uow.repo.account_by_email("new@lake.run") is not None


async def test_a_code_typed_by_the_wrong_person_on_slack(slack_lite: SlackClub) -> None:
    s = slack_lite
    await lakeside(s)
    coach_code = code_in((await s.say(HC, "/add-coach newcoach@lake.run")).text)
    athlete_code = code_in((await s.say(HC, "/add-member dee@lake.run")).text)
    for code in (coach_code, athlete_code):  # mal's verified e-mail is another one
        said = await s.say(MAL, f"/coachbot join {code}")
        assert said.text.startswith(SOMEONE_ELSE)
    assert "mal" not in (await s.say(HC, "/members")).text
    # a code that works names its user, by mention, to the inviting coach and head coach
    link = code_in((await s.say(KAI, "/invite-link uses:2")).text)
    assert "You joined Lakeside Striders" in (await s.say(CY, f"/coachbot join {link}")).text
    await s.due()
    cy = f"<@{s.user_id(CY)}>"
    assert any(cy in t and "joined as an athlete" in t for t in s.dms_to(HC))
    assert any(cy in t for t in s.dms_to(KAI))


async def test_an_invitation_is_accepted_with_its_slack_button(slack_lite: SlackClub) -> None:
    s = slack_lite
    await lakeside(s)
    dan = "dan@lake.run"
    s.double.add_user(s.user_id(dan), None, "dan")  # Slack shows no e-mail: named by mention
    await s.say(HC, f"/add-member {s.mention(dan)}")
    await s.due()
    [offer] = [p for p in s.double.posts(f"D{s.user_id(dan)}") if "invited you" in p["text"]]
    [actions] = [b for b in offer["blocks"] if b["type"] == "actions"]
    buttons = {e["value"].split(" ")[0]: e for e in actions["elements"]}
    assert buttons["accept"]["action_id"] == "coachbot." + buttons["accept"]["value"]
    said = await s.click(dan, buttons["accept"]["value"], message=offer)
    [done] = said.responses
    assert done["replace_original"] and "You joined Lakeside Striders" in done["text"]
    assert all(b["type"] != "actions" for b in done["blocks"])  # the buttons gave way
    assert "dan" in (await s.say(HC, "/members")).text
