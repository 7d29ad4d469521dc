"""Slack and Discord for the burst benchmark (bench/burst.py), in a process of their own.

The test suite's doubles (tests/adapters/*/double.py) on the wall clock, enforcing the
platforms' limits times `scale` (bench.sending's figures: Slack one message a second per
channel, 300 chat.postMessage a minute per workspace, 50 conversations.open a minute;
Discord 50 requests a second, DM-channel opens included, interaction answers exempt),
with a control endpoint for the benchmark:

- `/limits?on=1|0`, `/mark` (count from here), `/quit`;
- `/warm` (JSON list of athletes): each writes an empty DM to the bot on the gateway,
  as someone who wrote before — the bot then knows their DM channel;
- `/click` (JSON list of athletes): each clicks "Done" under their daily DM
  (INTERACTION_CREATE on the gateway); the acknowledgement is the first interaction
  callback the double receives (the deferral), timed on this process's loop;
- `/delivered?since=K`: the athletes whose daily DM arrived, in arrival order, from K;
- `/stats`: what arrived since the mark (`brief=1`: counts only).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bench.burst_data import DISCORD_BASE, discord_user, slack_user
from bench.sending import EXEMPT
from tests.adapters.discord.double import GLOBAL_LIMIT, DiscordDouble, user
from tests.adapters.slack.double import SlackDouble, SlackLimits

DONE = "coachbot:act:done"


def slack_limits(scale: int) -> SlackLimits:
    return SlackLimits(per_channel=1.0, chat_per_minute=300 * scale, opens_per_minute=50 * scale)


def is_daily(args: dict[str, Any]) -> bool:
    """A daily DM carries the check-in buttons (an `actions` block); a reply does not."""
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        return '"actions"' in blocks
    return any(isinstance(b, dict) and b.get("type") == "actions" for b in blocks or [])


class Doubles:
    def __init__(self, athletes: int, scale: int) -> None:
        self.scale = scale
        self.slack = SlackDouble(limits=slack_limits(scale), now=time.time)
        self.discord = DiscordDouble(global_limit=GLOBAL_LIMIT * scale, now=time.time)
        for i in range(1, athletes + 1, 2):
            self.slack.add_user(slack_user(i), f"a{i}@bench.run", f"athlete{i}")
        self.discord.after_create = self._created
        self.user_of: dict[int, int] = {}  # Discord DM channel -> its user
        opened = self.discord.dm_channel

        def dm_channel(user_id: int) -> int:
            channel = opened(user_id)
            self.user_of[channel] = user_id
            return channel

        self.discord.dm_channel = dm_channel  # type: ignore[method-assign]
        self.delivered: list[int] = []  # athletes, in the order their daily DM arrived
        self.seen: set[int] = set()
        self.slack_seen = 0  # calls of the Slack double already scanned
        self.marks = (0, 0, 0, 0, 0)
        self.acks: list[float] = []  # seconds from click to the first callback
        self.clicks: dict[str, float] = {}  # token -> loop time of the click, unanswered
        self.clicked = 0
        self.done = asyncio.Event()

    async def _created(self, message: dict[str, Any]) -> None:
        message["bench_at"] = time.time()
        uid = self.user_of.get(int(message["channel_id"]))
        if message.get("nonce") is not None and uid is not None:
            self._arrived(uid - DISCORD_BASE)

    def _arrived(self, athlete: int) -> None:
        if athlete not in self.seen:
            self.seen.add(athlete)
            self.delivered.append(athlete)

    def _scan_slack(self) -> None:
        calls = self.slack.calls
        for call in calls[self.slack_seen :]:
            if call.method == "chat.postMessage" and call.ok and is_daily(call.args):
                self._arrived(int(str(call.args["channel"])[2:]))
        self.slack_seen = len(calls)

    def _scan_acks(self) -> None:
        for token, started in list(self.clicks.items()):
            arrived = self.discord.arrivals.get(token)
            if arrived:
                self.acks.append(arrived[0] - started)
                del self.clicks[token]

    # -- the control endpoint -------------------------------------------------------

    async def limits(self, request: web.Request) -> web.Response:
        on = request.query.get("on") == "1"
        self.slack.set_limits(slack_limits(self.scale) if on else None)
        self.discord.set_global_limit(GLOBAL_LIMIT * self.scale if on else None)
        return web.json_response({"on": on})

    async def mark(self, request: web.Request) -> web.Response:
        self.marks = (
            len(self.slack.calls),
            len(self.slack.limited),
            len(self.discord.calls),
            len(self.discord.limited),
            len(self.discord.created),
        )
        return web.json_response({"ok": True})

    async def warm(self, request: web.Request) -> web.Response:
        for athlete in await request.json():
            uid = discord_user(athlete)
            await self.discord.direct_message(user(uid, f"athlete{athlete}"), "")
        return web.json_response({"ok": True})

    async def click(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        for athlete in await request.json():
            uid = discord_user(athlete)
            daily = [m for m in self.discord.dms_to({"id": str(uid)}) if m.get("nonce")]
            if not daily:
                continue
            started = loop.time()
            payload = await self.discord.click(daily[0], DONE, by=user(uid, f"athlete{athlete}"))
            self.clicks[payload["token"]] = started
            self.clicked += 1
        return web.json_response({"ok": True})

    async def delivered_since(self, request: web.Request) -> web.Response:
        self._scan_slack()
        since = int(request.query.get("since", "0"))
        return web.json_response(self.delivered[since:])

    async def stats(self, request: web.Request) -> web.Response:
        self._scan_slack()
        self._scan_acks()
        found = self.measured()
        if request.query.get("brief"):
            for platform in ("slack", "discord"):
                found[platform].pop("arrivals")
            found.pop("acks")
        return web.json_response(found)

    async def quit(self, request: web.Request) -> web.Response:
        self.done.set()
        return web.json_response({"ok": True})

    def measured(self) -> dict[str, Any]:
        """Since the mark: per platform the daily DMs (first arrival of each, duplicates),
        the requests the platform counts, opens, 429s; the clicks' acknowledgements."""
        s_calls, s_limited, d_calls, d_limited, d_created = self.marks
        calls = self.slack.calls[s_calls:]
        posts = [c for c in calls if c.method == "chat.postMessage" and c.ok]
        daily = [c for c in posts if is_daily(c.args)]
        first: dict[str, float] = {}
        for c in daily:
            first.setdefault(str(c.args["channel"]), c.at)
        per_channel = Counter(str(c.args["channel"]) for c in daily)
        opens = [c for c in calls if c.method == "conversations.open" and c.ok]
        made = [m for m in self.discord.created[d_created:] if m.get("nonce") is not None]
        nonces = Counter(str(m["nonce"]) for m in made)
        d_first: dict[str, float] = {}
        for m in made:
            d_first.setdefault(str(m["nonce"]), float(m["bench_at"]))
        counted = [c for c in self.discord.calls[d_calls:] if not c.path.startswith(EXEMPT)]
        return {
            "slack": {
                "messages": len(first),
                "duplicates": sum(n - 1 for n in per_channel.values()),
                "posts": len(posts),
                "replies": len(posts) - len(daily),
                "opens": len(opens),
                "limited": len(self.slack.limited) - s_limited,
                "last": max(first.values(), default=0.0),
                "arrivals": {channel[2:]: at for channel, at in first.items()},
            },
            "discord": {
                "messages": len(nonces),
                "duplicates": sum(n - 1 for n in nonces.values()),
                "requests": len(counted),
                "opens": sum(1 for c in counted if c.path == "/users/@me/channels"),
                "edits": sum(1 for c in counted if c.method == "PATCH"),
                "limited": len(self.discord.limited) - d_limited,
                "last": max(d_first.values(), default=0.0),
                "arrivals": d_first,
            },
            "clicks": self.clicked,
            "unanswered": len(self.clicks),
            "acks": self.acks,
        }


