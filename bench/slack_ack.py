"""Time to acknowledge a Slack slash command: coachbot's app beside a bare slack-bolt app.

    .venv/bin/python -m bench.slack_ack [--requests N] [--concurrency 20] [--rounds R]
                                        [--store sqlite|postgres] [--json]

1. **Servers** (a child process, as in production: nothing else in its event loop): the
   real Slack front end (`adapters.slack.build_slack`) on a fresh database with a seeded
   club (a head coach and 40 athletes, linked through Slack identities), and a bare
   `slack_bolt.AsyncApp` whose one listener acknowledges any command and does nothing,
   served through the same aiohttp adapter, the same signing secret and the same Web API
   double. Both listen on loopback ports.
2. **Slack** (a second child process): the project's Web API double
   (`tests/adapters/slack/double.py`: auth.test, users.info, the `response_url` endpoint).
   **Load** (this process): signed slash commands (`X-Slack-Signature` over the body with
   the signing secret), `--concurrency` in flight at once, each timed from the request
   to the acknowledgement (the HTTP response). coachbot gets real commands from random
   athletes (`/today`, `/week`, `/profile`, `/activities`, `/my-plan`, `/help`), whose
   work continues after the ack in the same process — that is what the ack has to hold
   up under. The two apps are measured in alternating rounds so both see the same
   machine.
3. **Report**: p50 / p90 / p99 / max of the ack time per app, and the ratio of the p99s.
   Every command must also have been answered through `response_url` by the end.

Targets (the issue): p99 <= 100 ms, and p99 <= 1.5x the bare app's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

ATHLETES = 40
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("/today", "/week", "/profile", "/activities", "/my-plan", "/help")


# -- the servers (child process) -----------------------------------------------------------


async def serve(api_url: str, database_url: str, workers: int) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack import build_slack
    from bot.bootstrap import bootstrap
    from bot.commands.base import Caller
    from bot.config import Settings
    from tests.adapters.slack.double import BOT_TOKEN, SIGNING_SECRET, TEAM

    app = await bootstrap(database_url)
    head = Caller("slack", "UHC", TEAM, "hc@bench.run", "hc")
    await app.core.handle(head, '/setup-org "Bench Club" tz:Europe/London')
    for n in range(ATHLETES):
        email = f"a{n:03d}@bench.run"
        await app.core.handle(head, f"/add-member {email}")
        await app.core.handle(Caller("slack", f"U{n:05d}", TEAM, email, f"a{n:03d}"), "/profile")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None,
        slack_api_url=api_url,
        http_host="127.0.0.1",
        http_port=3000,
    )
    ours = build_slack(settings, app, port=0)
    if workers:
        ours.bot.workers = asyncio.Semaphore(workers)
    await ours.start()

    bare_client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url)
    bare = AsyncApp(client=bare_client, signing_secret=SIGNING_SECRET)

    @bare.command(re.compile(r"^/.*"))
    async def noop(ack: Any) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bare.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bare_port = runner.addresses[0][1]
    print(f"READY {ours.url} http://127.0.0.1:{bare_port}/slack/events", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # until told
    await ours.stop()
    await runner.cleanup()
    await app.close()


# -- Slack's side (a second child process) --------------------------------------------------


async def slack_side() -> None:
    """The Web API double on its own, so answers arriving at `response_url` do not share
    an event loop with the load that times the acknowledgements."""
    from tests.adapters.slack.double import SlackDouble

    double = SlackDouble()
    await double.start()
    double.add_user("UHC", "hc@bench.run", "hc")
    for n in range(ATHLETES):
        double.add_user(f"U{n:05d}", f"a{n:03d}@bench.run", f"a{n:03d}")
    print(f"READY {double.api_url} {double.response_url('')}", flush=True)
    answered: set[str] = set()
    seen = 0

    def count() -> int:
        nonlocal seen
        answered.update(
            c.method for c in double.calls[seen:] if c.method.startswith("respond:ours")
        )
        seen = len(double.calls)
        return len(answered)

    loop = asyncio.get_running_loop()
    while (line := await loop.run_in_executor(None, sys.stdin.readline)).strip() != "quit":
        wanted = int(line.split()[1])  # "wait N": until N commands were answered
        await double.wait_for(lambda: count() >= wanted)  # noqa: B023 (awaited at once)
        print(count(), flush=True)
    await double.stop()


class Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str) -> tuple[Child, list[str]]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.slack_ack",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        child = cls(process)
        line = await child.ask(None)
        if not line.startswith("READY"):
            raise RuntimeError(f"{args[0]} did not start: {line!r}")
        return child, line.split()[1:]

    async def ask(self, line: str | None) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        if line is not None:
            self.process.stdin.write(f"{line}\n".encode())
            await self.process.stdin.drain()
        return (await self.process.stdout.readline()).decode().strip()

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"quit\n")
        await self.process.stdin.drain()
        await self.process.wait()


# -- the load (this process) ---------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class Load:
    def __init__(self, respond_base: str, http: aiohttp.ClientSession, concurrency: int) -> None:
        self.respond_base = respond_base
        self.http = http
        self.concurrency = concurrency
        self.sent = 0
        self.ours = 0

    def body(self, bare: bool) -> str:
        from tests.adapters.slack.double import TEAM, form

        self.sent += 1
        self.ours += 0 if bare else 1
        n = random.randrange(ATHLETES)
        key = f"{'bare' if bare else 'ours'}{self.sent}"
        return form(
            {
                "team_id": TEAM,
                "channel_id": f"DU{n:05d}",
                "channel_name": "directmessage",
                "user_id": f"U{n:05d}",
                "command": random.choice(COMMANDS),
                "text": "",
                "response_url": self.respond_base + key,
                "trigger_id": f"bench.{key}",
            }
        )

    async def run(self, url: str, requests: int, bare: bool) -> list[float]:
        from tests.adapters.slack.double import signed_headers

        timings: list[float] = []
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                body = self.body(bare)
                headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
                start = time.perf_counter()
                async with self.http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"HTTP {response.status} from {url}")
                timings.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return timings


def summary(timings: Sequence[float]) -> dict[str, float]:
    ms = [t * 1000 for t in timings]
    return {
        "n": len(ms),
        "p50": round(statistics.median(ms), 2),
        "p90": round(percentile(ms, 90), 2),
        "p99": round(percentile(ms, 99), 2),
        "max": round(max(ms), 2),
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    slack, (api_url, respond_base) = await Child.start("--slack")
    try:
        with tempfile.TemporaryDirectory(prefix="coachbot-bench-slack-") as tmp:
            database = args.database or f"sqlite+aiosqlite:///{tmp}/bench.db"
            servers, (ours_url, bare_url) = await Child.start(
                "--serve", api_url, database, str(args.workers)
            )
            try:
                connector = aiohttp.TCPConnector(limit=args.concurrency)
                async with aiohttp.ClientSession(connector=connector) as http:
                    load = Load(respond_base, http, args.concurrency)
                    await load.run(ours_url, args.concurrency * 5, bare=False)  # warm-up
                    await load.run(bare_url, args.concurrency * 5, bare=True)
                    ours: list[float] = []
                    bare: list[float] = []
                    per_round = max(1, args.requests // args.rounds)
                    for _ in range(args.rounds):
                        bare += await load.run(bare_url, per_round, bare=True)
                        ours += await load.run(ours_url, per_round, bare=False)
                    started = time.perf_counter()
                    async with asyncio.timeout(600):
                        answered = int(await slack.ask(f"wait {load.ours}"))
                    drain = time.perf_counter() - started
            finally:
                await servers.stop()
    finally:
        await slack.stop()
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "store": "postgresql" if args.database else "sqlite",
        "concurrency": args.concurrency,
        "workers": args.workers or "default",
        "coachbot": summary(ours),
        "bare_bolt": summary(bare),
        "answered": f"{answered}/{load.ours}",
        "drain_after_last_ack_s": round(drain, 2),
        "load_average": os.getloadavg()[0],
    }
    result["p99_ratio"] = round(result["coachbot"]["p99"] / result["bare_bolt"]["p99"], 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_ack", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="per app (default 2000)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10, help="alternations of the two apps")
    parser.add_argument("--database", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--workers", type=int, default=0, help="requests worked on at once after the ack"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--slack", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve", nargs=3, metavar=("API_URL", "DATABASE_URL", "WORKERS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.slack:
        asyncio.run(slack_side())
        return 0
    if args.serve:
        api_url, database_url, workers = args.serve
        asyncio.run(serve(api_url, database_url, int(workers)))
        return 0
    result = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['date']} on {result['machine']}, Python {result['python']}")
    print(f"store {result['store']}, {args.concurrency} concurrent signed slash commands")
    for name in ("coachbot", "bare_bolt"):
        s = result[name]
        print(
            f"  {name:9} n={s['n']}  p50 {s['p50']} ms  p90 {s['p90']} ms  "
            f"p99 {s['p99']} ms  max {s['max']} ms"
        )
    print(f"  p99 ratio {result['p99_ratio']} (target <= 1.5); coachbot p99 target <= 100 ms")
    print(
        f"  answered through response_url: {result['answered']} "
        f"(last ones {result['drain_after_last_ack_s']} s after the last ack)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
