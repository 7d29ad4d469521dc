"""Issue 10's identity findings, tried as an attacker would through the real core: who a
chat user is comes only from proof, and a person joins a club only by their own act
(SPEC §5a). Each finding is a test named after it; the adapters' own versions run
against the Slack and Discord doubles in tests/adapters."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.base import Caller
from tests.conftest import Club

HC = "hc@lake.run"


def slack(user: str, team: str, email: str | None, **extra: object) -> Caller:
    return Caller(platform="slack", user_id=user, space_id=team, email=email, **extra)  # type: ignore[arg-type]


def discord(user: str, guild: str = "", **extra: object) -> Caller:
    return Caller(
        platform="discord", user_id=user, space_id=guild, display_name=f"d{user}", **extra
    )  # type: ignore[arg-type]


async def slack_club(club: Club, team: str = "T1") -> Caller:
    """hc runs Lakeside from Slack workspace T1 (hc is its admin)."""
    head = slack("UHC", team, HC, space_admin=True)
    said = await club.as_(head, '/setup-org "Lakeside Striders"')
    assert said.ok, said.text
    return head


async def test_finding_01_slack_user_mention_must_match_the_verified_email(club: Club) -> None:
    head = await slack_club(club)
    dana = slack("UDANA", "T1", "dana@lake.run")
    await club.as_(dana, "/profile")
    await club.as_(dana, "/log 5k 25:00 private")
    # eve's Slack user U8 is named for dana's e-mail: refused, nothing linked
    line = "/add-member dana@lake.run user:<@U8>"
    named = Caller(**{**head.__dict__, "mentions": (("U8", "eve@evil.run"),)})
    refused = await club.as_(named, line)
    assert not refused.ok and "not the e-mail Slack verified" in refused.text
    eve = slack("U8", "T1", "eve@evil.run")
    assert "5.00 km" not in (await club.as_(eve, "/activities dana@lake.run")).text
    assert "5.00 km" not in (await club.as_(eve, "/activities")).text


async def test_finding_01_discord_user_option_makes_an_addressed_invitation(club: Club) -> None:
    await left_a_club_with_a_private_run(club, "dana@lake.run")
    founder = discord("1", "G1", space_admin=True)
    assert (await club.as_(founder, '/setup-org "Guild Runners"')).ok
    offer = await club.as_(founder, "/add-member dana@lake.run user:<@77>")
    assert offer.ok and "invited" in offer.text
    code = offer.text.rsplit("/join ", 1)[1].strip()
    (dm,) = [m for m in offer.dms() if m.kind == "invitation"]
    assert [a.label for a in dm.actions][1] == "Decline"
    accept = dm.actions[0].command
    # only user 77 may accept, by button or code; anyone else is refused
    intruder = discord("78", "G1")
    assert not (await club.as_(intruder, f"/{accept}")).ok
    assert not (await club.as_(intruder, f"/join {code}")).ok
    joined = await club.as_(discord("77", "G1"), f"/{accept}")
    assert joined.ok, joined.text
    profile = (await club.as_(discord("77", "G1"), "/profile")).text
    assert "dana@lake.run" not in profile  # the typed e-mail stays the coach's note
    assert "5.00" not in (await club.as_(discord("77", "G1"), "/activities")).text
    notes = (await club.as_(founder, "/notes <@77>")).text
    assert "dana@lake.run" in notes and "not verified" in notes


async def left_a_club_with_a_private_run(club: Club, email: str) -> None:
    """`email` has an account with a private run, and no club any more."""
    await club.ok("old@coach.run", '/setup-org "Old Club"')
    await club.ok("old@coach.run", f"/add-member {email}")
    await club.ok(email, "/log 5k 25:00 private")
    await club.ok("old@coach.run", f"/remove-member {email}")


async def test_finding_02_discord_setup_org_claims_no_email(club: Club) -> None:
    squatter = discord("5", "G5", space_admin=True)
    said = await club.as_(squatter, '/setup-org "Squat Club" email:ann@lake.run')
    assert not said.ok and "email:" in said.text
    refused = await club.as_(discord("5", "G5"), '/setup-org "Squat Club"')  # no Manage Server
    assert not refused.ok and "Manage Server" in refused.text
    assert (await club.as_(squatter, '/setup-org "Squat Club"')).ok
    # the real ann is neither blocked nor handed the squatter's club
    await club.ok(HC, '/setup-org "Lakeside Striders"')
    await club.ok(HC, "/add-member ann@lake.run")
    assert "Organization: Lakeside Striders" in (await club.ok("ann@lake.run", "/profile")).text


async def test_finding_03_discord_join_keeps_the_newcomers_own_account(club: Club) -> None:
    await left_a_club_with_a_private_run(club, "ann@lake.run")
    head = await slack_club(club)  # ann has no identity in T1: an invitation with a code
    said = await club.as_(head, "/add-member ann@lake.run")
    code = said.text.rsplit("/join ", 1)[1].strip()
    stranger = discord("9")
    joined = await club.as_(stranger, f"/join {code}")
    assert joined.ok  # an athlete code works for an e-mail-less account: as itself
    assert "5.00" not in (await club.as_(stranger, "/activities")).text
    assert "ann@lake.run" not in (await club.as_(stranger, "/profile")).text
    assert "Organization: none yet" in (await club.ok("ann@lake.run", "/profile")).text


async def test_finding_04_a_coach_code_admits_only_its_verified_owner(club: Club) -> None:
    await club.ok(HC, '/setup-org "Lakeside Striders"')
    code = (await club.ok(HC, "/add-coach newcoach@lake.run")).text.rsplit("/join ", 1)[1]
    mallory = await club.no("mallory@evil.run", f"/join {code.strip()}")
    assert "someone else" in mallory.text
    assert not (await club.as_(discord("13"), f"/join {code.strip()}")).ok  # no e-mail: no
    assert "pending" in (await club.ok(HC, "/invitations")).text
    assert "Roles: assistant coach" in (await club.ok("newcoach@lake.run", "/profile")).text


async def test_finding_15_adding_an_account_from_another_space_is_only_an_offer(
    club: Club,
) -> None:
    ann = slack("UANN", "T1", "ann@lake.run")
    await club.as_(ann, "/log 10k 50:00")
    stranger = slack("USTR", "T9", "boss@else.run", space_admin=True)
    assert (await club.as_(stranger, '/setup-org "Stranger Club"')).ok
    said = await club.as_(stranger, "/add-member ann@lake.run")
    assert said.ok and "join when they accept" in said.text
    members = (await club.as_(stranger, "/members")).text
    assert "ann@lake.run" not in members
    assert "10.00" not in (await club.as_(stranger, "/activities ann@lake.run")).text
    # the offer reaches ann with Accept and Decline; declining tells the coach
    offer = [m for m in said.dms() if m.kind == "invitation"]
    assert offer and offer[0].actions
    ref = offer[0].actions[1].command.split()[1]
    declined = await club.as_(ann, f"/decline {ref}")
    assert declined.ok and "declined" in declined.text
    assert "declined" in (await club.as_(stranger, "/invitations")).text


async def test_finding_15_first_use_accepts_only_an_invitation_made_here(club: Club) -> None:
    stranger = slack("USTR", "T9", "boss@else.run", space_admin=True)
    assert (await club.as_(stranger, '/setup-org "Stranger Club"')).ok
    await club.as_(stranger, "/add-member bo@lake.run")  # bo has no account yet
    first = await club.as_(slack("UBO", "T1", "bo@lake.run"), "/help")
    (offer,) = [m for m in first.dms() if m.kind == "invitation"]
    assert "Stranger Club" in offer.text and offer.actions
    # the same invitation made in bo's own workspace is accepted at once
    home = slack("UHC", "T1", HC, space_admin=True)
    assert (await club.as_(home, '/setup-org "Lakeside Striders"')).ok
    await club.as_(home, "/add-member cy@lake.run")
    assert (
        "Lakeside Striders" in (await club.as_(slack("UCY", "T1", "cy@lake.run"), "/profile")).text
    )


async def test_finding_16_only_the_platform_admin_binds_a_space(club: Club) -> None:
    refused = await club.as_(slack("UX", "T7", "x@else.run"), '/setup-org "Mine Now"')
    assert not refused.ok and "workspace admin or owner" in refused.text
    head = slack("UA", "T7", "admin@else.run", space_admin=True)
    assert (await club.as_(head, '/setup-org "Ours"')).ok
    assert not (await club.as_(slack("UB", "T7", "b@else.run"), "/unbind")).ok
    released = await club.as_(head, "/unbind")
    assert released.ok and "no longer serves Ours" in released.text
    # unbound again: the next admin may bind it; the old club still exists for its head
    assert "Ours" in (await club.ok("admin@else.run", "/profile")).text
    again = await club.as_(slack("UC", "T7", "c@else.run", space_admin=True), '/setup-org "New"')
    assert again.ok


async def test_a_slack_identity_is_detached_when_its_email_changes(club: Club) -> None:
    head = await slack_club(club)
    await club.as_(head, "/add-member ann@lake.run")
    ann = slack("UANN", "T1", "ann@lake.run")
    assert (await club.as_(ann, "/log 10k 50:00 private")).ok  # first use here: joined
    club.clock.advance(timedelta(days=1))
    # the workspace admin gives U-ANN another e-mail: the identity no longer proves ann
    moved = slack("UANN", "T1", "eve@evil.run")
    said = await club.as_(moved, "/activities")
    assert "10.00" not in said.text
    told = [m for m in said.dms("ann@lake.run") if "no longer proves" in m.text]
    assert told, said.messages
    assert "10.00" in (await club.ok("ann@lake.run", "/activities")).text


async def test_a_failed_slack_lookup_creates_nothing(club: Club) -> None:
    said = await club.as_(slack("UQ", "T1", None, email_unknown=True), "/profile")
    assert not said.ok and "try again" in said.text
    async with club.core.uow() as uow:
        assert await uow.repo.account_by_identity("slack", "T1", "UQ") is None


async def test_slack_email_proves_nothing_in_a_workspace_of_another_club(club: Club) -> None:
    home = await slack_club(club, "T1")
    await club.as_(home, "/add-member ann@lake.run")
    ann = slack("UANN", "T1", "ann@lake.run")
    assert (await club.as_(ann, "/log 10k 50:00 private")).ok
    # a rogue admin's workspace gives a user ann's e-mail
    rogue = slack("UFAKE", "T666", "ann@lake.run")
    said = await club.as_(rogue, "/activities ann@lake.run")
    assert "10.00" not in said.text
    async with club.core.uow() as uow:
        real = await uow.repo.account_by_email("ann@lake.run")
        fake = await uow.repo.account_by_identity("slack", "T666", "UFAKE")
        assert real is not None and fake is not None
        assert fake.id != real.id and fake.email is None
