"""The 06:00 burst, measured (issue 14 item 7). Not a test; never run by the suite.

    python -m bench.burst [--athletes 300] [--store sqlite|postgres] [--processes 1|3]
                          [--scale 1|10] [--minutes 0] [--json]

1. **Data** (`bench.burst_data`): `--athletes` athletes on plans, in three time zones
   whose 06:00 is the same instant (Berlin, Paris, Lagos: UTC+1 in early March), half
   on Slack and half on Discord, half of each with a DM channel the bot already knows.
   A fresh database each run: a SQLite file, or PostgreSQL
   (`COACHBOT_BENCH_BURST_POSTGRES_URL`, default `.../bench_burst`, created when missing).
2. **Platforms** (`bench.burst_doubles`, a process of their own): the test suite's Slack
   and Discord doubles enforcing the platforms' limits (times `--scale`).
3. **Bots**: `--processes` real `coachbot run` processes (`bench.burst_bot`: the
   production wiring, its clock frozen before the burst's 06:00 until the benchmark
   says go). With 3 (PostgreSQL): Slack requests round robin; Discord split by shards
   when this coachbot has COACHBOT_DISCORD_SHARDS, else all three log in with the one
   token (no sharding) and the double delivers gateway events to the newest session.
4. **Warm-up** (limits off, not measured): the warm athletes write an empty DM to the
   bot (a signed Slack event to every process; a Discord DM on the gateway).
5. **The burst**: the clock set to 05:59:59 local, everyone's daily DM falls due; the
   bot's own 30 s tick plans them and its dispatcher sends. Meanwhile 20 athletes a
   second, drawn from those whose DM has arrived, each answer `done` once through the
   front ends: on Slack a signed `message.im` event (ack: request to HTTP 200, timed
   here), on Discord a click on the DM's Done button (ack: INTERACTION_CREATE to the
   first interaction callback, timed by the double). The run lasts until every DM has
   arrived and every answer is answered, and at least `--minutes`. The bots' RSS is
   read from /proc every 5 s.
6. **Report** (`bench.burst_report`): time to deliver every DM against the ceiling the
   mix allows, acknowledgement percentiles, lateness (sent_at - due_at), duplicates and
   losses (the doubles' records against the outbox), RSS over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench import burst_data as data
from bench.burst_doubles import run_doubles
from bench.schedule import create_database
from bench.sending import control
from storage.engine import make_engine
from tests.adapters.discord.double import TOKEN
from tests.adapters.slack.double import BOT_TOKEN, SIGNING_SECRET, TEAM, signed_headers
from tests.adapters.wiring import free_port

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_burst"
REPLIES_PER_SECOND = 20.0
FROZEN = data.DUE - timedelta(minutes=5)  # the bots' clock until go
RSS_EVERY = 5.0


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    slack_url: str
    discord: bool
    log: Path


@dataclass
class Observed:
    """What the benchmark saw while the burst ran."""

    go_wall: float = 0.0
    offset: float = 0.0  # shifted clock minus wall clock, seconds
    slack_acks: list[float] = field(default_factory=list)
    slack_failed: int = 0
    replies: dict[str, int] = field(default_factory=lambda: {"slack": 0, "discord": 0})
    rss: list[tuple[float, list[float]]] = field(default_factory=list)  # (s after go, MiB)
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each bot over the run
    load: list[float] = field(default_factory=list)
    timed_out: bool = False
    seconds: float = 0.0


# -- the bot processes ------------------------------------------------------------------


def shards_supported() -> bool:
    from bot.config import Settings

    return "discord_shards" in Settings.model_fields


async def spawn_bots(
    url: str, where: dict[str, str], processes: int, scale: int, directory: Path
) -> list[Bot]:
    sharded = processes > 1 and shards_supported()
    bots = []
    for k in range(processes):
        port = free_port()
        env = {k_: v for k_, v in os.environ.items() if not k_.startswith("COACHBOT_")}
        env.update(
            PYTHONPATH=str(ROOT),
            COACHBOT_DATABASE_URL=url,
            COACHBOT_LOG_LEVEL="WARNING",
            COACHBOT_ADMIN_PORT="0",
            COACHBOT_SLACK_BOT_TOKEN=BOT_TOKEN,
            COACHBOT_SLACK_SIGNING_SECRET=SIGNING_SECRET,
            COACHBOT_SLACK_API_URL=where["slack"],
            COACHBOT_HTTP_HOST="127.0.0.1",
            COACHBOT_HTTP_PORT=str(port),
            COACHBOT_DISCORD_TOKEN=TOKEN,
            COACHBOT_DISCORD_API_URL=where["discord"],
            COACHBOT_DISCORD_GATEWAY_URL=where["gateway"],
            COACHBOT_BENCH_CLOCK=FROZEN.isoformat(),
            COACHBOT_BENCH_SCALE=str(scale),
        )
        if sharded:
            env["COACHBOT_DISCORD_SHARDS"] = f"{k}/{processes}"
        log = directory / f"bot{k}.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.burst_bot",
            env=env,
            cwd=directory,
            stdin=asyncio.subprocess.PIPE,
            stderr=log.open("wb"),
            stdout=asyncio.subprocess.DEVNULL,
        )
        bots.append(Bot(process, f"http://127.0.0.1:{port}/slack/events", True, log))
    return bots


async def until_ready(http: aiohttp.ClientSession, bots: list[Bot], where: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for bot in bots:
            if bot.process.returncode is not None:
                raise RuntimeError(f"a bot exited: {bot.log.read_text()[-2000:]}")
        up = 0
        for bot in bots:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.post(bot.slack_url, data=b"{}") as response:
                    up += response.status < 500
        async with http.get(f"{where['control']}/sessions") as response:
            sessions = json.loads(await response.text())
        if up == len(bots) and sessions["open"] >= 1 and sessions["synced"]:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the bots did not get ready within 120 s")


async def stop_bots(bots: list[Bot]) -> None:
    for bot in bots:
        if bot.process.returncode is None:
            bot.process.send_signal(signal.SIGTERM)
    for bot in bots:
        try:
            await asyncio.wait_for(bot.process.wait(), 60)
        except TimeoutError:
            bot.process.kill()
            await bot.process.wait()


def proc_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- Slack's side of the athletes ---------------------------------------------------------


def slack_event(athlete: int, text: str, key: str) -> str:
    user = data.slack_user(athlete)
    now = time.time()
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0COACH",
            "type": "event_callback",
            "event_id": f"Ev{key}",
            "event_time": int(now),
            "event": {
                "type": "message",
                "user": user,
                "channel": f"D{user}",
                "channel_type": "im",
                "text": text,
                "ts": f"{now:.6f}",
                "event_ts": f"{now:.6f}",
            },
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
    )


async def post_event(http: aiohttp.ClientSession, url: str, body: str) -> float | None:
    """Seconds from the request to Slack's HTTP 200 (None: not 200)."""
    headers = signed_headers(body, content_type="application/json")
    started = time.perf_counter()
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()
        ok = response.status == 200
    return time.perf_counter() - started if ok else None


