"""Membership commands end to end through the real core, on both stores (SPEC §1, §3-5).

Every command's happy path and its refusals: /setup-org, /add-member, signup, /join,
/invite-link, /invitations, /remove-member, /add-coach, /remove-coach,
/transfer-head-coach, /assign-athlete, /unassign-athlete, /members, /member, members
named by display name, and /audit.

The Lakeside club of `Club.basic_club()` is written straight into the store by
`seed_lakeside` (one transaction instead of twenty commands) so the file stays fast;
`test_seed_matches_basic_club` checks the two clubs read the same.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console.sender import ConsoleSender
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from storage.models import Account, Assignment, ChatIdentity, Group, GroupMember, Membership, Org
from tests.conftest import Club, Said

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"
EVERYONE = (HC, KAI, NOOR, AVA, BEN, CY)
LAKESIDE = "Lakeside Striders"

# (e-mail, head coach, coach, athlete) — the people of Club.basic_club()
PEOPLE = (
    (HC, True, True, False),
    (KAI, False, True, False),
    (NOOR, False, True, False),
    (AVA, False, False, True),
    (BEN, False, False, True),
    (CY, False, False, True),
)
ROSTERS = ((KAI, AVA), (NOOR, BEN))

CODE = re.compile(r"/join ([A-Z2-9]{5}-[A-Z2-9]{5})")


# -- helpers shared with tests/unit/test_library_and_settings.py -------------------------


async def seed_lakeside(club: Club) -> None:
    """The club of `Club.basic_club()`, written in one transaction.

    hc heads 'Lakeside Striders' (Europe/London); kai and noor coach; ava, ben and cy are
    athletes; kai has ava on his roster and noor has ben. Each person has a console
    identity, as if they had used the bot once.
    """
    now = club.clock.now()
    async with club.core.uow() as uow:
        repo = uow.repo
        org = await repo.add(Org(name=LAKESIDE, timezone="Europe/London", created_at=now))
        members: dict[str, int] = {}
        for email, head, coach, athlete in PEOPLE:
            account = await repo.add(
                Account(email=email, display_name=email.split("@")[0], created_at=now)
            )
            await repo.add(
                ChatIdentity(account_id=account.id, platform="console", space_id="", user_id=email)
            )
            member = await repo.add(
                Membership(
                    org_id=org.id,
                    account_id=account.id,
                    is_head_coach=head,
                    is_coach=coach,
                    is_athlete=athlete,
                    status="active",
                    labels=[],
                    joined_at=now,
                )
            )
            members[email] = member.id
        for coach_email, athlete_email in ROSTERS:
            await repo.add(
                Assignment(
                    org_id=org.id,
                    coach_membership_id=members[coach_email],
                    athlete_membership_id=members[athlete_email],
                    created_at=now,
                )
            )
        await uow.commit()


async def make_group(club: Club, name: str, *emails: str) -> None:
    """A group of Lakeside, written straight into the store (quicker than /group commands)."""
    async with club.core.uow() as uow:
        repo = uow.repo
        head = await repo.account_by_email(HC)
        assert head is not None
        membership = await repo.membership_of(head.id)
        assert membership is not None
        group = await repo.add(
            Group(
                org_id=membership.org_id,
                name=name,
                name_key=name.casefold(),
                created_at=club.clock.now(),
            )
        )
        for email in emails:
            account = await repo.account_by_email(email)
            assert account is not None
            member = await repo.membership_of(account.id)
            assert member is not None
            await repo.add(GroupMember(group_id=group.id, membership_id=member.id))
        await uow.commit()


async def newcomer(club: Club, email: str) -> None:
    """Someone who has used the bot once and belongs to no organization."""
    said = await club.ok(email, "/profile")
    assert "Organization: none yet" in said.text, said.text
    assert not said.dms(), said.messages


def code_in(said: Said) -> str:
    match = CODE.search(said.text)
    assert match, f"no join code in: {said.text}"
    return match.group(1)


def member_lines(text: str) -> dict[str, str]:
    """`/members` output as {e-mail: rest of the line}."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"- .*?<([^>]+)> — (.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


@pytest.fixture
async def lake(club: Club) -> Club:
    await seed_lakeside(club)
    return club


async def bad_code_text(club: Club) -> str:
    """What /join answers for a code that never existed (from a throw-away identity)."""
    said = await club.no("probe@nowhere.org", "/join ZZZZZ-ZZZZZ")
    return said.text


Case = tuple[str, str, str]  # (who types, the line, words the refusal must hold)


async def refused_each(club: Club, subtests: pytest.Subtests, cases: Sequence[Case]) -> None:
    """Each line is refused with a message holding the expected words, and sends no DM.

    One club for the whole table (refusals write nothing), each case its own subtest.
    """
    for who, line, expected in cases:
        with subtests.test(who=who, line=line):
            said = await club.no(who, line)
            assert expected in said.text
            assert not said.dms()


# -- the seed is the basic club ----------------------------------------------------------


async def _sqlite_club(template: Path, path: Path, clock: FakeClock) -> App:
    shutil.copy(template, path)
    return await bootstrap(
        f"sqlite+aiosqlite:///{path}", clock=clock, migrate=False, sender=ConsoleSender()
    )


async def test_seed_matches_basic_club(
    sqlite_template: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """Once, on SQLite: the seeded club reads exactly as the one built by commands."""
    built_app = await _sqlite_club(sqlite_template, tmp_path / "built.db", clock)
    seeded_app = await _sqlite_club(sqlite_template, tmp_path / "seeded.db", clock)
    try:
        built, seeded = Club(built_app, clock), Club(seeded_app, clock)
        await built.basic_club()
        await seed_lakeside(seeded)
        for email, line in (
            (HC, "/members"),
            (HC, "/roster"),
            (KAI, "/roster"),
            (AVA, "/profile"),
            (KAI, "/profile ava"),
            (BEN, "/profile cy"),
        ):
            assert (await seeded.ok(email, line)).text == (await built.ok(email, line)).text
    finally:
        await built_app.close()
        await seeded_app.close()


# -- /setup-org --------------------------------------------------------------------------


async def test_setup_org_creates_an_org_with_the_caller_as_head_coach(club: Club) -> None:
    said = await club.ok("maria@north.run", '/setup-org "Northside Track Club" tz:europe/madrid')
    assert "Northside Track Club" in said.text and "Europe/Madrid" in said.text
    profile = await club.ok("maria@north.run", "/profile")
    assert "Organization: Northside Track Club" in profile.text
    assert "Roles: head coach" in profile.text
    settings = await club.ok("maria@north.run", "/settings")
    assert "Time zone: Europe/Madrid (your club's)" in settings.text
    assert "Audit log" in (await club.ok("maria@north.run", "/audit")).text


async def test_setup_org_default_time_zone_and_a_second_club_on_the_console(lake: Club) -> None:
    # the console has no spaces: anyone with no org creates one, beside the existing one
    said = await lake.ok("solo@else.where", "/setup-org Solo Milers")
    assert "Solo Milers" in said.text and "time zone UTC" in said.text
    members = await lake.ok("solo@else.where", "/members")
    assert list(member_lines(members.text)) == ["solo@else.where"]
    assert "Solo Milers" not in (await lake.ok(HC, "/members")).text


SETUP_ORG_REFUSALS: list[Case] = [
    (HC, "/setup-org Again", "already run Lakeside Striders"),
    (KAI, "/setup-org Mine", "not open to your role"),
    (AVA, "/setup-org Mine", "not open to your role"),
    ("new@else.where", "/setup-org Mars tz:Mars/Olympus", "not a time zone"),
    ("new@else.where", "/setup-org Mars tz:Europe", "not a time zone"),
    ("new@else.where", "/setup-org", "name is missing"),
]


async def test_setup_org_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, SETUP_ORG_REFUSALS)
    # nothing half-written
    assert "Organization: none yet" in (await lake.ok("new@else.where", "/profile")).text
    for who in (HC, KAI, AVA):
        assert f"Organization: {LAKESIDE}" in (await lake.ok(who, "/profile")).text
    assert list(member_lines((await lake.ok(HC, "/members")).text)) == [AVA, BEN, CY, HC, KAI, NOOR]


# -- /add-member -------------------------------------------------------------------------


async def test_add_member_existing_account_joins_at_once_with_coach_and_group(lake: Club) -> None:
    await make_group(lake, "hills")
    await newcomer(lake, "lou@else.where")
    said = await lake.ok(HC, "/add-member Lou@Else.Where group:hills coach:kai@lake.run")
    assert "joined Lakeside Striders" in said.text
    assert not CODE.search(said.text)  # no invitation: the account exists
    (welcome,) = said.dms("lou@else.where")
    assert "Welcome to Lakeside Striders" in welcome.text
    assert "hills" in welcome.text
    assert "kai" not in welcome.text  # SPEC §2: assignments about oneself are not shown
    assert "lou" in (await lake.ok(KAI, "/roster")).text
    assert "Groups: hills" in (await lake.ok("lou@else.where", "/profile")).text
    assert "lou@else.where" in member_lines((await lake.ok(HC, "/members group:hills")).text)


async def test_add_member_existing_account_by_assistant_coach(lake: Club) -> None:
    await newcomer(lake, "lou@else.where")
    said = await lake.ok(KAI, "/add-member lou@else.where")
    (welcome,) = said.dms("lou@else.where")
    assert "Welcome to Lakeside Striders" in welcome.text
    # on no roster yet: not even the adding coach's
    assert "lou" not in (await lake.ok(KAI, "/roster")).text


async def test_add_member_of_another_org_is_refused_without_naming_it(lake: Club) -> None:
    await lake.ok("boss@hill.run", '/setup-org "Secret Hill Harriers"')
    for line in ("/add-member boss@hill.run", "/add-coach boss@hill.run"):
        said = await lake.no(HC, line)
        assert "another organization" in said.text
        assert "Secret" not in said.text and "Hill Harriers" not in said.text
        assert not said.dms()
    assert "Secret Hill Harriers" in (await lake.ok("boss@hill.run", "/profile")).text


async def test_add_member_already_a_member(lake: Club) -> None:
    said = await lake.no(HC, "/add-member ben@lake.run")
    assert "already a member of Lakeside Striders" in said.text
    said = await lake.no(KAI, "/add-member noor@lake.run")
    assert "already a member" in said.text


async def test_add_member_unknown_email_invites_with_a_code(lake: Club) -> None:
    said = await lake.ok(HC, "/add-member new@else.where")
    code = code_in(said)
    (dm,) = said.dms("new@else.where")
    assert dm.account_id is None  # addressed to the e-mail: there is no account yet
    assert code in dm.text and LAKESIDE in dm.text
    assert "new@else.where (athlete): pending" in (await lake.ok(HC, "/invitations")).text


async def test_add_member_again_replaces_the_old_code(lake: Club) -> None:
    first = code_in(await lake.ok(HC, "/add-member new@else.where"))
    second = code_in(await lake.ok(HC, "/add-member new@else.where"))
    assert first != second
    listed = (await lake.ok(HC, "/invitations")).text
    assert listed.count("new@else.where") == 2
    assert "pending" in listed and "revoked" in listed
    # the old code is dead for anyone; the new one is new@else.where's alone (SPEC §5a)
    refused = await lake.no("holder@else.where", f"/join {first}")
    assert refused.text == await bad_code_text(lake)
    assert "someone else" in (await lake.no("holder@else.where", f"/join {second}")).text
    assert "Organization: Lakeside Striders" in (await lake.ok("new@else.where", "/profile")).text


async def test_assistant_coach_cannot_add_with_plan_or_coach(
    lake: Club, subtests: pytest.Subtests
) -> None:
    cases: list[Case] = [
        (KAI, "/add-member z@else.where plan:base", "head coach"),
        (KAI, "/add-member z@else.where plan:base start:tomorrow", "head coach"),
        (KAI, "/add-member z@else.where coach:kai@lake.run", "head coach"),
        (KAI, "/add-member z@else.where coach:noor", "head coach"),
    ]
    await refused_each(lake, subtests, cases)
    assert "z@else.where" not in (await lake.ok(HC, "/invitations")).text


async def test_add_member_coach_option_puts_the_invitee_on_that_roster(lake: Club) -> None:
    said = await lake.ok(HC, "/add-member rookie@else.where coach:noor@lake.run")
    code_in(said)
    assert "rookie" not in (await lake.ok(NOOR, "/roster")).text
    first_use = await lake.ok("rookie@else.where", "/profile")
    (welcome,) = first_use.dms("rookie@else.where")
    # the roster place holds, but an athlete is never shown assignments about themselves
    assert "noor" not in welcome.text and "coach" not in welcome.text.replace("/help", "")
    assert "Coaches: noor" in (await lake.ok(HC, "/profile rookie@else.where")).text
    roster = (await lake.ok(NOOR, "/roster")).text
    assert "rookie" in roster and "ben" in roster


ADD_MEMBER_REFUSALS: list[Case] = [
    (HC, "/add-member q@else.where group:nope", "No group named 'nope'"),
    (HC, "/add-member q@else.where coach:ben@lake.run", "not an assistant coach"),
    (HC, "/add-member q@else.where coach:hc@lake.run", "not an assistant coach"),
    (HC, "/add-member q@else.where coach:ghost@lake.run", "No member ghost@lake.run"),
    (HC, "/add-member not-an-email", "by e-mail or @mention"),
    (HC, "/add-member", "person is missing"),
    (HC, "/add-member q@else.where start:tomorrow", "start: goes with plan:"),
    (HC, "/add-member q@else.where colour:red", "colour: is not an option"),
    (AVA, "/add-member q@else.where", "not open to your role"),
    ("nobody@else.where", "/add-member q@else.where", "needs an organization"),
]


async def test_add_member_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, ADD_MEMBER_REFUSALS)
    assert "q@else.where" not in (await lake.ok(HC, "/invitations")).text