def run_doubles(athletes: int, scale: int, out: Any) -> None:
    """The doubles and their control endpoint until /quit; their URLs go to `out`."""
    asyncio.run(_serve(athletes, scale, out))


async def _serve(athletes: int, scale: int, out: Any) -> None:
    doubles = Doubles(athletes, scale)
    await doubles.slack.start()
    await doubles.discord.start()
    control = web.Application(client_max_size=64 * 1024 * 1024)
    control.add_routes(
        [
            web.post("/limits", doubles.limits),
            web.post("/mark", doubles.mark),
            web.post("/warm", doubles.warm),
            web.post("/click", doubles.click),
            web.get("/delivered", doubles.delivered_since),
            web.get("/stats", doubles.stats),
            web.get("/sessions", sessions(doubles.discord)),
            web.post("/quit", doubles.quit),
        ]
    )
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    out.put(
        {
            "slack": doubles.slack.api_url,
            "discord": doubles.discord.api_url,
            "gateway": doubles.discord.gateway_url,
            "control": f"http://127.0.0.1:{runner.addresses[0][1]}",
        }
    )
    await doubles.done.wait()
    await runner.cleanup()
    await doubles.slack.stop()
    await doubles.discord.stop()


def sessions(discord: DiscordDouble) -> Any:
    async def handler(request: web.Request) -> web.Response:
        open_ = sum(1 for ws in discord.sessions.values() if not ws.closed)
        synced = None in discord.commands
        return web.Response(text=json.dumps({"open": open_, "synced": synced}))

    return handler
