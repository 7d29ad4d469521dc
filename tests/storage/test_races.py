"""Invariants under concurrent commands (SPEC §10), on SQLite and PostgreSQL.

Each "process" is its own `Core` on its own engine over the same database, as two bot
processes behind a load balancer would be; `asyncio.gather` lets their transactions
interleave at every database round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.commands.base import Caller
from bot.core import APOLOGY
from bot.messages import Outgoing, Via
from storage.models import Account, ChatIdentity, Membership, Org, OrgSpace, OutboxMessage
from storage.repositories import Repository

ROUNDS = 20
ALPHA, BRAVO = "Alpha Harriers", "Bravo Pacers"
HC_A, HC_B = "head@alpha.run", "head@bravo.run"


async def open_warm(db_url: str, clock: FakeClock) -> App:
    """A core whose pool already holds a connection, so that a race is decided by the
    transactions, not by which process happened to connect first."""
    app = await bootstrap(db_url, clock=clock, migrate=False)
    async with app.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return app


@pytest.fixture
async def apps(db_url: str, clock: FakeClock) -> AsyncIterator[list[App]]:
    """Two processes: two cores, each with its own engine, on one database."""
    opened = [await open_warm(db_url, clock) for _ in range(2)]
    yield opened
    for app in opened:
        await app.close()


def reply_of(messages: list[Outgoing]) -> Outgoing:
    replies = [m for m in messages if m.via is Via.REPLY]
    assert len(replies) == 1, messages
    return replies[0]


async def say(app: App, email: str, line: str) -> Outgoing:
    return reply_of(await app.core.handle(console_caller(email), line))


async def ok(app: App, email: str, line: str) -> Outgoing:
    reply = await say(app, email, line)
    assert reply.ok, f"{email}: {line} -> {reply.text}"
    return reply


@dataclass(frozen=True)
class Seat:
    """A membership as plain values (ORM rows expire when the unit of work closes)."""

    org_id: int
    is_head_coach: bool
    is_coach: bool
    is_athlete: bool


async def memberships_of(app: App, email: str) -> list[Seat]:
    async with app.core.uow() as uow:
        rows = await uow.session.execute(
            select(
                Membership.org_id,
                Membership.is_head_coach,
                Membership.is_coach,
                Membership.is_athlete,
            )
            .join(Account, Account.id == Membership.account_id)
            .where(Account.email == email)
        )
        return [Seat(*row) for row in rows.all()]


async def queued_dms(app: App, email: str) -> list[str]:
    """The texts of the direct messages waiting in the outbox for one person."""
    async with app.core.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage.text)
            .join(Account, Account.id == OutboxMessage.account_id)
            .where(Account.email == email)
        )
        return [body or "" for body in rows.all()]


async def head_coaches(app: App) -> dict[int, list[int]]:
    """org id -> the account ids of its head coaches, for every org."""
    async with app.core.uow() as uow:
        orgs = (await uow.session.scalars(select(Org.id))).all()
        heads: dict[int, list[int]] = {org: [] for org in orgs}
        rows = await uow.session.execute(
            select(Membership.org_id, Membership.account_id).where(Membership.is_head_coach)
        )
        for org, account in rows.all():
            heads[org].append(account)
        return heads


async def assert_invariants(app: App) -> None:
    """Every org has exactly one head coach, who is a coach; no account is in two orgs."""
    heads = await head_coaches(app)
    assert heads, "no organization at all"
    assert all(len(accounts) == 1 for accounts in heads.values()), heads
    async with app.core.uow() as uow:
        per_account = (
            await uow.session.execute(
                select(Membership.account_id, func.count())
                .group_by(Membership.account_id)
                .having(func.count() > 1)
            )
        ).all()
        bad_heads = await uow.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.is_head_coach, ~Membership.is_coach)
        )
    assert per_account == []
    assert bad_heads == 0


async def org_id(app: App, name: str) -> int:
    async with app.core.uow() as uow:
        found = await uow.session.scalar(select(Org.id).where(Org.name == name))
    assert found is not None
    return found


# -- two coaches add the same person to two orgs ---------------------------------------


async def test_two_orgs_race_to_add_the_same_person(apps: list[App]) -> None:
    one, two = apps
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    await ok(two, HC_B, f'/setup-org "{BRAVO}"')
    orgs = {ALPHA: await org_id(one, ALPHA), BRAVO: await org_id(one, BRAVO)}
    wins = {ALPHA: 0, BRAVO: 0}
    for n in range(ROUNDS):
        person = f"runner{n}@mail.run"
        reply = await ok(one, person, "/profile")  # used the bot once: an account, no org
        assert "Organization: none yet" in reply.text
        # alternate who starts first, so each side gets to be the early one
        contenders = [(one, HC_A, ALPHA), (two, HC_B, BRAVO)]
        if n % 2:
            contenders.reverse()
        results = await asyncio.gather(
            *(
                app.core.handle(console_caller(hc), f"/add-member {person}")
                for app, hc, _ in contenders
            )
        )
        outcome = {
            name: reply_of(msgs) for (_, _, name), msgs in zip(contenders, results, strict=True)
        }
        winners = [name for name, reply in outcome.items() if reply.ok]
        assert len(winners) == 1, {k: v.text for k, v in outcome.items()}
        winner = winners[0]
        loser = BRAVO if winner == ALPHA else ALPHA
        wins[winner] += 1

        refusal = outcome[loser].text
        assert "already a member of another organization" in refusal
        assert winner not in refusal  # the refusal does not name the other club
        assert APOLOGY not in refusal
        assert winner in outcome[winner].text
        # the loser sent nothing: one welcome DM is queued, from the winning club
        losing_msgs = results[[c[2] for c in contenders].index(loser)]
        assert [m for m in losing_msgs if m.via is not Via.REPLY] == []
        welcomes = await queued_dms(one, person)
        assert len(welcomes) == 1 and winner in welcomes[0] and loser not in welcomes[0]

        rows = await memberships_of(one, person)
        assert [(m.org_id, m.is_athlete, m.is_coach) for m in rows] == [(orgs[winner], True, False)]
    assert sum(wins.values()) == ROUNDS
    await assert_invariants(one)


async def test_coach_and_athlete_invites_race_for_one_person(apps: list[App]) -> None:
    """`/add-coach` in one org against `/add-member` in another: still one org."""
    one, two = apps
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    await ok(two, HC_B, f'/setup-org "{BRAVO}"')
    for n in range(ROUNDS // 2):
        person = f"both{n}@mail.run"
        await ok(two, person, "/profile")
        results = await asyncio.gather(
            one.core.handle(console_caller(HC_A), f"/add-coach {person}"),
            two.core.handle(console_caller(HC_B), f"/add-member {person}"),
        )
        replies = [reply_of(r) for r in results]
        assert sorted(r.ok for r in replies) == [False, True], [r.text for r in replies]
        refusal = next(r.text for r in replies if not r.ok)
        assert "already a member of another organization" in refusal
        assert ALPHA not in refusal and BRAVO not in refusal
        assert len(await memberships_of(one, person)) == 1
    await assert_invariants(one)


# -- many commands at once -------------------------------------------------------------

CONCURRENT = 20


async def test_twenty_concurrent_commands_all_answer(
    db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Twenty processes at once: every command answers properly; no "database is locked"
    and no apology (SQLite queues them on BEGIN IMMEDIATE + the busy timeout)."""
    setup = await bootstrap(db_url, clock=clock, migrate=False)
    fleet: list[App] = []
    try:
        await ok(setup, HC_A, f'/setup-org "{ALPHA}"')
        athletes = [f"ath{n}@alpha.run" for n in range(5)]
        for athlete in athletes:
            await ok(setup, HC_A, f"/add-member {athlete}")
            await ok(setup, athlete, "/profile")
        lines: list[tuple[str, str]] = []
        lines += [(HC_A, f"/add-member invitee{n}@alpha.run") for n in range(6)]  # writes
        lines += [(a, "/settings units:mi") for a in athletes]  # writes
        lines += [(f"new{n}@else.run", "/profile") for n in range(5)]  # signups (writes)
        lines += [(HC_A, "/members"), (HC_A, f"/profile {athletes[0]}")]  # reads
        lines += [(athletes[1], "/profile"), (athletes[2], "/help")]
        assert len(lines) == CONCURRENT
        fleet = [await open_warm(db_url, clock) for _ in lines]
        caplog.set_level(logging.WARNING)
        results = await asyncio.gather(
            *(
                app.core.handle(console_caller(email), line)
                for app, (email, line) in zip(fleet, lines, strict=True)
            )
        )
        for (email, line), messages in zip(lines, results, strict=True):
            reply = reply_of(messages)
            assert reply.ok, f"{email}: {line} -> {reply.text}"
            assert reply.text != APOLOGY
            assert "locked" not in reply.text.lower()
        assert "database is locked" not in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        members = await ok(setup, HC_A, "/members")
        for athlete in athletes:
            assert athlete in members.text
        async with setup.core.uow() as uow:
            accounts = await uow.session.scalar(select(func.count()).select_from(Account))
            miles = await uow.session.scalar(
                select(func.count()).select_from(Account).where(Account.units == "mi")
            )
        assert accounts == 1 + len(athletes) + 5
        assert miles == len(athletes)
        invitations = await ok(setup, HC_A, "/invitations")
        for n in range(6):
            assert f"invitee{n}@alpha.run" in invitations.text
    finally:
        for app in fleet:
            await app.close()
        await setup.close()


