"""A local double of Discord: the REST API discord.py calls and a gateway websocket.

Enough of Discord for the real discord.py client to log in, sync its commands, receive
interactions and DMs, answer through the interaction callback and webhook endpoints, and
open and send DMs. Everything is recorded; tests inject gateway events and script
failures (`fail`). discord.py parses a body as JSON only when its content-type is exactly
`application/json`, so every answer is sent that way.

A message with files comes as Discord takes it, multipart (`payload_json` and
`files[n]`): the double reads every part, keeps each attachment's bytes (`uploaded`),
lists them in the message it creates, and refuses what Discord refuses — more than 10
files (400) or files over the upload limit (`upload_limit`, 10 MiB: 413, code 40005).

Message creation honours `enforce_nonce` as Discord documents it (see `_create_message`),
over a window of `nonce_window` seconds on the double's own clock (`now`, injectable); a
test can act between Discord creating a message and its answer (`after_create`).

Sharding as Discord does it: a session that IDENTIFYs with `shard: [ID, COUNT]` gets
READY and GUILD_CREATE for its own guilds only, and `dispatch` sends a guild's events to
the shard that owns it ((guild_id >> 22) % COUNT, `shard_of`) and DMs to shard 0;
`add_guild(shard=(ID, COUNT))` makes a guild that shard owns.

With `global_limit` (`GLOBAL_LIMIT`: Discord's 50) it enforces the global rate limit on
that clock: at most that many REST requests in any second, opening a DM channel included
and interaction answers (callbacks, follow-ups) excepted as Discord excepts them; beyond
it a 429 as Discord sends it (`retry_after` in the body, `Retry-After`, the global flag
and the `Via` header by which discord.py tells it from a Cloudflare ban).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

from tests.adapters.limits import SlidingWindow

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
TOKEN = "test-bot-token"
EPHEMERAL = 64
ALL_PERMISSIONS = 2147483647
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = ALL_PERMISSIONS & ~(ADMINISTRATOR | MANAGE_GUILD)  # no Manage Server
STAMP = "2027-01-04T09:00:00+00:00"
# Discord keeps a nonce for "the past few minutes" and publishes no exact figure: the
# double takes the low reading, two minutes, so it never drops a re-send Discord would
# let through (a test passing here passes against Discord).
NONCE_WINDOW = 120.0
NONCE_MAX = 25  # characters: Discord refuses a longer nonce (400 Invalid Form Body)
GLOBAL_LIMIT = 50  # requests a second per bot (discord.com/developers/docs/topics/rate-limits)
MAX_ATTACHMENTS = 10  # files in one message
UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes a bot may upload in a guild without boosts


def shard_of(guild_id: int, count: int) -> int:
    """The shard that receives a guild's events (Discord's sharding formula)."""
    return (guild_id >> 22) % count


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user(BOT_ID, "coachbot", bot=True)


@dataclass
class Call:
    method: str
    path: str  # below the API base, e.g. /channels/1/messages
    query: dict[str, str]
    body: Any
    at: float = 0.0  # when, on the double's clock `now`


@dataclass
class Rule:
    """A scripted answer for requests matching `method` and the `path` pattern."""

    method: str
    path: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int | None  # None: every time


@dataclass
class Guild:
    id: int
    name: str
    channels: dict[int, str] = field(default_factory=dict)  # id -> name


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class DiscordDouble:
    def __init__(
        self, *, now: Callable[[], float] = time.monotonic, global_limit: int | None = None
    ) -> None:
        self.now = now  # seconds, for the nonce window and the global limit
        self.global_window: SlidingWindow | None = None
        self.set_global_limit(global_limit)
        self.limited: list[Call] = []  # requests answered 429 by the global limit
        self.nonce_window = NONCE_WINDOW
        # (channel, nonce, author) -> the message it created and when
        self._nonces: dict[tuple[int, str, str], tuple[dict[str, Any], float]] = {}
        self.nonce_repeats: list[tuple[int, str]] = []  # (channel, nonce) answered as before
        # awaited after a message is created and before Discord's answer goes out
        self.after_create: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self.calls: list[Call] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild (None: global)
        self.messages: dict[int, list[dict[str, Any]]] = {}  # channel -> created messages
        self.created: list[dict[str, Any]] = []  # every created message, in order
        self.callbacks: dict[int, list[dict[str, Any]]] = {}  # interaction -> responses
        self.followups: dict[str, list[dict[str, Any]]] = {}  # token -> follow-ups
        self.guilds: dict[int, Guild] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.dm_channels: dict[int, int] = {}  # user -> DM channel
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []  # attachments the bot fetched
        self.upload_limit = UPLOAD_LIMIT
        self.uploaded: dict[str, bytes] = {}  # attachment id -> the bytes the bot sent
        self.rules: list[Rule] = []
        self.holds: list[tuple[str, re.Pattern[str], asyncio.Event]] = []
        self.identify: dict[str, Any] | None = None
        self.connected = asyncio.Event()
        self._ids = itertools.count(1_000_000_000_000_000_001)
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None  # the newest session
        self.sessions: dict[str, web.WebSocketResponse] = {}  # by the token identified with
        self.shards: dict[int, tuple[web.WebSocketResponse, int]] = {}  # ID -> (ws, COUNT)
        self.identified: list[dict[str, Any]] = []  # every IDENTIFY's payload, in order
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # time each follow-up / callback arrived (loop.time()), for the benchmark
        self.arrivals: dict[str, list[float]] = {}

    # -- set-up -------------------------------------------------------------------------

    def snowflake(self) -> int:
        return next(self._ids)

    def add_guild(
        self,
        name: str,
        channels: tuple[str, ...] = ("general",),
        *,
        shard: tuple[int, int] | None = None,
    ) -> Guild:
        """A guild (with an id that shard (ID, COUNT) owns, when given)."""
        guild_id = self.snowflake()
        if shard is not None:
            while shard_of(guild_id, shard[1]) != shard[0]:
                guild_id += 1 << 22  # the next id with another shard; no later snowflake
        guild = Guild(guild_id, name)
        for channel in channels:
            guild.channels[self.snowflake()] = channel
        self.guilds[guild.id] = guild
        return guild

    def add_user(self, name: str) -> dict[str, Any]:
        data = user(self.snowflake(), name)
        self.users[int(data["id"])] = data
        return data

    def dm_channel(self, user_id: int) -> int:
        if user_id not in self.dm_channels:
            self.dm_channels[user_id] = self.snowflake()
        return self.dm_channels[user_id]

    def set_global_limit(self, limit: int | None) -> None:
        """Enforce at most `limit` requests a second from now on, counting afresh."""
        self.global_window = SlidingWindow(limit, 1.0) if limit else None

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        self.rules.append(Rule(method, re.compile(path), status, body or {}, headers or {}, times))

    def hold(self, method: str, path: str) -> asyncio.Event:
        """Answer every matching request (recorded at once) only once the returned event
        is set: work in flight, for as long as a test needs it."""
        gate = asyncio.Event()
        self.holds.append((method, re.compile(path), gate))
        return gate

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self, port: int = 0) -> None:
        """Serve on 127.0.0.1:`port` (0: any free port)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in self.sessions.values():
            if not ws.closed:
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- waiting ------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, check: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until `check()` is truthy (re-checked after every request and IDENTIFY);
        return it."""
        async with asyncio.timeout(within), self._changed:
            while not (found := check()):
                await self._changed.wait()
            return found

    # -- the gateway --------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}})
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await ws.send_json({"op": 11})
            elif payload["op"] == 2:
                self.identify = payload["d"]
                self.identified.append(payload["d"])
                self.sessions[payload["d"]["token"]] = ws
                shard = payload["d"].get("shard")
                if shard is not None:
                    self.shards[int(shard[0])] = (ws, int(shard[1]))
                await self._ready(ws, tuple(shard) if shard is not None else None)
                await self._notify()
        return ws

    async def _ready(self, ws: web.WebSocketResponse, shard: tuple[int, int] | None = None) -> None:
        guilds = [
            g for g in self.guilds.values() if shard is None or shard_of(g.id, shard[1]) == shard[0]
        ]
        ready: dict[str, Any] = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": f"session-{len(self.identified)}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._send("READY", ready, ws)
        for guild in guilds:
            await self._send("GUILD_CREATE", self.guild_payload(guild), ws)
        self.connected.set()

    def guild_payload(self, guild: Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "unavailable": False,
            "owner_id": str(BOT_ID),
            "member_count": 2,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": str(guild.id),
                    "name": "@everyone",
                    "permissions": "2147483647",
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                }
            ],
            "channels": [
                {
                    "id": str(cid),
                    "type": 0,
                    "name": name,
                    "guild_id": str(guild.id),
                    "position": index,
                    "permission_overwrites": [],
                }
                for index, (cid, name) in enumerate(guild.channels.items())
            ],
            "members": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "joined_at": STAMP,
        }

    async def _send(
        self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None
    ) -> None:
        target = ws or self._ws
        assert target is not None, "the client has not connected"
        self._seq += 1
        await target.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def dispatch(self, event: str, data: dict[str, Any], *, to: str | None = None) -> None:
        """A gateway event to the session identified with `to`; when sessions are
        sharded, to the shard owning its guild (a DM: shard 0); else to the newest."""
        if to is not None:
            await self._send(event, data, self.sessions[to])
        elif self.shards:
            await self._send(event, data, self.owner(data))
        else:
            await self._send(event, data)

    def owner(self, data: dict[str, Any]) -> web.WebSocketResponse:
        """The shard session an event is Discord's to send to."""
        guild_id = data.get("guild_id")
        count = next(iter(self.shards.values()))[1]
        shard = shard_of(int(guild_id), count) if guild_id is not None else 0
        if shard not in self.shards:
            raise AssertionError(f"shard {shard} of {count} has not identified")
        return self.shards[shard][0]

    # -- REST ---------------------------------------------------------------------------

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        if name not in self.files:
            return _json({"message": "Unknown file"}, 404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    def _scripted(self, method: str, path: str) -> web.Response | None:
        for rule in self.rules:
            if rule.method == method and rule.path.fullmatch(path):
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self.rules.remove(rule)
                return _json(rule.body, rule.status, rule.headers)
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            if request.content_type.startswith("multipart/"):
                body = await self._multipart(request)
            else:
                raw = await request.read()
                if request.content_type == "application/json":
                    body = json.loads(raw)
        call = Call(request.method, path, dict(request.query), body, at=self.now())
        self.calls.append(call)
        try:
            created = len(self.created)
            answer = (
                self._over_global_limit(call)
                or self._scripted(request.method, path)
                or self._refused_files(body)
                or self._route(call)
            )
            if self.after_create is not None and len(self.created) > created:
                await self.after_create(self.created[-1])
        finally:
            await self._notify()
        for method, pattern, gate in self.holds:
            if method == request.method and pattern.fullmatch(path):
                await gate.wait()
        return answer

    async def _multipart(self, request: web.Request) -> dict[str, Any]:
        """A multipart body as Discord reads it: `payload_json` is the message, and each
        `files[n]` part an attachment (under `_files`, with its bytes)."""
        body: dict[str, Any] = {}
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            elif part.name and part.name.startswith("files["):
                data = bytes(await part.read(decode=False))
                files.append({"filename": part.filename, "data": data})
        body["_files"] = files
        return body

    def _refused_files(self, body: Any) -> web.Response | None:
        """Discord's answer to more files than one message takes, or too many bytes."""
        files = (body or {}).get("_files") or [] if isinstance(body, dict) else []
        if len(files) > MAX_ATTACHMENTS:
            errors = {"files": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        if sum(len(f["data"]) for f in files) > self.upload_limit:
            return _json({"message": "Request entity too large", "code": 40005}, 413)
        return None

    def _attachments(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        found = []
        for index, file in enumerate(body.get("_files") or []):
            attachment_id = str(self.snowflake())
            self.uploaded[attachment_id] = file["data"]
            found.append(
                {
                    "id": attachment_id,
                    "filename": file["filename"],
                    "size": len(file["data"]),
                    "description": described.get(str(index), {}).get("description"),
                    "url": f"http://127.0.0.1:{self.port}/files/{attachment_id}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/files/{attachment_id}",
                }
            )
        return found

    def _over_global_limit(self, call: Call) -> web.Response | None:
        """Discord's global 429 for a request beyond `global_limit`, else None (and the
        request is counted). Interaction callbacks and follow-ups do not count."""
        if self.global_window is None or call.path.startswith(("/interactions/", "/webhooks/")):
            return None
        now = self.now()
        wait = self.global_window.wait(now)
        if wait <= 0:
            self.global_window.take(now)
            return None
        self.limited.append(call)
        body = {
            "message": "You are being rate limited.",
            "retry_after": math.ceil(wait * 1000) / 1000,  # milliseconds, rounded up
            "global": True,
        }
        headers = {
            "Retry-After": str(math.ceil(wait)),
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
            "Via": "1.1 google",
        }
        return _json(body, 429, headers)

    def _route(self, call: Call) -> web.Response:
        method, path, body = call.method, call.path, call.body
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return _json(BOT_USER)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self._application())
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if method == "GET" and parts[0] == "applications" and parts[-1] == "commands":
            return _json(self.commands.get(int(parts[3]) if len(parts) == 5 else None, []))
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            guild = int(parts[3]) if len(parts) == 5 else None
            synced = [
                {**c, "id": str(self.snowflake()), "application_id": str(APP_ID)} for c in body
            ]
            self.commands[guild] = synced
            return _json(synced)
        if method == "POST" and path == "/users/@me/channels":
            recipient = int(body["recipient_id"])
            return _json(
                {
                    "id": str(self.dm_channel(recipient)),
                    "type": 1,
                    "recipients": [self.users.get(recipient, user(recipient, "someone"))],
                    "last_message_id": None,
                }
            )
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            nonce = (body or {}).get("nonce")
            if nonce is not None and len(str(nonce)) > NONCE_MAX:
                errors = {"nonce": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
                refused = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
                return _json(refused, 400)
            return _json(self._create_message(int(parts[1]), body))
        if method == "PATCH" and parts[0] == "channels" and parts[2] == "messages":
            return _json(self._edit_message(int(parts[1]), int(parts[3]), body))
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return _json(self._callback(int(parts[1]), parts[2], body))
        if parts[0] == "webhooks" and method == "POST" and len(parts) == 3:
            return _json(self._followup(parts[2], body))
        if parts[0] == "webhooks" and method == "PATCH":
            return _json(self._message(0, body or {}))
        return _json({"message": f"the double has no {method} {path}", "code": 0}, 404)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "coachbot",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user(BOT_ID + 1, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "interactions_endpoint_url": None,
        }

    def _message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": STAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(body),
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            "nonce": body.get("nonce"),
            **extra,
        }

    def _create_message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Discord's Create Message: with `enforce_nonce` true and a `nonce`, the nonce is
        checked for uniqueness over the past few minutes, and if the same author created a
        message with it, that message is answered and none is created (discord-api-docs,
        Create Message; discord/discord-api-docs#6647). Only messages of this channel are
        compared: the narrowest reading, so the double never drops more than Discord."""
        now = self.now()
        nonce = body.get("nonce")
        key = (channel_id, str(nonce), BOT_USER["id"])  # the REST author is the bot
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get(key)
            if earlier is not None and now - earlier[1] < self.nonce_window:
                self.nonce_repeats.append((channel_id, str(nonce)))
                return earlier[0]
        message = self._message(channel_id, body)
        self.messages.setdefault(channel_id, []).append(message)
        self.created.append(message)
        if nonce is not None:
            self._nonces[key] = (message, now)
        return message

    def _edit_message(
        self, channel_id: int, message_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        for message in self.messages.get(channel_id, []):
            if int(message["id"]) == message_id:
                for key in ("content", "embeds", "components"):
                    if key in body:
                        message[key] = body[key]
                return message
        return self._message(channel_id, body, id=str(message_id))

    def _callback(self, interaction_id: int, token: str, body: dict[str, Any]) -> dict[str, Any]:
        self.callbacks.setdefault(interaction_id, []).append(body)
        self.arrivals.setdefault(token, []).append(asyncio.get_running_loop().time())
        kind = body["type"]
        flags = (body.get("data") or {}).get("flags") or 0
        return {
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            },
            "resource": {"type": kind},
        }

    def _followup(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        message = self._message(0, body, webhook_id=str(APP_ID))
        self.followups.setdefault(token, []).append(message)
        self.arrivals.setdefault(token, []).append(asyncio.get_running_loop().time())
        return message

    # -- what people do -----------------------------------------------------------------

    def _definitions(self, guild: Guild | None) -> list[dict[str, Any]]:
        scoped = self.commands.get(guild.id) if guild is not None else None
        return scoped if scoped is not None else self.commands.get(None, [])

    def _options(
        self,
        definitions: list[dict[str, Any]],
        values: dict[str, Any],
        resolved: dict[str, Any],
        focused: str | None,
    ) -> list[dict[str, Any]]:
        options = []
        for name, value in values.items():
            matches = [d for d in definitions if d["name"] == name]
            assert matches, f"no option {name!r}; there are {[d['name'] for d in definitions]}"
            kind = matches[0]["type"]
            option: dict[str, Any] = {"name": name, "type": kind, "value": value}
            if kind == 6:  # a user: its id, with the user in `resolved`
                option["value"] = value["id"]
                resolved.setdefault("users", {})[value["id"]] = value
            if name == focused:
                option["focused"] = True
            options.append(option)
        return options

    def command_data(
        self, command: str, values: dict[str, Any], guild: Guild | None, focused: str | None
    ) -> dict[str, Any]:
        """The `data` of an interaction for `/root [sub]` with option values, typed from
        the commands the client synced (so a test can only use options that exist)."""
        words = command.lstrip("/").split()
        roots = [c for c in self._definitions(guild) if c["name"] == words[0]]
        assert roots, f"/{words[0]} was not synced"
        root = roots[0]
        resolved: dict[str, Any] = {}
        if len(words) == 2:
            subs = [o for o in root.get("options", []) if o["name"] == words[1]]
            assert subs and subs[0]["type"] == 1, f"/{command} is not a subcommand"
            inner = self._options(subs[0].get("options", []), values, resolved, focused)
            options = [{"name": words[1], "type": 1, "options": inner}]
        else:
            options = self._options(root.get("options", []), values, resolved, focused)
        data: dict[str, Any] = {
            "id": root["id"],
            "name": root["name"],
            "type": 1,
            "options": options,
            "resolved": resolved,
        }
        if guild is not None and guild.id in self.commands:
            data["guild_id"] = str(guild.id)
        return data

    def envelope(
        self,
        kind: int,
        data: dict[str, Any],
        by: dict[str, Any],
        guild: Guild | None,
        channel: int | None,
        *,
        manage_guild: bool = True,
    ) -> dict[str, Any]:
        """An interaction as Discord sends it; in a guild, the member's permissions there
        hold Manage Server (and Administrator) unless `manage_guild` is False."""
        interaction_id = self.snowflake()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"token-{interaction_id}",
            "version": 1,
            "data": data,
            "locale": "en-US",
            "app_permissions": "2147483647",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            channel = channel or next(iter(guild.channels))
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-US",
                channel_id=str(channel),
                channel={
                    "id": str(channel),
                    "type": 0,
                    "name": guild.channels.get(channel, "channel"),
                    "guild_id": str(guild.id),
                    "position": 0,
                    "permission_overwrites": [],
                },
                member={
                    "user": by,
                    "roles": [],
                    "joined_at": STAMP,
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "permissions": str(ALL_PERMISSIONS if manage_guild else MEMBER_PERMISSIONS),
                },
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            dm = self.dm_channel(int(by["id"]))
            payload.update(
                channel_id=str(dm),
                channel={"id": str(dm), "type": 1, "recipients": [by]},
                user=by,
                context=1,
                authorizing_integration_owners={"0": str(APP_ID)},
            )
        return payload

    async def slash(
        self,
        command: str,
        *,
        by: dict[str, Any],
        guild: Guild | None = None,
        channel: int | None = None,
        manage_guild: bool = True,
        **values: Any,
    ) -> dict[str, Any]:
        """Someone runs a slash command: INTERACTION_CREATE on the gateway."""
        data = self.command_data(command, values, guild, None)
        payload = self.envelope(2, data, by, guild, channel, manage_guild=manage_guild)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def autocomplete(
        self,
        command: str,
        focused: str,
        *,
        by: dict[str, Any],
        guild: Guild | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        data = self.command_data(command, values, guild, focused)
        payload = self.envelope(4, data, by, guild, None)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def click(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        by: dict[str, Any],
        guild: Guild | None = None,
        channel: int | None = None,
    ) -> dict[str, Any]:
        """Someone clicks a button of a message the bot sent: to them (a DM), or in a
        `guild`'s `channel` (a post everyone there sees)."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self.envelope(3, data, by, guild, channel, manage_guild=False)
        payload["message"] = message
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    async def direct_message(
        self,
        author: dict[str, Any],
        content: str = "",
        files: tuple[tuple[str, bytes], ...] = (),
    ) -> dict[str, Any]:
        """Someone writes to the bot in a DM (with attachments): MESSAGE_CREATE."""
        attachments = []
        for name, data in files:
            self.files[name] = data
            attachments.append(
                {
                    "id": str(self.snowflake()),
                    "filename": name,
                    "size": len(data),
                    "url": f"http://127.0.0.1:{self.port}/files/{name}",
                    "proxy_url": f"http://127.0.0.1:{self.port}/files/{name}",
                }
            )
        channel = self.dm_channel(int(author["id"]))
        message = self._message(channel, {"content": content}, author=author)
        message["attachments"] = attachments
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    # -- what the bot said --------------------------------------------------------------

    def answers(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """The follow-ups to one interaction, in order."""
        return self.followups.get(payload["token"], [])

    def dms_to(self, person: dict[str, Any]) -> list[dict[str, Any]]:
        channel = self.dm_channels.get(int(person["id"]))
        return self.messages.get(channel, []) if channel is not None else []

    def posts_in(self, channel_id: int) -> list[dict[str, Any]]:
        return self.messages.get(channel_id, [])

    def attached(self, messages: list[dict[str, Any]]) -> dict[str, bytes]:
        """The files of `messages` by name, with the bytes the bot uploaded."""
        return {a["filename"]: self.uploaded[a["id"]] for m in messages for a in m["attachments"]}
