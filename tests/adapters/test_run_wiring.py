"""Issue 12 item 3: `coachbot run` paces real sends. The app is wired by the very function
`coachbot run` uses (`bot.cli.platform_senders` into `bootstrap(senders=...)`), with the
real Slack and Discord front ends and senders talking to the local doubles, which
enforce the platforms' limits on the test's clock and answer 429 beyond them. The
dispatcher's sleep moves that clock (`Naps`), so every pace is measured, never slept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import App, bootstrap
from bot.cli import platform_senders
from bot.clock import FakeClock
from bot.ports import FrontEnd
from bot.schedule.dispatcher import Dispatcher
from storage.models import OutboxMessage
from tests.adapters.crash import seed_due_dms
from tests.adapters.discord.conftest import no_wait
from tests.adapters.discord.double import GLOBAL_LIMIT, DiscordDouble
from tests.adapters.slack.double import TEAM, SlackDouble, SlackLimits
from tests.adapters.wiring import both_platforms, serving
from tests.schedule.test_dispatch import Naps


@dataclass
class Running:
    app: App
    slack: SlackDouble
    discord: DiscordDouble
    clock: FakeClock
    db_url: str

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app.scheduling.dispatcher


@asynccontextmanager
async def coachbot_run(db_url: str, clock: FakeClock) -> AsyncIterator[Running]:
    """Both platforms as `coachbot run` wires them, against doubles that enforce Slack's
    per-channel, workspace and Tier 3 limits and Discord's global 50 a second."""
    stamp = lambda: clock.now().timestamp()  # noqa: E731 - the doubles' clock
    slack = SlackDouble(limits=SlackLimits(chat_per_minute=300), now=stamp)
    rest = DiscordDouble(global_limit=GLOBAL_LIMIT, now=stamp)
    await slack.start()
    await rest.start()
    settings = both_platforms(db_url, slack.api_url, rest.api_url, rest.gateway_url)
    fronts: list[FrontEnd] = []
    senders = platform_senders(settings, fronts, guild_ready_timeout=0.05, sleep=no_wait)
    app = await bootstrap(db_url, clock=clock, migrate=False, senders=senders)
    try:
        async with serving(fronts, within=10.0):
            app.scheduling.dispatcher.sleep = Naps(clock)
            clock.advance(timedelta(seconds=1))  # start-up's requests leave Discord's window
            yield Running(app, slack, rest, clock, db_url)
    finally:
        await app.close()
        await slack.stop()
        await rest.stop()


@dataclass(frozen=True)
class Person:
    account_id: int
    platform: str
    channel: str  # their DM channel, where their messages must land


async def seed(run: Running, platforms: Sequence[str]) -> list[Person]:
    """One person per entry of `platforms`, linked there only, each with a DM due now."""
    where: list[tuple[str, str]] = []

    def link(i: int) -> tuple[str, str, str, str]:
        if platforms[i] == "slack":
            user = f"U{i:04d}"
            run.slack.add_user(user, f"k{i}@club.run", f"k{i}")
            where.append(("slack", f"D{user}"))
            return "slack", TEAM, user, "created"
        user = str(run.discord.add_user(f"k{i}")["id"])
        where.append(("discord", str(run.discord.dm_channel(int(user)))))
        return "discord", "", user, "created"

    rows = await seed_due_dms(run.db_url, len(platforms), link, now=run.clock.now())
    async with run.app.sessions() as session:
        query = select(OutboxMessage.id, OutboxMessage.account_id)
        account_of = {row_id: account for row_id, account in await session.execute(query)}
    return [Person(account_of[r], p, c) for r, (p, c) in zip(rows, where, strict=True)]


async def due(run: Running, messages: Sequence[tuple[int, str]]) -> None:
    """(account, text) DMs due now, in this order (the order a batch claims them in)."""
    now = run.clock.now()
    async with run.app.sessions() as session, session.begin():
        for account_id, text in messages:
            session.add(
                OutboxMessage(
                    key=f"wiring:{text}",
                    kind="note",
                    text=text,
                    account_id=account_id,
                    due_at=now,
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
            )
            await session.flush()


def busiest(times: Sequence[float], seconds: float) -> int:
    """The most requests in any window of `seconds`."""
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + seconds) for i, start in enumerate(ordered)),
        default=0,
    )