# -- the head coach role and org creation under races ----------------------------------


async def _club_with_two_assistants(app: App) -> None:
    await ok(app, HC_A, f'/setup-org "{ALPHA}"')
    for coach in ("kai@alpha.run", "noor@alpha.run"):
        await ok(app, HC_A, f"/add-coach {coach}")
        await ok(app, coach, "/profile")


async def test_concurrent_transfers_to_two_coaches_leave_one_head(apps: list[App]) -> None:
    one, two = apps
    await _club_with_two_assistants(one)
    results = await asyncio.gather(
        one.core.handle(console_caller(HC_A), "/transfer-head-coach kai@alpha.run"),
        two.core.handle(console_caller(HC_A), "/transfer-head-coach noor@alpha.run"),
    )
    replies = [reply_of(r) for r in results]
    assert sorted(r.ok for r in replies) == [False, True], [r.text for r in replies]
    assert all(r.text != APOLOGY for r in replies)
    winner = "kai" if replies[0].ok else "noor"
    await assert_invariants(one)
    heads = await head_coaches(one)
    (head,) = heads[await org_id(one, ALPHA)]
    async with one.core.uow() as uow:
        head_email = await uow.session.scalar(select(Account.email).where(Account.id == head))
    assert head_email == f"{winner}@alpha.run"
    (former,) = await memberships_of(one, HC_A)
    assert former.is_coach and not former.is_head_coach
    # the new head coach can act as one; the former cannot any more
    await ok(one, f"{winner}@alpha.run", "/add-coach extra@alpha.run")
    assert not (await say(two, HC_A, "/add-coach extra2@alpha.run")).ok


