"""Issue 14 item 2: logs an operator can use, and that never hold a secret.

Logging is set up by the function `coachbot` itself uses (`bot.cli.configure_logging`), at
DEBUG, in both formats, into a buffer. Then known secrets go through every path: the
settings' tokens and passwords (logged by a library, and inside an exception), a join
code, a `/verify` code, a `/link` code, a coach's note and an activity's notes — typed
through the core, delivered by the dispatcher to the chat sender and the mailer — and a
calendar feed's token, fetched over HTTP from the public server (a feed served, a feed
not found, a feed whose building failed). The buffer must hold one line per command and
per send, and none of the secrets.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from adapters.admin import Metrics
from adapters.console.transcript import console_caller
from adapters.public import PublicServer
from bot.bootstrap import bootstrap
from bot.cli import configure_logging
from bot.clock import FakeClock
from bot.commands import load_all
from bot.commands.base import REGISTRY, Refusal
from bot.config import Settings
from bot.ports import Conflict, StoreUnavailable
from tests.unit.test_proof import DEE, HC, World, _club, _world

TOKENS = {
    "slack_bot_token": "xoxb-1111-SECRETBOTTOKEN",
    "slack_signing_secret": "signing-SECRET-5e5e5e",
    "slack_app_token": "xapp-1-SECRETAPPTOKEN",
    "discord_token": "MTAx.discord.SECRETTOKEN",
}
DB_PASSWORD = "pg-SECRET-pass"
SMTP_PASSWORD = "smtp-SECRET-pass"
NOTE = "NOTESECRET knee feels off"
ACTIVITY_NOTES = "ACTIVITYSECRET hills"


def secret_settings(fmt: str = "text") -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        log_level="DEBUG",
        log_format=fmt,
        database_url=f"postgresql+asyncpg://coach:{DB_PASSWORD}@db.example:5432/coachbot",
        smtp_url=f"smtp://mailer:{SMTP_PASSWORD}@mail.example:587",
        **TOKENS,
    )


async def secrets_through_every_path(world: World) -> list[str]:
    """Type commands that carry secrets; returns the secrets that were made."""
    await _club(world)
    invited = await world.ok(HC, "/add-member dee@lake.run")
    join_code = invited.text.rsplit("/join ", 1)[1].strip()
    await world.ok(DEE, f"/join {join_code}")
    verify_code = await world.code(DEE, "dee@lake.run")
    await world.ok(DEE, f"/verify {verify_code}")
    link_code = await world.link_code("ava@lake.run")
    await world.no(HC, f"/link {link_code}")  # refused: the refusal is logged too
    await world.ok(HC, f'/note ava@lake.run "{NOTE}"')
    await world.ok("ava@lake.run", f'/log 8k 42:10 "{ACTIVITY_NOTES}"')
    await world.ok("ava@lake.run", f"8k easy 40:00 {ACTIVITY_NOTES}")
    await world.no(HC, f"/frobnicate {join_code}")  # an unknown command quoting a code
    return [join_code, verify_code, link_code, NOTE, ACTIVITY_NOTES]


async def feed_secrets(world: World) -> list[str]:
    """`/calendar`, then its feed fetched over HTTP: served, revoked (404) and broken (the
    error is logged). Returns the token and the URL's path, which hold the secret."""
    server = PublicServer("127.0.0.1", 0)
    server.serve_feeds(world.app.core.calendar_feed)
    broken = PublicServer("127.0.0.1", 0)

    async def fails(token: str) -> bytes | None:
        raise RuntimeError("the store went away")

    broken.serve_feeds(fails)
    await server.start()
    await broken.start()
    world.app.core.public_url = server.url
    try:
        said = await world.ok("ava@lake.run", "/calendar")
        url = said.text.split("\n")[1]
        path = url.removeprefix(server.url)
        token = path.removeprefix("/calendar/").removesuffix(".ics")
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as served:
                assert served.status == 200
            async with http.get(broken.url + path) as failed:
                assert failed.status == 500
            await world.ok("ava@lake.run", "/calendar reset")
            async with http.get(url) as revoked:
                assert revoked.status == 404
    finally:
        await server.stop()
        await broken.stop()
    return [token, path]


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_no_secret_reaches_a_log_line(fmt: str, db_url: str, clock: object) -> None:
    settings = secret_settings(fmt)
    buffer = io.StringIO()
    configure_logging(settings, quiet=False, stream=buffer)

    # a library that logs what it was given, and an error that quotes a URL
    logging.getLogger("slack_sdk").warning("auth.test with token %s", TOKENS["slack_bot_token"])
    logging.getLogger("discord.http").info("login %s", TOKENS["discord_token"])
    try:
        raise ConnectionError(f"cannot connect to {settings.database_url} / {settings.smtp_url}")
    except ConnectionError:
        logging.getLogger("coachbot.test").exception("start-up %s", TOKENS["slack_app_token"])
    logging.getLogger("coachbot.test").info("signed with %s", TOKENS["slack_signing_secret"])

    world = await _world(db_url, clock)  # type: ignore[arg-type]
    typed = count_lines(world)
    try:
        made = await secrets_through_every_path(world)
        made += await feed_secrets(world)
    finally:
        await world.app.close()

    out = buffer.getvalue()
    for secret in [*TOKENS.values(), DB_PASSWORD, SMTP_PASSWORD, *made]:
        assert secret not in out, (secret, [line for line in out.splitlines() if secret in line])
    assert "[redacted]" in out  # the library's lines were kept, scrubbed

    lines = out.splitlines()
    if fmt == "json":
        records = [json.loads(line) for line in lines]  # every line is one object
        commands = [r for r in records if r.get("event") == "command"]
        sends = [r for r in records if r.get("event") == "send"]
        assert {"join", "verify", "link", "note", "log"} <= {r["command"] for r in commands}
        links = [r for r in commands if r["command"] == "link"]
        assert [r["outcome"] for r in links] == ["ok", "refused"]  # asked for, misused
        assert all(isinstance(r["duration_ms"], float) for r in commands)
        assert any(r["command"] == "unknown" and r["outcome"] == "refused" for r in commands)
        assert any(r["message"] == "a calendar feed could not be built" for r in records)
        assert {(r["platform"], r["outcome"]) for r in sends} >= {
            ("console", "sent"),
            ("mail", "sent"),
        }
        assert all(isinstance(r["duration_ms"], float) for r in sends)
        assert any("exc" in r for r in records)  # the traceback travels in its own key
    else:
        commands = [line for line in lines if " coachbot.commands: command " in line]
        assert any(" command join ok in " in line for line in commands)
        assert any(" command link refused in " in line for line in commands)
        assert any(" command unknown refused in " in line for line in commands)
        sends = [line for line in lines if " coachbot.sends: send " in line]
        assert any(" send verify #" in line and " sent to mail in " in line for line in sends)
        assert any(" sent to console in " in line for line in sends)
    # one line per command: as many command lines as lines typed
    assert len(commands) == len(typed) > 10


