"""SPEC §5a's `/verify`, `/link` and `/identities`, on both stores, tried as the owner and
as an attacker who has a chat account and maybe a leaked code.

Codes are read from a recording mailer (the only place a `/verify` code goes) and from
the `/link` reply (shown only to the identity that asked)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.messages import Outgoing, Via
from storage.models import OutboxMessage, VerifyCode
from tests.conftest import Said

HC = "hc@lake.run"
DEE = Caller(platform="discord", user_id="42", space_id="G1", display_name="Dee")
MAL = Caller(platform="discord", user_id="666", space_id="G1", display_name="Mal")
DEE_DM = Caller(platform="discord", user_id="42", space_id="", display_name="Dee")
EVE = Caller(platform="discord", user_id="777", space_id="G1", display_name="Eve")


class Mailbox:
    """A Mailer that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.mails.append((to, subject, body))

    def code_for(self, to: str) -> str:
        body = [b for t, _, b in self.mails if t == to][-1]
        found = re.search(r"\b(\d{8})\b", body)
        assert found, body
        return found.group(1)


@dataclass
class Recorder:
    """The chat platform: every message it is asked to deliver."""

    platform: str = "console"
    seen: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        self.seen.append(message)


@dataclass(frozen=True)
class Seen:
    id: int
    email: str | None


@dataclass
class World:
    app: App
    clock: FakeClock
    mailbox: Mailbox
    chat: Recorder

    async def say(self, who: Caller | str, line: str) -> Said:
        caller = console_caller(who) if isinstance(who, str) else who
        answer = await self.app.core.handle(caller, line)
        return Said(answer + await self.app.scheduling.due_now())

    async def ok(self, who: Caller | str, line: str) -> Said:
        said = await self.say(who, line)
        assert said.ok, f"{who}: {line} -> {said.text}"
        return said

    async def no(self, who: Caller | str, line: str) -> Said:
        said = await self.say(who, line)
        assert not said.ok, f"{who}: {line} was allowed -> {said.text}"
        assert "something went wrong" not in said.text
        return said

    async def code(self, who: Caller, email: str) -> str:
        await self.ok(who, f"/verify {email}")
        return self.mailbox.code_for(email)

    async def link_code(self, who: Caller | str) -> str:
        said = await self.ok(who, "/link")
        found = re.search(r"/link ([A-Z0-9]{5}-[A-Z0-9]{5})", said.text)
        assert found, said.text
        return found.group(1)

    async def account_of(self, who: Caller) -> Seen | None:
        """The account an identity speaks for now (id and e-mail), if any."""
        space = "" if who.platform == "discord" else who.space_id
        async with self.app.core.uow() as uow:
            found = await uow.repo.account_by_identity(who.platform, space, who.user_id)
            return None if found is None else Seen(found.id, found.email)

    async def proof(self, who: Caller) -> str | None:
        space = "" if who.platform == "discord" else who.space_id
        async with self.app.core.uow() as uow:
            found = await uow.repo.identity_of_user(who.platform, space, who.user_id)
            return None if found is None else found.proof


async def _world(url: str, clock: FakeClock, *, mail: bool = True) -> World:
    mailbox, chat = Mailbox(), Recorder()
    app = await bootstrap(
        url, clock=clock, migrate=False, sender=chat, mailer=mailbox if mail else None
    )
    return World(app, clock, mailbox, chat)


@pytest.fixture
async def world(db_url: str, clock: FakeClock) -> AsyncIterator[World]:
    made = await _world(db_url, clock)
    yield made
    await made.app.close()


async def _club(world: World) -> None:
    """hc heads Lakeside (console); ava is an athlete there."""
    await world.ok(HC, '/setup-org "Lakeside Striders"')
    await world.ok(HC, "/add-member ava@lake.run")
    await world.ok("ava@lake.run", "/profile")


# -- /verify -------------------------------------------------------------------------


