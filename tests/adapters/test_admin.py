"""Issue 14 item 1: `/healthz`, `/readyz` and `/metrics`, over real HTTP on loopback.

The admin server is built by the function `coachbot run` uses (`bot.cli.admin_server`),
on an ephemeral port, over an app bootstrapped with the metrics observer. Readiness is
tried against a database that cannot be reached, one whose migrations are behind, and
front ends that are not connected (a fake one, and the real Slack and Discord front ends
against their doubles); metrics are read with prometheus_client's own parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from adapters.admin import AdminServer, Metrics
from adapters.console.sender import ConsoleSender
from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.cli import admin_server, platform_senders
from bot.clock import FakeClock
from bot.config import Settings
from bot.ports import FrontEnd
from storage.engine import make_engine
from storage.migrate import alembic_config, head_revision, upgrade
from tests.adapters.discord.conftest import no_wait
from tests.adapters.discord.double import DiscordDouble
from tests.adapters.slack.double import SlackDouble
from tests.adapters.test_run_wiring import Running, seed
from tests.adapters.wiring import both_platforms, serving
from tests.schedule.test_dispatch import Naps, notes


async def fetch(url: str) -> tuple[int, str, str]:
    """Status, body and content type of a GET."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text(), response.headers["Content-Type"]


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a /metrics page (None: not exposed)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


@asynccontextmanager
async def served(
    app: App, metrics: Metrics, fronts: Sequence[FrontEnd] = ()
) -> AsyncIterator[AdminServer]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    admin = admin_server(settings, app, metrics, list(fronts), host="127.0.0.1", port=0)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.stop()


@asynccontextmanager
async def observed_app(url: str, clock: FakeClock) -> AsyncIterator[tuple[App, Metrics]]:
    metrics = Metrics()
    app = await bootstrap(url, clock=clock, migrate=False, sender=ConsoleSender(), observer=metrics)
    try:
        yield app, metrics
    finally:
        await app.close()


@dataclass
class FakeFront:
    """A front end whose connection the test decides."""

    platform: str
    is_connected: bool = False
    sender: object = field(init=False)

    def __post_init__(self) -> None:
        self.sender = ConsoleSender()
        self.sender.platform = self.platform  # type: ignore[attr-defined]

    async def run(self) -> None:  # pragma: no cover - never run here
        raise NotImplementedError

    async def stop(self) -> None:  # pragma: no cover
        return None

    async def connected(self) -> bool:
        return self.is_connected


async def test_healthz_and_readyz_on_a_migrated_database(db_url: str, clock: FakeClock) -> None:
    async with observed_app(db_url, clock) as (app, metrics), served(app, metrics) as admin:
        assert admin.port != 0 and admin.host == "127.0.0.1"
        assert (await fetch(f"{admin.url}/healthz"))[:2] == (200, "ok\n")
        assert (await fetch(f"{admin.url}/readyz"))[:2] == (200, "ready\n")


async def test_readyz_is_503_until_each_front_end_is_connected(
    sqlite_url: str, clock: FakeClock
) -> None:
    slack, discord = FakeFront("slack", is_connected=True), FakeFront("discord")
    fronts: list[FrontEnd] = [slack, discord]  # type: ignore[list-item]
    async with observed_app(sqlite_url, clock) as (app, metrics):
        async with served(app, metrics, fronts) as admin:
            status, body, _ = await fetch(f"{admin.url}/readyz")
            assert (status, body) == (503, "not ready: discord not connected\n")
            slack.is_connected, discord.is_connected = False, True
            status, body, _ = await fetch(f"{admin.url}/readyz")
            assert (status, body) == (503, "not ready: slack not connected\n")
            slack.is_connected = True
            assert (await fetch(f"{admin.url}/readyz"))[:2] == (200, "ready\n")
            # alive all along
            assert (await fetch(f"{admin.url}/healthz"))[0] == 200


async def test_readyz_is_503_when_the_database_cannot_be_reached(
    tmp_path: Path, clock: FakeClock
) -> None:
    missing = tmp_path / "no such folder" / "coachbot.db"
    async with observed_app(f"sqlite+aiosqlite:///{missing}", clock) as (app, metrics):
        async with served(app, metrics) as admin:
            status, body, _ = await fetch(f"{admin.url}/readyz")
            assert status == 503
            assert body.startswith("not ready: database unreachable: "), body
            assert str(tmp_path) not in body  # never the URL
            assert (await fetch(f"{admin.url}/healthz"))[0] == 200
            # /metrics still answers; the outbox gauges are simply not refreshed
            status, text, _ = await fetch(f"{admin.url}/metrics")
            assert status == 200 and sample(text, "coachbot_outbox_depth") == 0


async def test_readyz_is_503_when_the_migrations_are_behind(
    tmp_path: Path, clock: FakeClock
) -> None:
    from alembic.script import ScriptDirectory

    head = head_revision()
    assert head is not None
    before = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    assert isinstance(before, str)
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    engine = make_engine(url)
    await upgrade(engine, before)
    await engine.dispose()
    async with observed_app(url, clock) as (app, metrics), served(app, metrics) as admin:
        status, body, _ = await fetch(f"{admin.url}/readyz")
        assert status == 503
        assert f"database schema at revision {before!r}" in body
        assert f"needs {head!r}" in body