def delivered(run: Running) -> Counter[str]:
    """Messages each DM channel received, on either platform."""
    slack = Counter(str(post["channel"]) for post in run.slack.posts())
    return slack + Counter(str(m["channel_id"]) for m in run.discord.created)


def counted(run: Running, since: int) -> list[float]:
    """When each request Discord's global limit counts (after the first `since`) came."""
    exempt = ("/interactions/", "/webhooks/")
    return [c.at for c in run.discord.calls[since:] if not c.path.startswith(exempt)]


async def statuses(run: Running) -> Counter[str]:
    async with run.app.sessions() as session:
        return Counter((await session.scalars(select(OutboxMessage.status))).all())


async def test_item_03_coachbot_run_paces_real_sends_to_each_platforms_limits(
    db_url: str, clock: FakeClock
) -> None:
    async with coachbot_run(db_url, clock) as run:
        # Discord's 60 first (their rows come first), then Slack's 60: every one of the
        # 120 a first contact, so each Discord DM costs two requests (its channel opened,
        # then the message) and each Slack DM a conversations.open from Slack's Tier 3
        people = await seed(run, ["discord"] * 60 + ["slack"] * 60)
        t0, before = clock.now(), len(run.discord.calls)
        while await run.dispatcher.run_once(wait=True):
            pass
        assert await statuses(run) == {"sent": 120}
        assert delivered(run) == Counter(p.channel for p in people)  # each once, no one twice
        # the doubles never had to refuse a request: the pace kept under their limits
        assert run.slack.limited == [] and run.discord.limited == []
        requests = counted(run, before)
        assert len(requests) == 120 and busiest(requests, 1.0) <= GLOBAL_LIMIT
        # ...and it did wait for them: 120 requests take more than 70 / 50 seconds
        assert max(requests) - min(requests) >= (120 - GLOBAL_LIMIT) / GLOBAL_LIMIT
        opens = [c.at for c in run.slack.calls_to("conversations.open")]
        assert len(opens) == 60 and busiest(opens, 60.0) <= 50
        assert clock.now() - t0 >= timedelta(seconds=60)  # the 51st open waited its minute


async def test_item_03_a_429_on_one_platform_leaves_the_other_sending(
    db_url: str, clock: FakeClock
) -> None:
    async with coachbot_run(db_url, clock) as run:
        people = await seed(run, ["slack", "discord"] * 4)
        run.slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
        t0 = clock.now().timestamp()
        # `coachbot run`'s waiting round: Discord goes on while Slack waits out its 30 s
        await run.dispatcher.run_once(wait=True)
        assert await statuses(run) == {"sent": 8}
        posts = run.slack.calls_to("chat.postMessage")
        assert [c.ok for c in posts] == [False, True, True, True, True]
        assert all(c.at >= t0 + 30 for c in posts[1:])  # not one request during the hold
        to_discord = [c for c in run.discord.calls if c.path.endswith("/messages")]
        assert len(to_discord) == 4 and max(c.at for c in to_discord) < t0 + 5

        # and the other way round, in a round that never waits (the console's, `@tick`)
        await due(
            run, [(p.account_id, f"Later for {p.platform} {i}") for i, p in enumerate(people[:4])]
        )
        run.discord.fail(
            "POST",
            r"/channels/\d+/messages",
            429,
            {"message": "You are being rate limited.", "retry_after": 60.0, "global": False},
            headers={"Via": "1.1 google", "Retry-After": "60"},
        )
        t1 = clock.now()
        sent = await run.dispatcher.run_once()
        router = run.dispatcher.router
        assert router.throttle("discord").held_until(t1) == t1 + timedelta(seconds=60)
        assert router.throttle("slack").held_until(t1) is None
        assert sorted(m.text for m in sent) == ["Later for slack 0", "Later for slack 2"]
        clock.advance(timedelta(seconds=60))
        assert len(await run.dispatcher.run_once()) == 2  # Discord's, once its hold ended
        assert await statuses(run) == {"sent": 12}