async def test_verify_mails_a_code_only_by_email_and_proves_it(world: World) -> None:
    said = await world.ok(DEE, "/verify Dee@Lake.run")
    assert "dee@lake.run" in said.text
    assert [(to, subject) for to, subject, _ in world.mailbox.mails] == [
        ("dee@lake.run", "Your coachbot verification code")
    ]
    code = world.mailbox.code_for("dee@lake.run")
    assert len(code) >= 8
    # never through a chat platform, never in the reply
    assert all(code not in m.text for m in world.chat.seen)
    assert code not in said.text
    async with world.app.core.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage))).all()
        assert [(r.kind, r.status, r.text) for r in rows] == [("verify", "sent", None)]
        stored = (await uow.session.scalars(select(VerifyCode))).one()
        assert code not in stored.code_hash
    done = await world.ok(DEE, f"/verify {code}")
    assert "dee@lake.run is proven" in done.text
    account = await world.account_of(DEE)
    assert account is not None and account.email == "dee@lake.run"
    assert await world.proof(DEE) == "verify"
    # spent: the same code again finds nothing waiting
    again = await world.no(DEE, f"/verify {code}")
    assert "no code waiting" in again.text


async def test_verify_code_expires_after_15_minutes(world: World) -> None:
    code = await world.code(DEE, "dee@lake.run")
    world.clock.advance(timedelta(minutes=15))
    said = await world.no(DEE, f"/verify {code}")
    assert "expired" in said.text
    code = await world.code(DEE, "dee@lake.run")
    world.clock.advance(timedelta(minutes=14, seconds=59))
    await world.ok(DEE, f"/verify {code}")


async def test_five_wrong_tries_end_the_code(world: World) -> None:
    code = await world.code(DEE, "dee@lake.run")
    wrong = "00000000" if code != "00000000" else "11111111"
    for left in (4, 3, 2, 1):
        said = await world.no(DEE, f"/verify {wrong}")
        assert f"{left} tr" in said.text
    said = await world.no(DEE, f"/verify {wrong}")
    assert "no longer works" in said.text
    said = await world.no(DEE, f"/verify {code}")
    assert "no code waiting" in said.text
    assert (await world.account_of(DEE)).email is None  # type: ignore[union-attr]


async def test_at_most_three_codes_per_email_a_day(world: World) -> None:
    for who in (DEE, MAL, DEE):
        await world.ok(who, "/verify dee@lake.run")
    said = await world.no(EVE, "/verify dee@lake.run")
    assert "3 codes" in said.text
    assert len(world.mailbox.mails) == 3
    world.clock.advance(timedelta(hours=24))
    await world.ok(EVE, "/verify dee@lake.run")


async def test_at_most_ten_codes_per_identity_a_day(world: World) -> None:
    for n in range(10):
        await world.ok(MAL, f"/verify target{n}@lake.run")
    said = await world.no(MAL, "/verify target10@lake.run")
    assert "10 codes" in said.text
    world.clock.advance(timedelta(hours=23))
    await world.no(MAL, "/verify target10@lake.run")
    world.clock.advance(timedelta(hours=1))
    await world.ok(MAL, "/verify target10@lake.run")


async def test_a_new_request_replaces_the_old_code(world: World) -> None:
    first = await world.code(DEE, "dee@lake.run")
    second = await world.code(DEE, "dee@lake.run")
    if first != second:
        said = await world.no(DEE, f"/verify {first}")
        assert "wrong" in said.text
    await world.ok(DEE, f"/verify {second}")


async def test_one_live_code_per_email_across_identities(world: World) -> None:
    """Someone else asking for the same address ends the first code (SPEC: one live
    code per e-mail) — and their own code is still theirs only."""
    dees = await world.code(DEE, "dee@lake.run")
    await world.ok(MAL, "/verify dee@lake.run")
    said = await world.no(DEE, f"/verify {dees}")
    assert "no code waiting" in said.text