# -- signup ------------------------------------------------------------------------------


@pytest.mark.parametrize("lakeside_first", [True, False])
async def test_signup_with_two_clubs_inviting_lets_the_person_choose(
    lake: Club, lakeside_first: bool
) -> None:
    """SPEC §5: with invitations from two clubs pending, none is accepted automatically."""
    await lake.ok("boss@hill.run", '/setup-org "Hill Harriers"')
    inviters = [HC, "boss@hill.run"] if lakeside_first else ["boss@hill.run", HC]
    for inviter in inviters:
        await lake.ok(inviter, "/add-member twin@else.where")
        lake.clock.advance(timedelta(hours=1))
    chosen, other = (LAKESIDE, "Hill Harriers") if lakeside_first else ("Hill Harriers", LAKESIDE)
    said = await lake.ok("twin@else.where", "/profile")
    assert "Organization: none yet" in said.text
    (offer,) = said.dms("twin@else.where")
    assert LAKESIDE in offer.text and "Hill Harriers" in offer.text
    assert [a.label.split()[0] for a in offer.actions] == ["Accept", "Decline"] * 2
    line = next(line for line in offer.text.splitlines() if chosen in line)
    ref = line.split(":")[0].removeprefix("- ")
    assert f"accept {ref}" in [a.command for a in offer.actions]
    joined = await lake.ok("twin@else.where", f"/accept {ref}")
    assert f"You joined {chosen}" in joined.text
    other_head = "boss@hill.run" if lakeside_first else HC
    refused = await lake.no(other_head, "/add-member twin@else.where")
    assert "another organization" in refused.text
    assert other not in (await lake.ok("twin@else.where", "/profile")).text


