"""`coachbot run | console | script | db upgrade` — the one place that wires adapters in."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError

from bot.bootstrap import App, bootstrap, settle_heap
from bot.clock import FakeClock, SystemClock
from bot.config import Settings, SettingsError, load_settings

DEMO_HEAD_COACH = "coach@demo.club"
log = logging.getLogger("coachbot")


class FrontEnd(Protocol):
    """What `coachbot run` needs of a chat platform's adapter (adapters/slack, discord)."""

    sender: Any  # adapters.routing.PlatformSender

    async def run(self) -> None:
        """Serve until cancelled."""
        ...

    async def stop(self) -> None: ...


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coachbot", description="Running-club coaching bot.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="start coachbot (the console when no platform tokens are set)")
    console = sub.add_parser("console", help="chat with the bot on the local database")
    console.add_argument("--as", dest="email", required=True, help="who is typing")
    console.add_argument("--db", help="database URL (default: COACHBOT_DATABASE_URL)")
    script = sub.add_parser("script", help="replay a transcript (SPEC §8)")
    script.add_argument("file", type=Path)
    script.add_argument("--json", action="store_true", help="one JSON object per message")
    script.add_argument("--db", help="database URL (default: a fresh temporary database)")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    slack = sub.add_parser("slack", help="Slack helpers: `coachbot slack manifest --url URL`")
    slack.add_argument("action", choices=["manifest"])
    slack.add_argument("rest", nargs=argparse.REMAINDER, help="--url URL | --socket-mode")
    return parser


async def _open(settings: Settings, url: str | None = None, **kw: object) -> App:
    """The app on the configured store; it e-mails through COACHBOT_SMTP_URL when that is
    set (invitations, `/verify` codes) unless the caller passes `mailer=` itself."""
    if "mailer" not in kw and settings.smtp_url:
        from adapters.mail.smtp import SmtpMailer

        kw["mailer"] = SmtpMailer(settings.smtp_url, settings.smtp_from)
    return await bootstrap(
        url or settings.database_url,
        default_timezone=settings.default_timezone,
        **kw,  # type: ignore[arg-type]
    )


async def _serve_platforms(settings: Settings) -> int:
    """Slack and/or Discord, sharing one core and one outbox (through the Router)."""
    from adapters.ports import FrontEndStartError
    from adapters.routing import Router

    app = await _open(settings)
    front_ends: list[FrontEnd] = []
    try:
        if settings.slack_enabled:
            from adapters.slack import build_slack

            front_ends.append(build_slack(settings, app))
        if settings.discord_enabled:
            from adapters.discord import build_discord

            front_ends.append(build_discord(settings, app))
        app.scheduling.dispatcher.sender = Router(
            [front.sender for front in front_ends], app.core.identities
        )
        settle_heap()
        await app.scheduling.start()
        serving = asyncio.gather(*(front.run() for front in front_ends))

        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            # a container's stop: close the front ends and let sends in flight finish
            loop.add_signal_handler(signal_number, serving.cancel)
        try:
            await serving
        except FrontEndStartError as exc:
            raise StartError(str(exc)) from None
        except asyncio.CancelledError:
            log.info("stopping on a signal")
        return 0
    finally:
        for front in front_ends:
            await front.stop()
        await app.close()


async def _run(settings: Settings) -> int:
    if settings.slack_enabled or settings.discord_enabled:
        return await _serve_platforms(settings)
    from adapters.console.repl import seed_demo

    app = await _open(settings)
    try:
        async with app.core.uow() as uow:
            empty = await uow.repo.is_empty()
        if empty:
            await seed_demo(app.core)
            await app.scheduling.dispatcher.drain()  # the demo's own welcome DMs: not shown
            if sys.stdin.isatty():
                print(f"Seeded a demo club; you are its head coach, {DEMO_HEAD_COACH}.")
        return await _live_repl(app, DEMO_HEAD_COACH)
    finally:
        await app.close()


async def _live_repl(app: App, email: str) -> int:
    """The console with messages over time running on the real clock, DMs printed."""
    from adapters.console.repl import repl
    from adapters.console.sender import ConsoleSender, print_message

    sender = app.scheduling.dispatcher.sender
    if isinstance(sender, ConsoleSender):
        sender.echo = print_message
    settle_heap()
    await app.scheduling.start()
    return await repl(app.core, email, after_each=app.scheduling.dispatcher.drain)


async def _console(settings: Settings, email: str, db: str | None) -> int:
    app = await _open(settings, db)
    try:
        return await _live_repl(app, email)
    finally:
        await app.close()


async def _script(settings: Settings, file: Path, as_json: bool, db: str | None) -> int:
    from adapters.console.transcript import Transcript, TranscriptError

    try:
        lines = (await asyncio.to_thread(file.read_text, encoding="utf-8")).splitlines()
    except OSError as exc:
        print(f"cannot read {file}: {exc.strerror}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="coachbot-script-") as tmp:
        url = db or f"sqlite+aiosqlite:///{tmp}/script.db"
        clock = FakeClock(SystemClock().now())
        # a replayed transcript never e-mails anyone
        app = await _open(settings, url, clock=clock, mailer=None)
        try:
            transcript = Transcript(app.core, clock, app.scheduling, base=file.parent)
            for number, raw in enumerate(lines, start=1):
                try:
                    records = await transcript.run_line(number, raw)
                except TranscriptError as exc:
                    print(str(exc), file=sys.stderr)
                    return 2
                for record in records:
                    print(record.as_json() if as_json else record.as_plain())
        finally:
            await app.close()
    return 0


async def _db(settings: Settings) -> int:
    app = await _open(settings)
    await app.close()
    print("database is up to date")
    return 0


class StartError(RuntimeError):
    """A front end could not start (a token refused, a port taken): one line for the user."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "slack":
        from adapters.slack.manifest import main as manifest_main

        return manifest_main(args.rest)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)

    if args.cmd == "run":
        coroutine = _run(settings)
    elif args.cmd == "console":
        coroutine = _console(settings, args.email, args.db)
    elif args.cmd == "script":
        coroutine = _script(settings, args.file, args.json, args.db)
    else:
        coroutine = _db(settings)
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        return 130
    except StartError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DBAPIError as exc:
        # the settings were well-formed but the database could not be opened
        print(f"cannot open the database of COACHBOT_DATABASE_URL: {exc.orig}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
