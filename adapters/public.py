"""The public HTTP server on COACHBOT_HTTP_HOST:HTTP_PORT: what the world may reach.

It serves the calendar feeds (`GET /calendar/TOKEN.ics`, issue 15) and, when Slack runs
in HTTP mode, Slack's `POST /slack/events` (the Slack front end adds its route before
the server starts, `adapters.slack`). `coachbot run` starts it for Slack's HTTP mode and
whenever COACHBOT_PUBLIC_URL or COACHBOT_HTTP_PORT is set (`Settings.public_server`);
the health and metrics endpoints stay on the admin server (`adapters/admin.py`).

A feed is only translated here: the core builds the file from the token
(`Core.calendar_feed`). Every answer that is not a feed is the same 404, whatever the
reason (unknown, revoked, the owner removed or suspended), and no line is logged with
a request's path — it holds the token, which is the whole secret (no access log).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.network import listen
from bot.feeds import FEED_PATH, FEED_SUFFIX
from bot.ports import FrontEndStartError, StoreUnavailable

log = logging.getLogger("coachbot.public")

FeedSource = Callable[[str], Awaitable[bytes | None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WHERE = "COACHBOT_HTTP_HOST:HTTP_PORT"
CACHE = "private, max-age=300"  # a revoked URL stops answering within minutes at most
NOT_FOUND = "Not found\n"
FEED_HEADERS = {
    "Cache-Control": CACHE,
    "Content-Disposition": 'inline; filename="coachbot.ics"',
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def feed_etag(body: bytes) -> str:
    """An entity tag that ignores `DTSTAMP` (the moment of building, different on every
    fetch): an unchanged schedule answers 304 to a calendar app that asks again."""
    kept = b"\n".join(line for line in body.splitlines() if not line.startswith(b"DTSTAMP"))
    return '"' + hashlib.sha256(kept).hexdigest()[:32] + '"'


class PublicServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application()
        self._feeds: FeedSource | None = None
        self._runner: web.AppRunner | None = None
        self.app.router.add_get(FEED_PATH + "{name}", self._calendar)

    def serve_feeds(self, feeds: FeedSource) -> None:
        """Where feeds come from (the core, once it is built)."""
        self._feeds = feeds

    def add_post(self, path: str, handler: Handler) -> None:
        """Another public route (Slack's events), before the server starts."""
        self.app.router.add_post(path, handler)

    @property
    def serving(self) -> bool:
        return self._runner is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Listen (once; a second call while serving does nothing). A port that cannot be
        had raises `FrontEndStartError` naming the settings."""
        if self._runner is not None:
            return
        try:
            self._runner = await listen(self.app, self.host, self.port, WHERE)
        except OSError as exc:
            raise FrontEndStartError(str(exc)) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("public server: serving http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Close the listener (a new connection is refused); twice is harmless."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _calendar(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        if self._feeds is None or not name.endswith(FEED_SUFFIX):
            return web.Response(status=404, text=NOT_FOUND)
        try:
            body = await self._feeds(name.removesuffix(FEED_SUFFIX))
        except StoreUnavailable:
            log.warning("a calendar feed could not be read: the database is busy")
            return web.Response(status=503, text="Try again later\n", headers={"Retry-After": "60"})
        except Exception:  # logged without the path: the token never reaches a log line
            log.exception("a calendar feed could not be built")
            return web.Response(status=500, text="Something went wrong\n")
        if body is None:
            return web.Response(status=404, text=NOT_FOUND)
        etag = feed_etag(body)
        headers = {**FEED_HEADERS, "ETag": etag}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=body, content_type="text/calendar", charset="utf-8", headers=headers
        )
