"""`/join CODE` from a chat identity the bot has never seen and that shows no e-mail
(Discord): the e-mail invitation's code links the identity to the invitee's account."""

from __future__ import annotations

from bot.commands.base import Caller
from tests.conftest import Club

DEE = Caller(platform="discord", user_id="42", space_id="", display_name="Dee")


async def _invite(club: Club, email: str) -> str:
    said = await club.ok("hc@lake.run", f"/add-member {email}")
    return said.text.rsplit("/join ", 1)[1].strip()


async def test_an_unknown_discord_user_joins_with_an_email_invitations_code(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    code = await _invite(club, "dee@lake.run")
    before = await club.core.handle(DEE, "/profile")
    assert not before[0].ok and "/join CODE" in before[0].text
    joined = await club.core.handle(DEE, f"/join {code}")
    assert joined[0].ok and "Lakeside Striders" in joined[0].text
    sent = await club.app.scheduling.due_now()
    assert any(m.email == "dee@lake.run" and "Welcome" in m.text for m in sent)
    profile = await club.core.handle(DEE, "/profile")
    assert profile[0].ok and "E-mail: dee@lake.run" in profile[0].text
    # the code is spent: a second use reads like any wrong code
    again = await club.core.handle(
        Caller(platform="discord", user_id="43", space_id=""), f"/join {code}"
    )
    wrong = await club.core.handle(
        Caller(platform="discord", user_id="44", space_id=""), "/join AAAAA-BBBBB"
    )
    assert not again[0].ok and again[0].text == wrong[0].text


async def test_a_newcomer_can_only_join(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    for line in ("/members", "/join", "/join a b", "hello", "/join code:x"):
        said = await club.core.handle(DEE, line)
        assert not said[0].ok
    async with club.core.uow() as uow:
        assert await uow.repo.account_by_identity("discord", "", "42") is None


async def test_a_club_join_link_needs_an_email_first(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    said = await club.ok("hc@lake.run", "/invite-link uses:5")
    code = said.text.split("/join ", 1)[1].split(" ", 1)[0]
    joined = await club.core.handle(DEE, f"/join {code}")
    assert not joined[0].ok and "add you by e-mail" in joined[0].text


async def test_wrong_codes_are_rate_limited_for_newcomers_too(club: Club) -> None:
    await club.ok("hc@lake.run", '/setup-org "Lakeside Striders"')
    code = await _invite(club, "dee@lake.run")
    for _ in range(5):
        said = await club.core.handle(DEE, "/join AAAAA-BBBBB")
        assert "does not work" in said[0].text
    blocked = await club.core.handle(DEE, f"/join {code}")
    assert not blocked[0].ok and "Too many wrong codes" in blocked[0].text