async def test_a_code_works_only_for_the_identity_that_asked(world: World) -> None:
    await _club(world)
    # mallory asks for the head coach's e-mail; the code goes to the head coach's inbox,
    # and whoever reads it out to mallory... cannot help: it is checked against his
    # request, which he cannot see. But dee's code typed by mallory never works.
    code = await world.code(DEE, HC)
    said = await world.no(MAL, f"/verify {code}")
    assert "no code waiting" in said.text
    await world.ok(MAL, "/verify mal@evil.run")
    said = await world.no(MAL, f"/verify {code}")
    assert "wrong" in said.text
    assert (await world.account_of(MAL)).email is None  # type: ignore[union-attr]
    # dee's code still works for dee
    await world.ok(DEE, f"/verify {code}")


async def test_verify_replaces_an_old_email(world: World) -> None:
    sam = Caller(platform="slack", user_id="U1", space_id="T1", email="sam@old.run")
    await world.ok(sam, "/identities")
    assert (await world.account_of(sam)).email == "sam@old.run"  # type: ignore[union-attr]
    code = await world.code(sam, "sam@new.run")
    said = await world.ok(sam, f"/verify {code}")
    assert "it was sam@old.run" in said.text
    account = await world.account_of(sam)
    assert account is not None and account.email == "sam@new.run"
    # its proof is now the code: the daily Slack re-read no longer applies to it
    world.clock.advance(timedelta(days=2))
    await world.ok(sam, "/identities")
    assert (await world.account_of(sam)).email == "sam@new.run"  # type: ignore[union-attr]


async def test_verify_moves_an_empty_account_onto_the_emails_account(world: World) -> None:
    await _club(world)
    await world.ok(DEE, "/help")  # dee's own e-mail-less account
    own = await world.account_of(DEE)
    assert own is not None and own.email is None
    code = await world.code(DEE, "ava@lake.run")
    said = await world.ok(DEE, f"/verify {code}")
    assert "ava@lake.run is proven" in said.text and "removed" in said.text
    # announced to the account by DM
    assert any(
        m.via is Via.DM and m.email == "ava@lake.run" and "<@42> on Discord" in m.text
        for m in said.messages
    )
    moved = await world.account_of(DEE)
    assert moved is not None and moved.email == "ava@lake.run"
    async with world.app.core.uow() as uow:
        assert await uow.repo.account(own.id) is None  # the empty account is gone
    profile = await world.ok(DEE_DM, "/profile")
    assert "Lakeside Striders" in profile.text


async def test_verify_onto_another_account_is_refused_when_own_account_holds_data(
    world: World,
) -> None:
    await _club(world)
    founder = Caller(platform="discord", user_id="42", space_id="G9", space_admin=True)
    await world.ok(founder, '/setup-org "Dee Runners"')
    own = await world.account_of(DEE)
    code = await world.code(DEE, "ava@lake.run")
    said = await world.no(DEE, f"/verify {code}")
    assert "a club membership" in said.text and "Nothing was changed" in said.text
    assert (await world.account_of(DEE)).id == own.id  # type: ignore[union-attr]
    async with world.app.core.uow() as uow:
        ava = await uow.repo.account_by_email("ava@lake.run")
        assert ava is not None
        assert [i.platform for i in await uow.repo.identities_of(ava.id)] == ["console"]
        still = await uow.repo.open_verify_request("discord::42")
        assert still is not None and still.status == "pending"  # nothing changed


async def test_no_smtp_points_to_link_and_addressed_invitations(
    sqlite_url: str, clock: FakeClock
) -> None:
    made = await _world(sqlite_url, clock, mail=False)
    try:
        said = await made.no(DEE, "/verify dee@lake.run")
        assert "no e-mail server" in said.text
        assert "/link" in said.text and "/add-member @you" in said.text
        assert made.mailbox.mails == []
    finally:
        await made.app.close()


async def test_verify_is_not_needed_on_the_console(world: World) -> None:
    said = await world.ok(HC, "/verify other@lake.run")
    assert "not needed" in said.text
    assert world.mailbox.mails == []


