"""Issue 14 item 6: many processes, one rate limit — three real `coachbot run` processes
on one PostgreSQL database, against the local Slack and Discord doubles.

Slack in HTTP mode, each process on its own port: the test spreads the signed requests
round robin over the three ports (a load balancer's job). Discord sharded: the processes
are shards 0/3, 1/3 and 2/3 (`COACHBOT_DISCORD_SHARDS`), and the double delivers each
guild's interactions to the shard that owns it. Races across processes keep the
invariants (one org per account, one head coach, invitation uses counted once); a burst
of due DMs larger than one dispatcher's batch is sent by several processes at once,
exactly once each; and the Discord double's request log shows the three together stayed
within the bot's 50 requests a second — which three processes pacing alone do not (each
would go at 49 a second, and the double answers 429 beyond 50).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from adapters.slack.manifest import PATH
from bot.bootstrap import bootstrap
from storage.models import Account, Invitation, Membership, Org, OutboxMessage
from tests.adapters.crash import Log, coachbot_run, seed_due_dms
from tests.adapters.discord.double import GLOBAL_LIMIT, TOKEN, DiscordDouble, Guild
from tests.adapters.slack.double import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    SlackDouble,
    SlackLimits,
    form,
    signed_headers,
)
from tests.adapters.wiring import free_port

PROCESSES = 3
DISCORD_DMS = 241  # in two waves: the first, one dispatcher's batch (200) and one more
FIRST_WAVE = 201
SLACK_DMS = 6
JOINERS = 6
WAIT = 60.0  # seconds any one step may take
CODE = re.compile(r"join ([A-Z2-9]{5}-[A-Z2-9]{5})")


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    log: Log
    port: int  # its Slack HTTP port


@pytest.fixture
async def doubles() -> AsyncIterator[tuple[SlackDouble, DiscordDouble]]:
    slack = SlackDouble(limits=SlackLimits(chat_per_minute=300))
    discord = DiscordDouble(global_limit=GLOBAL_LIMIT)
    await slack.start()
    await discord.start()
    yield slack, discord
    await slack.stop()
    await discord.stop()


async def start(url: str, slack: SlackDouble, discord: DiscordDouble, tmp: Path) -> list[Bot]:
    bots = []
    for shard in range(PROCESSES):
        port = free_port()
        settings = {
            "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
            "COACHBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "COACHBOT_SLACK_API_URL": slack.api_url,
            "COACHBOT_HTTP_PORT": str(port),
            "COACHBOT_DISCORD_TOKEN": TOKEN,
            "COACHBOT_DISCORD_API_URL": discord.api_url,
            "COACHBOT_DISCORD_GATEWAY_URL": discord.gateway_url,
            "COACHBOT_DISCORD_SHARDS": f"{shard}/{PROCESSES}",
        }
        process = await coachbot_run(url, settings, tmp, logged=True)
        bots.append(Bot(process, Log(process), port))
    async with asyncio.timeout(WAIT):
        for bot in bots:
            await bot.log.seen("Slack: serving http")
            await bot.log.seen("connected to Discord as")
        await discord.wait_for(lambda: discord.commands.get(None), within=WAIT)  # shard 0's
    return bots


async def stop(bots: list[Bot]) -> None:
    for bot in bots:
        if bot.process.returncode is None:
            bot.process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(WAIT):
            codes = [await bot.process.wait() for bot in bots]
        assert codes == [0] * len(bots), [await bot.log.close() for bot in bots]
    finally:
        for bot in bots:
            if bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()


class SlackUsers:
    """Signed slash commands as Slack sends them, spread round robin over the ports."""

    def __init__(self, slack: SlackDouble, bots: list[Bot], http: aiohttp.ClientSession):
        self.slack, self.http = slack, http
        self.ports = itertools.cycle([bot.port for bot in bots])
        self.numbers = itertools.count(1)

    def person(self, name: str, *, admin: bool = False) -> str:
        user = f"U{name.upper()}"
        self.slack.add_user(user, f"{name}@club.run", name, admin=admin)
        return user

    @staticmethod
    def mention(user: str) -> str:
        return f"<@{user}|{user[1:].lower()}>"

    async def command(self, user: str, line: str, *, port: int | None = None) -> str:
        """Type `line` as `user` (to the next port, or `port`); what the app answered."""
        name, _, text = line.partition(" ")
        key = f"r{next(self.numbers)}"
        fields = {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "home",
            "channel_id": f"D{user}",
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user[1:].lower(),
            "command": name,
            "text": text,
            "api_app_id": "A0COACH",
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(key),
            "trigger_id": f"trigger.{key}",
        }
        body = form(fields)
        headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
        url = f"http://127.0.0.1:{port or next(self.ports)}{PATH}"
        async with self.http.post(url, data=body, headers=headers) as response:
            assert response.status == 200, await response.text()
        async with asyncio.timeout(WAIT):
            answers = await self.slack.wait_for(lambda: self.slack.responses(key))
        return json.dumps(answers)


async def discord_says(discord: DiscordDouble, payload: dict[str, Any]) -> str:
    answers = await discord.wait_for(lambda: discord.answers(payload), within=WAIT)
    return json.dumps(answers)


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


async def database(url: str) -> dict[str, Any]:
    """What the invariants are about, as the database holds it."""
    app = await bootstrap(url, migrate=False)
    try:
        async with app.sessions() as s:
            per_account = (
                await s.execute(
                    select(Membership.account_id, func.count())
                    .group_by(Membership.account_id)
                    .having(func.count() > 1)
                )
            ).all()
            heads = (
                await s.execute(
                    select(Org.name, func.count(Membership.account_id))
                    .join(Membership, (Membership.org_id == Org.id) & Membership.is_head_coach)
                    .group_by(Org.name)
                )
            ).all()
            head_emails = (
                await s.scalars(
                    select(Account.email)
                    .join(Membership, Membership.account_id == Account.id)
                    .where(Membership.is_head_coach)
                )
            ).all()
            return {
                "orgs": set((await s.scalars(select(Org.name))).all()),
                "in_two_orgs": per_account,
                "heads": dict(heads),  # type: ignore[arg-type]
                "head_emails": set(head_emails),
                "uses": list((await s.scalars(select(Invitation.uses))).all()),
                "outbox": {
                    row: status
                    for row, status in await s.execute(
                        select(OutboxMessage.id, OutboxMessage.status)
                    )
                },
            }
    finally:
        await app.close()


async def test_three_processes_one_database_one_rate_limit(
    postgres_url: str, doubles: tuple[SlackDouble, DiscordDouble], tmp_path: Path
) -> None:
    slack, discord = doubles
    guilds: list[Guild] = [discord.add_guild(f"Club {i}", shard=(i, PROCESSES)) for i in range(3)]
    bots = await start(postgres_url, slack, discord, tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            burst = await run_the_day(postgres_url, slack, discord, guilds, bots, http)
    finally:
        await stop(bots)
    after = await database(postgres_url)
    assert after["in_two_orgs"] == []
    assert set(after["heads"].values()) == {1}, after["heads"]  # one head coach per org
    assert {after["outbox"][row] for row in burst} == {"sent"}
    # none failed; none left leased (a stop hands leases back); the latest may wait, and
    # a digest the tick planned for a day that ended is dropped
    statuses = Counter(after["outbox"].values())
    assert statuses.keys() <= {"sent", "pending", "dropped"}, statuses

    # the three processes together stayed within the bot's limit (interaction answers
    # excepted, as Discord excepts them), so Discord hardly ever had to say 429
    exempt = ("/interactions/", "/webhooks/")
    counted = [c.at for c in discord.calls if not c.path.startswith(exempt)]
    assert most_in_one_second(counted) <= GLOBAL_LIMIT + 2, most_in_one_second(counted)
    assert len(discord.limited) <= 2, f"{len(discord.limited)} requests refused with 429"
    # Slack: one message a second per conversation, across processes (a send reaching
    # the double later than its slot, on a busy machine, may still land early once)
    assert len(slack.limited) <= 1, [(c.args.get("channel"), c.at) for c in slack.limited]


async def run_the_day(
    url: str,
    slack: SlackDouble,
    discord: DiscordDouble,
    guilds: list[Guild],
    bots: list[Bot],
    http: aiohttp.ClientSession,
) -> list[int]:
    """Races, shards and a burst; returns the burst's outbox rows."""
    users = SlackUsers(slack, bots, http)
    head = users.person("hc", admin=True)

    # two processes create an org for the same account at once: one does
    names = ["Alpha", "Alpha Two"]
    await asyncio.gather(
        *(
            users.command(head, f'/setup-org "{name}"', port=bot.port)
            for name, bot in zip(names, bots, strict=False)
        )
    )
    after = await database(url)
    assert len(after["orgs"]) == 1 and after["orgs"] <= set(names), after["orgs"]

    # every shard answers its own guilds: a club set up in each, by the process owning it
    coaches = [discord.add_user(f"dhc{i}") for i in range(3)]
    setups = [
        await discord.slash("/setup-org", by=coach, guild=guild, name=f"Guild club {i}")
        for i, (coach, guild) in enumerate(zip(coaches, guilds, strict=True))
    ]
    for i, setup in enumerate(setups):
        assert f"Guild club {i}" in await discord_says(discord, setup)
    assert {i for i, (ws, _) in discord.shards.items() if not ws.closed} == {0, 1, 2}
    assert sorted(d["shard"] for d in discord.identified) == [[i, PROCESSES] for i in range(3)]
    for bot in bots:  # each shard was given its own server only
        assert "in 1 guilds" in await bot.log.seen("connected to Discord as")
    # a DM to the bot reaches shard 0, whose answer takes its turn in the shared pace
    await discord.direct_message(coaches[1], "today")
    await discord.wait_for(lambda: discord.dms_to(coaches[1]), within=WAIT)

    # a burst of due DMs in two waves. The first, just over one batch: a process claims
    # it whole (its batch and, ahead, the rest) and sends for seconds; the second, with
    # the Slack people, is claimed by another process, woken by the joins' welcome DMs
    # (a join through every process), while the first is still at it: two processes
    # send to Discord at the same time, under one limit
    dm_users = [discord.add_user(f"k{i}") for i in range(DISCORD_DMS)]
    slack_people = [users.person(f"s{i}") for i in range(SLACK_DMS)]

    def link(i: int) -> tuple[str, str, str, str]:
        if i < DISCORD_DMS:
            return "discord", "", str(dm_users[i]["id"]), "created"
        return "slack", TEAM, slack_people[i - DISCORD_DMS], "created"

    rows = await seed_due_dms(url, FIRST_WAVE, link)
    nonces = {str(row) for row in rows}

    def discord_sent() -> Counter[str]:
        return Counter(str(m["nonce"]) for m in discord.created if str(m["nonce"]) in nonces)

    await discord.wait_for(lambda: len(discord_sent()) >= 3, within=WAIT)  # claimed, sending
    second = DISCORD_DMS + SLACK_DMS - FIRST_WAVE
    rows += await seed_due_dms(url, second, link, first=FIRST_WAVE)
    nonces |= {str(row) for row in rows[FIRST_WAVE:DISCORD_DMS]}
    code_text = await users.command(head, "/invite-link uses:10")
    code = CODE.search(code_text)
    assert code, code_text
    joiners = [users.person(f"j{i}") for i in range(JOINERS)]
    joined = await asyncio.gather(*(users.command(j, f"/join {code[1]}") for j in joiners))
    assert all("joined" in said.lower() for said in joined), joined

    # two hand-overs of the head coach's role at once, from two processes: one wins
    for coach in joiners[:2]:
        assert "coach" in (await users.command(head, f"/add-coach {users.mention(coach)}"))
    await asyncio.gather(
        *(
            users.command(head, f"/transfer-head-coach {users.mention(coach)}", port=bot.port)
            for coach, bot in zip(joiners[:2], bots[1:], strict=True)
        )
    )
    after = await database(url)
    assert after["uses"] == [JOINERS]
    slack_heads = {e for e in after["head_emails"] if e and e.endswith("@club.run")}
    assert len(slack_heads) == 1 and slack_heads < {"j0@club.run", "j1@club.run"}, slack_heads

    # the burst went out, exactly once each
    await discord.wait_for(lambda: len(discord_sent()) == DISCORD_DMS, within=WAIT)
    async with asyncio.timeout(WAIT):
        await slack.wait_for(lambda: all(slack.posts(f"D{p}") for p in slack_people))
    assert set(discord_sent().values()) == {1}
    assert discord.nonce_repeats == []
    assert [len(slack.posts(f"D{p}")) for p in slack_people] == [1] * SLACK_DMS
    # sent by more than one process (each logs its sends): the budget was shared
    senders = [bot for bot in bots if any("send note #" in line for line in bot.log.lines)]
    assert len(senders) >= 2, "one process sent the whole burst"
    return rows