async def test_metrics_count_commands_outbox_depth_and_sends(db_url: str, clock: FakeClock) -> None:
    async with observed_app(db_url, clock) as (app, metrics), served(app, metrics) as admin:
        await app.core.handle(console_caller("hc@lake.run"), "/help")
        await app.core.handle(console_caller("hc@lake.run"), "/help")
        await app.core.handle(console_caller("hc@lake.run"), "/frobnicate now")
        await app.core.handle(console_caller("hc@lake.run"), "/members")  # no org yet
        await notes(app, 3)  # three DMs due now ...
        clock.advance(timedelta(seconds=90))  # ... and waiting for 90 s

        status, text, content_type = await fetch(f"{admin.url}/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        assert sample(text, "coachbot_commands_total", command="help", outcome="ok") == 2
        assert sample(text, "coachbot_commands_total", command="unknown", outcome="refused") == 1
        assert sample(text, "coachbot_commands_total", command="members", outcome="refused") == 1
        assert sample(text, "coachbot_command_duration_seconds_count", command="help") == 2
        assert sample(text, "coachbot_outbox_depth") == 3
        assert sample(text, "coachbot_outbox_oldest_due_age_seconds") == 90

        sent = await app.scheduling.dispatcher.drain()
        assert len(sent) == 3
        _, text, _ = await fetch(f"{admin.url}/metrics")
        labels = {"platform": "console", "kind": "note", "outcome": "sent"}
        assert sample(text, "coachbot_sends_total", **labels) == 3
        assert sample(text, "coachbot_send_duration_seconds_count", platform="console") == 3
        assert sample(text, "coachbot_outbox_depth") == 0
        assert sample(text, "coachbot_outbox_oldest_due_age_seconds") == 0


async def test_scheduler_lag_is_how_late_a_tick_ran(sqlite_url: str, clock: FakeClock) -> None:
    async with observed_app(sqlite_url, clock) as (app, metrics), served(app, metrics) as admin:
        await app.scheduling.start()
        try:
            clock.advance(timedelta(seconds=45))  # the tick due at +30 s runs at +45 s
            await app.scheduling._tick()
            _, text, _ = await fetch(f"{admin.url}/metrics")
            assert sample(text, "coachbot_scheduler_lag_seconds") == 15
            clock.advance(timedelta(seconds=15))  # the next, due at +60 s, on time
            await app.scheduling._tick()
            _, text, _ = await fetch(f"{admin.url}/metrics")
            assert sample(text, "coachbot_scheduler_lag_seconds") == 0
        finally:
            await app.scheduling.stop()


async def test_real_front_ends_rate_limits_and_sends_through_the_doubles(
    db_url: str, clock: FakeClock
) -> None:
    """`coachbot run`'s wiring with both doubles: ready once both front ends connect;
    a 429 from Slack counts as a limited send and a wait; Discord's sends count apart;
    Discord gone makes the process not ready."""
    stamp = lambda: clock.now().timestamp()  # noqa: E731 - the doubles' clock
    slack, rest = SlackDouble(now=stamp), DiscordDouble(now=stamp)
    await slack.start()
    await rest.start()
    settings = both_platforms(db_url, slack.api_url, rest.api_url, rest.gateway_url)
    fronts: list[FrontEnd] = []
    metrics = Metrics()
    senders = platform_senders(settings, fronts, guild_ready_timeout=0.05, sleep=no_wait)
    app = await bootstrap(db_url, clock=clock, migrate=False, senders=senders, observer=metrics)
    try:
        async with served(app, metrics, fronts) as admin:
            status, body, _ = await fetch(f"{admin.url}/readyz")
            assert status == 503
            assert "slack not connected" in body and "discord not connected" in body
            async with serving(fronts, within=10.0):
                assert (await fetch(f"{admin.url}/readyz"))[:2] == (200, "ready\n")
                app.scheduling.dispatcher.sleep = Naps(clock)
                run = Running(app, slack, rest, clock, db_url)
                await seed(run, ["slack", "discord"] * 2)
                slack.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
                await app.scheduling.dispatcher.run_once(wait=True)

                _, text, _ = await fetch(f"{admin.url}/metrics")
                count = lambda p, o: sample(  # noqa: E731
                    text, "coachbot_sends_total", platform=p, kind="note", outcome=o
                )
                assert (count("slack", "limited"), count("slack", "sent")) == (1, 2)
                assert (count("discord", "sent"), count("discord", "limited")) == (2, None)
                waits = sample(text, "coachbot_rate_limit_waits_total", platform="slack")
                waited = sample(text, "coachbot_rate_limit_wait_seconds_total", platform="slack")
                assert waits is not None and waits >= 1
                assert waited is not None and waited >= 30

                await fronts[1].stop()  # Discord's connection gone
                status, body, _ = await fetch(f"{admin.url}/readyz")
                assert (status, body) == (503, "not ready: discord not connected\n")
    finally:
        await app.close()
        await slack.stop()
        await rest.stop()
