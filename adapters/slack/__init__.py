"""Slack front end: `build_slack(settings, core)` for `coachbot run` (bot/cli.py).

HTTP mode (the default) serves `POST /slack/events` on the public server
(`adapters.public`, COACHBOT_HTTP_HOST:HTTP_PORT, shared with the calendar feeds) for
slash commands, the Events API (including `url_verification`) and interactivity, with
every request's signature checked against COACHBOT_SLACK_SIGNING_SECRET (bolt answers a
bad, missing or stale one with 401 before any listener runs). With
COACHBOT_SLACK_APP_TOKEN set it uses Socket Mode instead and opens no port. Every Web API
call goes to COACHBOT_SLACK_API_URL, so the whole adapter runs against a local double.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.network import network_reason, quiet_network_retries
from adapters.public import PublicServer
from adapters.slack.identity import Directory
from adapters.slack.listeners import SlackBot
from adapters.slack.manifest import PATH
from adapters.slack.sender import SlackSender
from bot.ports import FrontEndStartError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core import Core

__all__ = ["SlackFrontEnd", "SlackSender", "SlackStartError", "build_slack"]
log = logging.getLogger("coachbot.slack")


class SlackStartError(FrontEndStartError):
    """The Slack front end cannot start (the token refused, the port taken): one line
    naming the setting."""


class SlackFrontEnd:
    def __init__(
        self,
        settings: Settings,
        core: Core,
        *,
        port: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        public: PublicServer | None = None,
    ) -> None:
        token = settings.slack_bot_token
        if not token:
            raise ValueError("COACHBOT_SLACK_BOT_TOKEN is required for Slack")
        self.host = settings.http_host
        self.port = settings.http_port if port is None else port
        self.app_token = settings.slack_app_token
        api_url = settings.slack_api_url.rstrip("/") + "/"  # slack_sdk appends method names
        self.client = AsyncWebClient(token=token, base_url=api_url)
        clock = core.clock  # the cache expires on the injected clock, as all else does
        self.directory = Directory(self.client, now=lambda: clock.now().timestamp())
        self.sender = SlackSender(
            self.client, self.directory, core.identities, observed=core.observed
        )
        self.bot = SlackBot(
            core,
            self.client,
            self.directory,
            self.sender,
            signing_secret=settings.slack_signing_secret,
            bot_token=token,
            api_url=api_url,
            sleep=sleep,
        )
        # HTTP mode: Slack's route on the public server (`coachbot run`'s, or one of its own)
        self.public: PublicServer | None = None
        if not self.app_token:
            self.public = public or PublicServer(self.host, self.port)
            self.public.add_post(PATH, self._events)
        self._socket: Any = None
        self._session: aiohttp.ClientSession | None = None
        self.ready = asyncio.Event()  # set once serving (HTTP bound / socket connected)
        self.drained = False  # drain() ran: stop() closes without waiting again

    @property
    def mode(self) -> str:
        return "socket" if self.app_token else "http"

    async def _events(self, request: web.Request) -> web.Response:
        """A request of Slack's at /slack/events."""
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.bot.bolt.async_dispatch(bolt_request))

    async def start(self) -> None:
        """Open the connection pool and start listening (returns once ready)."""
        self.drained = False
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            self.client.session = self._session
            self.bot.session = self._session
            await self._check_token()
        if self.mode == "socket":
            if self._socket is None:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                self._socket = AsyncSocketModeHandler(
                    self.bot.bolt, self.app_token, web_client=self.client
                )
                # the first Socket Mode URL is asked for here, so that a refused app token or
                # an unreachable Slack stops start-up; slack_sdk would retry it forever
                self._socket.client.wss_uri = await self._socket_url()
                quiet_network_retries(self._socket.client.logger)
                await self._socket.connect_async()
                log.info("Slack: connected in Socket Mode")
            self.ready.set()
            return
        assert self.public is not None
        if not self.public.serving:  # `coachbot run` starts it first; alone, Slack does
            try:
                await self.public.start()
            except FrontEndStartError as exc:
                raise SlackStartError(str(exc)) from None
        self.port = self.public.port
        if not self.ready.is_set():
            log.info("Slack: serving http://%s:%s%s", self.host, self.port, PATH)
        self.ready.set()

    async def _check_token(self) -> None:
        """auth.test once at start-up: a wrong token or an unreachable Slack stops start-up
        with one clear line (docs/DESIGN.md: what stops, what retries)."""
        try:
            team = await self.sender.home_team()
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else "error"
            raise SlackStartError(f"Slack refused COACHBOT_SLACK_BOT_TOKEN ({error})") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise SlackStartError(self._unreachable(exc)) from None
        log.info("Slack: bot token belongs to workspace %s", team)

    async def _socket_url(self) -> str:
        try:
            response = await self.client.apps_connections_open(app_token=self.app_token or "")
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else "error"
            raise SlackStartError(f"Slack refused COACHBOT_SLACK_APP_TOKEN ({error})") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as exc:
            raise SlackStartError(self._unreachable(exc)) from None
        return str(response["url"])

    def _unreachable(self, exc: BaseException) -> str:
        return (
            f"cannot reach Slack at COACHBOT_SLACK_API_URL {self.client.base_url} "
            f"({network_reason(exc)})"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    async def run(self) -> None:
        """Serve until cancelled."""
        await self.start()
        await asyncio.Event().wait()

    async def connected(self) -> bool:
        """Serving: the HTTP endpoint bound, or the Socket Mode connection open (`/readyz`)."""
        if not self.ready.is_set():
            return False
        if self._socket is not None:
            return bool(await self._socket.client.is_connected())
        return self.public is not None and self.public.serving

    async def drain(self) -> None:
        """Take no new requests — the HTTP listener closed (a new connection is refused:
        behind a load balancer it goes to another process), or the socket — and wait
        until the work that follows each ack() has finished (the caller bounds the wait:
        `coachbot run`'s shutdown; docs/DESIGN.md "Stopping and restarting")."""
        self.drained = True
        self.ready.clear()
        serving = self._socket is not None or bool(self.public and self.public.serving)
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self.public is not None:
            await self.public.stop()  # the feeds it serves stop with it: the process is going
        if serving:
            log.info("Slack: taking no new requests; %s in progress", self.bot.in_flight)
        await self.bot.settled()

    async def stop(self) -> None:
        """Close everything; after `drain()` at once (its caller gave the work in flight
        the time it had), else after the work in flight, within reason."""
        if not self.drained:
            try:
                async with asyncio.timeout(10.0):
                    await self.drain()
            except TimeoutError:
                pass
        if self.bot.in_flight:
            log.warning("Slack: stopped with %s requests still in progress", self.bot.in_flight)
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None
        await self.bot.close()


def build_slack(
    settings: Settings, core: Core, *, port: int | None = None, public: PublicServer | None = None
) -> SlackFrontEnd:
    """The Slack front end for `coachbot run`, built from the core inside
    `bootstrap(senders=...)`; `port` overrides COACHBOT_HTTP_PORT (0: any free port, for
    tests); `public`: the process's public server, which then carries Slack's route (in
    HTTP mode) — else the front end makes one of its own."""
    return SlackFrontEnd(settings, core, port=port, public=public)
