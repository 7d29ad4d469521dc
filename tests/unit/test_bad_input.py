"""Arbitrary text thrown at every command, as every kind of caller (SPEC §4).

"Every command answers. Bad input gets one clear message naming what was wrong and the
usage line; nothing is half-written ... No stack trace reaches a user." For every
registered command, hypothesis types `/<name> <random text>` (unicode, key:value tokens,
quotes, 5,000-character words, e-mails, impossible dates, negative numbers) as the head
coach, an assistant coach, an athlete, a person with no organization and a person using
the bot for the first time, into one small club. Each line must get exactly one non-empty
answer with no Python internals in it, nothing may be logged as an error, and a refusal
must leave the database exactly as it was (a failed `/join` is recorded on purpose, for
the rate limit; a first use creates the caller's account and chat identity).

The club is built once per store and restored from a snapshot after any line that
changed it, so each example starts from the same club.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.commands import load_all
from bot.commands.base import REGISTRY, CommandSpec, Kind
from bot.core import APOLOGY
from bot.messages import TEXT_LIMIT, Outgoing, Via
from bot.policy import Viewer, permits
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.conftest import need_postgres

load_all()

HEAD, COACH, ATHLETE, STRANGER, NEWCOMER = "head", "assistant", "athlete", "stranger", "newcomer"
ROLES = (HEAD, COACH, ATHLETE, STRANGER, NEWCOMER)
EMAIL = {
    HEAD: "hc@lake.run",
    COACH: "kai@lake.run",
    ATHLETE: "ava@lake.run",
    STRANGER: "sol@far.run",  # has an account, no organization
    NEWCOMER: "neo@far.run",  # has never used the bot
}
VIEWER = {  # the same facts the core derives, to ask the real policy who may try what
    HEAD: Viewer(1, 1, 1, is_head_coach=True, is_coach=True),
    COACH: Viewer(2, 1, 2, is_coach=True),
    ATHLETE: Viewer(3, 1, 3, is_athlete=True),
    STRANGER: Viewer(4),
}
CLUB = (
    ("hc@lake.run", '/setup-org "Lakeside Striders" tz:Europe/London'),
    ("hc@lake.run", "/add-coach kai@lake.run"),
    ("kai@lake.run", "/profile"),
    ("hc@lake.run", "/add-coach noor@lake.run"),
    ("noor@lake.run", "/profile"),
    ("hc@lake.run", "/add-member ava@lake.run"),
    ("ava@lake.run", "/profile"),
    ("hc@lake.run", "/add-member ben@lake.run"),
    ("ben@lake.run", "/profile"),
    ("hc@lake.run", "/add-member cy@lake.run"),  # invited, never joins
    ("hc@lake.run", "/assign-athlete kai@lake.run ava@lake.run"),
    ("hc@lake.run", '/note ava@lake.run "watch the left knee"'),
    ("hc@lake.run", '/workout create "Easy 8" type:run distance:8k'),
    ("sol@far.run", "/help"),
)
OPTIONAL = (  # areas that may not be registered yet; run when they are
    ("group create", "hc@lake.run", "/group create 5k-squad"),
    ("group add", "hc@lake.run", "/group add 5k-squad ava@lake.run ben@lake.run"),
    ("plan create", "hc@lake.run", "/plan create Base weeks:2"),
    ("plan set", "hc@lake.run", '/plan set Base week:1 day:mon workout:"Easy 8"'),
    ("assign-plan", "hc@lake.run", "/assign-plan Base ava@lake.run start:today"),
    ("log", "ava@lake.run", '/log 8k 45:00 "felt good"'),
    ("log", "kai@lake.run", "/log 5k 25:00 private"),
)
COMMANDS = sorted(REGISTRY)
# Python internals that must never reach a user (unless they typed the very words)
FORBIDDEN = re.compile(
    r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception)\b|sqlalchemy|sqlite3|aiosqlite|"
    r"asyncpg|psycopg|\bNone\b(?! of )|<bound |object at 0x|\[SQL:"
)
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday

# ---------------------------------------------------------------------------------------
# The store: a snapshot of every table, compared and restored


Snapshot = dict[str, list[tuple[Any, ...]]]


class Store:
    """One club on one database, driven through the real core on a loop of its own."""

    def __init__(self, url: str, sqlite_file: Path | None) -> None:
        self.url = url
        self.sqlite_file = sqlite_file
        self.loop = asyncio.new_event_loop()
        self.app: App = self.run(bootstrap(url, clock=FakeClock(START), migrate=False))
        self.errors: list[logging.LogRecord] = []
        self.snapshot: Snapshot = {}
        self.raw: dict[str, str] = {}  # PostgreSQL: the last dump as JSON, table by table
        self.snapshot_raw: dict[str, str] = {}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def say(self, email: str, line: str) -> list[Outgoing]:
        return list(self.run(self.app.core.handle(console_caller(email), line)))

    def deliver(self) -> list[Outgoing]:
        """Send what commands queued in the outbox (their DMs); no scheduled messages."""
        return list(self.run(self.app.scheduling.dispatcher.drain()))

    def close(self) -> None:
        try:
            self.run(self.app.close())
        finally:
            self.loop.close()

    # -- reading and restoring every row ----------------------------------------------

    def dump(self) -> Snapshot:
        if self.sqlite_file is not None:
            # plain sqlite3 in this thread: a few milliseconds for the whole club
            with closing(sqlite3.connect(f"file:{self.sqlite_file}?mode=ro", uri=True)) as conn:
                return {
                    t.name: conn.execute(
                        f'SELECT * FROM "{t.name}" ORDER BY {_order(t)}'
                    ).fetchall()
                    for t in Base.metadata.sorted_tables
                }
        return dict(self.run(self._dump_pg()))

    async def _dump_pg(self) -> Snapshot:
        # one round trip: every table as a JSON array, restored by json_populate_recordset
        async with self.app.engine.connect() as conn:
            row = (await conn.execute(text(PG_DUMP))).one()
        self.raw = dict(zip(TABLES, row, strict=True))
        return {
            name: [tuple(r.values()) for r in json.loads(raw)] for name, raw in self.raw.items()
        }

    def restore(self) -> None:
        if self.sqlite_file is not None:
            with closing(sqlite3.connect(self.sqlite_file)) as conn, conn:
                conn.execute("PRAGMA foreign_keys=ON")
                for name in reversed(TABLES):
                    conn.execute(f'DELETE FROM "{name}"')
                for name in TABLES:
                    rows = self.snapshot[name]
                    if rows:
                        marks = ", ".join("?" * len(rows[0]))
                        conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
            return
        self.run(self._restore_pg())

    async def _restore_pg(self) -> None:
        async with self.app.engine.begin() as conn:
            for name in reversed(TABLES):
                await conn.execute(text(f'DELETE FROM "{name}"'))
            for name in TABLES:
                if self.snapshot[name]:
                    await conn.execute(
                        text(
                            f'INSERT INTO "{name}" SELECT * FROM '
                            f'json_populate_recordset(NULL::"{name}", CAST(:rows AS json))'
                        ),
                        {"rows": self.snapshot_raw[name]},
                    )


def _order(table: Any) -> str:
    return ", ".join(c.name for c in table.primary_key.columns)


TABLES = [t.name for t in Base.metadata.sorted_tables]
ORDERED = [(t.name, _order(t)) for t in Base.metadata.sorted_tables]
PG_DUMP = "SELECT " + ", ".join(
    f"(SELECT coalesce(json_agg(x ORDER BY {_order(t)}), '[]')::text FROM \"{t.name}\" x)"
    for t in Base.metadata.sorted_tables
)


class ErrorLog(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def build_club(store: Store) -> None:
    for email, line in CLUB:
        reply = _reply(store.say(email, line))
        assert reply.ok, f"{email}: {line} -> {reply.text}"
    for name, email, line in OPTIONAL:
        if name in REGISTRY:
            reply = _reply(store.say(email, line))
            assert reply.ok, f"{email}: {line} -> {reply.text}"
    store.deliver()
    store.snapshot = store.dump()
    store.snapshot_raw = dict(store.raw)


def _reply(messages: list[Outgoing]) -> Outgoing:
    replies = [m for m in messages if m.via is Via.REPLY]
    assert len(replies) == 1, messages
    return replies[0]


async def _migrate_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    folder = Path(tempfile.mkdtemp(prefix="coachbot-bad-input-"))
    if request.param == "sqlite":
        path = folder / "club.db"

        async def migrate() -> None:
            engine = make_engine(f"sqlite+aiosqlite:///{path}")
            await upgrade(engine)
            await engine.dispose()

        asyncio.run(migrate())
        club = Store(f"sqlite+aiosqlite:///{path}", path)
    else:
        url = need_postgres()
        asyncio.run(_migrate_postgres(url))
        club = Store(url, None)
    handler = ErrorLog(club.errors)
    logger = logging.getLogger("coachbot")
    logger.addHandler(handler)
    try:
        build_club(club)
        yield club
    finally:
        logger.removeHandler(handler)
        club.close()
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# What every answer must look like


def check_answer(
    store: Store, role: str, line: str, accepted: Callable[[Store], None] | None = None
) -> Outgoing:
    """Type the line; one clean answer; a refusal changes nothing; `accepted` looks at
    the database after a line that was not refused. Restores the club after."""
    before = store.dump()
    store.errors.clear()
    answer = store.say(EMAIL[role], line)
    after = store.dump()
    changed = after != store.snapshot
    try:
        reply = _reply(answer)
        changed = changed or reply.ok  # delivering its DMs changes the outbox
        messages = answer + (store.deliver() if reply.ok else [])
        assert reply.text.strip(), f"empty answer to {line!r}"
        assert reply.text != APOLOGY, f"{role}: {line!r} failed inside the bot"
        assert not store.errors, [r.getMessage() for r in store.errors]
        for message in messages:
            assert len(message.text) <= TEXT_LIMIT, f"{role}: {line[:80]!r} -> a wall of text"
            for match in FORBIDDEN.finditer(message.text):
                assert match[0] in line, (
                    f"{role}: {line!r} -> internals in the answer: {message.text!r}"
                )
        if not reply.ok:
            assert_unchanged(before, after, role, line)
        elif accepted is not None:
            accepted(store)
    finally:
        if changed:
            store.restore()
    return reply


def assert_unchanged(before: Snapshot, after: Snapshot, role: str, line: str) -> None:
    for table, rows in before.items():
        new = after[table]
        # a wrong /join or /link code is recorded (and kept) for the rate limit
        if table == "join_failures" and line.strip().lower().startswith(("/join", "/link")):
            assert len(new) <= len(rows) + 1, f"{line!r} recorded more than one failure"
            continue
        if table in ("accounts", "chat_identities") and role == NEWCOMER:
            added = [r for r in new if r not in rows]
            assert [r for r in rows if r in new] == rows and len(added) <= 1, table
            continue
        assert new == rows, f"{role}: refused {line!r} but changed {table}: {rows} -> {new}"


# ---------------------------------------------------------------------------------------
# Arbitrary arguments


OPTION_KEYS = sorted(
    {p.spelling for spec in REGISTRY.values() for p in spec.params if not p.positional}
    | {"foo", "x", "group", "since"}
)
EMAILS = (
    *EMAIL.values(),
    "noor@lake.run",
    "ben@lake.run",
    "cy@lake.run",
    "ANN@LAKE.RUN",
    "nobody@nowhere.org",
    "a@b",
    "@",
    "x@y..z",
    "<@U0123ABC>",
    "<@!42>",
    "<@>",
    "@kai",
    "kai",
)
WORDS = (
    "2027-02-30",
    "2027-13-01",
    "0000-01-01",
    "9999-12-31",
    "2026-12-07..2026-12-01",
    "..",
    "today",
    "mon",
    "-1",
    "-5k",
    "0",
    "1e308",
    "99999999999999999999",
    "NaN",
    "inf",
    "-0:01",
    "42:99",
    "1_000",
    "\u0663",
    "10k",
    "half",
    "1h30m",
    "on",
    "off",
    "Europe/Berlin",
    "../../etc/passwd",
    "revoke",
    "create",
    "list",
    "show",
    "private",
    "rest",
    "#1",
    "#2",
    "1",
    "week",
    "month",
    "done",
    "skip",
    '"',
    "\u201c",
    "\u201eunclosed",
    '"two words"',
    '""',
    '\\"',
    "'",
    "#chan",
    "http://x",
    "a:",
    "::",
    "\n",
    "DROP TABLE accounts;",
)
BOUNDARIES = (  # issue 11 item 6: the edges of every range, and just past them
    "0.0000000001m",
    "1e-10",
    "99m",
    "100m",
    "300km",
    "301km",
    "1000km",
    "1000.0001km",
    "30s",
    "1m",
    "48h",
    "49h",
    "72h",
    "366d",
    "367d",
    "999999999999999999",
    "9223372036854775808",
    "-0",
    "+inf",
    "-Infinity",
    "PT1H",
    "P1D",
    "\uff15\uff4b",
    "\u0663\u0660:\u0660\u0660",
    "localtime",
    "Factory",
    "posixrules",
    "2017-03-05",
    "\uff41\uff4e\uff4e@lake.run",
    "\uff21\uff36\uff21@LAKE.RUN",
)
# issue 11 item 5: every class of character that lies or that a store may refuse
CLASSES = st.one_of(
    st.characters(categories=["Cc"]),
    st.characters(categories=["Cf"]),
    st.characters(categories=["Mn", "Me"]),
    st.characters(categories=["Zs", "Zl", "Zp"]),
    st.characters(categories=["Cs"]),
    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),  # full-width
    st.characters(min_codepoint=0x0590, max_codepoint=0x06FF),  # Hebrew, Arabic
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200d\ufeff"),
    st.sampled_from("\u00df\ufb03\ufdfa\u0130\u1e9e\u3164\u115f\n\r\t"),
)
UNICODE = st.text(st.one_of(CLASSES, st.characters(max_codepoint=0x7F)), min_size=1, max_size=24)
TEXT = st.characters()
ATOM = st.one_of(
    st.text(TEXT, max_size=20),
    UNICODE,
    st.sampled_from(BOUNDARIES),
    st.sampled_from(EMAILS),
    st.sampled_from(WORDS),
    st.builds(
        "{}:{}".format,
        st.sampled_from(OPTION_KEYS),
        st.one_of(st.sampled_from(WORDS + EMAILS), st.text(TEXT, min_size=1, max_size=12)),
    ),
    st.builds(
        lambda piece, n: piece * n,
        st.sampled_from(
            ("x", "\u00e9", "\U0001f4a5", "NOTE ", '"', "a:", "\u00df", "\u200b", "\ufdfa", "\n")
        ),
        st.integers(1990, 5000),
    ),
    st.builds(  # issue 11 item 4: one member, or a hundred and one, named over and over
        lambda names, n: " ".join(names * n),
        st.sampled_from(((EMAILS[0],), ("ava", "AVA"), tuple(f"r{i}@x.run" for i in range(101)))),
        st.integers(1, 500),
    ),
)
ARGS = st.lists(ATOM, max_size=5).map(" ".join)


@pytest.mark.parametrize("name", COMMANDS)
@settings(
    max_examples=min(settings().max_examples, 8),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(role=st.sampled_from(ROLES), args=ARGS)
def test_any_arguments_get_one_clean_answer(store: Store, name: str, role: str, args: str) -> None:
    line = f"/{name} {args}"
    check_answer(store, role, line)


@settings(
    max_examples=min(settings().max_examples, 20),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(role=st.sampled_from(ROLES), line=st.one_of(st.text(TEXT, max_size=60), ARGS))
def test_any_line_gets_one_clean_answer(store: Store, role: str, line: str) -> None:
    """Whole lines, commands or not: free text, a lone slash, unknown names."""
    check_answer(store, role, line)


# ---------------------------------------------------------------------------------------
# Table-driven refusals


def role_for(spec: CommandSpec) -> str:
    return next(r for r in (HEAD, COACH, ATHLETE, STRANGER) if permits(VIEWER[r], spec.action))


def refused(store: Store, role: str, line: str, *needles: str) -> str:
    reply = check_answer(store, role, line)
    assert not reply.ok, f"{role}: {line!r} was allowed: {reply.text}"
    for needle in needles:
        assert needle in reply.text, f"{line!r}: {needle!r} not in {reply.text!r}"
    return reply.text


def usage(name: str) -> str:
    return f"Usage: {REGISTRY[name].usage}"


REQUIRED = [
    (name, next(p for p in spec.params if p.required))
    for name, spec in sorted(REGISTRY.items())
    if any(p.required for p in spec.params)
]


@pytest.mark.parametrize(("name", "param"), REQUIRED, ids=[n for n, _ in REQUIRED])
def test_a_missing_argument_is_named_with_the_usage(store: Store, name: str, param: Any) -> None:
    refused(store, role_for(REGISTRY[name]), f"/{name}", f"{param.name} is missing", usage(name))


@pytest.mark.parametrize("name", COMMANDS)
def test_an_unknown_option_is_named_with_the_usage(store: Store, name: str) -> None:
    refused(store, role_for(REGISTRY[name]), f"/{name} foo:bar", "foo:", usage(name))


# /add-member and /add-coach name someone new: an unknown e-mail there is an invitation
MEMBER_COMMANDS = [
    name
    for name, spec in sorted(REGISTRY.items())
    if any(p.positional and p.required and p.kind is Kind.MEMBER for p in spec.params)
    and name not in ("add-member", "add-coach")
]


@pytest.mark.parametrize("name", MEMBER_COMMANDS)
def test_an_unknown_member_is_named(store: Store, name: str) -> None:
    spec = REGISTRY[name]
    members = [p for p in spec.params if p.positional and p.required]
    filler = {
        Kind.MEMBER: "ghost@nowhere.org",
        Kind.TEXT: '"some words"',
        Kind.DATE_FORWARD: "tomorrow",  # `/session move MEMBER DATE to:DATE`
    }
    args = " ".join(filler.get(p.kind, "x") for p in members)
    keyed = [p for p in spec.params if p.required and not p.positional]
    args += "".join(f" {p.spelling}:{filler.get(p.kind, 'x')}" for p in keyed)
    refused(store, role_for(spec), f"/{name} {args}", "ghost@nowhere.org")


LONG_NOTE = "x" * 2001
CASES = [
    (HEAD, "/audit since:2027-02-30", ("2027-02-30 is not a date on the calendar", usage("audit"))),
    (HEAD, "/invite-link expires:2027-02-30", ("2027-02-30", usage("invite-link"))),
    (HEAD, "/invite-link uses:-3", ("uses must be a whole number", usage("invite-link"))),
    (HEAD, f'/note ava@lake.run "{LONG_NOTE}"', ("2,001 characters", "2,000", usage("note"))),
    (HEAD, '/note ava@lake.run ""', ("text must not be empty", usage("note"))),
    (HEAD, '/note ava@lake.run "never closed', ("never closed",)),
    (HEAD, "/audit since:", ("since: needs a value",)),
    (HEAD, '/note ghost "hi"', ("No member named 'ghost'",)),
    (HEAD, "/add-member not-an-email", ("by e-mail or @mention", usage("add-member"))),
    (HEAD, "/add-member ava@lake.run", ("already a member",)),
    (HEAD, "/add-coach hc@lake.run", ("already a coach",)),
    (HEAD, "/remove-member hc@lake.run", ("head coach",)),
    (HEAD, "/transfer-head-coach ava@lake.run", ("not a coach",)),
    (HEAD, "/assign-athlete ava@lake.run kai@lake.run", ("not an assistant coach",)),
    (HEAD, "/unassign-athlete noor@lake.run ben@lake.run", ("not on",)),
    (HEAD, "/roster kai@lake.run extra", ("'extra'", usage("roster"))),
    (HEAD, "/member ava@lake.run status:gone", ("status must be one of", usage("member"))),
    (HEAD, "/member hc@lake.run status:suspended", ("head coach",)),
    (HEAD, "/members group:nosuch", ("nosuch",)),
    (HEAD, "/settings tz:Mars/Olympus", ("not a time zone", usage("settings"))),
    (HEAD, "/settings reminder:25:00", ("not a time of day", usage("settings"))),
    (HEAD, "/settings notify:daily", ("on or off", usage("settings"))),
    (HEAD, "/privacy share_pace maybe", ("not on or off", usage("privacy"))),
    (HEAD, "/privacy sharing on", ("setting must be one of", usage("privacy"))),
    (HEAD, "/workout create Tempo type:run distance:-5k", ("negative", usage("workout create"))),
    (HEAD, "/workout create Tempo type:fly", ("type must be one of", usage("workout create"))),
    (HEAD, "/workout create Tempo", ("type is missing", usage("workout create"))),
    (HEAD, "/workout", ("needs one of",)),
    (HEAD, "/setup-org Again", ("already run",)),
    (HEAD, "/frobnicate", ("/frobnicate is not a command", "/help")),
    (HEAD, "/frobnicate now please", ("/frobnicate is not a command",)),
    (HEAD, "/", ("not a command",)),
    (COACH, "/assign-athlete kai@lake.run ben@lake.run", ("not open to your role",)),
    (COACH, '/note ben@lake.run "hello"', ("roster",)),
    (COACH, "/roster noor@lake.run", ("own roster",)),
    (ATHLETE, "/members", ("not open to your role",)),
    (ATHLETE, "/notes ava@lake.run", ("not open to your role",)),
    (STRANGER, "/members", ("needs an organization",)),
    (STRANGER, "/profile ava@lake.run", ("organization",)),
    (STRANGER, "/join ABCDE-FGHJK", ("does not work",)),
    (STRANGER, "/join", ("code is missing", usage("join"))),
    (NEWCOMER, "/roster", ("needs an organization",)),
]


USAGE_AFTER_TOKENIZER_ERRORS = [
    (HEAD, '/note ava@lake.run "never closed', ("never closed", usage("note"))),
    (HEAD, "/audit since:", ("since: needs a value", usage("audit"))),
]


@pytest.mark.parametrize(
    ("role", "line", "needles"),
    [pytest.param(*case, id=f"{case[0]}:{case[1][:40]}") for case in CASES]
    + [
        pytest.param(*case, id=f"usage-{case[0]}:{case[1][:40]}")
        for case in USAGE_AFTER_TOKENIZER_ERRORS
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    store: Store, role: str, line: str, needles: tuple[str, ...]
) -> None:
    refused(store, role, line, *needles)


def test_free_text_that_is_not_a_command_is_refused(store: Store) -> None:
    text_ = refused(store, HEAD, "hello coach, how are you?")
    assert "/help" in text_, text_  # says where to look instead
    if not any(spec.dm_form for spec in REGISTRY.values()):
        assert "commands starting with /" in text_


@pytest.mark.parametrize("odd", ["a\x00b", "a\ud800b"], ids=["nul", "lone-surrogate"])
@pytest.mark.parametrize(
    "template", ['/note ava@lake.run "{}"', "/profile {}", "/settings name:{}"]
)
def test_characters_a_store_cannot_keep_are_refused_clearly(
    store: Store, request: pytest.FixtureRequest, template: str, odd: str
) -> None:
    """NUL (PostgreSQL text refuses it) and lone surrogates (no UTF-8 for them; a console on
    a C locale reads undecodable bytes as such) must be refused, not crash the command."""
    check_answer(store, HEAD, template.format(odd))


ESSAY = "x" * 3000
ECHOES = {
    "member-name": f"/profile {ESSAY}",
    "group-name": f"/members group:{ESSAY[:1999]}",
    "extra-word": f"/roster kai@lake.run {ESSAY}",
    "command-name": f"/frobnicate{ESSAY}",
}


@pytest.mark.parametrize("line", list(ECHOES.values()), ids=list(ECHOES))
def test_a_refusal_does_not_echo_an_essay(store: Store, line: str) -> None:
    assert len(refused(store, HEAD, line)) <= 1000


@pytest.mark.parametrize("line", ["", "   ", "/say"], ids=["empty", "blank", "bare-say"])
def test_a_check_in_with_no_words_is_refused(store: Store, line: str) -> None:
    refused(store, ATHLETE, line)


def test_a_caller_with_an_unusable_email_is_told_so(store: Store) -> None:
    before = store.dump()
    store.errors.clear()
    reply = _reply(store.say("ann@club.test", "/help"))
    assert store.dump() == before
    assert reply.text != APOLOGY and not store.errors, reply.text
    assert not reply.ok and "ann@club.test" in reply.text, reply.text


# ---------------------------------------------------------------------------------------
# Issue 11 items 3, 5 and 6: stored text, on both stores


STORED_TEXT = (  # every path that stores a name or free text
    ("/settings name:{q}", HEAD),
    ("/settings goal:{q} bio:{q}", ATHLETE),
    ("/setup-org {q}", STRANGER),
    ("/group create {q}", HEAD),
    ("/group rename 5k-squad {q}", HEAD),
    ("/workout create {q} type:run", COACH),
    ('/workout edit "Easy 8" name:{q} desc:{q}', HEAD),
    ("/plan create {q} weeks:1", HEAD),
    ("/note ava@lake.run {q}", HEAD),
    ("/member ava@lake.run level:{q} labels:{q}", HEAD),
    ("/log 5k 25:00 {q}", ATHLETE),
    ("/skip {q}", ATHLETE),
)
# one-line columns: after any accepted line none holds a line break, a control character
# or a direction override
ONE_LINE = (
    "SELECT display_name FROM accounts UNION ALL SELECT name FROM orgs "
    "UNION ALL SELECT name FROM groups UNION ALL SELECT name FROM workouts "
    "UNION ALL SELECT name FROM plans UNION ALL SELECT level FROM memberships "
    "UNION ALL SELECT goal FROM accounts UNION ALL SELECT note FROM sessions"
)
LIES = re.compile("[\\x00-\\x1f\\x7f-\\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line_columns_hold_one_line(store: Store) -> None:
    async def read() -> list[str | None]:
        async with store.app.engine.connect() as conn:
            return list((await conn.execute(text(ONE_LINE))).scalars().all())

    for value in store.run(read()):
        assert value is None or not LIES.search(value), f"stored {value!r}"
        assert value is None or value.strip(), f"stored an invisible {value!r}"


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    ("template", "role"), STORED_TEXT, ids=[t.split("{")[0].strip() for t, _ in STORED_TEXT]
)
@settings(
    max_examples=min(settings().max_examples, 12),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    value=st.one_of(
        UNICODE,
        st.builds(lambda piece, n: piece * n, UNICODE, st.integers(1, 400)),
        st.sampled_from(BOUNDARIES),
    )
)
def test_item_05_any_stored_text_gets_one_clean_answer(
    store: Store, template: str, role: str, value: str
) -> None:
    """Unicode of every class, huge repeats and boundary values in every field that is
    stored: one clean answer, no apology, no half-write, and nothing that lies stored."""
    check_answer(store, role, template.format(q=quoted(value)), one_line_columns_hold_one_line)


@pytest.mark.parametrize("value", BOUNDARIES)
@pytest.mark.parametrize(
    "template",
    [
        "/log {v} 30:00",
        "/log 5k {v}",
        "/workout create W type:run distance:{v}",
        "/workout create W type:run duration:{v}",
        "/settings tz:{v}",
        "/log 5k 25:00 date:{v}",
    ],
)
def test_item_06_boundary_values_get_one_clean_answer(
    store: Store, template: str, value: str
) -> None:
    role = ATHLETE if template.startswith("/log") else HEAD
    check_answer(store, role, template.format(v=value))
