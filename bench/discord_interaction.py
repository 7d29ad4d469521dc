"""Time to answer a Discord slash command: coachbot's front end beside a bare discord.py
client calling the same core command.

    .venv/bin/python -m bench.discord_interaction [--rounds R] [--concurrency 20]
                                                  [--store sqlite|postgres] [--json]

1. **Discord** (this process): the project's Discord double
   (`tests/adapters/discord/double.py`: REST and gateway) with one guild and 41 users.
   A fresh database holds a seeded club: a head coach and 40 athletes on a plan, each
   linked to their Discord user.
2. **Clients** (one child process each, as in production — nothing else in their event
   loops): the real front end (`adapters.discord.build_discord`: command tree, deferral,
   typed options run by `Core.handle_command`, embeds), and a bare `discord.Client`
   whose `on_interaction` defers, calls `Core.handle` with the command's line and sends
   the reply's text as one follow-up.
   Both log in to the double (with different tokens), on the same database.
3. **Load** (this process): `--concurrency` INTERACTION_CREATE events at once on one
   client's gateway session, from random athletes, with commands that take no options
   (`/today`, `/week`, `/profile`, `/my-plan`, `/help`); each is timed from the moment
   the event is written to the websocket to the moment its follow-up (the final answer)
   reaches the double — the deferral does not count. A round ends when every one of them
   is answered; the two clients alternate rounds (same sequence of commands), after a
   warm-up round each.
4. **Report**: p50 / p90 / p99 / max per client, and the ratio of the p99s.

Target (the issue): coachbot's p99 <= 1.5 x the bare client's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ATHLETES = 40
ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("/today", "/week", "/profile", "/my-plan", "/help")
TOKENS = {"coachbot": "coachbot-bench-token", "bare": "bare-bench-token"}


# -- the clients (child processes) -----------------------------------------------------


async def serve(kind: str, api_url: str, gateway_url: str, database_url: str) -> None:
    import discord

    from adapters.discord import build_discord
    from adapters.discord.front import point_at
    from adapters.discord.identity import interaction_caller
    from bot.bootstrap import bootstrap
    from bot.config import Settings

    app = await bootstrap(database_url, migrate=False)
    if kind == "coachbot":
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            discord_token=TOKENS[kind],
            discord_api_url=api_url,
            discord_gateway_url=gateway_url,
        )
        front = build_discord(settings, app.core, guild_ready_timeout=0.1)
        task = asyncio.create_task(front.run())
        await front.ready.wait()
    else:
        point_at(api_url, gateway_url)
        client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.1)

        @client.event
        async def on_interaction(interaction: discord.Interaction[Any]) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            data: dict[str, Any] = dict(interaction.data or {})
            name = data.get("name", "help")
            answers = await app.core.handle(interaction_caller(interaction), f"/{name}")
            await interaction.followup.send(answers[0].text[:2000], ephemeral=True)

        ready = asyncio.Event()

        @client.event
        async def on_ready() -> None:
            ready.set()

        task = asyncio.create_task(client.start(TOKENS[kind]))
        await ready.wait()
    print("ready", flush=True)
    await task


# -- the load (this process) -----------------------------------------------------------


async def seed(double: Any, database_url: str) -> tuple[Any, list[dict[str, Any]]]:
    from bot.bootstrap import bootstrap
    from bot.commands.base import Caller

    guild = double.add_guild("Bench", ("general",))
    head = double.add_user("head")
    athletes = [double.add_user(f"a{n:03d}") for n in range(ATHLETES)]
    app = await bootstrap(database_url)
    hc = Caller("discord", head["id"], str(guild.id), "hc@bench.run", "head", space_admin=True)
    lines = [
        '/setup-org "Bench Club" tz:Europe/London',
        '/workout create "Easy 8k" type:run kind:easy distance:8k',
        "/plan create Base weeks:4",
        *(
            f'/plan set Base week:{w} day:{d} workout:"Easy 8k"'
            for w in range(1, 5)
            for d in ("mon", "wed", "fri")
        ),
    ]
    for line in lines:
        said = await app.core.handle(hc, line)
        assert said[0].ok, (line, said[0].text)
    # Discord tells no e-mail: the athletes join by a code, as a club on Discord would
    [link] = await app.core.handle(hc, f"/invite-link uses:{ATHLETES}")
    code = re.search(r"/join (\S+)", link.text)
    assert code is not None, link.text
    for a in athletes:
        athlete = Caller("discord", a["id"], str(guild.id), None, a["username"])
        said = await app.core.handle(athlete, f"/join {code.group(1)}")
        assert said[0].ok, said[0].text
    for a in athletes:
        said = await app.core.handle(hc, f"/assign-plan Base <@{a['id']}> start:today")
        assert said[0].ok, said[0].text
    await app.close()
    return guild, athletes


async def spawn(kind: str, double: Any, database_url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.discord_interaction",
        "--serve",
        kind,
        "--api",
        double.api_url,
        "--gateway",
        double.gateway_url,
        "--db",
        database_url,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "COACHBOT_LOG_LEVEL": "WARNING"},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    assert line.strip() == b"ready", line
    return process


async def one_round(
    double: Any, kind: str, guild: Any, plan: list[tuple[dict[str, Any], str]]
) -> list[float]:
    """`plan` at once on `kind`'s session; seconds from event to final answer, each."""
    loop = asyncio.get_running_loop()
    sent: list[tuple[str, float]] = []
    for person, command in plan:
        data = double.command_data(command, {}, None, None)
        payload = double.envelope(2, data, person, guild, None)
        started = loop.time()
        await double.dispatch("INTERACTION_CREATE", payload, to=TOKENS[kind])
        sent.append((payload["token"], started))

    def answered() -> bool:
        return all(double.followups.get(token) for token, _ in sent)

    await double.wait_for(answered, within=300)
    return [double.arrivals[token][-1] - started for token, started in sent]


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": 1000 * ordered[-1],
        "mean": 1000 * statistics.fmean(ordered),
    }


