"""How the dispatcher works through a batch (SPEC §6, §10), on both stores.

- A claimed batch is rendered with a fixed number of statements, whatever its size, and
  settled with one UPDATE per outcome; what each daily DM says (rest day, already done,
  today's workout) and who gets none (suspended, no plan, turned off, unreachable) is the
  same as rendering them one at a time.
- On SQLite rendering does not hold the write lock, and cannot write.
- A waiting round (`serve()`'s) keeps rendered messages over a 429 — no second claim, no
  second render — and sends the next request exactly when Retry-After expires on the
  injected clock; a Retry-After running past the lease puts the rest back instead; a
  stop during the wait puts them back at once, their attempts given back.
- Sends are paced to the platform's rate (`Sender.rate`, or one `Pacer` shared by the
  dispatchers of a process): no second of the injected clock holds more than the limit.
- Outcomes are settled every `settle_every` messages, so a crash repeats at most that many.
- Three dispatchers running waiting rounds against a platform that answers 429 share a
  batch of messages exactly once.

Every wait goes through an injected sleep that moves the fake clock: nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App
from bot.clock import FakeClock
from bot.messages import Outgoing, Via
from bot.ports import Limits, StoreUnavailable
from bot.schedule.dispatcher import Dispatcher, SendError
from bot.schedule.routing import Router, Throttle
from storage.engine import make_engine, make_sessionmaker
from storage.models import Account, Membership, OutboxMessage, Recipient, TrainingSession
from storage.outbox import OutboxStore
from storage.outbox_reads import OutboxReads
from tests.schedule import START, Recorder, Seeded, Sent, open_app, outbox, seed_club


class Naps:
    """The injected sleep: moves the fake clock instead of waiting, and notes each nap."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


async def notes(app: App, count: int, *, prefix: str = "note", **extra: Any) -> list[str]:
    """`count` event messages due now, to bare e-mail addresses (one INSERT)."""
    now = app.core.clock.now()
    keys = [f"{prefix}:{i}" for i in range(count)]
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "key": key,
                    "kind": "note",
                    "email": f"p{i}@club.run",
                    "text": f"{prefix} {i}",
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    **extra,
                }
                for i, key in enumerate(keys)
            ],
        )
    return keys


def dispatcher(app: App, sender: Any, *, readers: Any = None, **options: Any) -> Dispatcher:
    """`readers=app.sessions`: render through the app's engine (SQLite too), so its
    statements are counted with the rest."""
    store = OutboxStore(app.sessions, readers=readers)
    return Dispatcher(store, app.core.clock, sender, **options)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements sent through `engine` (not BEGIN/COMMIT)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def by_key(rows: Sequence[OutboxMessage]) -> dict[str, OutboxMessage]:
    return {r.key: r for r in rows}


# -- batches ---------------------------------------------------------------------------------


ANN, BO, CY, DI, ED, FA = (f"{n}@club.run" for n in ("ann", "bo", "cy", "di", "ed", "fa"))


async def daily_rows(app: App, seeded: Seeded, day: date, people: Sequence[str]) -> None:
    now = app.core.clock.now()
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "key": f"daily:{seeded.accounts[p]}:{day}",
                    "kind": "daily",
                    "account_id": seeded.accounts[p],
                    "local_date": day,
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for p in people
            ],
        )


