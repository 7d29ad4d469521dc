"""Step 3 of the schedule benchmark: the outbox sent the way `coachbot run` sends it.

The app is wired by the function `coachbot run` uses (`bot.cli.platform_senders` into
`bootstrap(senders=...)`): the real Slack and Discord front ends and senders behind one
Router, each platform paced by its sender's throttle. Its dispatcher's production loop
(`Dispatcher.serve`) sends to the test suite's local Slack and Discord doubles
(tests/adapters/*/double.py), served from a process of their own on real time and
enforcing the platforms' limits, with a 429 and Retry-After beyond them: Slack one
message a second per channel, 300 chat.postMessage a minute per workspace (Slack
publishes no figure: the sender's own) and 50 conversations.open a minute (Tier 3);
Discord 50 requests a second, DM-channel opens included, interaction answers exempt.

Recipients: the kept daily DMs' accounts, each linked to one platform — a Slack user of
the double's workspace or a Discord user — spread evenly in the order the outbox is
claimed (`slack_share` of them on Slack). Warm by default: "yesterday's" DM has gone to
each (a warm-up through the same senders with the doubles' limits off, not measured),
so each sender knows every DM channel, as a bot running for a day does. Cold: a fresh
process, every DM opening its conversation first.

Ceilings, per platform, from what its messages cost (requests per message, measured):
its own — Slack 5 messages a second, or 50 a minute when each opens a conversation;
Discord 50 requests a second over its requests per message — and what the mix allows:
the outbox is sent in order, one message after another, so each platform's share goes
only as fast as the slowest platform allows for its own share; the whole mix at
min(own ceiling / share), each platform at its share of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.measure import Statements, analyze, counting, rss_mib
from bot.bootstrap import bootstrap
from bot.cli import platform_senders
from bot.messages import Outgoing, Via
from bot.ports import FrontEnd
from bot.schedule.dispatcher import Dispatcher
from bot.schedule.routing import Router
from storage.engine import make_engine, make_sessionmaker
from storage.outbox import OutboxStore
from tests.adapters.discord.double import GLOBAL_LIMIT, DiscordDouble
from tests.adapters.slack.double import TEAM, SlackDouble, SlackLimits
from tests.adapters.wiring import both_platforms, serving

SLACK_LIMITS = SlackLimits(per_channel=1.0, chat_per_minute=300, opens_per_minute=50)
EXEMPT = ("/interactions/", "/webhooks/")  # not counted by Discord's global limit
DISCORD_BASE = 10**17  # Discord user ids of the benchmark: this plus the account id


def slack_user(account_id: int) -> str:
    return f"U{account_id}"


def discord_user(account_id: int) -> str:
    return str(DISCORD_BASE + account_id)


# -- the doubles, in a process of their own -------------------------------------------------


@dataclass
class Marks:
    """Where the measured part begins in the doubles' records."""

    slack_calls: int = 0
    slack_limited: int = 0
    discord_calls: int = 0
    discord_limited: int = 0
    created: int = 0


def run_doubles(slack_users: list[str], out: Any) -> None:
    """The Slack and Discord doubles with their limits, and a control endpoint: /limits
    (on=1 or 0), /mark (measure from here), /stats (brief=1: counts only), /quit."""
    asyncio.run(_doubles(slack_users, out))


async def _doubles(slack_users: list[str], out: Any) -> None:
    slack = SlackDouble(limits=SLACK_LIMITS)
    rest = DiscordDouble(global_limit=GLOBAL_LIMIT)
    for user in slack_users:
        slack.add_user(user, None, user.lower())
    created_at: list[float] = []  # when each Discord message was created

    async def stamp(message: dict[str, Any]) -> None:
        created_at.append(time.monotonic())

    rest.after_create = stamp
    marks = Marks()
    done = asyncio.Event()

    async def limits(request: web.Request) -> web.Response:
        on = request.query.get("on") == "1"
        slack.set_limits(SLACK_LIMITS if on else None)
        rest.set_global_limit(GLOBAL_LIMIT if on else None)
        return web.json_response({"on": on})

    async def mark(request: web.Request) -> web.Response:
        nonlocal marks
        marks = Marks(
            len(slack.calls),
            len(slack.limited),
            len(rest.calls),
            len(rest.limited),
            len(rest.created),
        )
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        found = measured(slack, rest, created_at, marks)
        if request.query.get("brief"):
            for platform in found.values():
                platform.pop("received")
        return web.json_response(found)

    async def quit_(request: web.Request) -> web.Response:
        done.set()
        return web.json_response({"ok": True})

    await slack.start()
    await rest.start()
    control = web.Application()
    control.add_routes(
        [
            web.post("/limits", limits),
            web.post("/mark", mark),
            web.get("/stats", stats),
            web.post("/quit", quit_),
        ]
    )
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    out.put(
        {
            "slack": slack.api_url,
            "discord": rest.api_url,
            "gateway": rest.gateway_url,
            "control": f"http://127.0.0.1:{port}",
        }
    )
    await done.wait()
    await runner.cleanup()
    await slack.stop()
    await rest.stop()