async def test_signup_ignores_an_expired_invitation(lake: Club) -> None:
    await lake.ok(HC, "/add-member late@else.where")
    lake.clock.advance(timedelta(days=15))
    await newcomer(lake, "late@else.where")
    assert "expired" in (await lake.ok(HC, "/invitations")).text


# -- /join -------------------------------------------------------------------------------


async def test_join_with_a_good_code(lake: Club) -> None:
    code = code_in(await lake.ok(HC, "/invite-link"))
    said = await lake.ok("walker@else.where", f"/join {code.lower()}")  # case does not matter
    assert "You joined Lakeside Striders" in said.text
    welcome = said.dms("walker@else.where")[0]
    assert "Welcome to Lakeside Striders" in welcome.text
    # the head coach hears who joined with which code (SPEC §5a)
    (told,) = said.dms(HC)
    assert "walker@else.where" in told.text and "join code #" in told.text
    assert "Roles: athlete" in (await lake.ok("walker@else.where", "/profile")).text
    assert "(1/unlimited uses)" in (await lake.ok(HC, "/invitations")).text
    # a member of an org cannot use /join again
    again = await lake.no("walker@else.where", "/join ZZZZZ-ZZZZZ")
    assert "not open to your role" in again.text


async def test_join_refusals_all_read_the_same(lake: Club) -> None:
    used = code_in(await lake.ok(HC, "/add-member used@else.where"))
    await lake.ok("used@else.where", "/profile")  # signup accepts it
    revoked = code_in(await lake.ok(HC, "/add-member revoked@else.where"))
    await lake.ok(HC, "/invitations revoke revoked@else.where")
    expired = code_in(await lake.ok(HC, "/add-member expired@else.where"))
    lake.clock.advance(timedelta(days=15))
    texts = {}
    for name, code in (
        ("wrong", "ABCDE-FGHJK"),
        ("used", used),
        ("revoked", revoked),
        ("expired", expired),
    ):
        said = await lake.no("stranger@else.where", f"/join {code}")
        assert not said.dms()
        texts[name] = said.text
    assert len(set(texts.values())) == 1, texts
    text = texts["wrong"]
    for hint in ("expired", "revoked", "used", "accepted", LAKESIDE, "Lakeside"):
        assert hint not in text
    assert "Organization: none yet" in (await lake.ok("stranger@else.where", "/profile")).text