async def test_a_batch_costs_the_same_few_statements_whatever_its_size(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    people = [f"a{i}@club.run" for i in range(30)]
    seeded = await seed_club(
        app, clock.now(), zone="Europe/Berlin", athletes=people, plan_start=date(2027, 1, 4)
    )
    counts = []
    for day, group in ((date(2027, 1, 5), people[:3]), (date(2027, 1, 6), people)):
        await daily_rows(app, seeded, day, group)
        d = dispatcher(app, rec, readers=app.sessions)  # count the render's statements too
        with statements(app.engine) as seen:
            assert len(await d.run_once()) == len(group)
        counts.append(Counter(seen))
    # a new dispatcher's first claim looks for rows of dead processes (one SELECT);
    # claim: drop the expired, take the batch; render: the daily DMs, the addresses;
    # settle: each message is marked sent before the next goes (issue 11, item 2)
    assert counts[0] == Counter({"UPDATE": 2 + 3, "SELECT": 3})
    assert counts[1] == Counter({"UPDATE": 2 + 30, "SELECT": 3})


async def test_a_batch_of_daily_dms_renders_each_one_as_it_stands(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Six daily DMs in one batch: today's workout, a day already done, a rest day (no
    workout that day), and three that must not go (suspended, daily DMs turned off,
    unreachable on this platform) — and one to an athlete with no plan."""
    people = [ANN, BO, CY, DI, ED, FA]
    seeded = await seed_club(
        app,
        clock.now(),
        zone="Europe/Berlin",
        athletes=people,
        on_plan=[ANN, BO, CY, DI, ED],
        plan_start=date(2027, 1, 4),
    )
    day = date(2027, 1, 5)
    async with app.sessions() as session, session.begin():
        done = TrainingSession.membership_id == seeded.members[BO]
        rest = TrainingSession.membership_id == seeded.members[CY]
        await session.execute(
            update(TrainingSession)
            .where(done, TrainingSession.day == day)
            .values(status="completed")
        )
        await session.execute(
            update(TrainingSession).where(rest, TrainingSession.day == day).values(workout_id=None)
        )
        await session.execute(
            update(Membership).where(Membership.id == seeded.members[DI]).values(status="suspended")
        )
        await session.execute(
            update(Account).where(Account.id == seeded.accounts[ED]).values(notify_daily=False)
        )
        session.add(  # unreachable elsewhere, not here
            Recipient(
                account_id=seeded.accounts[ANN],
                platform="elsewhere",
                unreachable_since=clock.now(),
                reason="blocked",
            )
        )
    await daily_rows(app, seeded, day, people)
    d = dispatcher(app, rec)
    sent = await d.run_once()
    assert [(m.email, m.text) for m in sent] == [
        (
            ANN,
            "Good morning! Tuesday 05 January: Easy (run, easy, 8.00 km)\n"
            "Reply done, skip (with a reason if you like), or what you did, "
            "e.g. 8k easy 42:10.",
        ),
        (BO, "Good morning! Tuesday 05 January: Easy is already completed."),
        (CY, "Good morning! Tuesday 05 January: rest day. Recovery is training too."),
    ]
    assert [len(m.actions) for m in sent] == [2, 0, 0]
    assert all(m.kind == "daily" and m.via is Via.DM and m.key for m in sent)
    rows = {r.account_id: r.status for r in await outbox(app, "daily")}
    assert rows == {seeded.accounts[p]: "sent" if p in (ANN, BO, CY) else "dropped" for p in people}
    # marked unreachable on the dispatcher's own platform: dropped too
    async with app.sessions() as session, session.begin():
        session.add(
            Recipient(
                account_id=seeded.accounts[ANN],
                platform="console",
                unreachable_since=clock.now(),
                reason="blocked",
            )
        )
    await daily_rows(app, seeded, date(2027, 1, 6), [ANN, BO])
    assert [m.email for m in await d.run_once()] == [BO]


async def test_sqlite_renders_without_the_write_lock_and_cannot_write(
    sqlite_url: str, clock: FakeClock, rec: Recorder
) -> None:
    path = sqlite_url.split("///", 1)[1]
    seen: list[str] = []

    async def probe(reads: OutboxReads, rows: Sequence[OutboxMessage]) -> dict[int, Any]:
        session = reads.s
        await session.execute(text("SELECT 1"))  # the read transaction has begun
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # a writer gets the lock at once
            other.execute("ROLLBACK")
            seen.append("a writer went ahead")
        finally:
            other.close()
        with pytest.raises(StoreUnavailable, match="readonly"):
            await session.execute(text("DELETE FROM recipients"))
        return {row.id: Outgoing(Via.DM, "probed", email="p@club.run") for row in rows}

    async with open_app(sqlite_url, clock, rec) as app:
        await notes(app, 2, kind="probe")
        d = dispatcher(app, rec)
        d.renderers["probe"] = probe
        assert [m.text for m in await d.run_once()] == ["probed", "probed"]
    assert seen == ["a writer went ahead"]


# -- waiting rounds: Retry-After and pace ----------------------------------------------------


class Limited(Recorder):
    """Answers 429 with `retry_after` to the calls numbered in `limited` (1-based)."""

    def __init__(self, clock: FakeClock, limited: set[int], retry_after: float) -> None:
        super().__init__(clock)
        self.limited = limited
        self.retry_after = retry_after
        self.fail = self._limit

    def _limit(self, message: Outgoing) -> SendError | None:
        if len(self.attempts) in self.limited:
            return SendError("429 Too Many Requests", retry_after=self.retry_after)
        return None


def counting_renders(d: Dispatcher) -> list[int]:
    """How many rows each render of `d` took (wraps its batch renderer)."""
    sizes: list[int] = []
    render = d._render_batch

    async def counted(rows: Sequence[OutboxMessage]) -> dict[int, Outgoing | None]:
        sizes.append(len(rows))
        return await render(rows)

    d._render_batch = counted  # type: ignore[method-assign]
    return sizes


async def test_a_waiting_round_keeps_its_batch_over_a_429_and_resumes_on_time(
    app: App, clock: FakeClock
) -> None:
    keys = await notes(app, 6)
    platform = Limited(clock, {2, 5}, retry_after=30)
    naps = Naps(clock)
    d = dispatcher(app, platform, sleep=naps)
    renders = counting_renders(d)
    t0 = clock.now()
    sent = await d.run_once(wait=True)
    assert [m.text for m in sent] == [f"note {i}" for i in range(6)]
    assert renders == [6]  # one claim, one render: nothing went back to be rendered again
    later = t0 + timedelta(seconds=30)
    # call 2 (note 1) limited at t0: nothing until t0+30; call 5 (note 3) limited then
    assert [(s.message.text, s.at) for s in platform.attempts] == [
        ("note 0", t0),
        ("note 1", t0),
        ("note 1", later),
        ("note 2", later),
        ("note 3", later),
        ("note 3", later + timedelta(seconds=30)),
        ("note 4", later + timedelta(seconds=30)),
        ("note 5", later + timedelta(seconds=30)),
    ]
    assert naps.taken == [30.0, 30.0]  # exactly the Retry-After, twice
    rows = by_key(await outbox(app))
    assert {k: (rows[k].status, rows[k].attempts) for k in keys} == dict.fromkeys(keys, ("sent", 1))
    assert d.paused_until is not None and d.paused_until <= clock.now()


async def test_a_retry_after_past_the_lease_puts_the_rest_back(app: App, clock: FakeClock) -> None:
    keys = await notes(app, 4)
    platform = Limited(clock, {2}, retry_after=600)  # 10 minutes; the lease is 2
    naps = Naps(clock)
    d = dispatcher(app, platform, sleep=naps)
    t0 = clock.now()
    assert [m.text for m in await d.run_once(wait=True)] == ["note 0"]
    assert naps.taken == []  # did not wait: another dispatcher may take the rows on time
    resume = t0 + timedelta(seconds=600)
    rows = by_key(await outbox(app))
    assert [(rows[k].status, rows[k].due_at, rows[k].attempts) for k in keys[1:]] == [
        ("pending", resume, 0)
    ] * 3
    assert await d.run_once(wait=True) == []  # still paused: no request
    assert len(platform.attempts) == 2
    clock.set(resume)
    assert [m.text for m in await d.run_once(wait=True)] == ["note 1", "note 2", "note 3"]
    assert [s.at for s in platform.attempts[2:]] == [resume] * 3


async def test_a_message_whose_day_ends_during_the_wait_is_dropped(
    app: App, clock: FakeClock
) -> None:
    await notes(app, 1, prefix="early")
    await notes(app, 1, prefix="late", expires_at=clock.now() + timedelta(seconds=10))
    platform = Limited(clock, {1}, retry_after=20)
    d = dispatcher(app, platform, sleep=Naps(clock))
    assert [m.text for m in await d.run_once(wait=True)] == ["early 0"]
    rows = by_key(await outbox(app))
    assert (rows["late:0"].status, rows["late:0"].last_error) == (
        "dropped",
        "its day ended before it could be sent",
    )


class Held:
    """An injected sleep that waits until the test lets it go (and never moves time)."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.entered.set()
        await self.release.wait()


async def test_stop_during_a_retry_after_puts_the_batch_back_at_once(
    app: App, clock: FakeClock
) -> None:
    keys = await notes(app, 3)
    platform = Limited(clock, {2}, retry_after=30)
    held = Held()
    d = dispatcher(app, platform, sleep=held)
    round_ = asyncio.create_task(d.run_once(wait=True))
    await asyncio.wait_for(held.entered.wait(), timeout=10)
    stopping = asyncio.create_task(d.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done()  # the round is still in its wait
    held.release.set()
    await asyncio.wait_for(stopping, timeout=10)
    assert [m.text for m in await round_] == ["note 0"]
    rows = by_key(await outbox(app))
    resume = START + timedelta(seconds=30)
    assert [(rows[k].status, rows[k].attempts) for k in keys] == [
        ("sent", 1),
        ("pending", 0),
        ("pending", 0),
    ]
    assert rows[keys[1]].due_at == rows[keys[2]].due_at == resume


async def test_a_waiting_round_claims_and_renders_the_next_batch_while_it_sends(
    app: App, clock: FakeClock
) -> None:
    keys = await notes(app, 7)
    platform = Recorder(clock)
    d = dispatcher(app, platform, batch=3, sleep=Naps(clock))
    renders = counting_renders(d)
    assert [m.text for m in await d.run_once(wait=True)] == ["note 0", "note 1", "note 2"]
    assert d._ahead is not None
    await d._ahead  # the next batch was claimed and rendered while this one was sent
    assert renders == [3, 3]
    rows = by_key(await outbox(app))
    assert [(rows[k].status, rows[k].attempts) for k in keys[3:]] == [
        ("sending", 1),
        ("sending", 1),
        ("sending", 1),
        ("pending", 0),
    ]
    assert [m.text for m in await d.run_once(wait=True)] == ["note 3", "note 4", "note 5"]
    # a shutdown puts a batch claimed ahead back at once, its attempts given back
    await d.stop()
    assert renders == [3, 3, 1]
    rows = by_key(await outbox(app))
    assert (rows["note:6"].status, rows["note:6"].attempts) == ("pending", 0)
    assert [r.status for r in rows.values()].count("sent") == 6


class Paced(Recorder):
    """A platform that accepts `rate` messages a second from this bot."""

    def __init__(self, clock: FakeClock, rate: float) -> None:
        super().__init__(clock)
        self.limits = Limits(per_second=rate)


def busiest_second(times: Sequence[datetime]) -> int:
    ordered = sorted(times)
    return max(
        sum(1 for t in ordered[i:] if t < start + timedelta(seconds=1))
        for i, start in enumerate(ordered)
    )


async def test_sends_are_paced_to_the_senders_rate(app: App, clock: FakeClock) -> None:
    await notes(app, 60)
    platform = Paced(clock, rate=20)
    d = dispatcher(app, platform, sleep=Naps(clock))
    pacer = d.router.throttle("console")
    assert (pacer.limit, pacer.window) == (19, timedelta(seconds=1.01))
    t0 = clock.now()
    assert len(await d.run_once(wait=True)) == 60
    times = [s.at for s in platform.sent]
    assert busiest_second(times) <= 20
    assert times[-1] - t0 == 59 * pacer.interval  # evenly spaced, never idle
    # the drain of the console and tests never waits: no pace there
    await notes(app, 5, prefix="more")
    before = clock.now()
    assert len(await d.run_once()) == 5
    assert {s.at for s in platform.sent[60:]} == {before}


def test_a_pacer_spaces_starts_evenly_under_the_limit() -> None:
    pacer = Throttle.under(Limits(200))  # 198 starts in any 1.01 s
    assert (pacer.limit, pacer.window) == (198, timedelta(seconds=1.01))
    step = pacer.interval
    assert step.total_seconds() == pytest.approx(1.01 / 198, abs=1e-6)  # whole microseconds
    # asked again and again at one instant: one slot after the other, evenly
    waits = [pacer.reserve(START) for _ in range(4)]
    assert waits == [(n * step).total_seconds() for n in range(4)]


def test_a_pacer_makes_up_for_a_stall_at_twice_the_pace_within_the_window() -> None:
    pacer = Throttle(10, timedelta(seconds=1))  # one every 0.1 s; catch-up at 0.05 s
    clock = FakeClock(START)
    starts: list[datetime] = []

    def go() -> None:
        clock.advance(timedelta(seconds=pacer.reserve(clock.now())))
        starts.append(clock.now())

    for _ in range(3):
        go()
    clock.advance(timedelta(seconds=0.3))  # a stall: 0.2 s late for the next slot
    for _ in range(9):
        go()
    gaps = [round((b - a).total_seconds(), 3) for a, b in itertools.pairwise(starts)]
    # even, the stall, then half gaps until the 0.2 s are made up, then even again —
    # never an eleventh start within one second
    assert gaps == [0.1, 0.1, 0.3, 0.05, 0.05, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1]
    assert busiest_second(starts) <= 10


def test_a_pacer_forgets_lost_time_beyond_catch_up_and_holds_for_retry_after() -> None:
    pacer = Throttle(10, timedelta(seconds=1), catch_up=timedelta(seconds=0.1))
    assert pacer.reserve(START) == 0.0
    later = START + timedelta(seconds=5)  # idle for 5 s: only 0.1 s is made up
    assert [pacer.reserve(later) for _ in range(3)] == [0.0, 0.05, 0.1]
    pacer.hold(later + timedelta(seconds=2))
    assert pacer.reserve(later) == 2.0
    assert pacer.reserve(later) == pytest.approx(2.1)
    with pytest.raises(ValueError):
        Throttle(-1)


async def test_dispatchers_sharing_a_router_stay_within_the_limit_together(
    db_url: str, app: App, clock: FakeClock
) -> None:
    """Three dispatchers (own engines) draw their send slots from one Router's throttle:
    together the slots keep within the limit, and no message goes before its slot. (The test's naps
    move one shared fake clock, so a dispatcher may resume after another's nap moved the
    clock past its slot: when messages go is not deterministic here, which slots they
    were given is.)"""
    await notes(app, 90)
    platform = Paced(clock, rate=30)
    shared = Router([platform])  # one process, one way out: one throttle per platform
    pacer = shared.throttle("console")
    assert (pacer.limit, pacer.window) == (29, timedelta(seconds=1.01))  # 29 in any 1.01 s
    slots: list[datetime] = []
    reserve = pacer.reserve

    def spy(now: datetime, **kw: Any) -> float:
        wait = reserve(now, **kw)
        slots.append(now + timedelta(seconds=wait))
        return wait

    pacer.reserve = spy  # type: ignore[method-assign]
    engines = [make_engine(db_url) for _ in range(3)]

    try:
        ds = [
            Dispatcher(
                OutboxStore(make_sessionmaker(e)), clock, shared, batch=10, sleep=Naps(clock)
            )
            for e in engines
        ]

        async def work(d: Dispatcher) -> int:
            total = 0
            while sent := await d.run_once(wait=True):
                total += len(sent)
            return total

        shares = await asyncio.gather(*(work(d) for d in ds))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(shares) == 90
    assert Counter(s.message.text for s in platform.sent) == Counter(f"note {i}" for i in range(90))
    assert len(slots) == 90
    assert busiest_second(slots) <= 29
    # each message went at or after its own slot, so the k-th send is not before the k-th slot
    sent_at = sorted(s.at for s in platform.sent)
    assert all(at >= slot for at, slot in zip(sent_at, sorted(slots), strict=True))


# -- settling --------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies (no `except Exception` catches it)."""


async def test_a_crash_repeats_at_most_the_messages_not_yet_settled(
    app: App, clock: FakeClock
) -> None:
    keys = await notes(app, 7)
    platform = Recorder(clock)

    def die_on_sixth(message: Outgoing) -> SendError | None:
        if len(platform.attempts) == 6:
            raise Crash
        return None

    platform.fail = die_on_sixth
    d = dispatcher(app, platform, settle_every=2)
    with pytest.raises(Crash):
        await d.run_once()
    rows = by_key(await outbox(app))
    # notes 0-3 were settled in two groups of two; note 4 was sent, not yet settled
    assert [rows[k].status for k in keys] == ["sent"] * 4 + ["sending"] * 3
    platform.fail = None
    clock.advance(d.lease + timedelta(seconds=1))
    await dispatcher(app, platform).drain()
    assert Counter(s.message.text for s in platform.sent) == Counter(
        {**{f"note {i}": 1 for i in range(7)}, "note 4": 2}
    )


async def test_outcomes_settle_with_one_update_each(app: App, clock: FakeClock) -> None:
    await notes(app, 9)
    platform = Recorder(clock)
    platform.fail = lambda m: {
        "note 1": SendError("timeout"),
        "note 2": SendError("timeout"),
        "note 3": SendError("blocked", permanent=True),
        "note 4": SendError("blocked", permanent=True),
    }.get(m.text)
    # grouped settling, when asked for
    d = dispatcher(app, platform, settle_every=9, readers=app.sessions)
    with statements(app.engine) as seen:
        assert len(await d.run_once()) == 5
    # the look for dead processes' rows; claim (2) and one UPDATE each: sent, retry
    # later, failed for good
    assert Counter(seen) == Counter({"UPDATE": 5, "SELECT": 1})
    statuses = Counter(r.status for r in await outbox(app))
    assert statuses == Counter({"sent": 5, "pending": 2, "failed": 2})


# -- several dispatchers ---------------------------------------------------------------------


class Ceiling(Recorder):
    """One platform shared by several dispatchers: at most `limit` accepted messages in
    any second of the injected clock, 429 with the exact Retry-After beyond it."""

    def __init__(self, clock: FakeClock, limit: int) -> None:
        super().__init__(clock)
        self.limit = limit
        self.limited = 0

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        await asyncio.sleep(0)
        now = self.clock.now()
        recent = [s.at for s in self.sent if s.at > now - timedelta(seconds=1)]
        if len(recent) >= self.limit:
            self.limited += 1
            self.attempts.append(Sent(now, message, nonce))
            wait = (min(recent) + timedelta(seconds=1) - now).total_seconds()
            raise SendError("429", retry_after=wait)
        await super().send(message, nonce=nonce)


async def test_three_waiting_dispatchers_share_a_limited_platform_exactly_once(
    db_url: str, app: App, clock: FakeClock
) -> None:
    keys = await notes(app, 300)
    platform = Ceiling(clock, limit=50)
    engines = [make_engine(db_url) for _ in range(3)]
    try:
        ds = [
            Dispatcher(
                OutboxStore(make_sessionmaker(e)), clock, platform, batch=40, sleep=Naps(clock)
            )
            for e in engines
        ]
        rounds: list[Callable[[], Awaitable[list[Outgoing]]]] = [
            lambda d=d: d.run_once(wait=True) for d in ds
        ]

        # the dispatchers go round in step: each round starts all three at once, so they
        # claim side by side however busy the machine is (free-running, one process
        # could drain everything before the others had connected)
        shares = [0, 0, 0]
        for _ in range(100):
            sent = await asyncio.gather(*(next_round() for next_round in rounds))
            shares = [total + len(batch) for total, batch in zip(shares, sent, strict=True)]
    finally:
        for engine in engines:
            await engine.dispose()
    assert platform.limited > 0, "the platform never limited: the test proves nothing"
    assert sum(shares) == 300 and sum(1 for s in shares if s) >= 2
    assert Counter(s.message.text for s in platform.sent) == Counter(
        f"note {i}" for i in range(300)
    )
    assert busiest_second([s.at for s in platform.sent]) <= 50
    rows = await outbox(app)
    assert len(rows) == len(keys) and {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