async def warm_up(
    http: aiohttp.ClientSession, bots: list[Bot], where: dict[str, str], athletes: int, url: str
) -> None:
    """The warm athletes write to the bot once (limits off): an empty Slack DM to every
    process (each learns the channel; one records the event), a Discord DM on the
    gateway. Returns once every one of them is recorded as handled."""
    warm = [i for i in range(1, athletes + 1) if data.warm(i)]
    slack = [i for i in warm if data.on_slack(i)]
    discord = [i for i in warm if not data.on_slack(i)]
    turns = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        body = slack_event(i, "", f"warm{i}")
        async with turns:
            for bot in bots:
                await post_event(http, bot.slack_url, body)

    await asyncio.gather(*(one(i) for i in slack))
    for start in range(0, len(discord), 500):
        async with http.post(f"{where['control']}/warm", json=discord[start : start + 500]):
            pass
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                done = (
                    await conn.exec_driver_sql("SELECT count(*) FROM processed_events")
                ).scalar()
            if int(done or 0) >= len(warm):
                return
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    raise RuntimeError("the warm-up was not handled within 600 s")


# -- the burst ----------------------------------------------------------------------------


class Replies:
    """Athletes whose DM arrived answer `done` once each, at most 20 a second."""

    def __init__(self, http: aiohttp.ClientSession, bots: list[Bot], where: dict[str, str]):
        self.http = http
        self.slack_urls = [bot.slack_url for bot in bots]
        self.control = where["control"]
        self.pool: list[int] = []
        self.seen = 0
        self.sent = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.credit = 0.0
        self.rng = random.Random(7)

    async def fetch(self) -> int:
        async with self.http.get(f"{self.control}/delivered", params={"since": self.seen}) as r:
            new = await r.json()
        self.seen += len(new)
        self.pool += new
        return self.seen

    def tick(self, dt: float, observed: Observed) -> None:
        self.credit = min(self.credit + REPLIES_PER_SECOND * dt, 2.0)
        while self.credit >= 1 and self.pool:
            self.credit -= 1
            athlete = self.pool.pop(self.rng.randrange(len(self.pool)))
            task = asyncio.create_task(self.answer(athlete, observed))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def answer(self, athlete: int, observed: Observed) -> None:
        if data.on_slack(athlete):
            observed.replies["slack"] += 1
            url = self.slack_urls[self.sent % len(self.slack_urls)]
            self.sent += 1
            ack = await post_event(self.http, url, slack_event(athlete, "done", f"done{athlete}"))
            if ack is None:
                observed.slack_failed += 1
            else:
                observed.slack_acks.append(ack)
        else:
            observed.replies["discord"] += 1
            async with self.http.post(f"{self.control}/click", json=[athlete]):
                pass


async def sample(bots: list[Bot], observed: Observed) -> None:
    while True:
        rss = [proc_rss(bot.process.pid) for bot in bots]
        observed.rss.append((time.time() - observed.go_wall, rss))
        observed.load.append(os.getloadavg()[0])
        await asyncio.sleep(RSS_EVERY)