async def test_join_is_rate_limited_per_identity(lake: Club) -> None:
    link = code_in(await lake.ok(HC, "/invite-link"))
    start = lake.clock.now()
    wrong = await bad_code_text(lake)
    for minute in range(5):
        lake.clock.set(start + timedelta(minutes=minute))
        said = await lake.no("guesser@else.where", f"/join WRONG-CODE{minute}")
        assert said.text == wrong
    lake.clock.set(start + timedelta(minutes=5))
    limited = await lake.no("guesser@else.where", f"/join {link}")
    assert "Too many" in limited.text and limited.text != wrong
    # another identity is not affected
    await lake.ok("other@else.where", f"/join {link}")
    lake.clock.set(start + timedelta(minutes=15) - timedelta(seconds=1))
    assert "Too many" in (await lake.no("guesser@else.where", f"/join {link}")).text
    # 15 minutes after the first failure only four remain in the window
    lake.clock.set(start + timedelta(minutes=15, seconds=1))
    said = await lake.ok("guesser@else.where", f"/join {link}")
    assert "You joined Lakeside Striders" in said.text


# -- /invite-link ------------------------------------------------------------------------


async def test_invite_link_with_a_use_cap_and_a_group(lake: Club) -> None:
    await make_group(lake, "hills")
    said = await lake.ok(KAI, "/invite-link uses:2 group:hills")
    code = code_in(said)
    assert "2 uses" in said.text
    for person in ("one@else.where", "two@else.where"):
        joined = await lake.ok(person, f"/join {code}")
        assert "Your group: hills" in joined.dms(person)[0].text
    third = await lake.no("three@else.where", f"/join {code}")
    assert third.text == await bad_code_text(lake)
    listed = (await lake.ok(HC, "/members group:hills")).text
    assert set(member_lines(listed)) == {"one@else.where", "two@else.where"}
    assert re.search(
        r"join code #[A-Z2-9]{7} \(2/2 uses\)", (await lake.ok(HC, "/invitations")).text
    )


async def test_invite_link_expires_at_the_end_of_the_day_in_org_time(lake: Club) -> None:
    # Lakeside runs on Europe/London (UTC in January); the clock is Monday 2027-01-04 09:00Z
    said = await lake.ok(HC, "/invite-link expires:2027-01-05")
    assert "until 2027-01-05" in said.text and "unlimited uses" in said.text
    code = code_in(said)
    lake.clock.set(datetime(2027, 1, 5, 23, 59, tzinfo=UTC))
    await lake.ok("early@else.where", f"/join {code}")
    lake.clock.set(datetime(2027, 1, 6, 0, 0, 1, tzinfo=UTC))
    late = await lake.no("late@else.where", f"/join {code}")
    assert late.text == await bad_code_text(lake)


async def test_invite_link_refuses_an_expiry_in_the_past(lake: Club) -> None:
    said = await lake.no(HC, "/invite-link expires:2026-12-31")
    assert "expires" in said.text and not CODE.search(said.text)


INVITE_LINK_REFUSALS: list[Case] = [
    (AVA, "/invite-link", "not open to your role"),
    (HC, "/invite-link uses:0", "uses must be a whole number"),
    (HC, "/invite-link uses:many", "uses must be a whole number"),
    (HC, "/invite-link expires:2027-02-30", "not a date on the calendar"),
    (HC, "/invite-link group:nope", "No group named 'nope'"),
]


async def test_invite_link_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, INVITE_LINK_REFUSALS)
    assert (await lake.ok(HC, "/invitations")).text == "No invitations yet."


# -- /invitations ------------------------------------------------------------------------


async def test_invitations_list_and_revoke(lake: Club) -> None:
    code = code_in(await lake.ok(KAI, "/add-member pending@else.where"))
    await lake.ok(HC, "/add-coach helper@else.where")
    await lake.ok(HC, "/invite-link uses:3")
    for coach in (HC, KAI):
        listed = (await lake.ok(coach, "/invitations")).text
        assert "pending@else.where (athlete): pending" in listed
        assert "helper@else.where (coach): pending" in listed
        assert re.search(r"join code #[A-Z2-9]{7} \(0/3 uses\): pending", listed)
        assert code not in listed  # codes are stored hashed and never shown again
    assert "not open to your role" in (await lake.no(AVA, "/invitations")).text
    refused = await lake.no(KAI, "/invitations revoke pending@else.where")
    assert "not open to your role" in refused.text
    said = await lake.ok(HC, "/invitations revoke Pending@Else.Where")
    assert "revoked" in said.text
    assert "pending@else.where (athlete): revoked" in (await lake.ok(HC, "/invitations")).text
    # the code is dead and the invitee is not signed up on first use
    assert (await lake.no("holder@else.where", f"/join {code}")).text == await bad_code_text(lake)
    await newcomer(lake, "pending@else.where")
    again = await lake.no(HC, "/invitations revoke pending@else.where")
    assert "No pending invitation for pending@else.where" in again.text


