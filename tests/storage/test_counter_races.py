"""Issue 11, item 1: counters and "the last one" checks under concurrency, on SQLite and
PostgreSQL. Several cores, each on its own engine over one database, run the same
command at the same moment (`asyncio.gather`), round after round; each test counts what
the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from adapters.console.transcript import console_caller
from bot.bootstrap import App
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.commands.proof import short_id
from bot.core import APOLOGY
from bot.invitations import JOIN_FAILURE_LIMIT
from storage.models import Account, ChatIdentity, Invitation, JoinFailure, Membership
from tests.storage.test_races import (
    ALPHA,
    HC_A,
    assert_invariants,
    memberships_of,
    ok,
    open_warm,
    reply_of,
)

ROUNDS = 6
CODE = re.compile(r"/join ([A-Z2-9]{5}-[A-Z2-9]{5})")


@pytest.fixture
async def crowd(db_url: str, clock: FakeClock) -> AsyncIterator[list[App]]:
    """Three processes on one database."""
    opened = [await open_warm(db_url, clock) for _ in range(3)]
    yield opened
    for app in opened:
        await app.close()


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, text
    return match.group(1)


async def test_item_01_single_use_code_under_concurrency(crowd: list[App]) -> None:
    """`/invite-link uses:1`, three people type the code at once: one joins, and `uses`
    reads 1; the others hear that the code is used up, never the apology."""
    one = crowd[0]
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    for n in range(ROUNDS):
        code = code_in((await ok(one, HC_A, "/invite-link uses:1")).text)
        people = [f"r{n}p{k}@mail.run" for k in range(len(crowd))]
        for person in people:
            await ok(one, person, "/profile")
        results = await asyncio.gather(
            *(
                app.core.handle(console_caller(p), f"/join {code}")
                for app, p in zip(crowd, people, strict=True)
            )
        )
        replies = [reply_of(r) for r in results]
        assert sum(r.ok for r in replies) == 1, [r.text for r in replies]
        assert all(r.text != APOLOGY for r in replies)
        joined = [p for p in people if await memberships_of(one, p)]
        assert len(joined) == 1
        async with one.core.uow() as uow:
            invitation = await uow.session.scalar(
                select(Invitation).where(Invitation.kind == "link").order_by(Invitation.id.desc())
            )
            assert invitation is not None
            assert (invitation.uses, invitation.max_uses) == (1, 1)
    await assert_invariants(one)


async def test_item_01_code_of_two_uses_admits_two(crowd: list[App]) -> None:
    one = crowd[0]
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    code = code_in((await ok(one, HC_A, "/invite-link uses:2")).text)
    people = [f"two{k}@mail.run" for k in range(len(crowd))]
    for person in people:
        await ok(one, person, "/profile")
    results = await asyncio.gather(
        *(
            app.core.handle(console_caller(p), f"/join {code}")
            for app, p in zip(crowd, people, strict=True)
        )
    )
    assert sum(reply_of(r).ok for r in results) == 2
    async with one.core.uow() as uow:
        members = await uow.session.scalar(
            select(func.count()).select_from(Membership).where(Membership.is_athlete)
        )
        uses = await uow.session.scalar(select(Invitation.uses).where(Invitation.kind == "link"))
    assert (members, uses) == (2, 2)


def discord_user(n: int, k: int) -> Caller:
    """A Discord user in a DM: no e-mail, so an athlete's e-mail invitation is theirs to
    use (SPEC §5a "Codes": someone with no verified e-mail joins with their own account)."""
    return Caller(platform="discord", user_id=str(900_000 + 10 * n + k))


async def test_item_01_an_invitation_is_accepted_once(crowd: list[App]) -> None:
    """An e-mail invitation's code typed at once by three people without a verified
    e-mail: pending -> accepted exactly once, one membership, no apology."""
    one = crowd[0]
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    for n in range(ROUNDS):
        email = f"offer{n}@mail.run"
        code = code_in((await ok(one, HC_A, f"/add-member {email}")).text)
        people = [discord_user(n, k) for k in range(len(crowd))]
        for person in people:
            reply_of(await one.core.handle(person, "/help"))  # their accounts exist
        results = await asyncio.gather(
            *(app.core.handle(p, f"/join {code}") for app, p in zip(crowd, people, strict=True))
        )
        replies = [reply_of(r) for r in results]
        assert sum(r.ok for r in replies) == 1, [r.text for r in replies]
        assert all(r.text != APOLOGY for r in replies)
        async with one.core.uow() as uow:
            status, uses = (
                await uow.session.execute(
                    select(Invitation.status, Invitation.uses).where(Invitation.email == email)
                )
            ).one()
            joined = await uow.session.scalar(
                select(func.count())
                .select_from(Membership)
                .join(ChatIdentity, ChatIdentity.account_id == Membership.account_id)
                .where(ChatIdentity.user_id.in_([p.user_id for p in people]))
            )
        assert (status, uses, joined) == ("accepted", 1, 1)


async def test_item_01_a_burst_of_wrong_codes_gets_no_extra_tries(crowd: list[App]) -> None:
    """Wrong codes typed at once by one identity are counted one after another: of 9,
    exactly the limit are tried and recorded, the rest are told to wait."""
    one = crowd[0]
    for n in range(ROUNDS // 2):
        person = f"guess{n}@mail.run"
        await ok(one, person, "/profile")
        lines = [f"/join ZZZZ{k}-ZZZZZ" for k in range(2, 11)]
        results = await asyncio.gather(
            *(
                crowd[k % len(crowd)].core.handle(console_caller(person), line)
                for k, line in enumerate(lines)
            )
        )
        texts = [reply_of(r).text for r in results]
        assert all(t != APOLOGY for t in texts)
        tried = [t for t in texts if "does not work" in t]
        waited = [t for t in texts if "Too many wrong codes" in t]
        assert (len(tried), len(waited)) == (JOIN_FAILURE_LIMIT, 9 - JOIN_FAILURE_LIMIT), texts
        async with one.core.uow() as uow:
            recorded = await uow.session.scalar(
                select(func.count())
                .select_from(JoinFailure)
                .where(JoinFailure.identity_key.contains(person))
            )
        assert recorded == JOIN_FAILURE_LIMIT


async def test_item_01_never_the_last_identity(crowd: list[App], clock: FakeClock) -> None:
    """An account with two Discord identities removes each from the other, in two
    processes at once: one removal wins, the account keeps an identity."""
    one, two, _ = crowd
    for n in range(ROUNDS):
        first, second = discord_user(n, 1), discord_user(n, 2)
        reply_of(await one.core.handle(first, "/help"))
        async with one.core.uow() as uow:
            account_id = await uow.session.scalar(
                select(ChatIdentity.account_id).where(ChatIdentity.user_id == first.user_id)
            )
            assert account_id is not None
            uow.session.add(
                ChatIdentity(
                    account_id=account_id,
                    platform="discord",
                    space_id="",
                    user_id=second.user_id,
                    proof="link",
                    created_at=clock.now(),
                )
            )
            await uow.commit()
        async with one.core.uow() as uow:
            ids = {i.user_id: short_id(i) for i in await uow.repo.identities_of(account_id)}
        results = await asyncio.gather(
            one.core.handle(first, f"/identities remove {ids[second.user_id]}"),
            two.core.handle(second, f"/identities remove {ids[first.user_id]}"),
        )
        replies = [reply_of(r) for r in results]
        assert all(r.text != APOLOGY for r in replies)
        async with one.core.uow() as uow:
            left = await uow.session.scalar(
                select(func.count())
                .select_from(ChatIdentity)
                .where(ChatIdentity.account_id == account_id)
            )
        assert left == 1, [r.text for r in replies]
        assert sum(r.ok for r in replies) == 1, [r.text for r in replies]


async def test_item_01_removal_races_a_hand_over(crowd: list[App]) -> None:
    """The head coach hands over to Kai while (from another process) removing Kai: the
    org keeps exactly one head coach whichever wins."""
    one, two, _ = crowd
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    for n in range(ROUNDS):
        coach = f"kai{n}@alpha.run"
        head = await current_head(one)
        await ok(one, head, f"/add-coach {coach}")
        await ok(one, coach, "/profile")
        results = await asyncio.gather(
            one.core.handle(console_caller(head), f"/transfer-head-coach {coach}"),
            two.core.handle(console_caller(head), f"/remove-member {coach}"),
        )
        replies = [reply_of(r) for r in results]
        assert all(r.text != APOLOGY for r in replies), [r.text for r in replies]
        await assert_invariants(one)


async def current_head(app: App) -> str:
    async with app.core.uow() as uow:
        email = await uow.session.scalar(
            select(Account.email)
            .join(Membership, Membership.account_id == Account.id)
            .where(Membership.is_head_coach)
        )
    assert email is not None
    return email
