"""Exactly-once delivery through the outbox (SPEC §6, §10), on both stores.

The planner is idempotent; a dispatcher that dies between claiming and settling leaves
its rows to the next one once the lease runs out, and nothing already settled as sent
goes twice; three dispatchers on three engines share 1,000 due messages without a
duplicate or a loss. Failures: a 429 with Retry-After (no attempt before it expires, on
the injected clock), transient errors (back-off, then `failed`, reported in the head
coach's next digest), permanent ones (the recipient is marked and later messages to
them are dropped). Who gets DMs at all (suspended, no plan, `/settings notify:...`),
downtime (today's DM while its local day lasts; older days' dropped) and shutdown
(`Scheduling.stop()` waits for the send in flight).

Times: the club is in Berlin (UTC+1 in January); Ann's reminder is 06:00 = 05:00Z, the
head coach's digest 07:00 = 06:00Z. The plan starts Monday 2027-01-04 with a workout
every day and is assigned at 09:00Z that day, so the first daily DM is Tuesday's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from bot.bootstrap import App
from bot.clock import FakeClock
from bot.messages import Outgoing
from bot.schedule.dispatcher import Dispatcher, SendError
from bot.schedule.planner import Planner
from storage.engine import make_engine, make_sessionmaker
from storage.models import Account, Membership, OutboxMessage, Recipient
from storage.outbox import OutboxStore, claim, enqueue
from storage.planning import PlanningStore
from tests.schedule import HEAD, Recorder, Seeded, open_app, outbox, say, seed_club, z

ANN, BO, CY = "ann@club.run", "bo@club.run", "cy@club.run"
MONDAY = date(2027, 1, 4)
TUESDAY, WEDNESDAY = date(2027, 1, 5), date(2027, 1, 6)


async def club(app: App, clock: FakeClock, on_plan: tuple[str, ...] = (ANN, BO)) -> Seeded:
    return await seed_club(
        app,
        clock.now(),
        zone="Europe/Berlin",
        athletes=[ANN, BO, CY],
        on_plan=on_plan,
        plan_start=MONDAY,
    )


async def enqueue_notes(app: App, now: datetime, count: int, prefix: str = "note") -> list[str]:
    """`count` event messages due now, to bare e-mail addresses (one INSERT)."""
    keys = [f"{prefix}:{i}" for i in range(count)]
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "key": key,
                    "kind": "note",
                    "email": f"p{i}@club.run",
                    "text": f"message {i}",
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for i, key in enumerate(keys)
            ],
        )
    return keys


def statuses(rows: list[OutboxMessage]) -> dict[str, str]:
    return {r.key: r.status for r in rows}


# -- the planner ---------------------------------------------------------------------------


async def test_the_planner_run_twice_adds_nothing(app: App, clock: FakeClock, db_url: str) -> None:
    seeded = await club(app, clock)
    clock.set(z("2027-01-05 06:30"))  # after Tuesday's reminders and the digest time
    first = await app.scheduling.planner.plan()
    again = await app.scheduling.planner.plan()
    assert (first, again) == (3, 0)  # ann's and bo's daily DM and the head coach's digest
    # two more processes planning at the same moment on their own engines add none either
    engines = [make_engine(db_url) for _ in range(2)]
    try:
        planners = [Planner(PlanningStore(make_sessionmaker(e)), clock) for e in engines]
        assert await asyncio.gather(*(p.plan() for p in planners)) == [0, 0]
    finally:
        for engine in engines:
            await engine.dispose()
    rows = await outbox(app)
    a, b, h = seeded.accounts[ANN], seeded.accounts[BO], seeded.accounts[HEAD]
    assert sorted(r.key for r in rows) == sorted(
        [f"daily:{a}:2027-01-05", f"daily:{b}:2027-01-05", f"digest:{h}:2027-01-05"]
    )


async def test_concurrent_planners_on_a_fresh_day_insert_each_row_once(
    app: App, clock: FakeClock, db_url: str
) -> None:
    await club(app, clock)
    clock.set(z("2027-01-05 06:30"))
    engines = [make_engine(db_url) for _ in range(3)]
    try:
        planners = [Planner(PlanningStore(make_sessionmaker(e)), clock) for e in engines]
        added = await asyncio.gather(*(p.plan() for p in planners))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(added) == 3
    keys = [r.key for r in await outbox(app)]
    assert len(keys) == len(set(keys)) == 3


# -- restarts and concurrency ---------------------------------------------------------------


class Crash(BaseException):
    """The process dies in the middle of a send (no `except Exception` catches it)."""


class CrashingSender(Recorder):
    """Accepts messages until `crash_on` calls have been made, then the process dies —
    before the platform got the message, or (`after_accept`) just after it did."""

    def __init__(self, clock: FakeClock, crash_on: int, *, after_accept: bool = False) -> None:
        super().__init__(clock)
        self.crash_on = crash_on
        self.after_accept = after_accept

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        if len(self.attempts) + 1 == self.crash_on:
            if self.after_accept:
                await super().send(message, nonce=nonce)
            raise Crash
        await super().send(message, nonce=nonce)


async def test_a_restart_mid_dispatch_resends_only_the_unsettled_rows(
    app: App, clock: FakeClock, db_url: str
) -> None:
    keys = await enqueue_notes(app, clock.now(), 7)
    dying = CrashingSender(clock, crash_on=4)
    first = Dispatcher(OutboxStore(app.sessions), clock, dying, batch=3)
    assert len(await first.run_once()) == 3  # rows 1-3 sent and settled
    with pytest.raises(Crash):
        await first.run_once()  # rows 4-6 claimed; dies on row 4, nothing settled
    leased = {r.key: r for r in await outbox(app) if r.status == "sending"}
    assert sorted(leased) == keys[3:6]

    engine = make_engine(db_url)  # a new process
    try:
        fresh = Recorder(clock)
        second = Dispatcher(OutboxStore(make_sessionmaker(engine)), clock, fresh, batch=3)
        await second.drain()
        assert [s.message.text for s in fresh.sent] == ["message 6"]  # the lease holds
        clock.advance(second.lease + timedelta(seconds=1))
        await second.drain()
        clock.advance(timedelta(hours=2))
        await second.drain()  # nothing is left to send
    finally:
        await engine.dispose()

    every = [s.message.text for s in dying.sent + fresh.sent]
    assert Counter(every) == Counter(f"message {i}" for i in range(7))
    assert sorted(every[3:]) == ["message 3", "message 4", "message 5", "message 6"]
    rows = await outbox(app)
    assert set(statuses(rows).values()) == {"sent"}
    assert {r.key: r.attempts for r in rows} == {k: 2 if k in leased else 1 for k in keys}


async def test_a_crash_after_the_platform_accepted_resends_with_the_same_nonce(
    app: App, clock: FakeClock
) -> None:
    """The window SPEC §6 leaves open: the message is repeated once after the lease, with
    the same nonce (the row id), so a platform with idempotency keys (Discord's
    `enforce_nonce`) drops the repeat."""
    await enqueue_notes(app, clock.now(), 1)
    dying = CrashingSender(clock, crash_on=1, after_accept=True)
    with pytest.raises(Crash):
        await Dispatcher(OutboxStore(app.sessions), clock, dying).run_once()
    fresh = Recorder(clock)
    restarted = Dispatcher(OutboxStore(app.sessions), clock, fresh)
    clock.advance(restarted.lease + timedelta(seconds=1))
    await restarted.drain()
    (row,) = await outbox(app)
    assert [s.nonce for s in dying.sent + fresh.sent] == [str(row.id), str(row.id)]
    assert row.status == "sent"


class SharedCount(Recorder):
    """One platform shared by several processes; yields to the loop on every send."""

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        await asyncio.sleep(0)
        await super().send(message, nonce=nonce)


async def test_three_dispatchers_share_a_thousand_messages_exactly_once(
    app: App, clock: FakeClock, db_url: str
) -> None:
    keys = await enqueue_notes(app, clock.now(), 1000)
    platform = SharedCount(clock)
    engines = [make_engine(db_url) for _ in range(3)]
    try:
        dispatchers = [
            Dispatcher(OutboxStore(make_sessionmaker(e)), clock, platform, batch=40)
            for e in engines
        ]
        results = await asyncio.gather(*(d.drain() for d in dispatchers))
        clock.advance(timedelta(minutes=10))  # any lease would have run out by now
        late = await asyncio.gather(*(d.drain() for d in dispatchers))
    finally:
        for engine in engines:
            await engine.dispose()
    sent = Counter(s.message.text for s in platform.sent)
    assert len(sent) == 1000 and set(sent.values()) == {1}
    assert sum(len(r) for r in results) == 1000
    assert late == [[], [], []]
    assert sum(1 for r in results if r) >= 2, "the work was not shared"
    rows = await outbox(app)
    assert len(rows) == len(keys) and {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}


# -- failures ---------------------------------------------------------------------------------


async def test_retry_after_is_honoured_on_the_injected_clock(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    await enqueue_notes(app, clock.now(), 3)
    calls = 0

    def limited_once(message: Outgoing) -> SendError | None:
        nonlocal calls
        calls += 1
        return SendError("429 Too Many Requests", retry_after=30) if calls == 1 else None

    rec.fail = limited_once
    t0 = clock.now()
    assert await app.scheduling.due_now() == []
    assert len(rec.attempts) == 1
    for seconds in (1, 15, 29):
        clock.set(t0 + timedelta(seconds=seconds))
        assert await app.scheduling.due_now() == []
    assert len(rec.attempts) == 1, "a request was made before Retry-After expired"
    clock.set(t0 + timedelta(seconds=30))
    assert len(await app.scheduling.due_now()) == 3
    assert [s.at for s in rec.attempts] == [t0] + [t0 + timedelta(seconds=30)] * 3
    assert set(statuses(await outbox(app)).values()) == {"sent"}


async def test_the_simulated_clock_stops_at_the_end_of_retry_after(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    await enqueue_notes(app, clock.now(), 2)
    rec.fail = lambda m: SendError("429", retry_after=90) if len(rec.attempts) == 1 else None
    t0 = clock.now()
    await app.scheduling.advance(clock, t0 + timedelta(hours=1))
    assert [s.at for s in rec.sent] == [t0 + timedelta(seconds=90)] * 2


async def test_rate_limits_do_not_use_up_the_attempts_of_untried_messages(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    await enqueue_notes(app, clock.now(), 3)  # message 0, 1, 2
    limited = 5

    def fail(message: Outgoing) -> SendError | None:
        nonlocal limited
        if message.text == "message 0" and limited:
            limited -= 1
            return SendError("429", retry_after=30)
        if message.text == "message 1" and len(rec.tried("note", "p1@club.run")) == 1:
            return SendError("connection reset")  # its first real try fails once
        return None

    rec.fail = fail
    await app.scheduling.advance(clock, clock.now() + timedelta(hours=1))
    assert statuses(await outbox(app)) == dict.fromkeys(["note:0", "note:1", "note:2"], "sent")
    assert len(rec.tried("note", "p1@club.run")) == 2  # tried, failed once, retried


async def test_transient_failures_back_off_then_fail(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await club(app, clock)
    rec.fail = lambda m: SendError("timeout") if m.email == ANN else None
    await app.scheduling.advance(clock, z("2027-01-05 12:00"))
    (row,) = [r for r in await outbox(app, "daily") if r.account_id == seeded.accounts[ANN]]
    assert row.local_date == TUESDAY
    tries = [s.at for s in rec.tried("daily", ANN) if s.nonce == str(row.id)]
    due = z("2027-01-05 05:00")
    assert tries == [due + timedelta(minutes=m) for m in (0, 1, 6, 21, 81)]
    assert (row.status, row.attempts, row.last_error) == ("failed", 5, "timeout")
    assert [s.at for s in rec.of("daily", BO)] == [due]  # bo's went at once


@pytest.mark.parametrize(
    "reminder",
    [
        pytest.param(
            "06:00",
            id="reminder-06:00",
        ),
        pytest.param("08:00", id="reminder-08:00"),
    ],
)
async def test_a_failed_message_is_reported_in_the_head_coachs_next_digest(
    app: App, clock: FakeClock, rec: Recorder, reminder: str
) -> None:
    await club(app, clock)
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Account).where(Account.email == ANN).values(reminder_time=reminder)
        )
    rec.fail = lambda m: SendError("timeout") if m.email == ANN and m.kind == "daily" else None
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    failed = [r for r in await outbox(app, "daily") if r.status == "failed"]
    assert [r.local_date for r in failed] == [TUESDAY, WEDNESDAY]
    digests = rec.of("digest", HEAD)
    wednesday = [s for s in digests if s.local("Europe/Berlin").date() == WEDNESDAY]
    assert len(wednesday) == 1
    assert "could not be delivered: 1" in wednesday[0].message.text


async def test_a_permanent_failure_marks_the_recipient_and_drops_later_messages(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await club(app, clock)
    rec.fail = lambda m: SendError("blocked the bot", permanent=True) if m.email == ANN else None
    await app.scheduling.advance(clock, z("2027-01-05 12:00"))
    assert len(rec.tried("daily", ANN)) == 1  # never retried
    async with app.sessions() as session:
        marked = await session.get(Recipient, (seeded.accounts[ANN], "console"))
    assert marked is not None and marked.unreachable_since == z("2027-01-05 05:00")
    # later: Wednesday's daily DM and an event message (a comment-like note) to Ann
    async with app.sessions() as session, session.begin():
        await enqueue(
            session,
            key="note:ann",
            kind="note",
            now=clock.now(),
            text="hello",
            account_id=seeded.accounts[ANN],
        )
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert len(rec.attempts) - len(rec.sent) == 1  # no further attempt to reach Ann
    assert [s.to for s in rec.of("daily")] == [BO, BO]
    rows = {r.key: r.status for r in await outbox(app) if r.account_id == seeded.accounts[ANN]}
    a = seeded.accounts[ANN]
    assert rows == {
        f"daily:{a}:2027-01-05": "failed",
        "note:ann": "dropped",
        f"daily:{a}:2027-01-06": "dropped",
    }


# -- who gets session DMs ---------------------------------------------------------------------


async def test_suspended_members_and_athletes_without_a_plan_get_no_session_dms(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await club(app, clock, on_plan=(ANN, BO))  # cy has no plan
    await say(app, HEAD, f"/member {BO} status:suspended")
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert [(s.to, s.at) for s in rec.of("daily")] == [
        (ANN, z("2027-01-05 05:00")),
        (ANN, z("2027-01-06 05:00")),
    ]
    planned = {r.account_id for r in await outbox(app, "daily")}
    assert planned == {seeded.accounts[ANN]}


async def test_suspended_after_planning_is_dropped_at_send_time(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    seeded = await club(app, clock)
    clock.set(z("2027-01-05 05:00"))
    assert await app.scheduling.planner.plan() == 2  # both daily DMs are in the outbox
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Membership).where(Membership.id == seeded.members[BO]).values(status="suspended")
        )
    await app.scheduling.due_now()
    assert [s.to for s in rec.of("daily")] == [ANN]
    rows = {r.account_id: r.status for r in await outbox(app, "daily")}
    assert rows == {seeded.accounts[ANN]: "sent", seeded.accounts[BO]: "dropped"}


async def test_notify_switches_stop_daily_dms_and_digests(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    await club(app, clock)
    await say(app, ANN, "/settings notify:daily off")
    await say(app, HEAD, "/settings notify:digest off")
    rec.sent.clear()  # the catch-up digest of Monday went before it was turned off
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert [s.to for s in rec.of("daily")] == [BO, BO]
    assert rec.of("digest") == []
    # back on: from the next morning on
    await say(app, ANN, "/settings notify:daily on")
    await say(app, HEAD, "/settings notify:digest on")
    await app.scheduling.advance(clock, z("2027-01-07 12:00"))
    assert z("2027-01-07 05:00") in [s.at for s in rec.of("daily", ANN)]
    assert z("2027-01-07 06:00") in [s.at for s in rec.of("digest", HEAD)]


async def test_turning_daily_dms_back_on_sends_todays_while_its_day_lasts(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Ann turns daily DMs off, and back on at noon: Wednesday's DM (06:00, not sent,
    its local day still lasting) goes once, as a live bot would send it at its next tick
    — and Thursday's at 06:00."""
    await club(app, clock, on_plan=(ANN,))
    await say(app, ANN, "/settings notify:daily off")
    await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert rec.of("daily", ANN) == []
    await say(app, ANN, "/settings notify:daily on")
    await app.scheduling.advance(clock, z("2027-01-07 12:00"))
    assert [s.at for s in rec.of("daily", ANN)] == [z("2027-01-06 12:00"), z("2027-01-07 05:00")]


