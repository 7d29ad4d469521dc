"""A chat identity that shows no e-mail (Discord) is its own e-mail-less account from its
first command (SPEC §5a): it may start a club, join by code, or accept an offer — and a
code never makes it somebody else."""

from __future__ import annotations

from bot.commands.base import Caller
from tests.conftest import Club

DEE = Caller(platform="discord", user_id="42", space_id="", display_name="Dee")


async def _invite(club: Club, email: str) -> str:
    said = await club.ok("hc@lake.run", f"/add-member {email}")
    return said.text.rsplit("/join ", 1)[1].strip()


async def test_a_discord_user_joins_with_an_email_invitations_code_as_themselves(
    club: Club,
) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    code = await _invite(club, "dee@lake.run")
    before = await club.as_(DEE, "/profile")
    assert before.ok and "Organization: none yet" in before.text
    joined = await club.as_(DEE, f"/join {code}")
    assert joined.ok and "Lakeside Striders" in joined.text
    assert any("Welcome" in m.text and m.email is None for m in joined.dms())
    # the inviting coach hears who used the code, by mention
    (told,) = joined.dms("hc@lake.run")
    assert "<@42> on Discord" in told.text and "dee@lake.run" in told.text
    profile = await club.as_(DEE, "/profile")
    assert "dee@lake.run" not in profile.text  # a code proves no e-mail
    # the code is spent: a second use reads like any wrong code
    again = await club.as_(Caller(platform="discord", user_id="43"), f"/join {code}")
    wrong = await club.as_(Caller(platform="discord", user_id="44"), "/join AAAAA-BBBBB")
    assert not again.ok and again.text == wrong.text


async def test_a_newcomer_without_a_club_sees_nothing_of_any_club(club: Club) -> None:
    await club.basic_club()
    for line in ("/members", "/join", "/join a b", "/join code:x", "/profile ava@lake.run"):
        said = await club.as_(DEE, line)
        assert not said.ok
        assert "ava" not in said.text


async def test_a_club_join_link_works_from_discord(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    said = await club.ok("hc@lake.run", "/invite-link uses:5")
    code = said.text.split("/join ", 1)[1].split(" ", 1)[0]
    joined = await club.as_(DEE, f"/join {code}")
    assert joined.ok and "Lakeside Striders" in joined.text
    assert "Roles: athlete" in (await club.as_(DEE, "/profile")).text


async def test_wrong_codes_are_rate_limited_for_newcomers_too(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    code = await _invite(club, "dee@lake.run")
    for _ in range(5):
        said = await club.as_(DEE, "/join AAAAA-BBBBB")
        assert "does not work" in said.text
    blocked = await club.as_(DEE, f"/join {code}")
    assert not blocked.ok and "Too many wrong codes" in blocked.text