def measured(
    slack: SlackDouble, rest: DiscordDouble, created_at: list[float], marks: Marks
) -> dict[str, dict[str, Any]]:
    """What each double received since the mark: messages accepted (`received`: the
    DM channels on Slack, the nonces — outbox row ids — on Discord), requests, 429s."""
    calls = slack.calls[marks.slack_calls :]
    posts = [c for c in calls if c.method == "chat.postMessage"]
    accepted = [c for c in posts if c.ok]
    channels = Counter(str(c.args.get("channel")) for c in accepted)
    opens = [c for c in calls if c.method == "conversations.open"]
    made = rest.created[marks.created :]
    nonces = Counter(str(m.get("nonce")) for m in made)
    counted = [c for c in rest.calls[marks.discord_calls :] if not c.path.startswith(EXEMPT)]
    return {
        "slack": {
            "messages": len(channels),
            "duplicates": sum(n - 1 for n in channels.values()),
            "requests": len(posts) + len(opens),
            "opens": sum(1 for c in opens if c.ok),
            "limited": len(slack.limited) - marks.slack_limited,
            "last": max((c.at for c in accepted), default=0.0),
            "received": sorted(channels),
        },
        "discord": {
            "messages": len(nonces),
            "duplicates": sum(n - 1 for n in nonces.values()),
            "requests": len(counted),
            "opens": sum(1 for c in counted if c.path == "/users/@me/channels"),
            "limited": len(rest.limited) - marks.discord_limited,
            "last": max(created_at[marks.created :], default=0.0),
            "received": sorted(nonces),
        },
    }


# -- the bot process ------------------------------------------------------------------------


class ShiftedClock:
    """Real time, moved to the benchmark's Tuesday (the rows are due then)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.origin = time.time()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.origin)


@dataclass
class Work:
    """What the dispatchers did, summed."""

    statements: Statements = field(default_factory=Statements)
    render_s: float = 0.0
    send_s: float = 0.0
    renders: int = 0
    cpu_s: float = 0.0


@dataclass
class Platform:
    """One platform's share of a run."""

    name: str
    messages: int
    seconds: float
    requests: int
    opens: int
    limited: int
    duplicates: int
    lost: int
    own: float = 0.0  # its ceiling alone, messages a second
    mix: float = 0.0  # its ceiling in this mix

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else 0.0

    @property
    def met(self) -> bool:
        return self.rate >= 0.9 * self.mix and self.duplicates == self.lost == 0


@dataclass
class Dispatched:
    messages: int
    seconds: float
    platforms: list[Platform]
    statuses: dict[str, int]
    unsent: int  # still pending or leased when the time limit stopped the run
    timed_out: bool
    warm: bool
    work: Work
    rss: float


async def keep_due(engine: AsyncEngine, messages: int) -> None:
    """Keep `messages` of the planned daily DMs (spread over the org zones), drop the rest."""
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            "DELETE FROM outbox WHERE id NOT IN (SELECT id FROM outbox WHERE kind = 'daily' "
            f"ORDER BY account_id % 97, id LIMIT {messages})"
        )
    await analyze(engine)