async def test_concurrent_transfers_to_the_same_coach(apps: list[App]) -> None:
    one, two = apps
    await _club_with_two_assistants(one)
    results = await asyncio.gather(
        one.core.handle(console_caller(HC_A), "/transfer-head-coach kai@alpha.run"),
        two.core.handle(console_caller(HC_A), "/transfer-head-coach kai@alpha.run"),
    )
    replies = [reply_of(r) for r in results]
    assert any(r.ok for r in replies)
    assert all(r.text != APOLOGY for r in replies)
    await assert_invariants(one)
    (kai,) = await memberships_of(one, "kai@alpha.run")
    (former,) = await memberships_of(one, HC_A)
    assert kai.is_head_coach and kai.is_coach
    assert former.is_coach and not former.is_head_coach


async def test_transfer_races_a_transfer_back(apps: list[App]) -> None:
    """hc hands over to kai while kai (not head coach yet) tries to hand it to noor."""
    one, two = apps
    await _club_with_two_assistants(one)
    results = await asyncio.gather(
        one.core.handle(console_caller(HC_A), "/transfer-head-coach kai@alpha.run"),
        two.core.handle(console_caller("kai@alpha.run"), "/transfer-head-coach noor@alpha.run"),
    )
    replies = [reply_of(r) for r in results]
    assert all(r.text != APOLOGY for r in replies), [r.text for r in replies]
    await assert_invariants(one)


async def test_concurrent_setup_org_by_one_person(apps: list[App]) -> None:
    one, two = apps
    await ok(one, HC_A, "/profile")
    results = await asyncio.gather(
        one.core.handle(console_caller(HC_A), f'/setup-org "{ALPHA}"'),
        two.core.handle(console_caller(HC_A), f'/setup-org "{BRAVO}"'),
    )
    replies = [reply_of(r) for r in results]
    assert sorted(r.ok for r in replies) == [False, True], [r.text for r in replies]
    assert all(r.text != APOLOGY for r in replies)
    await assert_invariants(one)
    (member,) = await memberships_of(one, HC_A)
    assert member.is_head_coach
    async with one.core.uow() as uow:
        names = (await uow.session.scalars(select(Org.name))).all()
    assert len(names) == 1  # the losing org was rolled back with its membership
    assert member.org_id == await org_id(one, names[0])


def slack(user: str, team: str) -> Caller:
    return Caller(
        platform="slack",
        user_id=user,
        space_id=team,
        email=f"{user.lower()}@team.run",
        space_admin=True,
    )


async def test_two_people_race_to_set_up_one_workspace(apps: list[App]) -> None:
    """A workspace serves one org: two people running /setup-org in it at once."""
    one, two = apps
    for user in ("U1", "U2"):
        await one.core.handle(slack(user, "TOTHER"), "/help")  # accounts exist
    results = await asyncio.gather(
        one.core.handle(slack("U1", "T1"), f'/setup-org "{ALPHA}"'),
        two.core.handle(slack("U2", "T1"), f'/setup-org "{BRAVO}"'),
    )
    replies = [reply_of(r) for r in results]
    assert sorted(r.ok for r in replies) == [False, True], [r.text for r in replies]
    assert all(r.text != APOLOGY for r in replies)
    async with one.core.uow() as uow:
        spaces = (
            await uow.session.execute(select(OrgSpace.platform, OrgSpace.space_id, OrgSpace.org_id))
        ).all()
        orgs = (await uow.session.scalars(select(Org.id))).all()
    assert [(platform, space) for platform, space, _ in spaces] == [("slack", "T1")]
    assert list(orgs) == [spaces[0][2]]
    await assert_invariants(one)