def estimate(athletes: int, scale: int) -> float:
    """Seconds the platforms need at least (Slack's opens dominate), for the time limit."""
    cold_slack = athletes // 4
    return 60.0 * cold_slack / (50 * scale) + athletes / (50 * scale) + 60


async def burst(
    http: aiohttp.ClientSession,
    bots: list[Bot],
    where: dict[str, str],
    athletes: int,
    scale: int,
    minutes: float,
) -> Observed:
    observed = Observed()
    await control(http, where["control"], "limits", on="1")
    await control(http, where["control"], "mark")
    observed.go_wall = time.time()
    shifted = data.DUE - timedelta(seconds=1)
    observed.offset = shifted.timestamp() - observed.go_wall
    for bot in bots:
        assert bot.process.stdin is not None
        bot.process.stdin.write(f"go {observed.go_wall!r} {shifted.isoformat()}\n".encode())
        await bot.process.stdin.drain()
    cpu = [proc_cpu(bot.process.pid) for bot in bots]
    sampler = asyncio.create_task(sample(bots, observed))
    replies = Replies(http, bots, where)
    deadline = observed.go_wall + 3 * estimate(athletes, scale) + 300
    last_fetch = 0.0
    answered_at: float | None = None
    try:
        previous = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if now - last_fetch >= 0.25:
                last_fetch = now
                await replies.fetch()
            replies.tick(now - previous, observed)
            previous = now
            everyone = replies.seen >= athletes and not replies.pool and not replies.tasks
            if everyone and answered_at is None:
                stats = await control(http, where["control"], "stats", brief="1")
                if stats["unanswered"] == 0:
                    answered_at = time.time()
            long_enough = time.time() - observed.go_wall >= minutes * 60
            if answered_at is not None and long_enough:
                break
            if time.time() > deadline:
                observed.timed_out = True
                break
            if any(bot.process.returncode is not None for bot in bots):
                raise RuntimeError("a bot process exited during the burst")
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    observed.cpu = [proc_cpu(bot.process.pid) - c for bot, c in zip(bots, cpu, strict=True)]
    observed.seconds = time.time() - observed.go_wall
    return observed


async def outbox_rows(url: str) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.exec_driver_sql(
                "SELECT id, account_id, status, due_at, sent_at, created_at FROM outbox "
                "WHERE kind = 'daily'"
            )
            return [tuple(row) for row in result.all()]
    finally:
        await engine.dispose()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from bench.burst_report import summarize

    with tempfile.TemporaryDirectory(prefix="coachbot-burst-") as tmp:
        directory = Path(tmp)
        if args.store == "sqlite":
            url = f"sqlite+aiosqlite:///{directory}/burst.db"
        else:
            url = os.environ.get("COACHBOT_BENCH_BURST_POSTGRES_URL", DEFAULT_POSTGRES)
            await create_database(url)
        built = await data.generate(url, args.athletes)
        print(f"  data: {args.athletes:,} athletes in {built:.1f} s", file=sys.stderr, flush=True)
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        doubles = context.Process(
            target=run_doubles, args=(args.athletes, args.scale, out), daemon=True
        )
        doubles.start()
        where: dict[str, str] = await asyncio.to_thread(out.get, True, 60)
        bots: list[Bot] = []
        connector = aiohttp.TCPConnector(limit=200)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                bots = await spawn_bots(url, where, args.processes, args.scale, directory)
                await until_ready(http, bots, where)
                await control(http, where["control"], "limits", on="0")
                started = time.monotonic()
                await warm_up(http, bots, where, args.athletes, url)
                print(
                    f"  ready; warm-up {time.monotonic() - started:.1f} s; the burst starts",
                    file=sys.stderr,
                    flush=True,
                )
                load_before = os.getloadavg()[0]
                observed = await burst(http, bots, where, args.athletes, args.scale, args.minutes)
                stats = await control(http, where["control"], "stats")
                await stop_bots(bots)
                rows = await outbox_rows(url)
                with contextlib.suppress(aiohttp.ClientError):
                    await control(http, where["control"], "quit")
        finally:
            await stop_bots(bots)
            for bot in bots:  # the bots log at WARNING: show what they said
                said = bot.log.read_text(errors="replace").splitlines()
                if said:
                    tail = "\n".join(said[-30:])
                    print(f"--- {bot.log.name}: {len(said)} lines ---\n{tail}", file=sys.stderr)
            doubles.join(timeout=10)
            if doubles.is_alive():
                doubles.terminate()
    return summarize(args, observed, stats, rows, load_before, shards_supported())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("--athletes", type=int, default=300)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--processes", type=int, choices=(1, 3), default=1)
    parser.add_argument("--scale", type=int, default=1, help="the platforms' limits times this")
    parser.add_argument(
        "--minutes", type=float, default=0.0, help="run at least this long (RSS over time)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.athletes < 4 or args.scale < 1:
        parser.error("--athletes must be at least 4 and --scale positive")
    if args.processes > 1 and args.store == "sqlite":
        parser.error("several processes share PostgreSQL (--store postgres)")
    result = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(result))
        return
    from bench.burst_report import markdown

    print(markdown(result))


if __name__ == "__main__":
    main()