async def test_a_join_code_is_revoked_by_its_code_or_its_number(lake: Club) -> None:
    first = code_in(await lake.ok(HC, "/invite-link uses:5"))
    second = code_in(await lake.ok(HC, "/invite-link"))
    # by the code as it was given out (any case, with or without the dash)
    said = await lake.ok(HC, f"/invitations revoke {first.lower().replace('-', '')}")
    assert re.search(r"Join code #[A-Z2-9]{7} is revoked", said.text)
    assert (await lake.no("late@else.where", f"/join {first}")).text == await bad_code_text(lake)
    # by its number in the list
    listed = (await lake.ok(HC, "/invitations")).text
    pending = re.findall(r"join code #([A-Z2-9]{7}) \(0/unlimited uses\): pending", listed)
    assert len(pending) == 1
    await lake.ok(HC, f"/invitations revoke #{pending[0]}")
    assert (await lake.no("late@else.where", f"/join {second}")).text == await bad_code_text(lake)
    assert f"revoke_invitation (join code #{pending[0]})" in (await lake.ok(HC, "/audit")).text
    # twice, or a code nobody made: the same refusal, with where to look
    again = await lake.no(HC, f"/invitations revoke #{pending[0]}")
    assert f"No pending invitation or join code '#{pending[0]}'" in again.text
    assert "/invitations lists them" in again.text
    assert "No pending invitation" in (await lake.no(HC, "/invitations revoke ZZZZZ-ZZZZZ")).text
    assert "e-mail" in (await lake.no(HC, "/invitations revoke not@an@address")).text.lower()


async def test_another_clubs_join_code_cannot_be_revoked_and_is_not_revealed(lake: Club) -> None:
    await lake.ok("maria@north.run", "/setup-org Northside")
    theirs = code_in(await lake.ok("maria@north.run", "/invite-link"))
    listed = (await lake.ok("maria@north.run", "/invitations")).text
    number = re.findall(r"join code #([A-Z2-9]{7})", listed)[0]
    for ref in (theirs, f"#{number}"):
        refused = await lake.no(HC, f"/invitations revoke {ref}")
        assert refused.text.startswith("No pending invitation or join code")
    joined = await lake.ok("runner@else.where", f"/join {theirs}")
    assert "Northside" in joined.text


# -- /remove-member ----------------------------------------------------------------------


async def test_remove_member_drops_assignments_and_notes_but_keeps_the_account(
    lake: Club,
) -> None:
    await lake.ok(KAI, '/note ava "Returning from injury"')
    await lake.ok(HC, '/note ava "Talk about racing"')
    await lake.ok(HC, "/member ava level:advanced labels:masters")
    said = await lake.ok(HC, "/remove-member ava@lake.run")
    assert "no longer a member" in said.text
    (dm,) = said.dms(AVA)
    assert LAKESIDE in dm.text
    assert "ava" not in (await lake.ok(KAI, "/roster")).text
    assert AVA not in member_lines((await lake.ok(HC, "/members")).text)
    # the account stays: Ava can still use the bot, and adding her back needs no invitation
    assert "Organization: none yet" in (await lake.ok(AVA, "/profile")).text
    back = await lake.ok(HC, "/add-member ava@lake.run")
    assert not CODE.search(back.text) and back.dms(AVA)
    # ...and comes back with nothing of the old membership
    assert "No notes about ava" in (await lake.ok(HC, "/notes ava")).text
    assert "ava" not in (await lake.ok(KAI, "/roster")).text
    assert "level —, labels —" in (await lake.ok(HC, "/member ava")).text


async def test_welcome_after_someone_left(lake: Club) -> None:
    await newcomer(lake, "lou@else.where")
    await newcomer(lake, "mo@else.where")
    first = await lake.ok(HC, "/add-member lou@else.where")
    assert first.dms("lou@else.where")
    await lake.ok(HC, "/remove-member lou@else.where")
    second = await lake.ok(HC, "/add-member mo@else.where")
    (welcome,) = second.dms("mo@else.where")
    assert "Welcome to Lakeside Striders" in welcome.text


REMOVE_MEMBER_REFUSALS: list[Case] = [
    (HC, "/remove-member hc@lake.run", "head coach cannot be removed"),
    (HC, "/remove-member hc", "head coach cannot be removed"),
    (KAI, "/remove-member ava@lake.run", "not open to your role"),
    (AVA, "/remove-member ben@lake.run", "not open to your role"),
    (HC, "/remove-member ghost@lake.run", "No member ghost@lake.run"),
    (HC, "/remove-member", "member is missing"),
]


async def test_remove_member_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, REMOVE_MEMBER_REFUSALS)
    assert set(member_lines((await lake.ok(HC, "/members")).text)) == set(EVERYONE)


# -- /add-coach, /remove-coach, /transfer-head-coach -------------------------------------


async def test_add_coach_of_an_athlete_of_the_same_org_gives_the_coach_role(lake: Club) -> None:
    said = await lake.ok(HC, "/add-coach ben@lake.run")
    assert "still an athlete" in said.text
    assert said.dms(BEN)
    assert "Roles: assistant coach, athlete" in (await lake.ok(BEN, "/profile")).text
    await lake.ok(HC, "/assign-athlete ben@lake.run cy@lake.run")
    assert "cy" in (await lake.ok(BEN, "/roster")).text
    # still on noor's roster as an athlete
    assert "ben" in (await lake.ok(NOOR, "/roster")).text
    again = await lake.no(HC, "/add-coach ben@lake.run")
    assert "already a coach" in again.text


async def test_add_coach_existing_account_and_invitation(lake: Club) -> None:
    await newcomer(lake, "lou@else.where")
    said = await lake.ok(HC, "/add-coach lou@else.where")
    assert "as an assistant coach" in said.text
    assert "You joined as a coach" in said.dms("lou@else.where")[0].text
    invited = await lake.ok(HC, "/add-coach tom@else.where")
    code_in(invited)
    assert "as a coach" in invited.dms("tom@else.where")[0].text
    assert "Roles: assistant coach" in (await lake.ok("tom@else.where", "/profile")).text


