"""The local Slack and Discord doubles, served standalone for a rehearsal on one machine
(docs/OPERATING.md, "Rehearse it on one machine"); no real token, no network beyond
loopback.

    python -m tests.adapters.doubles serve --slack-port 8801 --discord-port 8802 --shards 3
    python -m tests.adapters.doubles slash -k https://127.0.0.1:8443/slack/events /help

`serve` runs both doubles until Ctrl-C (or SIGTERM), prints the COACHBOT_ settings that
point coachbot at them, and one line per call the doubles receive. Slack knows one
workspace admin, `UHC` (hc@club.run); Discord has one server per shard. `slash` types a
Slack slash command as that person, signed as Slack signs it, to URL (a coachbot process,
or the load balancer in front of them), and prints the answer coachbot posts back to the
command's `response_url` (served by `slash` itself); exit 0 when one came within
--wait seconds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from tests.adapters.discord.double import TOKEN, DiscordDouble
from tests.adapters.slack.double import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    SlackDouble,
    form,
    signed_headers,
)

ADMIN = "UHC"


def _say(line: str) -> None:
    print(line[:200], flush=True)


class _SlackShown(SlackDouble):
    async def _record(self, call: Any) -> None:
        _say(f"slack   {call.method} {'ok' if call.ok else 'refused'}")
        await super()._record(call)


class _DiscordShown(DiscordDouble):
    _shown = 0

    async def _notify(self) -> None:
        for call in self.calls[self._shown :]:
            _say(f"discord {call.method} {call.path}")
        self._shown = len(self.calls)
        await super()._notify()


def settings(slack: SlackDouble, discord: DiscordDouble) -> dict[str, str]:
    """What a coachbot process needs to talk to these doubles."""
    return {
        "COACHBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "COACHBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "COACHBOT_SLACK_API_URL": slack.api_url,
        "COACHBOT_DISCORD_TOKEN": TOKEN,
        "COACHBOT_DISCORD_API_URL": discord.api_url,
        "COACHBOT_DISCORD_GATEWAY_URL": discord.gateway_url,
    }


async def serve(slack_port: int, discord_port: int, shards: int) -> None:
    slack, discord = _SlackShown(), _DiscordShown()
    slack.add_user(ADMIN, "hc@club.run", "hc", admin=True)
    for shard in range(shards):
        discord.add_guild(f"Club {shard}", shard=(shard, shards))
    await slack.start(slack_port)
    await discord.start(discord_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _say("doubles ready; point coachbot at them with:")
    for name, value in settings(slack, discord).items():
        print(f"{name}={value}", flush=True)
    try:
        await stop.wait()
    finally:
        await slack.stop()
        await discord.stop()


async def slash(url: str, line: str, user: str, wait: float, insecure: bool = False) -> int:
    answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def respond(request: web.Request) -> web.Response:
        await answers.put(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/respond", respond)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    name, _, text = line.partition(" ")
    body = form(
        {
            "team_id": TEAM,
            "channel_id": f"D{user}",
            "channel_name": "directmessage",
            "user_id": user,
            "user_name": user.lower(),
            "command": name,
            "text": text,
            "api_app_id": "A0COACH",
            "response_url": f"http://127.0.0.1:{port}/respond",
            "trigger_id": f"trigger.{uuid.uuid4().hex}",  # Slack's are unique; a repeat is ignored
        }
    )
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    try:
        connector = aiohttp.TCPConnector(ssl=not insecure)  # -k: a self-signed rehearsal cert
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.post(url, data=body, headers=headers) as r,
        ):
            print(f"HTTP {r.status} from {url}", flush=True)
            if r.status != 200:
                print(await r.text(), file=sys.stderr)
                return 1
        async with asyncio.timeout(wait):
            answer = await answers.get()
    except TimeoutError:
        print(f"no answer within {wait:g} s", file=sys.stderr)
        return 1
    except aiohttp.ClientError as e:
        print(f"cannot post to {url}: {e}", file=sys.stderr)
        return 1
    finally:
        await runner.cleanup()
    print(json.dumps(answer, indent=1, ensure_ascii=False))
    return 0


def doubles_parser() -> argparse.ArgumentParser:
    """The runner's command line (tests/test_operating_doc.py parses the doc's with it)."""
    parser = argparse.ArgumentParser(prog="python -m tests.adapters.doubles")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="serve the Slack and Discord doubles until stopped")
    s.add_argument("--slack-port", type=int, default=8801)
    s.add_argument("--discord-port", type=int, default=8802)
    s.add_argument("--shards", type=int, default=3, help="one Discord server per shard")
    c = sub.add_parser("slash", help="type a signed Slack slash command; print the answer")
    c.add_argument("url", help="e.g. https://127.0.0.1:8443/slack/events")
    c.add_argument("line", help='the command as typed, e.g. "/help"')
    c.add_argument("--user", default=ADMIN, help="the Slack user id typing it")
    c.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the answer")
    c.add_argument("-k", "--insecure", action="store_true", help="accept a self-signed cert")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = doubles_parser().parse_args(argv)
    if args.cmd == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.slack_port, args.discord_port, args.shards))
        return 0
    return asyncio.run(slash(args.url, args.line, args.user, args.wait, args.insecure))


if __name__ == "__main__":
    sys.exit(main())