def count_lines(world: World) -> list[str]:
    """Every line typed to the core, counted as it goes in (never logged by the test)."""
    core, seen = world.app.core, []
    handle = core.handle

    async def counted(caller: Any, text: str) -> Any:
        seen.append(text)
        return await handle(caller, text)

    core.handle = counted  # type: ignore[method-assign]
    return seen


def test_the_console_stays_quiet() -> None:
    """The console's floor is WARNING: no command, send or scheduler line between
    replies — unless DEBUG is asked for."""
    buffer = io.StringIO()
    configure_logging(Settings(_env_file=None, log_format="text"), quiet=True, stream=buffer)
    logging.getLogger("coachbot.commands").info("command help ok in 1 ms (console)")
    logging.getLogger("apscheduler.executors.default").info('Running job "tick"')
    logging.getLogger("coachbot.schedule").info("planned")
    logging.getLogger("coachbot.core").warning("a warning still shows")
    assert buffer.getvalue().splitlines() == [
        line for line in buffer.getvalue().splitlines() if "a warning still shows" in line
    ]
    assert len(buffer.getvalue().splitlines()) == 1


def test_apscheduler_ticks_are_dropped_outside_the_console_too() -> None:
    buffer = io.StringIO()
    configure_logging(Settings(_env_file=None, log_format="json"), quiet=False, stream=buffer)
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("apscheduler.executors.default").info('Job "tick" executed successfully')
    logging.getLogger("coachbot.sends").info("send note #1 sent to slack in 2 ms")
    (line,) = buffer.getvalue().splitlines()
    assert json.loads(line)["logger"] == "coachbot.sends"


def test_log_format_setting() -> None:
    assert Settings(_env_file=None, log_format="JSON").log_format == "json"  # type: ignore[call-arg]
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    assert Settings(_env_file=None).admin_host == "127.0.0.1"  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("raised", "outcome"),
    [
        (StoreUnavailable("locked"), "unavailable"),
        (Conflict("UNIQUE constraint failed: orgs.name_key"), "conflict"),
        (RuntimeError("a bug"), "error"),
        (Refusal("no"), "refused"),
    ],
)
async def test_each_outcome_is_named(
    raised: Exception,
    outcome: str,
    sqlite_url: str,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def fails(command: object, ctx: object) -> None:
        raise raised

    load_all()
    monkeypatch.setitem(REGISTRY, "help", replace(REGISTRY["help"], handler=fails))
    metrics = Metrics()
    app = await bootstrap(sqlite_url, clock=clock, migrate=False, observer=metrics)
    try:
        await app.core.handle(console_caller("hc@lake.run"), "/help")
    finally:
        await app.close()
    labels = {"command": "help", "outcome": outcome}
    assert metrics.registry.get_sample_value("coachbot_commands_total", labels) == 1