ADD_COACH_REFUSALS: list[Case] = [
    (HC, "/add-coach kai@lake.run", "already a coach"),
    (HC, "/add-coach hc@lake.run", "already a coach"),
    (KAI, "/add-coach x@else.where", "not open to your role"),
    (AVA, "/add-coach x@else.where", "not open to your role"),
    (HC, "/add-coach kai", "by e-mail or @mention"),
]


async def test_add_coach_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, ADD_COACH_REFUSALS)
    assert (await lake.ok(HC, "/invitations")).text == "No invitations yet."


async def test_remove_coach_who_is_also_an_athlete_stays_an_athlete(lake: Club) -> None:
    await lake.ok(HC, "/add-coach ben@lake.run")
    await lake.ok(HC, "/assign-athlete ben@lake.run cy@lake.run")
    said = await lake.ok(HC, "/remove-coach ben@lake.run")
    assert "stays on as an athlete" in said.text
    assert said.dms(BEN)
    assert "Roles: athlete" in (await lake.ok(BEN, "/profile")).text
    assert "not open to your role" in (await lake.no(BEN, "/roster")).text
    everyone = (await lake.ok(HC, "/roster")).text
    assert "ben's roster" not in everyone and "cy" not in everyone
    assert "ben" in (await lake.ok(NOOR, "/roster")).text  # still coached by noor


async def test_remove_coach_who_only_coaches_leaves_the_org(lake: Club) -> None:
    said = await lake.ok(HC, "/remove-coach noor")
    assert "has left Lakeside Striders" in said.text
    assert "Organization: none yet" in (await lake.ok(NOOR, "/profile")).text
    assert "Coaches: —" in (await lake.ok(HC, "/profile ben")).text


REMOVE_COACH_REFUSALS: list[Case] = [
    (HC, "/remove-coach hc@lake.run", "head coach stays a coach"),
    (HC, "/remove-coach ava@lake.run", "ava is not a coach"),
    (KAI, "/remove-coach noor@lake.run", "not open to your role"),
    (AVA, "/remove-coach kai@lake.run", "not open to your role"),
]


async def test_remove_coach_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, REMOVE_COACH_REFUSALS)
    assert member_lines((await lake.ok(HC, "/members")).text)[NOOR] == "assistant coach"


async def test_transfer_head_coach(lake: Club) -> None:
    said = await lake.ok(HC, "/transfer-head-coach kai@lake.run")
    assert "stay on as an assistant coach" in said.text
    assert "head coach" in said.dms(KAI)[0].text
    roles = member_lines((await lake.ok(KAI, "/members")).text)
    assert [email for email, role in roles.items() if "head coach" in role] == [KAI]
    assert roles[HC] == "assistant coach"
    # the head coach has no roster; the former head coach is an ordinary assistant now
    rosters = (await lake.ok(KAI, "/roster")).text
    assert "noor's roster" in rosters and "kai's roster" not in rosters and "ava" not in rosters
    assert "Audit log" in (await lake.ok(KAI, "/audit")).text
    assert "not open to your role" in (await lake.no(HC, "/audit")).text
    assert "not open to your role" in (await lake.no(HC, "/transfer-head-coach kai")).text
    assert "not open to your role" in (await lake.no(HC, "/assign-athlete hc ava")).text
    # the new head coach is protected, the former one is not
    assert "cannot be removed" in (await lake.no(KAI, "/remove-member kai@lake.run")).text
    await lake.ok(KAI, "/remove-member hc@lake.run")


TRANSFER_REFUSALS: list[Case] = [
    (HC, "/transfer-head-coach ava@lake.run", "ava is not a coach"),
    (HC, "/transfer-head-coach hc@lake.run", "already the head coach"),
    (HC, "/transfer-head-coach ghost@lake.run", "No member ghost@lake.run"),
    (KAI, "/transfer-head-coach kai@lake.run", "not open to your role"),
    (AVA, "/transfer-head-coach kai@lake.run", "not open to your role"),
]


async def test_transfer_head_coach_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, TRANSFER_REFUSALS)
    roles = member_lines((await lake.ok(KAI, "/members")).text)
    assert [email for email, role in roles.items() if "head coach" in role] == [HC]


# -- /assign-athlete and /unassign-athlete -----------------------------------------------


async def test_assign_and_unassign(lake: Club) -> None:
    said = await lake.ok(HC, "/assign-athlete noor@lake.run cy@lake.run")
    assert "cy is now on noor's roster" in said.text
    assert "cy" in said.dms(NOOR)[0].text
    roster = (await lake.ok(NOOR, "/roster")).text
    assert "ben" in roster and "cy" in roster and "ava" not in roster
    assert "already on noor's roster" in (await lake.no(HC, "/assign-athlete noor cy")).text
    # an athlete may have several coaches
    await lake.ok(HC, "/assign-athlete kai cy")
    assert "Coaches: kai, noor" in (await lake.ok(HC, "/profile cy")).text
    said = await lake.ok(HC, "/unassign-athlete noor@lake.run cy@lake.run")
    assert "cy is off noor's roster" in said.text
    assert "cy" not in (await lake.ok(NOOR, "/roster")).text
    assert "cy" in (await lake.ok(KAI, "/roster")).text
    assert "not on noor's roster" in (await lake.no(HC, "/unassign-athlete noor cy")).text