# -- a lost race, made deterministic ---------------------------------------------------
# Under READ COMMITTED a process can read "no membership yet" just before another process
# commits one; its insert then meets the unique index. Hiding the committed membership
# from `membership_of` plays that stale read on every store and every run, so the
# constraint path (bot.conflicts.CONFLICTS) is always the one taken.


def hide_memberships_in(monkeypatch: pytest.MonkeyPatch, hidden_org: int) -> None:
    real = Repository.membership_of

    async def stale(self: Repository, account_id: int) -> Membership | None:
        found = await real(self, account_id)
        return None if found is not None and found.org_id == hidden_org else found

    monkeypatch.setattr(Repository, "membership_of", stale)


async def test_lost_add_member_race_reads_like_the_check(
    apps: list[App], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = apps
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    await ok(two, HC_B, f'/setup-org "{BRAVO}"')
    await ok(one, "zoe@mail.run", "/profile")
    await ok(one, HC_A, "/add-member zoe@mail.run")
    checked = await say(two, HC_B, "/add-member zoe@mail.run")

    hide_memberships_in(monkeypatch, await org_id(one, ALPHA))
    messages = await two.core.handle(console_caller(HC_B), "/add-member zoe@mail.run")
    raced = reply_of(messages)
    for reply in (checked, raced):
        assert not reply.ok
        assert "already a member of another organization" in reply.text
        assert ALPHA not in reply.text
        assert APOLOGY not in reply.text
    assert [m for m in messages if m.via is not Via.REPLY] == []
    monkeypatch.undo()
    assert [s.org_id for s in await memberships_of(one, "zoe@mail.run")] == [
        await org_id(one, ALPHA)
    ]
    await assert_invariants(one)


async def test_lost_setup_org_race_speaks_to_the_caller(
    apps: list[App], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = apps
    await ok(one, HC_A, f'/setup-org "{ALPHA}"')
    checked = await say(two, HC_A, f'/setup-org "{BRAVO}"')
    assert not checked.ok and "You already run" in checked.text

    hide_memberships_in(monkeypatch, await org_id(one, ALPHA))
    raced = await say(two, HC_A, f'/setup-org "{BRAVO}"')
    monkeypatch.undo()
    assert not raced.ok
    assert APOLOGY not in raced.text
    await assert_invariants(one)
    assert "That person" not in raced.text
    assert "you" in raced.text.lower()


async def test_first_use_from_two_processes_at_once_makes_one_account(apps: list[App]) -> None:
    """A newcomer's first two lines land on two processes at once (a double-click, or
    Slack retrying): one account and one chat identity come of it, whatever the replies."""
    one, two = apps
    for n in range(ROUNDS // 2):
        person = f"fresh{n}@mail.run"
        await asyncio.gather(
            one.core.handle(console_caller(person), "/profile"),
            two.core.handle(console_caller(person), "/help"),
        )
        async with one.core.uow() as uow:
            accounts = await uow.session.scalar(
                select(func.count()).select_from(Account).where(Account.email == person)
            )
            identities = await uow.session.scalar(
                select(func.count())
                .select_from(ChatIdentity)
                .where(ChatIdentity.platform == "console", ChatIdentity.user_id == person)
            )
        assert (accounts, identities) == (1, 1)
        assert (await ok(two, person, "/profile")).text.startswith(person.split("@")[0])


def stale_once(monkeypatch: pytest.MonkeyPatch, *methods: str) -> None:
    """The first call of each method reads "nothing there yet"; later calls see the truth."""
    for name in methods:
        real = getattr(Repository, name)
        calls = {"n": 0}

        async def stale(self: Repository, *args: Any, _real: Any = real, _c: Any = calls) -> Any:
            _c["n"] += 1
            return None if _c["n"] == 1 else await _real(self, *args)

        monkeypatch.setattr(Repository, name, stale)


async def test_lost_signup_race_still_answers(
    apps: list[App], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = apps
    await ok(one, "late@mail.run", "/profile")  # the process that won the race
    stale_once(monkeypatch, "account_by_identity", "account_by_email")
    reply = await say(two, "late@mail.run", "/profile")
    monkeypatch.undo()
    assert reply.text != APOLOGY
    assert reply.ok and "E-mail: late@mail.run" in reply.text