async def link_recipients(engine: AsyncEngine, slack_share: float) -> dict[str, list[int]]:
    """Each kept DM's account linked to one platform only, `slack_share` of them to Slack,
    spread evenly in claiming order; the accounts of each platform."""
    async with engine.begin() as conn:
        rows = (
            await conn.exec_driver_sql("SELECT account_id FROM outbox ORDER BY due_at, id")
        ).all()
        linked: dict[str, list[int]] = {"slack": [], "discord": []}
        for i, (account_id,) in enumerate(rows):
            on_slack = math.floor((i + 1) * slack_share) > math.floor(i * slack_share)
            linked["slack" if on_slack else "discord"].append(int(account_id))
        await conn.exec_driver_sql(
            "DELETE FROM chat_identities WHERE account_id IN (SELECT account_id FROM outbox)"
        )
        identities = [
            {"a": a, "p": "slack", "s": TEAM, "u": slack_user(a)} for a in linked["slack"]
        ] + [{"a": a, "p": "discord", "s": "", "u": discord_user(a)} for a in linked["discord"]]
        if identities:
            await conn.execute(
                text(
                    "INSERT INTO chat_identities (account_id, platform, space_id, user_id, proof) "
                    "VALUES (:a, :p, :s, :u, 'created')"
                ),
                identities,
            )
    await analyze(engine)
    return linked


async def warm_up(router: Router, linked: dict[str, list[int]]) -> None:
    """Yesterday's DM to everyone, through the same senders: each then knows the DM
    channel of each of its recipients, as after a day of `coachbot run`."""
    turns = asyncio.Semaphore(16)

    async def one(platform: str, account_id: int) -> None:
        async with turns:
            message = Outgoing(Via.DM, "Yesterday's session", account_id=account_id)
            await router.lanes[platform].sender.send(message, nonce=f"w{account_id}")

    await asyncio.gather(*(one(p, a) for p, accounts in linked.items() for a in accounts))


def timed(dispatcher: Dispatcher, work: Work) -> None:
    """Add up the time `dispatcher` spends rendering and sending (the instance only)."""
    render, send = dispatcher._render_batch, dispatcher._send

    async def render_batch(rows: Any) -> Any:
        work.renders += len(rows)
        started = time.perf_counter()
        try:
            return await render(rows)
        finally:
            work.render_s += time.perf_counter() - started

    async def send_one(row: Any, message: Any, lane: Any) -> Any:
        started = time.perf_counter()
        try:
            return await send(row, message, lane)
        finally:
            work.send_s += time.perf_counter() - started

    dispatcher._render_batch = render_batch  # type: ignore[method-assign]
    dispatcher._send = send_one  # type: ignore[method-assign]


async def control(http: aiohttp.ClientSession, url: str, verb: str, **query: str) -> Any:
    method = http.get if verb == "stats" else http.post
    async with method(f"{url}/{verb}", params=query) as response:
        return await response.json()


async def bench_dispatch(
    url: str,
    at: datetime,
    *,
    messages: int,
    slack_share: float,
    warm: bool,
    dispatchers: int,
    idle: float,
) -> Dispatched:
    """Step 3 (see the module doc): `messages` daily DMs due at `at`, sent by
    `dispatchers` dispatchers (bootstrap's, and more sharing its Router)."""
    setup = make_engine(url)
    try:
        await keep_due(setup, messages)
        linked = await link_recipients(setup, slack_share)
    finally:
        await setup.dispose()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    slack_users = [slack_user(a) for a in linked["slack"]]
    doubles = context.Process(target=run_doubles, args=(slack_users, out), daemon=True)
    doubles.start()
    where: dict[str, str] = await asyncio.to_thread(out.get, True, 60)
    try:
        return await _dispatch(url, at, where, linked, warm, dispatchers, idle)
    finally:
        async with aiohttp.ClientSession() as http:
            with contextlib.suppress(aiohttp.ClientError):
                await control(http, where["control"], "quit")
        doubles.join(timeout=10)


