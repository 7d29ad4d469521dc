"""A local double of Slack's Web API, over real HTTP on 127.0.0.1, recording every call.

It answers the methods coachbot uses (auth.test, users.info — with each user's e-mail and
workspace admin/owner flags —, users.lookupByEmail,
conversations.open, chat.postMessage, chat.postEphemeral, apps.connections.open, and the
upload flow: files.getUploadURLExternal, the POST of the bytes to the `upload_url` it
gives — served here, the declared length checked — and files.completeUploadExternal,
which only takes ids it gave out and whose bytes arrived, once), serves private file
downloads, takes `response_url` posts (an image block must name a completed upload, as
a `slack_file` id Slack knows), and speaks just enough of Socket
Mode's websocket for a test to push an envelope and read the acknowledgement. Tests
wait for calls with `wait_for` (an asyncio condition with a timeout), never by sleeping.

A wrong token is answered `invalid_auth`; an accepted one's answers carry its scopes in
the `x-oauth-scopes` header, as Slack's do (`scopes`: the manifest's, unless a test
takes some away).

With `limits` (`SlackLimits`) it enforces Slack's rate limits on its clock `now` and
answers beyond them as Slack does: HTTP 429, `{"ok": false, "error": "ratelimited"}`,
and a `Retry-After` header in whole seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from adapters.slack.manifest import SCOPES
from tests.adapters.limits import SlidingWindow

TEAM = "T0HOME"
BOT_USER = "UBOT"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "s3cr3t-signing"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    ok: bool = True  # what the double answered
    at: float = 0.0  # when, on the double's clock `now`


@dataclass(frozen=True)
class SlackLimits:
    """Slack's published limits (https://api.slack.com/docs/rate-limits): chat.postMessage
    one message a second per channel, and a workspace-wide limit Slack does not publish
    (`chat_per_minute`; None: none); conversations.open is Tier 3, 50 a minute."""

    per_channel: float = 1.0  # seconds between two posts to one channel
    chat_per_minute: int | None = None
    opens_per_minute: int = 50


@dataclass
class Upload:
    """One file of the upload flow, as the double saw it."""

    id: str
    filename: str
    length: int
    alt: str | None
    data: bytes | None = None  # the bytes POSTed to its upload_url
    title: str | None = None
    completed: bool = False
    channel: str | None = None  # where files.completeUploadExternal shared it


@dataclass
class Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class SlackDouble:
    def __init__(
        self,
        team: str = TEAM,
        token: str = BOT_TOKEN,
        *,
        limits: SlackLimits | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team = team
        self.token = token
        self.now = now  # seconds, for the rate limits
        # method -> its windows, each counted per channel or across the workspace
        self.windows: dict[str, list[tuple[SlidingWindow, bool]]] = {}
        self.set_limits(limits)
        self.limited: list[Call] = []  # calls answered 429 by the limits above
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.uploads: dict[str, Upload] = {}  # file id -> what files.* were told and given
        # Slack refuses an image block of a file it has not finished processing: True
        # answers every response_url post with an image block `invalid_blocks`
        self.refuse_images = False
        self.calls: list[Call] = []
        self.scripted: dict[str, list[Scripted]] = {}
        self.socket_acks: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = 0
        self.base = ""
        self.gates: dict[str, asyncio.Event] = {}
        # what the bot token was granted (the `x-oauth-scopes` header); None: no header
        self.scopes: list[str] | None = list(SCOPES)

    # -- set-up ---------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        email: str | None,
        name: str,
        *,
        team: str | None = None,
        is_bot: bool = False,
        admin: bool = False,
        owner: bool = False,
    ) -> None:
        profile: dict[str, Any] = {"display_name": name, "real_name": name.title()}
        if email:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": team or self.team,
            "name": name,
            "real_name": name.title(),
            "is_bot": is_bot,
            "deleted": False,
            "is_admin": admin,
            "is_owner": owner,
            "is_primary_owner": False,
            "profile": profile,
        }

    def set_admin(self, user_id: str, *, admin: bool = True, owner: bool = False) -> None:
        """A workspace admin (or owner) as `users.info` tells it."""
        self.users[user_id].update(is_admin=admin, is_owner=owner)

    def set_email(self, user_id: str, email: str | None) -> None:
        """The person's e-mail changed in Slack's profile (None: none shown)."""
        profile = self.users[user_id]["profile"]
        if email:
            profile["email"] = email
        else:
            profile.pop("email", None)

    def set_limits(self, limits: SlackLimits | None) -> None:
        """Enforce `limits` from now on, counting afresh (None: no limits)."""
        self.limits = limits
        self.windows = {}
        if limits is not None:
            self.windows["chat.postMessage"] = [(SlidingWindow(1, limits.per_channel), True)]
            if limits.chat_per_minute:
                self.windows["chat.postMessage"].append(
                    (SlidingWindow(limits.chat_per_minute, 60.0), False)
                )
            self.windows["conversations.open"] = [
                (SlidingWindow(limits.opens_per_minute, 60.0), False)
            ]

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next call of `method` answers with this error (429 for a rate limit; a
        5xx status for Slack being down)."""
        self.scripted.setdefault(method, []).append(
            Scripted(status, {"ok": False, "error": error}, headers or {})
        )

    def gate(self, method: str) -> asyncio.Event:
        """Hold every call of `method` until the returned event is set."""
        return self.gates.setdefault(method, asyncio.Event())

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/respond/{key}"

    def file_url(self, name: str) -> str:
        return f"{self.base}/files/{name}"

    # -- what happened --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def responses(self, key: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == f"respond:{key}"]

    def shared(self, channel: str | None = None) -> list[Upload]:
        """Completed uploads shared in `channel` (None: every completed upload)."""
        return [
            u
            for u in self.uploads.values()
            if u.completed and (channel is None or u.channel == channel)
        ]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages Slack accepted (refused attempts are in `calls` only)."""
        return [
            c.args
            for c in self.calls
            if c.method == "chat.postMessage"
            and c.ok
            and (channel is None or c.args["channel"] == channel)
        ]

    async def wait_for(self, predicate: Callable[[], Any]) -> Any:
        """Until `predicate()` is truthy (checked after every recorded call); callers bound
        the wait with `asyncio.timeout`."""
        async with self._changed:
            while not (result := predicate()):
                await self._changed.wait()
            return result

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    # -- the server -----------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:`port` (0: any free port); the base URL."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{key}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        return self.base

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        call = Call(method, args, headers, at=self.now())
        status, answer, extra = self._limit(method, args) or self._answer(method, args, headers)
        call.ok = bool(answer.get("ok")) and status == 200
        if status == 429 and method in self.windows:
            self.limited.append(call)
        await self._record(call)
        if method in self.gates:
            await self.gates[method].wait()
        return web.json_response(answer, status=status, headers=extra)

    def _limit(
        self, method: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        """Slack's 429 for a call beyond `limits`, else None (and the call is counted)."""
        windows = self.windows.get(method)
        if not windows:
            return None
        now = self.now()
        keys = [str(args.get("channel", "")) if per_channel else "" for _, per_channel in windows]
        wait = max(w.wait(now, key) for (w, _), key in zip(windows, keys, strict=True))
        if wait > 0:
            retry = {"Retry-After": str(math.ceil(wait))}
            return 429, {"ok": False, "error": "ratelimited"}, retry
        for (window, _), key in zip(windows, keys, strict=True):
            window.take(now, key)
        return None

    def _answer(
        self, method: str, args: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        queued = self.scripted.get(method)
        if queued:
            scripted = queued.pop(0)
            return scripted.status, scripted.body, scripted.headers
        wanted = APP_TOKEN if method == "apps.connections.open" else self.token
        if headers.get("Authorization") != f"Bearer {wanted}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        # Slack names the token's scopes on every answer to an accepted token
        granted = {} if self.scopes is None else {"x-oauth-scopes": ",".join(self.scopes)}
        return 200, handler(args), granted

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://home.slack.test/",
            "team": "Home",
            "team_id": self.team,
            "user": "coachbot",
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email", "")).lower()
        for user in self.users.values():
            if str(user["profile"].get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("users", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": f"D{user}"}}

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1700000000.{self._ts:06d}"

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if not self._blocks_show_known_files(args.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        return {"ok": True, "channel": args.get("channel"), "ts": self._next_ts()}

    def _blocks_show_known_files(self, blocks: Any) -> bool:
        """Every image block's `slack_file` id is a completed upload (Slack answers
        `invalid_blocks` for one it does not know)."""
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for block in blocks or []:
            if block.get("type") != "image" or "slack_file" not in block:
                continue
            found = self.uploads.get(str(block["slack_file"].get("id")))
            if found is None or not found.completed or not block.get("alt_text"):
                return False
        return True

    # -- the upload flow --------------------------------------------------------------------

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:09d}"
        alt = args.get("alt_txt")
        self.uploads[file_id] = Upload(file_id, filename, length, str(alt) if alt else None)
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: the raw bytes, exactly as many as were declared."""
        file_id = request.match_info["file_id"]
        data = await request.read()
        await self._record(Call("upload", {"file_id": file_id, "bytes": len(data)}))
        upload = self.uploads.get(file_id)
        if upload is None or upload.completed:
            return web.Response(status=404, text="unknown upload")
        if len(data) != upload.length:
            return web.Response(status=400, text=f"expected {upload.length} bytes")
        upload.data = data
        return web.Response(text=f"OK - {len(data)}")

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("files")
        try:
            wanted = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(wanted, list) or not wanted:
            return {"ok": False, "error": "invalid_arguments"}
        found = [self.uploads.get(str(item.get("id"))) for item in wanted]
        if any(u is None or u.data is None or u.completed for u in found):
            return {"ok": False, "error": "file_not_found"}
        channel = args.get("channel_id")
        done = []
        for upload, item in zip(found, wanted, strict=True):
            assert upload is not None
            upload.completed = True
            upload.title = item.get("title") or upload.filename
            upload.channel = str(channel) if channel else None
            self.files[upload.id] = upload.data or b""
            done.append({"id": upload.id, "title": upload.title, "name": upload.filename})
        return {"ok": True, "files": done}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("file", ""))
        if name not in self.files:
            return {"ok": False, "error": "file_not_found"}
        size = len(self.files[name])
        return {
            "ok": True,
            "file": {"id": name, "name": name, "size": size, "url_private": self.file_url(name)},
        }

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"{self.base.replace('http', 'ws', 1)}/socket"}

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        images = any(b.get("type") == "image" for b in body.get("blocks") or [])
        ok = self._blocks_show_known_files(body.get("blocks")) and not (
            images and self.refuse_images
        )
        await self._record(Call(f"respond:{request.match_info['key']}", body, ok=ok))
        if not ok:
            return web.json_response({"ok": False, "error": "invalid_blocks"}, status=404)
        return web.Response(text="ok")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        await self._record(Call("file", {"name": name}, headers))
        if headers.get("Authorization") != f"Bearer {self.token}" or name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    # -- Socket Mode ----------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await self._record(Call("socket:connect", {}))
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                ack = json.loads(message.data)
                self.socket_acks.append(ack)
                await self._record(Call("socket:ack", ack))
        return ws

    @property
    def open_sockets(self) -> int:
        """Socket Mode connections the app has open."""
        return sum(1 for ws in self._sockets if not ws.closed)

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        await self._sockets[-1].send_json(envelope)


# -- signed requests, as Slack sends them ------------------------------------------------


def signature(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str,
    *,
    content_type: str,
    age: int = 0,
    secret: str = SIGNING_SECRET,
    retry: int | None = None,
    sign: bool = True,
) -> dict[str, str]:
    """Headers of a request Slack made `age` seconds ago (Slack signs with wall time)."""
    timestamp = int(time.time()) - age
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp)}
    if sign:
        headers["X-Slack-Signature"] = signature(body, timestamp, secret)
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def interaction(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})
