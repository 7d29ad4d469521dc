"""The operator's endpoints (issue 14, SPEC §9): `/healthz`, `/readyz` and `/metrics`.

`coachbot run` serves them on COACHBOT_ADMIN_HOST:ADMIN_PORT (loopback by default),
apart from the public HTTP_HOST:HTTP_PORT that serves Slack's events, so they are there
whichever front ends run — Slack, Discord only, or none. An aiohttp server on the
process's own event loop: every handler awaits, nothing blocks the loop.

- `/healthz`: 200 while the process answers at all (a liveness probe).
- `/readyz`: 200 `ready` when every readiness check passes (`bot.health`), else 503 with
  one line per reason.
- `/metrics`: the Prometheus text format, from a registry of this process's own
  (`Metrics`, never prometheus_client's global one), filled through the core's
  `Observer` port; the outbox gauges are read from the store at each scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.network import listen
from bot.ports import FrontEndStartError

log = logging.getLogger("coachbot.admin")

LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """One process's metrics; implements the core's `Observer` port."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter(
            "coachbot_commands",
            "Commands handled, by registered name and outcome (ok, refused, conflict, "
            "unavailable, error).",
            ["command", "outcome"],
            registry=r,
        )
        self.command_seconds = Histogram(
            "coachbot_command_duration_seconds",
            "Time from a command's arrival in the core to its answer.",
            ["command"],
            buckets=LATENCY,
            registry=r,
        )
        self.sends = Counter(
            "coachbot_sends",
            "Outbox send attempts, by platform (slack, discord, console, mail), message "
            "kind and outcome (sent, retry, limited, failed).",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "coachbot_send_duration_seconds",
            "Time one outbox send attempt took, by platform.",
            ["platform"],
            buckets=LATENCY,
            registry=r,
        )
        self.waits = Counter(
            "coachbot_rate_limit_waits",
            "Sends that waited for their platform's pace or a Retry-After.",
            ["platform"],
            registry=r,
        )
        self.wait_seconds = Counter(
            "coachbot_rate_limit_wait_seconds",
            "Seconds sends waited for their platform's pace or a Retry-After.",
            ["platform"],
            registry=r,
        )
        self.charts = Counter(
            "coachbot_charts",
            "Charts drawn for messages, by outcome (ok; failed: the text went alone).",
            ["outcome"],
            registry=r,
        )
        self.chart_seconds = Histogram(
            "coachbot_chart_duration_seconds",
            "Time one chart took to draw, waiting for a drawing process included.",
            buckets=LATENCY,
            registry=r,
        )
        self.lag = Gauge(
            "coachbot_scheduler_lag_seconds",
            "How late the last scheduler tick ran after it was due.",
            registry=r,
        )
        self.outbox_depth = Gauge(
            "coachbot_outbox_depth",
            "Outbox messages due and not yet sent (those being sent included).",
            registry=r,
        )
        self.outbox_age = Gauge(
            "coachbot_outbox_oldest_due_age_seconds",
            "Age of the oldest due, unsent outbox message (0: none is due).",
            registry=r,
        )

    # -- the Observer port --------------------------------------------------------------

    def command(self, name: str, outcome: str, seconds: float) -> None:
        self.commands.labels(name, outcome).inc()
        self.command_seconds.labels(name).observe(seconds)

    def send(self, platform: str, kind: str, outcome: str, seconds: float) -> None:
        self.sends.labels(platform, kind, outcome).inc()
        self.send_seconds.labels(platform).observe(seconds)

    def waited(self, platform: str, seconds: float) -> None:
        self.waits.labels(platform).inc()
        self.wait_seconds.labels(platform).inc(max(0.0, seconds))

    def scheduler_lag(self, seconds: float) -> None:
        self.lag.set(seconds)

    def chart(self, outcome: str, seconds: float) -> None:
        self.charts.labels(outcome).inc()
        self.chart_seconds.observe(seconds)

    # -- read at each scrape ----------------------------------------------------------

    def outbox(self, depth: int, oldest_age: float) -> None:
        self.outbox_depth.set(depth)
        self.outbox_age.set(max(0.0, oldest_age))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class AdminStartError(FrontEndStartError):
    """The admin port cannot be bound: one line naming the setting."""


Ready = Callable[[], Awaitable[list[str]]]
Refresh = Callable[[], Awaitable[None]]


class AdminServer:
    """`/healthz`, `/readyz`, `/metrics` on `host:port` (0: any free port, for tests)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics,
        ready: Ready,
        refresh: Refresh | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.ready = ready
        self.refresh = refresh
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/readyz", self._readyz)
        application.router.add_get("/metrics", self._metrics)
        return application

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        found = await self.ready()
        if not found:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="".join(f"not ready: {p}\n" for p in found))

    async def _metrics(self, _request: web.Request) -> web.Response:
        if self.refresh is not None:
            try:
                await self.refresh()
            except Exception as exc:  # the store unreachable: the gauges keep their last value
                log.warning("could not read the outbox for /metrics: %s", type(exc).__name__)
        response = web.Response(body=self.metrics.exposition())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def start(self) -> None:
        try:
            where = "COACHBOT_ADMIN_HOST:ADMIN_PORT"
            self._runner = await listen(self.web_app(), self.host, self.port, where)
        except OSError as exc:
            raise AdminStartError(str(exc)) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("admin: serving %s/healthz, /readyz and /metrics", self.url)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