# -- downtime ---------------------------------------------------------------------------------

DOWNTIME = [
    # the bot comes back at (UTC; Berlin = UTC+1): which daily DMs go, for which local date
    pytest.param("2027-01-06 09:00", [WEDNESDAY], id="next-morning"),
    pytest.param("2027-01-06 22:59", [WEDNESDAY], id="last-minute-of-the-day"),
    pytest.param("2027-01-06 23:00", [], id="the-day-ended"),
    pytest.param("2027-01-08 12:00", [date(2027, 1, 8)], id="two-days-later"),
]


@pytest.mark.parametrize(("back", "expected"), DOWNTIME)
async def test_after_downtime_only_todays_daily_dm_goes(
    app: App, clock: FakeClock, rec: Recorder, back: str, expected: list[date]
) -> None:
    seeded = await club(app, clock, on_plan=(ANN,))
    clock.set(z("2027-01-05 05:00"))
    await app.scheduling.planner.plan()  # Tuesday's DM is planned ...
    async with app.sessions() as session, session.begin():
        await claim(session, clock.now(), lease=timedelta(minutes=5), limit=10)
    # ... and claimed, then the bot is down for more than a day
    clock.set(z(back))
    await app.scheduling.due_now()
    sent = rec.of("daily", ANN)
    assert [s.local("Europe/Berlin").date() for s in sent] == expected
    assert all(s.at == z(back) for s in sent)
    rows = {r.local_date: r.status for r in await outbox(app, "daily")}
    assert rows == {TUESDAY: "dropped", **dict.fromkeys(expected, "sent")}
    a = seeded.accounts[ANN]
    assert all(r.account_id == a for r in await outbox(app, "daily"))


# -- shutdown ---------------------------------------------------------------------------------


class Blocking(Recorder):
    """A send that takes as long as the test wants: it waits for `release`."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        self.entered.set()
        await self.release.wait()
        await super().send(message, nonce=nonce)


async def test_stop_waits_for_the_send_in_flight(db_url: str, clock: FakeClock) -> None:
    sender = Blocking(clock)
    async with open_app(db_url, clock, sender) as app:
        await enqueue_notes(app, clock.now(), 1)
        await app.scheduling.start()
        await asyncio.wait_for(sender.entered.wait(), timeout=10)
        stopping = asyncio.create_task(app.scheduling.stop())
        for _ in range(50):
            await asyncio.sleep(0)
        assert not stopping.done(), "stop() returned while a message was being sent"
        sender.release.set()
        await asyncio.wait_for(stopping, timeout=10)
        assert [s.message.text for s in sender.sent] == ["message 0"]
        (row,) = await outbox(app)
        assert (row.status, row.sent_at) == ("sent", clock.now())