ASSIGN_REFUSALS: list[Case] = [
    (HC, "/assign-athlete hc@lake.run ava@lake.run", "not an assistant coach"),
    (HC, "/assign-athlete ben@lake.run ava@lake.run", "not an assistant coach"),
    (HC, "/assign-athlete kai@lake.run noor@lake.run", "not an athlete"),
    (HC, "/assign-athlete ghost@lake.run ava@lake.run", "No member ghost@lake.run"),
    (HC, "/assign-athlete kai@lake.run ghost@lake.run", "No member ghost@lake.run"),
    (HC, "/assign-athlete kai@lake.run", "athlete is missing"),
    (HC, "/unassign-athlete kai@lake.run ben@lake.run", "ben is not on kai's roster"),
    (KAI, "/assign-athlete kai@lake.run cy@lake.run", "not open to your role"),
    (AVA, "/assign-athlete kai@lake.run cy@lake.run", "not open to your role"),
    (KAI, "/unassign-athlete kai@lake.run ava@lake.run", "not open to your role"),
]


async def test_assign_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, ASSIGN_REFUSALS)
    rosters = (await lake.ok(HC, "/roster")).text
    assert rosters.count("- ") == 2 and "kai's roster (1)" in rosters


async def test_assign_athlete_to_an_invited_coach(lake: Club) -> None:
    # docs/DESIGN.md: the roster place waits on the invitation
    await lake.ok(HC, "/add-coach late@else.where")
    said = await lake.ok(HC, "/assign-athlete late@else.where cy@lake.run")
    assert "as soon as the invitation is accepted" in said.text
    await lake.ok(HC, "/assign-athlete late@else.where ben@lake.run")
    waiting = await lake.no(HC, "/assign-athlete late@else.where cy@lake.run")
    assert "already waiting" in waiting.text
    undone = await lake.ok(HC, "/unassign-athlete late@else.where ben@lake.run")
    assert "will not go on" in undone.text
    await lake.ok("late@else.where", "/profile")  # signup
    roster = (await lake.ok("late@else.where", "/roster")).text
    assert "cy" in roster and "ben" not in roster


async def test_assign_an_invited_athlete_to_a_coach(lake: Club) -> None:
    await lake.ok(HC, "/add-member rookie@else.where")
    said = await lake.ok(HC, "/assign-athlete kai@lake.run rookie@else.where")
    assert "rookie@else.where (invited)" in said.text
    # an invited athlete is no coach, and two invitees cannot be paired
    await lake.ok(HC, "/add-coach late@else.where")
    assert (
        "No member rookie@else.where"
        in (await lake.no(HC, "/assign-athlete rookie@else.where cy@lake.run")).text
    )
    assert (
        "Neither of them has joined"
        in (await lake.no(HC, "/assign-athlete late@else.where rookie@else.where")).text
    )
    welcome = (await lake.ok("rookie@else.where", "/profile")).dms("rookie@else.where")
    assert "kai" not in welcome[0].text  # SPEC §2: assignments about oneself: no
    roster = (await lake.ok(KAI, "/roster")).text
    assert "ava" in roster and "rookie" in roster


# -- /members ----------------------------------------------------------------------------


async def test_members_lists_everyone_with_roles(lake: Club) -> None:
    for coach in (HC, KAI):
        said = await lake.ok(coach, "/members")
        assert said.text.startswith(f"Members of {LAKESIDE}")
        assert member_lines(said.text) == {
            HC: "head coach",
            KAI: "assistant coach",
            NOOR: "assistant coach",
            AVA: "athlete",
            BEN: "athlete",
            CY: "athlete",
        }
    assert "not open to your role" in (await lake.no(AVA, "/members")).text


async def test_members_by_group(lake: Club) -> None:
    await make_group(lake, "Hills", BEN, CY)
    await make_group(lake, "Track", AVA)
    await make_group(lake, "Empty")
    assert set(member_lines((await lake.ok(HC, "/members group:hills")).text)) == {BEN, CY}
    assert set(member_lines((await lake.ok(KAI, "/members group:TRACK")).text)) == {AVA}
    assert (await lake.ok(HC, "/members group:empty")).text == "No members match."
    assert "No group named 'roads'" in (await lake.no(HC, "/members group:roads")).text


async def test_members_by_label(lake: Club) -> None:
    await make_group(lake, "Hills", BEN, CY)
    await lake.ok(HC, "/member ben labels:injured,masters")
    await lake.ok(HC, "/member ava labels:masters")
    assert set(member_lines((await lake.ok(HC, "/members label:masters")).text)) == {AVA, BEN}
    assert set(member_lines((await lake.ok(HC, "/members label:injured")).text)) == {BEN}
    both = await lake.ok(HC, "/members group:hills label:masters")
    assert set(member_lines(both.text)) == {BEN}
    assert (await lake.ok(HC, "/members label:inj")).text == "No members match."


# -- /member -----------------------------------------------------------------------------


async def test_member_fields_show_and_set(lake: Club) -> None:
    shown = await lake.ok(HC, "/member ben@lake.run")
    assert "status active, level —, labels —" in shown.text
    said = await lake.ok(HC, "/member ben status:inactive level:advanced labels:injured,masters")
    assert "status inactive" in said.text and "level advanced" in said.text
    shown = await lake.ok(HC, "/member ben@lake.run")
    assert "status inactive, level advanced, labels injured, masters" in shown.text
    assert member_lines((await lake.ok(HC, "/members")).text)[BEN] == "athlete (inactive)"


async def test_member_labels_can_be_cleared(lake: Club) -> None:
    await lake.ok(HC, "/member ben labels:injured")
    said = await lake.ok(HC, '/member ben labels:""')
    assert "labels none" in said.text
    assert "labels —" in (await lake.ok(HC, "/member ben")).text


async def test_assistant_coach_sets_fields_of_own_roster_only(lake: Club) -> None:
    said = await lake.ok(KAI, "/member ava level:beginner labels:new")
    assert "level beginner" in said.text
    refused = await lake.no(KAI, "/member ben level:beginner")
    assert "own roster" in refused.text
    refused = await lake.no(KAI, "/member ben")
    assert "own roster" in refused.text
    assert "level —" in (await lake.ok(HC, "/member ben")).text
    assert "not open to your role" in (await lake.no(AVA, "/member ava")).text