async def _dispatch(
    url: str,
    at: datetime,
    where: dict[str, str],
    linked: dict[str, list[int]],
    warm: bool,
    dispatchers: int,
    idle: float,
) -> Dispatched:
    settings = both_platforms(url, where["slack"], where["discord"], where["gateway"])
    fronts: list[FrontEnd] = []
    senders = platform_senders(settings, fronts, guild_ready_timeout=0.1)
    app = await bootstrap(url, clock=ShiftedClock(at), migrate=False, senders=senders)
    work = Work()
    try:
        async with serving(fronts), aiohttp.ClientSession() as http:
            router = app.scheduling.dispatcher.router
            extra = [make_engine(url) for _ in range(dispatchers - 1)]
            workers = [app.scheduling.dispatcher] + [
                Dispatcher(OutboxStore(make_sessionmaker(e)), app.core.clock, router) for e in extra
            ]
            if warm:
                await control(http, where["control"], "limits", on="0")
                await warm_up(router, linked)
                await control(http, where["control"], "limits", on="1")
            await control(http, where["control"], "mark")
            engines = [app.engine, *extra]
            engines += [
                w.store.readers.kw["bind"] for w in workers if w.store.readers.kw.get("bind")
            ]
            with contextlib.ExitStack() as taps:
                seen = [taps.enter_context(counting(e)) for e in dict.fromkeys(engines)]
                for worker in workers:
                    timed(worker, work)
                total = sum(len(accounts) for accounts in linked.values())
                cpu, started = time.process_time(), time.monotonic()
                tasks = [asyncio.create_task(w.serve(idle=idle)) for w in workers]
                timed_out = await until_received(http, where["control"], total, started)
                await asyncio.gather(*(w.stop() for w in workers))
                await asyncio.gather(*tasks)
                work.cpu_s = time.process_time() - cpu
                for statements in seen:
                    work.statements.add(statements)
            stats = await control(http, where["control"], "stats")
            async with app.engine.connect() as conn:
                rows = (
                    await conn.exec_driver_sql("SELECT id, account_id, status FROM outbox")
                ).all()
            for engine in extra:
                await engine.dispose()
    finally:
        await app.close()
    return result(rows, stats, linked, started, timed_out, warm, work)


async def until_received(http: aiohttp.ClientSession, url: str, total: int, started: float) -> bool:
    """Poll the doubles until every message arrived; True if the time limit came first."""
    deadline = started + max(180.0, 3 * total)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        stats = await control(http, url, "stats", brief="1")
        if sum(p["messages"] for p in stats.values()) >= total:
            return False
    return True


def result(
    rows: Any,
    stats: dict[str, Any],
    linked: dict[str, list[int]],
    started: float,
    timed_out: bool,
    warm: bool,
    work: Work,
) -> Dispatched:
    statuses = Counter(str(status) for _, _, status in rows)
    platform_of = {a: p for p, accounts in linked.items() for a in accounts}
    settled = [(i, a) for i, a, status in rows if status not in ("pending", "sending")]
    slack_got = set(stats["slack"]["received"])
    discord_got = set(stats["discord"]["received"])
    lost = Counter(
        platform_of[a]
        for i, a in settled
        if (platform_of[a] == "slack" and f"D{slack_user(a)}" not in slack_got)
        or (platform_of[a] == "discord" and str(i) not in discord_got)
    )
    platforms = []
    for name, got in stats.items():
        if not linked[name]:
            continue
        platforms.append(
            Platform(
                name,
                messages=got["messages"],
                seconds=max(got["last"] - started, 0.0),
                requests=got["requests"],
                opens=got["opens"],
                limited=got["limited"],
                duplicates=got["duplicates"],
                lost=lost[name],
            )
        )
    ceilings(platforms)
    last = max((p.seconds for p in platforms), default=0.0)
    return Dispatched(
        messages=len(rows),
        seconds=last,
        platforms=platforms,
        statuses=dict(statuses),
        unsent=len(rows) - len(settled),
        timed_out=timed_out,
        warm=warm,
        work=work,
        rss=rss_mib(),
    )


def ceilings(platforms: list[Platform]) -> None:
    """Each platform's ceiling alone, from what its messages cost, and in the mix."""
    total = sum(p.messages for p in platforms)
    for p in platforms:
        if p.name == "slack":
            chat = (SLACK_LIMITS.chat_per_minute or 0) / 60
            opens = SLACK_LIMITS.opens_per_minute / 60 / (p.opens / p.messages) if p.opens else chat
            p.own = min(chat, opens)
        else:
            accepted = p.requests - p.limited
            p.own = GLOBAL_LIMIT * p.messages / accepted if accepted else GLOBAL_LIMIT
    whole = min((p.own * total / p.messages for p in platforms if p.messages), default=0.0)
    for p in platforms:
        p.mix = whole * p.messages / total if total else 0.0