async def test_verify_refuses_what_is_neither_email_nor_code(world: World) -> None:
    for line in ("/verify", "/verify 1234", "/verify abc", "/verify a@"):
        said = await world.no(DEE, line)
        assert "Usage: /verify" in said.text


# -- /link ---------------------------------------------------------------------------


async def test_link_moves_an_empty_identity_and_is_one_time(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    await world.ok(DEE, "/help")
    own = await world.account_of(DEE)
    said = await world.ok(DEE, f"/link {code}")
    assert "Linked" in said.text
    assert any(
        m.via is Via.DM and m.email == "ava@lake.run" and "<@42> on Discord" in m.text
        for m in said.messages
    )
    assert (await world.account_of(DEE)).email == "ava@lake.run"  # type: ignore[union-attr]
    assert await world.proof(DEE) == "link"
    async with world.app.core.uow() as uow:
        assert own is not None and await uow.repo.account(own.id) is None
    # replayed by an attacker with an empty account: spent
    said = await world.no(MAL, f"/link {code}")
    assert "does not work" in said.text
    assert (await world.account_of(MAL)).email is None  # type: ignore[union-attr]


async def test_link_code_expires_after_10_minutes(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    world.clock.advance(timedelta(minutes=10))
    said = await world.no(DEE, f"/link {code}")
    assert "does not work" in said.text
    code = await world.link_code("ava@lake.run")
    world.clock.advance(timedelta(minutes=9, seconds=59))
    await world.ok(DEE, f"/link {code}")


async def test_a_new_link_code_replaces_the_old(world: World) -> None:
    await _club(world)
    first = await world.link_code("ava@lake.run")
    second = await world.link_code("ava@lake.run")
    await world.no(DEE, f"/link {first}")
    await world.ok(DEE, f"/link {second}")


async def test_link_onto_another_account_refused_when_own_account_holds_data(
    world: World,
) -> None:
    """A leaked code is no way for a member of another club to take over an account,
    nor to pour their own account into it."""
    await _club(world)
    code = await world.link_code("ava@lake.run")
    said = await world.no(HC, f"/link {code}")
    assert "already holds a club membership" in said.text
    async with world.app.core.uow() as uow:
        ava = await uow.repo.account_by_email("ava@lake.run")
        assert ava is not None
        assert len(await uow.repo.identities_of(ava.id)) == 1
    # nothing changed: the code still works for the empty identity it was meant for
    await world.ok(DEE, f"/link {code}")


async def test_link_code_typed_on_its_own_account_is_refused(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    said = await world.no("ava@lake.run", f"/link {code}")
    assert "this account's own" in said.text


async def test_wrong_link_codes_are_rate_limited(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    for _ in range(5):
        said = await world.no(MAL, "/link AAAAA-BBBBB")
        assert "does not work" in said.text
    said = await world.no(MAL, f"/link {code}")
    assert "Too many wrong codes" in said.text
    world.clock.advance(timedelta(minutes=9))  # the code still lives; mal waited too little
    await world.no(MAL, f"/link {code}")


async def test_a_linked_slack_identity_is_not_detached_by_the_daily_recheck(
    world: World,
) -> None:
    await _club(world)
    slack = Caller(platform="slack", user_id="U7", space_id="T7", email="ava.work@corp.run")
    await world.ok(slack, "/help")
    code = await world.link_code("ava@lake.run")
    await world.ok(slack, f"/link {code}")
    world.clock.advance(timedelta(days=1, hours=1))
    listed = await world.ok(slack, "/identities")
    assert "console, ava@lake.run" in listed.text
    assert (await world.account_of(slack)).email == "ava@lake.run"  # type: ignore[union-attr]


async def test_a_slack_squatter_does_not_ride_along_when_the_owner_links_their_email(
    world: World,
) -> None:
    """Found by tests/policy/test_identity_machine.py. A rogue admin of workspace T9 gives
    Slack user U9 dee's e-mail; U9's first use makes an account for that e-mail (Slack's
    e-mail proves an account with no club). Dee, whose club account is e-mail-less (made
    on Discord), later uses the console as dee@ — the console proves the e-mail, so that
    identity lands on U9's account — and links it to her club account. U9's Slack e-mail
    never proved that account (its club does not use T9), so U9 must not come along."""
    await world.ok(DEE_DM, '/setup-org "Dee Runners"')
    await world.ok(DEE_DM, "/log 5k 25:00 private")
    squatter = Caller(platform="slack", user_id="U9", space_id="T9", email="dee@lake.run")
    await world.ok(squatter, "/help")
    code = await world.link_code(DEE_DM)
    said = await world.ok("dee@lake.run", f"/link {code}")
    assert "dee@lake.run came along" in said.text
    dee = await world.account_of(DEE_DM)
    assert dee is not None and dee.email == "dee@lake.run"
    assert await world.account_of(squatter) is None  # detached, not moved
    assert "U9" not in (await world.ok(DEE_DM, "/identities")).text
    # met afresh: an account of its own, whatever e-mail Slack shows
    seen = await world.say(squatter, "/activities")
    assert "5.00 km" not in seen.everything
    again = await world.account_of(squatter)
    assert again is not None and again.id != dee.id


async def test_an_emptied_accounts_email_comes_along_to_an_email_less_account(
    world: World,
) -> None:
    founder = Caller(platform="discord", user_id="42", space_id="G1", space_admin=True)
    await world.ok(founder, '/setup-org "Dee Runners"')
    code = await world.link_code(DEE)
    said = await world.ok("dee@lake.run", f"/link {code}")
    assert "dee@lake.run came along" in said.text
    assert (await world.account_of(DEE)).email == "dee@lake.run"  # type: ignore[union-attr]
    profile = await world.ok("dee@lake.run", "/profile")
    assert "Dee Runners" in profile.text


# -- /identities ---------------------------------------------------------------------


def _ids(text: str) -> dict[str, str]:
    """short id -> the line it is on."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^- ([0-9a-f]{6}): .*$", text, re.M)}


async def test_identities_lists_and_removes_but_never_the_last(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    await world.ok(DEE, f"/link {code}")
    listed = await world.ok("ava@lake.run", "/identities")
    ids = _ids(listed.text)
    assert len(ids) == 2
    console = next(i for i, line in ids.items() if "console" in line)
    discord = next(i for i, line in ids.items() if "Discord" in line)
    assert "(this one)" in ids[console] and "the console's e-mail" in ids[console]
    assert "link code" in ids[discord]
    said = await world.no("ava@lake.run", "/identities remove zzzzzz")
    assert "No identity of yours" in said.text
    # removing the identity one types from is allowed while another remains
    removed = await world.ok(DEE, f"/identities remove {discord}")
    assert "It was the one you typed from" in removed.text
    assert any(m.via is Via.DM and "no longer speaks" in m.text for m in removed.messages)
    # the Discord user is now someone new, with nothing of ava's
    profile = await world.ok(DEE_DM, "/profile")
    assert "Lakeside" not in profile.text and "ava@lake.run" not in profile.text
    last = await world.no("ava@lake.run", f"/identities remove {console}")
    assert "only identity" in last.text


async def test_one_cannot_remove_identities_of_another_account(world: World) -> None:
    await _club(world)
    code = await world.link_code("ava@lake.run")
    await world.ok(DEE, f"/link {code}")
    ids = _ids((await world.ok("ava@lake.run", "/identities")).text)
    await world.ok(MAL, "/help")
    for short in ids:
        said = await world.no(MAL, f"/identities remove {short}")
        assert "No identity of yours" in said.text
    assert len(_ids((await world.ok("ava@lake.run", "/identities")).text)) == 2


async def test_help_shows_the_proof_commands(world: World) -> None:
    said = await world.ok(DEE, "/help")
    for name in ("/verify", "/link", "/identities"):
        assert name in said.text