async def bench(rounds: int, concurrency: int, store: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.adapters.discord.double import DiscordDouble

    double = DiscordDouble()
    await double.start()
    tmp = Path(tempfile.mkdtemp(prefix="coachbot-discord-bench-"))
    if store == "sqlite":
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    else:
        database_url = os.environ.get(
            "COACHBOT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1/bench_discord"
        )
    guild, athletes = await seed(double, database_url)
    children = [await spawn(kind, double, database_url) for kind in ("coachbot", "bare")]
    rng = random.Random(7)
    results: dict[str, list[float]] = {"coachbot": [], "bare": []}
    load: list[float] = []
    try:
        # the command definitions the double types interactions from: coachbot's sync
        await double.wait_for(lambda: None in double.commands, within=60)
        for index in range(rounds + 1):
            plan = [(rng.choice(athletes), rng.choice(COMMANDS)) for _ in range(concurrency)]
            for kind in ("coachbot", "bare") if index % 2 else ("bare", "coachbot"):
                times = await one_round(double, kind, guild, plan)
                if index:  # round 0 warms up
                    results[kind] += times
            load.append(os.getloadavg()[0])
        for token in double.followups:
            assert len(double.followups[token]) == 1, "each command answers with one message"
    finally:
        for child in children:
            child.terminate()
            await child.wait()
        await double.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    coach, bare = stats(results["coachbot"]), stats(results["bare"])
    return {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": (
            f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
        ),
        "store": store,
        "rounds": rounds,
        "concurrency": concurrency,
        "coachbot": coach,
        "bare": bare,
        "p99_ratio": coach["p99"] / bare["p99"],
        "load_avg": [min(load), max(load)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", choices=tuple(TOKENS), help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--gateway", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.api, args.gateway, args.db))
        return
    report = asyncio.run(bench(args.rounds, args.concurrency, args.store))
    if args.json:
        print(json.dumps(report))
        return
    print(f"{report['when']}: {report['machine']}; store {report['store']}, ")
    print(f"{report['rounds']} rounds x {report['concurrency']} concurrent interactions per client")
    print(f"load average {report['load_avg'][0]:.1f}-{report['load_avg'][1]:.1f}")
    print("client      n     p50     p90     p99     max  (ms, event -> final answer)")
    for kind in ("coachbot", "bare"):
        s = report[kind]
        print(
            f"{kind:9} {s['n']:4} {s['p50']:7.1f} {s['p90']:7.1f} {s['p99']:7.1f} {s['max']:7.1f}"
        )
    print(f"p99 ratio coachbot / bare: {report['p99_ratio']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
