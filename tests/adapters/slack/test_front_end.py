"""Starting and stopping the front end; Socket Mode (COACHBOT_SLACK_APP_TOKEN): no port,
envelopes over a websocket (here the double's), the same listeners behind them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.slack import SlackFrontEnd, SlackStartError, build_slack
from bot.bootstrap import bootstrap
from bot.clock import FakeClock
from tests.adapters.slack.conftest import WAIT, SlackClub, open_slack, plain, settings_for
from tests.adapters.slack.double import APP_TOKEN, TEAM, SlackDouble


@pytest.fixture
async def socket_front(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> AsyncIterator[SlackFrontEnd]:
    settings = settings_for(
        double, sqlite_url, slack_app_token=APP_TOKEN, slack_signing_secret=None
    )
    app, front = await open_slack(sqlite_url, settings, clock, port=None)
    try:
        yield front
    finally:
        await front.stop()
        await app.close()


def envelope(number: int, user: str, text: str, *, retry: int = 0) -> dict[str, object]:
    return {
        "envelope_id": f"env-{number}",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "retry_attempt": retry,
        "retry_reason": "timeout" if retry else "",
        "payload": {
            "team_id": TEAM,
            "channel_id": f"D{user}",
            "channel_name": "directmessage",
            "user_id": user,
            "command": text.split()[0],
            "text": text.partition(" ")[2],
            "response_url": f"RESPONSE/{number}",
            "trigger_id": f"socket.{number}",
        },
    }


async def test_socket_mode_serves_slash_commands_over_the_websocket(
    socket_front: SlackFrontEnd, double: SlackDouble
) -> None:
    assert socket_front.mode == "socket"
    double.add_user("UHC", "hc@lake.run", "hc", owner=True)  # the owner binds the workspace
    async with asyncio.timeout(WAIT):
        await socket_front.start()
        await double.wait_for(lambda: double.calls_to("socket:connect"))
        [opened] = double.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"

        first = envelope(1, "UHC", '/setup-org "Lakeside Striders"')
        first["payload"]["response_url"] = double.response_url("s1")  # type: ignore[index]
        await double.socket_send(first)
        await double.wait_for(lambda: double.responses("s1"))
        assert {"envelope_id": "env-1"} in [c.args for c in double.calls_to("socket:ack")]
        [answer] = double.responses("s1")
        assert "Lakeside Striders is set up" in plain(answer["text"])

        # Slack's retry of the same command (same trigger) is acknowledged and ignored
        again = envelope(2, "UHC", '/setup-org "Lakeside Striders"', retry=1)
        again["payload"] = {**first["payload"], "response_url": double.response_url("s2")}  # type: ignore[dict-item]
        await double.socket_send(again)
        await double.wait_for(
            lambda: any(c.args.get("envelope_id") == "env-2" for c in double.calls_to("socket:ack"))
        )
        await socket_front.bot.settled(2)
    assert double.responses("s2") == []


async def test_a_token_slack_refuses_stops_start_up_with_one_line(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> None:
    app = await bootstrap(sqlite_url, clock=clock, migrate=False)
    front = build_slack(
        settings_for(double, sqlite_url, slack_bot_token="xoxb-wrong"), app.core, port=0
    )
    try:
        with pytest.raises(SlackStartError, match=r"COACHBOT_SLACK_BOT_TOKEN \(invalid_auth\)"):
            await front.start()
    finally:
        await front.stop()
        await app.close()


async def test_a_port_in_use_stops_start_up_naming_the_setting(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> None:
    app = await bootstrap(sqlite_url, clock=clock, migrate=False)
    first = build_slack(settings_for(double, sqlite_url), app.core, port=0)
    await first.start()
    second = build_slack(settings_for(double, sqlite_url), app.core, port=first.port)
    try:
        with pytest.raises(SlackStartError, match="COACHBOT_HTTP_HOST:HTTP_PORT"):
            await second.start()
    finally:
        await second.stop()
        await first.stop()
        await app.close()


async def test_run_serves_until_cancelled(
    sqlite_url: str, double: SlackDouble, clock: FakeClock
) -> None:
    app = await bootstrap(sqlite_url, clock=clock, migrate=False)
    front = build_slack(settings_for(double, sqlite_url), app.core, port=0)
    serving = asyncio.create_task(front.run())
    async with asyncio.timeout(WAIT):
        await front.ready.wait()
    assert front.mode == "http" and front.port > 0
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    await front.stop()
    await front.stop()  # twice is harmless
    await app.close()


async def test_stop_lets_the_work_after_an_ack_finish(slack_lite: SlackClub) -> None:
    s = slack_lite
    s.person("hc@lake.run")
    gate = s.double.gate("users.info")
    sending = asyncio.create_task(s.command("hc@lake.run", "/help"))
    async with asyncio.timeout(WAIT):
        await s.double.wait_for(lambda: s.double.calls_to("users.info"))
        stopping = asyncio.create_task(s.front.stop())
        done, _ = await asyncio.wait({stopping}, timeout=0.2)
        assert not done  # stop() waits for the command in flight
        gate.set()
        await stopping
        said = await sending
    assert "Commands you can use" in said.text
