"""The one way out (issue 12 item 3): the Router `bootstrap` builds over the platform
senders, each platform paced to the limits its sender declares, a Retry-After holding
only the platform that answered it, and unreachability recorded where it happened.

Two platform doubles share one outbox: notes to even addresses are reached by "slack",
to odd ones by "discord" (as an invitee is, by e-mail); the dispatcher's sleep moves the
fake clock (`Naps`), so pacing is measured on the injected clock."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from bot.bootstrap import App
from bot.clock import FakeClock
from bot.messages import Outgoing
from bot.pacing import send_now
from bot.ports import Limits, SendError
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.routing import Router
from storage.engine import make_sessionmaker
from storage.models import OutboxMessage, Recipient
from storage.outbox import OutboxStore
from tests.schedule import Recorder, outbox, seed_club
from tests.schedule.test_dispatch import Naps, busiest_second, notes

ANN = "ann@club.run"


class Platform(Recorder):
    """A chat platform double with a name, published limits and the addresses it finds."""

    def __init__(
        self, clock: FakeClock, platform: str, limits: Limits, finds: int | None = None
    ) -> None:
        super().__init__(clock)
        self.platform = platform
        self.limits = limits
        self.finds = finds  # notes to p<n>@club.run with n % 2 == finds

    async def reaches_by_email(self, email: str) -> bool:
        number = int(email.split("@")[0].removeprefix("p") or 0) if email[1:2].isdigit() else 0
        return self.finds is None or number % 2 == self.finds


def two_platforms(clock: FakeClock) -> tuple[Platform, Platform]:
    slack = Platform(clock, "slack", Limits(per_second=5.0, per_recipient=1.0), finds=0)
    discord = Platform(clock, "discord", Limits(per_second=20.0), finds=1)
    return slack, discord


def dispatch(app: App, router: Router, clock: FakeClock) -> Dispatcher:
    return Dispatcher(OutboxStore(make_sessionmaker(app.engine)), clock, router, sleep=Naps(clock))


async def test_item_03_the_router_paces_each_platform_to_its_own_limits(
    app: App, clock: FakeClock
) -> None:
    slack, discord = two_platforms(clock)
    d = dispatch(app, Router([slack, discord]), clock)
    await notes(app, 80)
    t0 = clock.now()
    while await d.run_once(wait=True):
        pass
    assert len(slack.sent) == len(discord.sent) == 40
    assert {s.to for s in slack.sent} == {f"p{i}@club.run" for i in range(0, 80, 2)}
    assert busiest_second([s.at for s in slack.sent]) <= 5
    assert busiest_second([s.at for s in discord.sent]) <= 20
    # one message at a time: both together take as long as the slower platform's share
    assert clock.now() - t0 >= timedelta(seconds=39 * 1.01 / 4)
    assert all(r.status == "sent" for r in await outbox(app))


async def test_item_03_posts_to_one_slack_conversation_are_a_second_apart(
    app: App, clock: FakeClock
) -> None:
    slack = Platform(clock, "slack", Limits(per_second=5.0, per_recipient=1.0))
    d = dispatch(app, Router([slack]), clock)
    now = clock.now()
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "key": f"same:{i}",
                    "kind": "note",
                    "email": "p0@club.run",
                    "text": f"same {i}",
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for i in range(3)
            ],
        )
    await notes(app, 2, prefix="other")
    await d.run_once(wait=True)
    same = [s.at for s in slack.sent if s.message.text.startswith("same")]
    # a second apart, and the 10 % margin for sends that reach Slack out of step
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(same)]
    assert gaps == [pytest.approx(1.1), pytest.approx(1.1)]


class Opening(Platform):
    """Slack as bench/burst.py found it: a DM's conversation is learnt by sending to it
    (opened first, which takes `opening` seconds of the clock), and the conversation is
    the key of its one-message-a-second spacing from then on (`conversation`)."""

    def __init__(self, clock: FakeClock, opening: float) -> None:
        super().__init__(clock, "slack", Limits(per_second=5.0, per_recipient=1.0))
        self.opening = opening
        self.opened: dict[str, str] = {}

    def conversation(self, message: Outgoing) -> str | None:
        return self.opened.get(message.email or "")

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        to = message.email or ""
        if to not in self.opened:
            self.clock.advance(timedelta(seconds=self.opening))  # conversations.open
            self.opened[to] = f"D-{to}"
        await super().send(message, nonce=nonce)


async def test_an_answer_in_a_dm_just_opened_waits_a_second_after_the_dm_arrived(
    app: App, clock: FakeClock
) -> None:
    """The daily DM opened its conversation (reserved under the person's key) and the
    athlete answers at once: the bot's answer in that conversation is posted a second
    after Slack took the DM (with the margin), not after the DM's slot (a 429 from Slack)."""
    slack = Opening(clock, opening=0.4)
    router = Router([slack])
    await notes(app, 1)
    await dispatch(app, router, clock).run_once(wait=True)
    [dm] = slack.sent
    answered: list[float] = []

    async def answer() -> None:
        answered.append((clock.now() - dm.at).total_seconds())

    to = f"channel:{slack.opened['p0@club.run']}"
    await send_now(router.throttle("slack"), clock, Naps(clock), answer, to=to)
    assert answered == [pytest.approx(1.1)]  # a second, and the 10 % out-of-step margin


async def test_item_03_a_429_on_slack_leaves_discord_sending(app: App, clock: FakeClock) -> None:
    slack, discord = two_platforms(clock)
    slack.fail = lambda m: SendError("429", retry_after=30) if len(slack.attempts) == 1 else None
    router = Router([slack, discord])
    d = dispatch(app, router, clock)
    await notes(app, 10)
    t0 = clock.now()
    # the console's and tests' rounds never wait: Slack's rows go back until it is free
    sent = await d.run_once()
    assert [m.email for m in sent] == [f"p{i}@club.run" for i in (1, 3, 5, 7, 9)]
    assert len(slack.attempts) == 1  # no second request to Slack before Retry-After ends
    assert router.throttle("slack").held_until(t0) == t0 + timedelta(seconds=30)
    assert router.throttle("discord").held_until(t0) is None
    assert d.paused_until is None  # Discord is free: the dispatcher is not paused
    rows = {r.email: r for r in await outbox(app)}
    assert {rows[f"p{i}@club.run"].due_at for i in (0, 2, 4, 6, 8)} == {t0 + timedelta(seconds=30)}
    # a waiting round: Discord goes on while Slack's rows wait out the Retry-After
    await notes(app, 10, prefix="later")
    slack.fail = lambda m: SendError("429", retry_after=30) if len(slack.attempts) == 2 else None
    t1 = clock.now()
    await d.run_once(wait=True)
    later_discord = [s.at for s in discord.sent if s.message.text.startswith("later")]
    later_slack = [s.at for s in slack.sent if s.message.text.startswith("later")]
    assert len(later_discord) == len(later_slack) == 5
    assert max(later_discord) < t1 + timedelta(seconds=2)  # not held up by Slack's 30 s
    assert min(later_slack) >= t1 + timedelta(seconds=30)
    clock.advance(timedelta(seconds=30))
    await d.drain()
    assert all(r.status == "sent" for r in await outbox(app))
    assert len({s.nonce for s in slack.sent + discord.sent}) == 20  # no duplicate


async def test_item_03_unreachable_is_recorded_under_the_platform_used(
    app: App, clock: FakeClock
) -> None:
    seeded = await seed_club(
        app, clock.now(), zone="UTC", athletes=[ANN], on_plan=[], plan_start=date(2027, 1, 4)
    )
    ann = seeded.accounts[ANN]
    slack, discord = two_platforms(clock)
    slack.finds = None
    discord.fail = lambda m: SendError("blocked", permanent=True)

    async def identities(account_id: int) -> list[tuple[str, str, str]]:
        return [("discord", "G1", "42"), ("slack", "T1", "U42")]

    d = dispatch(app, Router([discord, slack], identities), clock)
    await d.drain()  # what seeding queued
    for key in ("first", "second"):
        now = clock.now()
        async with app.sessions() as session, session.begin():
            session.add(
                OutboxMessage(
                    key=key,
                    kind="note",
                    account_id=ann,
                    text=key,
                    due_at=now,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
            )
        await d.run_once()
    async with app.sessions() as session:
        marks = (await session.execute(select(Recipient.platform, Recipient.account_id))).all()
    assert [tuple(m) for m in marks] == [("discord", ann)]  # not "router", not Slack
    # Discord refused her for good; Slack still reaches her
    assert [s.message.text for s in slack.sent if s.message.account_id == ann] == ["second"]
    rows = {r.key: r.status for r in await outbox(app) if r.key in ("first", "second")}
    assert rows == {"first": "failed", "second": "sent"}


def test_item_03_a_router_needs_a_way_out() -> None:
    with pytest.raises(ValueError):
        Router([])
    assert Router([Recorder(FakeClock())]).rate == 0.0  # a double with no limits: unpaced
