"""Random sequences of membership, roster and coach-note commands through the real core.

A hypothesis state machine types commands as random people from a small pool into a
fresh database (two clubs set up at the start) and keeps a plain-Python model of what
must be true. Every step checks that the answer is the one the model predicts, and after
every step the invariants of SPEC §1-§3 are checked against the messages and the
database:

- nothing about another organization ever reaches anyone (e-mail, display name, org name
  or note text of an account outside the recipient's org);
- a person who is not a coach never receives coach-note text, an assistant coach never
  receives a note another coach wrote, and nobody receives notes about themselves;
- `/notes`, `/roster` and `/members` list exactly what the policy lets the caller see, so
  taking an athlete off a roster takes them out of the coach's next `/roster` at once;
- one organization per account, exactly one head coach per organization, and the
  memberships, rosters, invitations and notes in the database equal the model's.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import itertools
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.messages import Outgoing, Via
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.conftest import Club, need_postgres

# Local parts that occur in no sentence the bot writes, so finding one in a message means
# that person was named (display names default to the local part).
POOL = tuple(f"zq{letter}@fuzz.org" for letter in "abcdefgh")
ORG_NAMES = ("Kvalpha", "Kvbravo", "Kvcharlie")
WRONG_CODES = ("00000-00000", "OIOIO-10101", "ABCDE")  # 0, 1, I and O are never in a code
CODE_RE = re.compile(r"/join ([A-Z0-9]{5}-[A-Z0-9]{5})")
MARKER_RE = re.compile(r"NOTE-\d{4}")
JOIN_FAILURE_LIMIT = 5
# a head coach never leaves: more clubs would soon leave nobody to coach anyone
MAX_ORGS = len(ORG_NAMES)
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)

# Person picks: 0-7 the pool; 8-9 the head coach of the first/second org; 10-11 an
# assistant coach of any org. Relative to the actor: 12 an athlete on their roster (or of
# their org); 13 someone their org invited who has not joined; 14 an assistant coach of
# their org. Half of the draws are the likely picks, so that sequences get somewhere.
PICK = st.integers(0, 11)
TARGET = st.integers(0, 14)
HEAD = st.one_of(st.sampled_from((8, 9)), PICK)
COACH = st.one_of(st.sampled_from((8, 9, 10, 11)), PICK)
POOL_PICK = st.integers(0, 7)
ATHLETE = st.one_of(st.sampled_from((12, 13)), TARGET)
ASSISTANT = st.one_of(st.sampled_from((13, 14)), TARGET)
MEMBER = st.one_of(st.sampled_from((12, 14)), TARGET)


def local(email: str) -> str:
    return email.split("@", 1)[0]


# ---------------------------------------------------------------------------------------
# The model


@dataclass
class Member:
    serial: int  # one membership; a new one after leaving and joining again
    email: str
    org: str
    head: bool = False
    coach: bool = False
    athlete: bool = False

    @property
    def assistant(self) -> bool:
        return self.coach and not self.head


@dataclass
class Invite:
    serial: int  # creation order, as the database's ids
    org: str
    email: str
    role: str  # athlete | coach
    code: str
    status: str = "pending"


@dataclass
class Waiting:
    """A roster place waiting on an invitation; the member side is a membership serial."""

    invite: int
    coach: int | None
    athlete: int | None


@dataclass
class Note:
    marker: str
    org: str
    author: str
    subject: int  # membership serial


Apply = Callable[[str], None]


@dataclass
class Model:
    orgs: list[str] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    members: dict[str, Member] = field(default_factory=dict)
    invites: list[Invite] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    assignments: set[tuple[int, int]] = field(default_factory=set)
    notes: list[Note] = field(default_factory=list)
    join_failures: dict[str, int] = field(default_factory=dict)
    serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- lookups ----------------------------------------------------------------------

    def by_serial(self, serial: int) -> Member | None:
        return next((m for m in self.members.values() if m.serial == serial), None)

    def in_org(self, org: str) -> list[Member]:
        return [m for m in self.members.values() if m.org == org]

    def member_in(self, org: str, email: str) -> Member | None:
        m = self.members.get(email)
        return m if m is not None and m.org == org else None

    def heads(self) -> list[str]:
        by_org = {m.org: m.email for m in self.members.values() if m.head}
        return [by_org[o] for o in self.orgs if o in by_org]

    def assistants(self) -> list[str]:
        return sorted(m.email for m in self.members.values() if m.assistant)

    def pending(self, email: str) -> list[Invite]:
        return [i for i in self.invites if i.email == email and i.status == "pending"]

    def invite_orgs(self, email: str) -> set[str]:
        return {i.org for i in self.pending(email)}

    def org_of(self, email: str) -> str | None:
        m = self.members.get(email)
        return m.org if m else None

    # -- changes ----------------------------------------------------------------------

    def join(self, email: str, org: str, role: str, invite: Invite | None = None) -> Member:
        member = Member(
            next(self.serials), email, org, coach=role == "coach", athlete=role == "athlete"
        )
        self.members[email] = member
        if invite is not None:
            invite.status = "accepted"
            for w in [w for w in self.waiting if w.invite == invite.serial]:
                self.assignments.add((w.coach or member.serial, w.athlete or member.serial))
                self.waiting.remove(w)
        return member

    def leave(self, member: Member) -> None:
        """A deleted membership takes its rosters, waiting places and notes along."""
        del self.members[member.email]
        s = member.serial
        self.assignments = {p for p in self.assignments if s not in p}
        self.waiting = [w for w in self.waiting if s not in (w.coach, w.athlete)]
        self.notes = [n for n in self.notes if n.subject != s]

    def identify(self, email: str) -> None:
        """First use (SPEC §5): the account is created and, on the console, an invitation
        from one club accepted; with invitations from two clubs none is: they choose."""
        if email in self.accounts:
            return
        self.accounts.add(email)
        pending = self.pending(email)
        if email not in self.members and len({i.org for i in pending}) == 1:
            latest = max(pending, key=lambda i: i.serial)
            self.join(email, latest.org, latest.role, latest)

    def invite(self, org: str, email: str, role: str) -> Apply:
        def apply(reply: str) -> None:
            match = CODE_RE.search(reply)
            assert match, f"no join code in the reply: {reply}"
            for old in self.invites:
                if old.org == org and old.email == email and old.status == "pending":
                    old.status = "revoked"
            self.invites.append(Invite(len(self.invites) + 1, org, email, role, match[1]))

        return apply


def nothing(_: str) -> None:
    return None


Side = Member | Invite


# ---------------------------------------------------------------------------------------
# Stores

STATE_QUERIES = (
    "SELECT o.id, o.name, m.id, m.account_id, m.is_head_coach, m.is_coach, m.is_athlete "
    "FROM orgs o LEFT JOIN memberships m ON m.org_id = o.id",
    "SELECT id, email FROM accounts",
    "SELECT org_id, coach_membership_id, athlete_membership_id FROM assignments",
    "SELECT id, org_id, email, role, status FROM invitations",
    "SELECT invitation_id, coach_membership_id, athlete_membership_id FROM invitation_assignments",
    "SELECT text, org_id, author_account_id, athlete_membership_id FROM coach_notes",
)


def one_org_per_account_and_one_head_coach(orgs: Sequence[Any]) -> None:
    """SPEC §1 on the rows of STATE_QUERIES[0] (org id, name, membership id, account id,
    head coach, coach, athlete): one organization per account (also a UNIQUE constraint)
    and exactly one head coach in every organization that exists."""
    account_ids = [row[3] for row in orgs if row[2] is not None]
    assert len(account_ids) == len(set(account_ids)), orgs
    heads = {row[0]: 0 for row in orgs}
    for row in orgs:
        heads[row[0]] += bool(row[2] is not None and row[4])
    assert set(heads.values()) <= {1}, f"head coaches per org: {heads}"


_pg_ready = False
# The two starting clubs, built once per store: (SQLite file or PostgreSQL rows, model)
_START: dict[str, tuple[Any, Model]] = {}
_FOLDER = Path(tempfile.mkdtemp(prefix="coachbot-sm-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)


async def _migrate(engine: AsyncEngine, *, drop: bool) -> None:
    try:
        if drop:  # a schema left by an older migration is dropped first
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


def prepare_postgres(url: str) -> None:
    """Migrate the test database once per process."""
    global _pg_ready
    if not _pg_ready:
        asyncio.run(_migrate(make_engine(url), drop=True))
        _pg_ready = True


# ---------------------------------------------------------------------------------------
# The machine


class OnAStore(RuleBasedStateMachine):
    """A machine typing into an app of its own: on a SQLite file in `tmp`, or (`tmp` is
    None) on the PostgreSQL test database; closed with its event loop at the end."""

    url: str = ""  # set per store by the test: "sqlite" or a PostgreSQL URL
    loop: asyncio.AbstractEventLoop
    tmp: Path | None
    app: App

    @property
    def db(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "club.db"

    def teardown(self) -> None:
        try:
            self.loop.run_until_complete(self.app.close())
        finally:
            self.loop.close()
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)


class ClubMachine(OnAStore):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp: Path | None = None
        self.markers = itertools.count(1)
        start = _START.get(self.url)
        url = self.url
        if url == "sqlite":
            self.tmp = Path(tempfile.mkdtemp(dir=_FOLDER))
            if start is None:
                self.loop.run_until_complete(
                    _migrate(make_engine(f"sqlite+aiosqlite:///{self.db}"), drop=False)
                )
            else:
                shutil.copy(start[0], self.db)
            url = f"sqlite+aiosqlite:///{self.db}"
        self.app: App = self.loop.run_until_complete(
            bootstrap(url, clock=FakeClock(START), migrate=False)
        )
        if start is not None:
            if self.tmp is None:
                self.loop.run_until_complete(self._load(start[0]))
            self.model = copy.deepcopy(start[1])
            return
        self.model = Model()
        if self.tmp is None:
            self.loop.run_until_complete(self._load({}))
        # Two clubs to start from, built through the same checked steps: zqa heads Kvalpha
        # with assistant zqc and athlete zqe on zqc's roster; zqb heads Kvbravo with zqd and
        # zqf. zqg and zqh have never used the bot.
        for founder in (0, 1):
            self.setup_org(founder)
        for head, coach, athlete in ((0, 2, 4), (1, 3, 5)):
            self.add_coach(head, coach)
            self.profile(coach, None)
            self.add_member(head, athlete)
            self.profile(athlete, None)
            self.assign_athlete(head, coach, athlete)
        _START[self.url] = (self._save(), copy.deepcopy(self.model))

    def _save(self) -> Any:
        if self.tmp is None:
            return self.loop.run_until_complete(self._dump())
        saved = _FOLDER / "start.db"
        with closing(sqlite3.connect(self.db)) as src, closing(sqlite3.connect(saved)) as dst:
            src.backup(dst)  # a consistent copy, WAL included
        return saved

    async def _dump(self) -> dict[str, list[dict[str, Any]]]:
        async with self.app.engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in (await conn.execute(select(t))).all()]
                for t in Base.metadata.sorted_tables
            }

    async def _load(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        async with self.app.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(delete(table))
            for table in Base.metadata.sorted_tables:
                if rows.get(table.name):
                    await conn.execute(insert(table), rows[table.name])

    async def say(self, actor: str, line: str) -> list[Outgoing]:
        """The answer, then the DMs the command queued (they go out through the outbox)."""
        answer = await self.app.core.handle(console_caller(actor), line)
        return [*answer, *await self.app.scheduling.dispatcher.drain()]

    # -- choosing people ----------------------------------------------------------------

    def person(self, pick: int, actor: str | None = None, role: str = "athlete") -> str:
        model = self.model
        if pick < len(POOL):
            return POOL[pick]
        if pick in (8, 9):
            heads = model.heads()
            return heads[(pick - 8) % len(heads)]
        if pick in (10, 11):
            assistants = model.assistants()
            return assistants[(pick - 10) % len(assistants)] if assistants else POOL[pick - 8]
        me = model.members.get(actor or "")
        if me is None:
            return POOL[2]
        if pick == 13:  # someone the actor's org invited who has not joined
            invited = sorted(
                (i.role != role, i.serial, i.email)
                for i in model.invites
                if i.org == me.org and i.status == "pending" and i.email not in model.members
            )
            return invited[0][2] if invited else POOL[3]
        if pick == 14:
            assistants = sorted(m.email for m in model.in_org(me.org) if m.assistant)
            return (assistants or [POOL[3]])[0]
        mine = sorted(
            m.email
            for c, a in model.assignments
            if c == me.serial and (m := model.by_serial(a)) is not None
        )
        athletes = sorted(m.email for m in model.in_org(me.org) if m.athlete)
        return (mine or athletes or [POOL[2]])[0]

    # -- one step -----------------------------------------------------------------------

    def step(
        self, actor: str, line: str, predict: Callable[[], tuple[bool, Apply]]
    ) -> list[Outgoing]:
        """Type `line` as `actor`; check the answer against the model, then the invariants."""
        model = self.model
        orgs_before = {e: model.org_of(e) for e in POOL}
        invited_before = {e: model.invite_orgs(e) for e in POOL}
        model.identify(actor)
        expected, apply = predict()
        messages = self.loop.run_until_complete(self.say(actor, line))
        replies = [m for m in messages if m.via is Via.REPLY]
        assert len(replies) == 1, (line, messages)
        reply = replies[0]
        assert reply.text.strip(), line
        assert reply.ok is expected, f"{actor}: {line} -> ok={reply.ok}: {reply.text}"
        if expected:
            apply(reply.text)
        assert not [m for m in messages if m.via is Via.CHANNEL], messages
        for message in messages:
            recipient = actor if message.via is Via.REPLY else message.email
            assert recipient is not None, message
            self.check_no_leak(actor, line, recipient, message.text, orgs_before, invited_before)
            self.check_notes_reach_only_their_readers(actor, line, recipient, message.text)
        return messages

    # -- invariants on messages ---------------------------------------------------------

    def check_no_leak(
        self,
        actor: str,
        line: str,
        recipient: str,
        message: str,
        orgs_before: dict[str, str | None],
        invited_before: dict[str, set[str]],
    ) -> None:
        """Only people and clubs the recipient is involved with may be named to them."""
        model = self.model
        own = {orgs_before.get(recipient), model.org_of(recipient)}
        if recipient != actor:
            # DMs a command sends to others: about the actor and the actor's club
            own |= {orgs_before.get(actor), model.org_of(actor)}
        own.discard(None)
        people = {recipient} | {
            e for e in POOL if orgs_before.get(e) in own or model.org_of(e) in own
        }
        if recipient == actor:
            people |= {e for e in POOL if e in line or f" {local(e)} " in f" {line} "}
        else:
            people.add(actor)
        clubs = own | invited_before.get(recipient, set())
        for email in POOL:
            assert email in people or local(email) not in message, (
                f"{recipient} was told about {email} (not in their org) after {actor}: "
                f"{line}\n{message}"
            )
        for name in model.orgs:
            assert name in clubs or name not in message, (
                f"{recipient} was told about {name} after {actor}: {line}\n{message}"
            )

    def check_notes_reach_only_their_readers(
        self, actor: str, line: str, recipient: str, message: str
    ) -> None:
        notes = {n.marker: n for n in self.model.notes}
        reader = self.model.members.get(recipient)
        for marker in MARKER_RE.findall(message):
            if recipient == actor and marker in line:
                continue  # the author's own words
            note = notes.get(marker)
            assert note is not None, f"{recipient} got deleted note {marker}: {message}"
            subject = self.model.by_serial(note.subject)
            assert reader is not None and reader.coach and reader.org == note.org, (
                f"{recipient} is not a coach of {note.org} but got {marker}: {message}"
            )
            assert reader.head or note.author == recipient, (
                f"assistant {recipient} got {marker} written by {note.author}: {message}"
            )
            assert subject is None or subject.email != recipient, (
                f"{recipient} got {marker}, a note about themselves: {message}"
            )

    # -- invariants on the database -----------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        rows: list[Sequence[Any]]
        if self.tmp is not None:
            # plain sqlite3 in this thread: much faster than a round trip per query
            uri = f"file:{self.db}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as conn:
                rows = [conn.execute(query).fetchall() for query in STATE_QUERIES]
        else:
            rows = self.loop.run_until_complete(self._read_postgres())
        orgs, accounts, pairs, invitations, waiting, notes = rows
        self.compare(orgs, dict(accounts), pairs, invitations, waiting, notes)

    async def _read_postgres(self) -> list[Sequence[Any]]:
        async with self.app.engine.connect() as conn:
            return [(await conn.exec_driver_sql(query)).all() for query in STATE_QUERIES]

    def compare(
        self,
        orgs: Sequence[Any],
        accounts: dict[int, str],
        pairs: Sequence[Any],
        invitations: Sequence[Any],
        waiting: Sequence[Any],
        notes: Sequence[Any],
    ) -> None:
        model = self.model
        org_names = {row[0]: row[1] for row in orgs}
        members = {row[2]: row for row in orgs if row[2] is not None}
        email_of = {mid: accounts[row[3]] for mid, row in members.items()}
        one_org_per_account_and_one_head_coach(orgs)
        assert sorted(org_names.values()) == sorted(model.orgs), org_names
        assert set(accounts.values()) == model.accounts
        got_members = {
            email_of[mid]: (row[1], bool(row[4]), bool(row[5]), bool(row[6]))
            for mid, row in members.items()
        }
        want_members = {
            m.email: (m.org, m.head, m.coach, m.athlete) for m in model.members.values()
        }
        assert got_members == want_members
        # rosters: pairs of an assistant coach and an athlete of the same org
        for org_id, coach_id, athlete_id in pairs:
            coach, athlete = members[coach_id], members[athlete_id]
            who = f"{email_of[athlete_id]} on the roster of {email_of[coach_id]}"
            assert coach[5] and not coach[4], f"{who}, who is not an assistant coach"
            assert athlete[6], f"{who}, but not an athlete"
            assert coach[0] == athlete[0] == org_id, f"{who} crosses organizations"
        want_pairs = set()
        for c, a in model.assignments:
            cm, am = model.by_serial(c), model.by_serial(a)
            assert cm is not None and am is not None
            want_pairs.add((cm.email, am.email))
        assert {(email_of[c], email_of[a]) for _, c, a in pairs} == want_pairs
        invitation = {row[0]: row for row in invitations}
        assert sorted(
            (org_names[r[1]], r[2], r[3]) for r in invitations if r[4] == "pending"
        ) == sorted((i.org, i.email, i.role) for i in model.invites if i.status == "pending")
        want_waiting = []
        for w in model.waiting:
            side = model.by_serial(w.coach or w.athlete or 0)
            assert side is not None
            want_waiting.append(
                (model.invites[w.invite - 1].email, w.coach is not None, side.email)
            )
        got_waiting = [
            (invitation[inv][2], coach is not None, email_of[coach or athlete])
            for inv, coach, athlete in waiting
        ]
        assert sorted(got_waiting) == sorted(want_waiting)
        got_notes = sorted(
            (MARKER_RE.findall(t)[0], org_names[org], accounts[author], email_of[mid])
            for t, org, author, mid in notes
        )
        want_notes = []
        for n in model.notes:
            subject = model.by_serial(n.subject)
            assert subject is not None
            want_notes.append((n.marker, n.org, n.author, subject.email))
        assert got_notes == sorted(want_notes)

    # -- rules --------------------------------------------------------------------------

    def me(self, actor: str) -> Member | None:
        return self.model.members.get(actor)

    @precondition(lambda self: len(self.model.orgs) < MAX_ORGS)
    @rule(actor=PICK)
    def setup_org(self, actor: int) -> None:
        who = self.person(actor)
        model = self.model
        name = ORG_NAMES[len(model.orgs)]

        def predict() -> tuple[bool, Apply]:
            if self.me(who) is not None:
                return False, nothing

            def apply(_: str) -> None:
                model.orgs.append(name)
                member = model.join(who, name, "coach")
                member.head = True

            return True, apply

        self.step(who, f'/setup-org "{name}"', predict)

    def _add(self, actor: str, target: str, role: str) -> tuple[bool, Apply]:
        model = self.model
        me = self.me(actor)
        allowed = me is not None and (me.head if role == "coach" else me.coach)
        if me is None or not allowed:
            return False, nothing
        org = me.org
        if target not in model.accounts:
            return True, model.invite(org, target, role)
        existing = model.members.get(target)
        if existing is None:

            def join(_: str) -> None:
                model.join(target, org, role)

            return True, join
        if role == "coach" and existing.org == org and not existing.coach:

            def promote(_: str) -> None:
                existing.coach = True

            return True, promote
        return False, nothing

    @rule(actor=COACH, other=POOL_PICK)
    def add_member(self, actor: int, other: int) -> None:
        who, whom = self.person(actor), self.person(other)
        self.step(who, f"/add-member {whom}", lambda: self._add(who, whom, "athlete"))

    @rule(actor=HEAD, other=POOL_PICK)
    def add_coach(self, actor: int, other: int) -> None:
        who, whom = self.person(actor), self.person(other)
        self.step(who, f"/add-coach {whom}", lambda: self._add(who, whom, "coach"))

    def _head_and_member(self, actor: str, target: str) -> tuple[Member, Member] | None:
        me = self.me(actor)
        if me is None or not me.head:
            return None
        them = self.model.member_in(me.org, target)
        return (me, them) if them is not None else None

    @rule(actor=HEAD, other=MEMBER)
    def remove_member(self, actor: int, other: int) -> None:
        who = self.person(actor)
        whom = self.person(other, who)

        def predict() -> tuple[bool, Apply]:
            found = self._head_and_member(who, whom)
            if found is None or found[1].head:
                return False, nothing
            them = found[1]
            return True, lambda _: self.model.leave(them)

        self.step(who, f"/remove-member {whom}", predict)

    @rule(actor=HEAD, other=MEMBER)
    def remove_coach(self, actor: int, other: int) -> None:
        who = self.person(actor)
        whom = self.person(other, who)

        def predict() -> tuple[bool, Apply]:
            found = self._head_and_member(who, whom)
            if found is None or found[1].head or not found[1].coach:
                return False, nothing
            them = found[1]

            def apply(_: str) -> None:
                if not them.athlete:
                    self.model.leave(them)
                    return
                them.coach = False
                self.model.assignments = {p for p in self.model.assignments if p[0] != them.serial}
                self.model.waiting = [w for w in self.model.waiting if w.coach != them.serial]

            return True, apply

        self.step(who, f"/remove-coach {whom}", predict)

    @rule(actor=HEAD, other=MEMBER)
    def transfer_head_coach(self, actor: int, other: int) -> None:
        who = self.person(actor)
        whom = self.person(other, who)

        def predict() -> tuple[bool, Apply]:
            found = self._head_and_member(who, whom)
            if found is None or found[1].head or not found[1].coach:
                return False, nothing
            me, them = found

            def apply(_: str) -> None:
                me.head, them.head = False, True
                self.model.assignments = {p for p in self.model.assignments if p[0] != them.serial}
                self.model.waiting = [w for w in self.model.waiting if w.coach != them.serial]

            return True, apply

        self.step(who, f"/transfer-head-coach {whom}", predict)

    def _side(self, org: str, email: str, role: str) -> Side | None:
        member = self.model.member_in(org, email)
        if member is not None:
            return member
        invites = [
            i
            for i in self.model.invites
            if i.org == org and i.email == email and i.role == role and i.status == "pending"
        ]
        return max(invites, key=lambda i: i.serial) if invites else None

    def _pair(self, actor: str, coach: str, athlete: str) -> tuple[Side, Side] | None:
        me = self.me(actor)
        if me is None or not me.head:
            return None
        c = self._side(me.org, coach, "coach")
        a = self._side(me.org, athlete, "athlete")
        if c is None or a is None or (isinstance(c, Invite) and isinstance(a, Invite)):
            return None
        if isinstance(c, Member) and not c.assistant:
            return None
        if isinstance(a, Member) and not a.athlete:
            return None
        if isinstance(c, Member) and isinstance(a, Member) and c.serial == a.serial:
            return None
        return c, a

    @staticmethod
    def _waiting(c: Side, a: Side) -> Waiting:
        if isinstance(c, Invite):
            assert isinstance(a, Member)
            return Waiting(c.serial, None, a.serial)
        assert isinstance(a, Invite)
        return Waiting(a.serial, c.serial, None)

    @rule(actor=HEAD, coach=ASSISTANT, athlete=ATHLETE)
    def assign_athlete(self, actor: int, coach: int, athlete: int) -> None:
        who = self.person(actor)
        c_email, a_email = self.person(coach, who, "coach"), self.person(athlete, who)
        model = self.model

        def predict() -> tuple[bool, Apply]:
            pair = self._pair(who, c_email, a_email)
            if pair is None:
                return False, nothing
            c, a = pair
            if isinstance(c, Member) and isinstance(a, Member):
                key = (c.serial, a.serial)
                if key in model.assignments:
                    return False, nothing
                return True, lambda _: model.assignments.add(key)
            row = self._waiting(c, a)
            if row in model.waiting:
                return False, nothing
            return True, lambda _: model.waiting.append(row)

        self.step(who, f"/assign-athlete {c_email} {a_email}", predict)

    @rule(actor=HEAD, coach=ASSISTANT, athlete=ATHLETE)
    def unassign_athlete(self, actor: int, coach: int, athlete: int) -> None:
        who = self.person(actor)
        c_email = self.person(coach, who, "coach")
        a_email = self.person(athlete, c_email)
        model = self.model
        removed: list[tuple[str, str]] = []

        def predict() -> tuple[bool, Apply]:
            pair = self._pair(who, c_email, a_email)
            if pair is None:
                return False, nothing
            c, a = pair
            if isinstance(c, Member) and isinstance(a, Member):
                key = (c.serial, a.serial)
                if key not in model.assignments:
                    return False, nothing

                def apply(_: str) -> None:
                    model.assignments.discard(key)
                    removed.append((c_email, a_email))

                return True, apply
            row = self._waiting(c, a)
            if row not in model.waiting:
                return False, nothing
            return True, lambda _: model.waiting.remove(row)

        self.step(who, f"/unassign-athlete {c_email} {a_email}", predict)
        for coach_email, athlete_email in removed:
            # access ends at once: the coach's next /roster no longer lists the athlete,
            # a new note about them is refused, and /notes shows the coach's own notes
            # only (SPEC §2 gives an assistant their own notes, assigned or not)
            said = self._roster(coach_email, None)
            assert athlete_email not in said, said
            self._note(coach_email, athlete_email)
            self._notes(coach_email, athlete_email)

    def _note(self, who: str, whom: str) -> None:
        marker = f"NOTE-{next(self.markers):04d}"
        model = self.model

        def predict() -> tuple[bool, Apply]:
            me = self.me(who)
            if me is None or not me.coach:
                return False, nothing
            them = model.member_in(me.org, whom)
            if them is None or them.serial == me.serial or not them.athlete:
                return False, nothing
            if not me.head and (me.serial, them.serial) not in model.assignments:
                return False, nothing
            note = Note(marker, me.org, who, them.serial)
            return True, lambda _: model.notes.append(note)

        self.step(who, f'/note {whom} "{marker} keep an eye on the long runs"', predict)

    @rule(actor=COACH, other=ATHLETE)
    def note(self, actor: int, other: int) -> None:
        who = self.person(actor)
        self._note(who, self.person(other, who))

    @rule(actor=COACH, other=ATHLETE)
    def notes(self, actor: int, other: int) -> None:
        who = self.person(actor)
        self._notes(who, self.person(other, who))

    def _notes(self, who: str, whom: str) -> None:
        """Exactly the notes SPEC §2 opens: the head coach all, an assistant their own."""
        model = self.model
        want: set[str] = set()

        def predict() -> tuple[bool, Apply]:
            me = self.me(who)
            if me is None or not me.coach:
                return False, nothing
            them = model.member_in(me.org, whom)
            if them is None:
                return False, nothing
            if them.serial != me.serial:
                want.update(
                    n.marker
                    for n in model.notes
                    if n.subject == them.serial and (me.head or n.author == who)
                )
            return True, nothing

        messages = self.step(who, f"/notes {whom}", predict)
        if messages[0].ok:
            assert set(MARKER_RE.findall(messages[0].text)) == want, (who, whom, messages[0])

    def _roster(self, who: str, whom: str | None) -> str:
        model = self.model
        want: dict[str, set[str]] = {}

        def predict() -> tuple[bool, Apply]:
            me = self.me(who)
            if me is None or not me.coach:
                return False, nothing
            coach: Member | None = None if me.head else me
            if whom is not None:
                coach = model.member_in(me.org, whom)
                if coach is None or (not me.head and coach is not me) or not coach.coach:
                    return False, nothing
            for c, a in model.assignments:
                cm, am = model.by_serial(c), model.by_serial(a)
                assert cm is not None and am is not None
                if cm.org != me.org or am.serial == me.serial:
                    continue  # self-denial: nobody sees assignments about themselves
                if coach is None or cm is coach:
                    want.setdefault(local(cm.email), set()).add(am.email)
            return True, nothing

        line = "/roster" if whom is None else f"/roster {whom}"
        reply = self.step(who, line, predict)[0]
        if reply.ok:
            got: dict[str, set[str]] = {}
            section: set[str] = set()
            for text_line in reply.text.splitlines():
                if header := re.fullmatch(r"(.+)'s roster \((\d+)\):", text_line):
                    section = got.setdefault(header[1], set())
                elif item := re.fullmatch(r"- .*<(.+)>", text_line):
                    section.add(item[1])
            assert got == want, (who, line, reply.text)
        return reply.text

    @rule(actor=COACH, other=st.none() | MEMBER)
    def roster(self, actor: int, other: int | None) -> None:
        who = self.person(actor)
        self._roster(who, None if other is None else self.person(other, who))

    @rule(actor=PICK, other=st.none() | TARGET)
    def profile(self, actor: int, other: int | None) -> None:
        who = self.person(actor)
        whom = None if other is None else self.person(other, who)
        model = self.model

        def predict() -> tuple[bool, Apply]:
            if whom is None:
                return True, nothing
            me = self.me(who)
            ok = me is not None and model.member_in(me.org, whom) is not None
            return ok, nothing

        reply = self.step(who, "/profile" if whom is None else f"/profile {whom}", predict)[0]
        me = self.me(who)
        if not reply.ok or me is None:
            return
        them = self.me(whom or who)
        assert them is not None
        if not me.coach and whom is not None and them is not me:
            assert whom not in reply.text, f"athlete {who} sees {whom}'s e-mail: {reply.text}"
        coaches_line = [ln for ln in reply.text.splitlines() if ln.startswith("Coaches: ")]
        if coaches_line:
            shown = set(coaches_line[0].removeprefix("Coaches: ").split(", ")) - {"—"}
            want = set()
            if them is not me:
                want = {
                    local(cm.email)
                    for c, a in model.assignments
                    if a == them.serial
                    and (cm := model.by_serial(c)) is not None
                    and (me.head or cm is me)
                }
            assert shown == want, (who, whom, reply.text)

    @rule(actor=COACH)
    def members(self, actor: int) -> None:
        who = self.person(actor)

        def predict() -> tuple[bool, Apply]:
            me = self.me(who)
            return me is not None and me.coach, nothing

        reply = self.step(who, "/members", predict)[0]
        me = self.me(who)
        if reply.ok and me is not None:
            listed = set(re.findall(r"<([^>]+)>", reply.text))
            assert listed == {m.email for m in self.model.in_org(me.org)}, reply.text

    @rule(actor=PICK, pick=st.integers(0, 40), real=st.booleans())
    def join(self, actor: int, pick: int, real: bool) -> None:
        who = self.person(actor)
        model = self.model
        invite = model.invites[pick % len(model.invites)] if real and model.invites else None
        code = invite.code if invite else WRONG_CODES[pick % len(WRONG_CODES)]

        def predict() -> tuple[bool, Apply]:
            if self.me(who) is not None:
                return False, nothing
            failures = model.join_failures.get(who, 0)
            if failures >= JOIN_FAILURE_LIMIT:
                return False, nothing
            if invite is None or invite.status != "pending" or invite.email != who:
                # a code made for another e-mail is refused to the console's verified
                # e-mail like a wrong one (SPEC §5a "Codes"), and counted the same
                model.join_failures[who] = failures + 1  # recorded though refused
                return False, nothing

            def accept(_: str) -> None:
                model.join(who, invite.org, invite.role, invite)

            return True, accept

        self.step(who, f"/join {code}", predict)

    @precondition(
        lambda self: any(e not in self.model.accounts and self.model.pending(e) for e in POOL)
    )
    @rule(pick=st.integers(0, 7))
    def first_use(self, pick: int) -> None:
        invited = [e for e in POOL if e not in self.model.accounts and self.model.pending(e)]
        who = invited[pick % len(invited)]
        clubs = self.model.invite_orgs(who)
        messages = self.step(who, "/profile", lambda: (True, nothing))
        dms = [m for m in messages if m.via is Via.DM and m.email == who]
        if len(clubs) > 1:  # asked, never enrolled: one offer naming every club
            assert "Organization: none yet" in messages[0].text, messages[0].text
            assert len(dms) == 1 and all(c in dms[0].text for c in clubs), messages
            return
        (club,) = clubs
        assert f"Organization: {club}" in messages[0].text, messages[0].text
        assert dms and dms[0].text.startswith(f"Welcome to {club}"), messages


# ---------------------------------------------------------------------------------------


def stores() -> list[object]:
    return ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def run_on(store: str, machine: type[OnAStore], *, examples: int, steps: int) -> None:
    """Run a machine on one store, at most `examples` times (fewer if the profile says)."""
    url = "sqlite"
    if store == "postgres":
        url = need_postgres()
        prepare_postgres(url)
    run_state_machine_as_test(
        type(f"{store.title()}{machine.__name__}", (machine,), {"url": url}),
        settings=settings(
            max_examples=min(settings().max_examples, examples),
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.parametrize("store", stores())
def test_membership_rosters_and_notes_keep_their_invariants(store: str) -> None:
    run_on(store, ClubMachine, examples=10, steps=30)


# ---------------------------------------------------------------------------------------
# Bugs the machine found, kept as regression tests.


async def test_a_new_head_coach_gets_no_roster_from_a_waiting_place(club: Club) -> None:
    await club.ok("hc@lake.run", "/setup-org Lakeside")
    await club.ok("hc@lake.run", "/add-coach kai@lake.run")
    await club.ok("kai@lake.run", "/profile")
    await club.ok("hc@lake.run", "/add-member ava@lake.run")
    await club.ok("hc@lake.run", "/assign-athlete kai@lake.run ava@lake.run")
    await club.ok("hc@lake.run", "/transfer-head-coach kai@lake.run")
    await club.ok("ava@lake.run", "/profile")  # joins
    said = await club.ok("kai@lake.run", "/roster")
    assert said.text == "No roster assignments yet.", said.text


async def test_a_waiting_roster_place_dies_with_the_coach_role(club: Club) -> None:
    await club.ok("hc@lake.run", "/setup-org Lakeside")
    await club.ok("hc@lake.run", "/add-member bo@lake.run")
    await club.ok("bo@lake.run", "/profile")
    await club.ok("hc@lake.run", "/add-coach bo@lake.run")  # athlete and coach
    await club.ok("hc@lake.run", "/add-member cy@lake.run")
    await club.ok("hc@lake.run", "/assign-athlete bo@lake.run cy@lake.run")
    await club.ok("hc@lake.run", "/remove-coach bo@lake.run")
    joined = await club.ok("cy@lake.run", "/profile")
    assert not any("bo" in dm.text for dm in joined.dms("cy@lake.run")), joined.messages
    said = await club.ok("hc@lake.run", "/roster")
    assert said.text == "No roster assignments yet.", said.text


# ---------------------------------------------------------------------------------------
# Counterexamples that were the model's mistakes, replayed step by step on SQLite: each
# failed on the model before it learned what SPEC §5 and §5a say.


def replay(*steps: Callable[[ClubMachine], object]) -> None:
    """Run steps on a fresh machine, checking the database after each, as hypothesis does."""
    machine = type("SqliteClubMachine", (ClubMachine,), {"url": "sqlite"})()
    try:
        machine.database_agrees_with_the_model()
        for do in steps:
            do(machine)
            machine.database_agrees_with_the_model()
    finally:
        machine.teardown()


@pytest.mark.parametrize("first_use", ["profile", "remove_member"])
def test_machine_someone_two_clubs_invited_chooses_on_first_use(first_use: str) -> None:
    """SPEC §5: zqh, invited by Kvbravo's head coach and then Kvalpha's assistant, is
    offered both on first use and joins neither (the model joined the earliest)."""
    use = {
        "profile": lambda m: m.first_use(pick=0),  # zqh is the only invited newcomer
        "remove_member": lambda m: m.remove_member(actor=7, other=14),
    }[first_use]
    replay(
        lambda m: m.add_coach(actor=9, other=7),  # zqb (Kvbravo) invites zqh as a coach
        lambda m: m.add_member(actor=10, other=7),  # zqc (Kvalpha) invites zqh as an athlete
        use,
        lambda m: m.join(actor=7, pick=4, real=True),  # zqh takes Kvbravo's, by code
    )


def test_machine_a_code_made_for_another_email_is_refused() -> None:
    """SPEC §5a "Codes": zqh, whose console e-mail is verified, types the code Kvbravo
    made for zqg: refused and counted (the model let anyone join by any code)."""
    replay(
        lambda m: m.add_member(actor=11, other=6),  # zqd (Kvbravo) invites zqg
        lambda m: m.join(actor=7, pick=4, real=True),  # zqh types zqg's code
        lambda m: m.join(actor=6, pick=4, real=True),  # zqg joins with it: first use
    )