MEMBER_REFUSALS: list[Case] = [
    (HC, "/member hc@lake.run status:suspended", "head coach stays active"),
    (HC, "/member hc@lake.run status:inactive", "head coach stays active"),
    (KAI, "/member hc@lake.run status:suspended", "own roster"),
    (HC, "/member ben status:gone", "status must be one of"),
    (HC, "/member ben level:" + "x" * 41, "the most is 40"),
    (HC, "/member ben level:a level:b", "level: is given twice"),
    (AVA, "/member ava", "not open to your role"),
]


async def test_member_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, MEMBER_REFUSALS)
    assert "status active" in (await lake.ok(HC, "/member hc")).text
    assert "status active, level —" in (await lake.ok(HC, "/member ben")).text


@pytest.mark.parametrize(
    ("target", "lines"),
    [
        (BEN, ["/profile", "/settings", "/privacy share_pace off", "/workout list"]),
        (KAI, ["/roster", "/members", '/note ava "hello"', "/add-member x@else.where"]),
    ],
)
async def test_a_suspended_member_can_use_nothing_but_help(
    lake: Club, target: str, lines: list[str]
) -> None:
    await lake.ok(HC, f"/member {target} status:suspended")
    for line in lines:
        said = await lake.no(target, line)
        assert "suspended" in said.text, line
        assert not said.dms()
    helped = await lake.ok(target, "/help")
    assert "/help" in helped.text
    assert "/profile" not in helped.text and "/settings" not in helped.text
    await lake.ok(HC, f"/member {target} status:active")
    await lake.ok(target, lines[0])


async def test_a_suspended_member_gets_no_dms(lake: Club) -> None:
    await lake.ok(HC, "/member kai status:suspended")
    said = await lake.ok(HC, "/assign-athlete kai cy")
    assert not said.dms(KAI), said.dms(KAI)


# -- members named by display name -------------------------------------------------------


async def test_display_name_that_fits_several_members_is_refused(lake: Club) -> None:
    await lake.ok(BEN, '/settings name:"Sam Lee"')
    await lake.ok(CY, '/settings name:"sam lee"')
    said = await lake.no(HC, '/member "Sam Lee"')
    assert "2 members" in said.text
    assert BEN in said.text and CY in said.text  # coaches see e-mails
    said = await lake.no(AVA, '/profile "SAM LEE"')
    assert "2 members" in said.text
    assert BEN not in said.text and CY not in said.text  # athletes do not
    # a unique name, in any case, resolves
    assert BEN in (await lake.ok(HC, "/member BEN@lake.run")).text
    assert KAI in (await lake.ok(HC, "/member Kai")).text
    assert "No member named 'ghost'" in (await lake.no(HC, "/member ghost")).text


# -- /audit ------------------------------------------------------------------------------


async def test_audit_lists_coach_changes_and_filters(lake: Club) -> None:
    await lake.ok(HC, "/add-coach late@else.where")
    await lake.ok(HC, "/assign-athlete noor cy")
    await lake.ok(KAI, "/member ava level:beginner")
    lake.clock.advance(timedelta(days=3))  # Thursday 2027-01-07
    await lake.ok(HC, "/remove-coach noor")
    await lake.ok(HC, "/member ben level:elite")
    log = (await lake.ok(HC, "/audit")).text
    lines = log.splitlines()[1:]
    assert lines[0].startswith("- 2027-01-07 09:00 hc@lake.run: member_fields ben@lake.run")
    assert "remove_coach noor@lake.run" in lines[1]
    assert any("invite_coach" in line and "late@else.where" in line for line in lines)
    assert any("assign_athlete cy@lake.run" in line for line in lines)
    assert any(line.startswith("- 2027-01-04 09:00 kai@lake.run: member_fields") for line in lines)
    recent = (await lake.ok(HC, "/audit since:2027-01-06")).text
    assert "remove_coach" in recent and "member_fields ben" in recent
    assert "invite_coach" not in recent and "ava" not in recent
    about_ben = (await lake.ok(HC, "/audit ben")).text.splitlines()[1:]
    assert len(about_ben) == 1 and "level elite" in about_ben[0]
    nothing = await lake.ok(HC, "/audit since:today cy")
    assert nothing.text == "Nothing in the audit log for that."
    assert "not open to your role" in (await lake.no(KAI, "/audit")).text
    assert "not open to your role" in (await lake.no(AVA, "/audit")).text


async def test_audit_looks_up_a_removed_member_by_e_mail(lake: Club) -> None:
    await lake.ok(HC, "/member ben level:elite")
    await lake.ok(HC, "/remove-member ben")
    about_ben = (await lake.ok(HC, "/audit ben@lake.run")).text.splitlines()[1:]
    assert [line.split(": ", 1)[1].split(" ")[0] for line in about_ben] == [
        "remove_member",
        "member_fields",
    ]
    # by name they are no member any more; someone the log never named reads the same as
    # no account at all
    assert "No member named 'ben'" in (await lake.no(HC, "/audit ben")).text
    await lake.ok("maria@north.run", "/setup-org Northside")
    for stranger in ("maria@north.run", "nobody@north.run"):
        refused = await lake.no(HC, f"/audit {stranger}")
        assert refused.text == f"No member {stranger} in your organization."


async def test_audit_since_is_read_in_org_time(club: Club) -> None:
    # 23:30 UTC on 2027-01-04 is already 2027-01-05 in Tokyo
    club.clock.set(datetime(2027, 1, 4, 23, 30, tzinfo=UTC))
    await club.ok("boss@tokyo.run", '/setup-org "Tokyo Runners" tz:Asia/Tokyo')
    said = await club.ok("boss@tokyo.run", "/audit since:2027-01-05")
    assert "2027-01-05 08:30" in said.text and "setup_org" in said.text
