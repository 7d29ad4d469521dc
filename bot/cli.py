"""`coachbot run | console | script | db upgrade|backup|restore | doctor` — the one place
that wires adapters in."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from bot import health, logs
from bot.bootstrap import App, bootstrap, settle_heap
from bot.clock import FakeClock, SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.grammar import GrammarError, parse_email
from bot.ports import FrontEnd, FrontEndStartError, Sender
from bot.shutdown import on_stop_signals, stop_gracefully
from storage.engine import check_url
from storage.migrate import DatabaseUnusable, schema_problem

if TYPE_CHECKING:
    from adapters.admin import AdminServer, Metrics
    from adapters.console.files import FileFolder
    from adapters.public import PublicServer
    from bot.core import Core
    from bot.doctor import Check

DEMO_HEAD_COACH = "coach@demo.club"
log = logging.getLogger("coachbot")

# libraries' loggers, as `bot.logs.configure` holds them: quiet unless DEBUG (APScheduler's
# "Running job" every tick, Alembic's steps at each start) ...
QUIET_UNLESS_DEBUG = ("apscheduler", "alembic")
# ... and never more talkative than this, whatever the level: below it they quote
# statements' parameters and requests' payloads, which carry message text
NEVER_BELOW = {
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "slack_bolt": logging.INFO,
    "slack_sdk": logging.INFO,
    "discord": logging.INFO,
    "aiohttp": logging.INFO,
}


def configure_logging(settings: Settings, *, quiet: bool, stream: TextIO | None = None) -> None:
    """COACHBOT_LOG_LEVEL / LOG_FORMAT, the settings' secrets scrubbed, the libraries
    held back; `quiet`: the console's floor of WARNING (unless DEBUG)."""
    logs.configure(
        settings.log_level,
        settings.log_format,
        secrets=settings.secrets,
        quiet=quiet,
        stream=stream,
        quiet_unless_debug=QUIET_UNLESS_DEBUG,
        never_below=NEVER_BELOW,
    )


class _Parser(argparse.ArgumentParser):
    """A usage error is one line naming the argument (not the usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _email(value: str) -> str:
    try:
        return parse_email(value)
    except GrammarError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


def _database_url(value: str) -> str:
    try:
        return check_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the database URL {exc}") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coachbot", description="Running-club coaching bot.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="start coachbot (the console when no platform tokens are set)")
    console = sub.add_parser("console", help="chat with the bot on the local database")
    console.add_argument("--as", dest="email", required=True, type=_email, help="who is typing")
    console.add_argument(
        "--db", type=_database_url, help="database URL (default: COACHBOT_DATABASE_URL)"
    )
    console.add_argument("--files", type=Path, help="write the files the bot sends here")
    script = sub.add_parser("script", help="replay a transcript (SPEC §8)")
    script.add_argument("file", type=Path)
    script.add_argument("--json", action="store_true", help="one JSON object per message")
    script.add_argument("--files", type=Path, help="write the files the bot sends here")
    script.add_argument(
        "--db", type=_database_url, help="database URL (default: a fresh temporary database)"
    )
    db = sub.add_parser("db", help="database maintenance: upgrade, backup PATH, restore PATH")
    actions = db.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="migrate the database to this coachbot's schema")
    backup = actions.add_parser("backup", help="copy the database to a new file, while it runs")
    backup.add_argument("path", type=Path, help="the backup file to write (must not exist)")
    restore = actions.add_parser("restore", help="load a backup into an empty database")
    restore.add_argument("path", type=Path, help="a file `coachbot db backup` wrote")
    sub.add_parser(
        "doctor",
        help="check the settings, the database, Slack, Discord and SMTP; exit 1 on a failure",
    )
    slack = sub.add_parser("slack", help="Slack helpers: `coachbot slack manifest --url URL`")
    slack.add_argument("action", choices=["manifest"])
    slack.add_argument("rest", nargs=argparse.REMAINDER, help="--url URL | --socket-mode")
    return parser


async def _open(settings: Settings, url: str | None = None, **kw: object) -> App:
    """The app on the configured store; it e-mails through COACHBOT_SMTP_URL when that is
    set (invitations, `/verify` codes) unless the caller passes `mailer=` itself, and
    draws charts with matplotlib in worker processes unless it passes `drawer=`."""
    if "mailer" not in kw and settings.smtp_url:
        from adapters.mail.smtp import SmtpMailer

        kw["mailer"] = SmtpMailer(settings.smtp_url, settings.smtp_from)
    if "drawer" not in kw:  # charts beside the text, drawn in worker processes (issue 15)
        from adapters.charts import shared_drawer

        kw["drawer"] = shared_drawer()
    return await bootstrap(
        url or settings.database_url,
        default_timezone=settings.default_timezone,
        public_url=settings.public_url,
        **kw,  # type: ignore[arg-type]
    )


def platform_senders(
    settings: Settings,
    front_ends: list[FrontEnd],
    public: PublicServer | None = None,
    **discord_options: Any,
) -> Callable[[Core], list[Sender]]:
    """What `coachbot run` hands `bootstrap(senders=...)`: builds the configured Slack
    and/or Discord front ends from the core (into `front_ends`, for the caller to run)
    and returns their senders, the Router's lanes in that order; the public server, when
    there is one, gets the core's feeds and Slack's route. The tests and the schedule
    benchmark wire the same way (`discord_options`: a shorter wait for guilds, their
    own sleep)."""

    def platforms(core: Core) -> list[Sender]:
        if public is not None:
            public.serve_feeds(core.calendar_feed)
        if settings.slack_enabled:
            from adapters.slack import build_slack

            front_ends.append(build_slack(settings, core, public=public))
        if settings.discord_enabled:
            from adapters.discord import build_discord

            front_ends.append(build_discord(settings, core, **discord_options))
        return [front.sender for front in front_ends]

    return platforms


def public_server(settings: Settings) -> PublicServer | None:
    """The public server on COACHBOT_HTTP_HOST:HTTP_PORT when this process serves one
    (`Settings.public_server`): Slack's events in HTTP mode, the calendar feeds."""
    if not settings.public_server:
        return None
    from adapters.public import PublicServer

    return PublicServer(settings.http_host, settings.http_port)


async def _start_public(public: PublicServer | None) -> None:
    if public is None:
        return
    try:
        await public.start()
    except FrontEndStartError as exc:
        raise StartError(str(exc)) from None


def admin_server(
    settings: Settings,
    app: App,
    metrics: Metrics,
    front_ends: list[FrontEnd],
    public: PublicServer | None = None,
    **kw: Any,
) -> AdminServer:
    """`/healthz`, `/readyz`, `/metrics` on COACHBOT_ADMIN_HOST:ADMIN_PORT, wired to this
    process: ready when the database answers at this coachbot's schema revision, each
    front end is connected and the public server listens; the outbox gauges read at each
    scrape. `kw` overrides the host or port (tests)."""
    from adapters.admin import AdminServer

    checks: list[health.Check] = [partial(schema_problem, app.engine)]
    checks += [health.front_end_check(front) for front in front_ends]
    if public is not None:
        checks.append(partial(health.listening, "public server", lambda: public.serving))
    clock, store = app.core.clock, app.scheduling.dispatcher.store

    async def ready() -> list[str]:
        return await health.problems(checks)

    async def refresh() -> None:
        now = clock.now()
        depth, oldest = await store.backlog(now)
        metrics.outbox(depth, (now - oldest).total_seconds() if oldest is not None else 0.0)

    return AdminServer(
        kw.get("host", settings.admin_host),
        kw.get("port", settings.admin_port),
        metrics=metrics,
        ready=ready,
        refresh=refresh,
    )


async def _serve_platforms(settings: Settings) -> int:
    """Slack and/or Discord, sharing one core and one outbox (through the Router), with
    the admin endpoints beside them."""
    from adapters.admin import Metrics
    from adapters.charts import running_charts

    front_ends: list[FrontEnd] = []
    metrics = Metrics()
    public = public_server(settings)
    senders = platform_senders(settings, front_ends, public)
    app = await _open(
        settings,
        senders=senders,
        observer=metrics,
        share_pace=True,  # with the other processes of these tokens, on PostgreSQL
    )
    admin = admin_server(settings, app, metrics, front_ends, public)
    try:
        # the chart workers start beside the rest, never before it (adapters/charts.py)
        async with running_charts(app.core.drawer):
            settle_heap()
            try:
                await admin.start()  # before the front ends: /readyz says what they await
            except FrontEndStartError as refused:
                raise StartError(str(refused)) from None
            await _start_public(public)
            await app.scheduling.start()
            serving = asyncio.gather(*(front.run() for front in front_ends))
            # a container's stop: no new work, the work in flight finished, leases handed back
            stopping = on_stop_signals()
            await asyncio.wait((serving, stopping), return_when=asyncio.FIRST_COMPLETED)
            if serving.done() and not serving.cancelled():
                exc = serving.exception()
                if isinstance(exc, FrontEndStartError):
                    raise StartError(str(exc)) from None
                if exc is not None:
                    raise exc
            if stopping.done():
                log.info("stopping on %s", signal.Signals(stopping.result()).name)
                await stop_gracefully(app, front_ends)
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
            return 0
    finally:
        for front in front_ends:
            await front.stop()
        if public is not None:
            await public.stop()
        await admin.stop()
        await app.close()


def _platforms(settings: Settings) -> bool:
    return settings.slack_enabled or settings.discord_enabled


async def _run(settings: Settings) -> int:
    if _platforms(settings):
        return await _serve_platforms(settings)
    from adapters.admin import Metrics
    from adapters.console.repl import seed_demo
    from adapters.console.sender import ConsoleSender, print_message

    console = ConsoleSender()
    metrics = Metrics()
    app = await _open(settings, senders=[console], observer=metrics)
    admin: AdminServer | None = None
    public = public_server(settings)  # feeds, when PUBLIC_URL or HTTP_PORT is set
    try:
        if public is not None:
            public.serve_feeds(app.core.calendar_feed)
            await _start_public(public)
        if "admin_port" in settings.model_fields_set:
            # the console's demo serves the admin endpoints only when asked: a newcomer's
            # `make run` never fails on a port something else holds
            admin = admin_server(settings, app, metrics, [], public)
            try:
                await admin.start()
            except FrontEndStartError as exc:
                raise StartError(str(exc)) from None
        async with app.core.uow() as uow:
            empty = await uow.repo.is_empty()
        if empty:
            await seed_demo(app.core)
            await app.scheduling.dispatcher.drain()  # the demo's own welcome DMs: not shown
            if sys.stdin.isatty():
                print(f"Seeded a demo club; you are its head coach, {DEMO_HEAD_COACH}.")
        console.echo = print_message
        return await _live_repl(app, DEMO_HEAD_COACH)
    finally:
        if public is not None:
            await public.stop()
        if admin is not None:
            await admin.stop()
        await app.close()


async def _live_repl(app: App, email: str, files: FileFolder | None = None) -> int:
    """The console with messages over time running on the real clock (its sender prints
    the DMs as they go out)."""
    from adapters.console.repl import repl

    settle_heap()
    await app.scheduling.start()
    stopping = on_stop_signals()  # stop reading, finish the line, hand back the leases
    code = await repl(
        app.core, email, after_each=app.scheduling.dispatcher.drain, stop=stopping, files=files
    )
    if stopping.done():
        log.info("stopping on %s", signal.Signals(stopping.result()).name)
        await stop_gracefully(app, [])
    return code


async def _console(settings: Settings, email: str, db: str | None, files: Path | None) -> int:
    from adapters.console.files import FileFolder
    from adapters.console.sender import ConsoleSender, message_printer

    folder = FileFolder(files)
    app = await _open(settings, db, senders=[ConsoleSender(echo=message_printer(folder))])
    try:
        return await _live_repl(app, email, folder)
    finally:
        await app.close()


async def _script(
    settings: Settings, file: Path, as_json: bool, db: str | None, files: Path | None = None
) -> int:
    from adapters.console.transcript import Transcript, TranscriptError

    try:
        lines = _transcript_lines(file, await asyncio.to_thread(file.read_bytes))
    except OSError as exc:
        print(f"cannot read {file}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"cannot read {file}: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="coachbot-script-") as tmp:
        url = db or f"sqlite+aiosqlite:///{tmp}/script.db"
        clock = FakeClock(SystemClock().now())
        # a replayed transcript never e-mails anyone
        app = await _open(settings, url, clock=clock, mailer=None)
        try:
            transcript = Transcript(app.core, clock, app.scheduling, base=file.parent, files=files)
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


# What str.splitlines() also ends a line at; a transcript's lines end at a newline only
# (as `wc -l` and editors count them), and one of these inside a line is refused.
_OTHER_BREAKS = {
    "\r": "a carriage return",
    "\v": "a vertical tab",
    "\f": "a form feed",
    "\x1c": "U+001C",
    "\x1d": "U+001D",
    "\x1e": "U+001E",
    "\x85": "U+0085 (NEXT LINE)",
    "\u2028": "U+2028 (LINE SEPARATOR)",
    "\u2029": "U+2029 (PARAGRAPH SEPARATOR)",
}


def _transcript_lines(file: Path, data: bytes) -> list[str]:
    """The lines of a transcript, or ValueError naming the first line that is not text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"line {where} is not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    lines = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        for char, name in _OTHER_BREAKS.items():
            if char in line:
                raise ValueError(
                    f"line {number} has {name} inside it; a transcript's lines end at a newline"
                )
    return lines


async def _db(settings: Settings, action: str, path: Path | None) -> int:
    if action == "upgrade":
        app = await _open(settings)
        await app.close()
        print("database is up to date")
        return 0
    from storage.backup import BackupError, backup, restore

    assert path is not None
    try:
        if action == "backup":
            done = await backup(settings.database_url, path)
            print(f"backed up the database ({done.describe()}) to {path}")
        else:
            done = await restore(settings.database_url, path)
            print(f"restored {path} ({done.describe()}) into the database")
    except BackupError as exc:
        print(f"coachbot db {action}: {exc}", file=sys.stderr)
        return 2
    return 0


def _doctor() -> int:
    """`coachbot doctor`: one line per check as it finishes; 1 when any failed."""
    from bot.doctor import Check, exit_status

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(Check.fail("settings", str(exc)).line)
        return 1
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("discord").setLevel(logging.ERROR)  # its login says INFO and WARNING
    return exit_status(asyncio.run(_doctor_checks(settings)))


async def _doctor_checks(settings: Settings) -> list[Check]:
    from adapters.discord.doctor import check_discord
    from adapters.mail.smtp import SmtpMailer
    from adapters.slack.doctor import check_slack
    from bot.doctor import Check
    from storage.engine import make_engine
    from storage.migrate import inspect

    front_ends = [
        name
        for name, on in (("Slack", settings.slack_enabled), ("Discord", settings.discord_enabled))
        if on
    ]
    checks = [Check.ok("settings", "front ends: " + (", ".join(front_ends) or "the console"))]
    print(checks[-1].line, flush=True)

    async def database() -> Check:
        engine = make_engine(settings.database_url)
        try:
            return Check.ok("database", await inspect(engine))
        except DatabaseUnusable as exc:
            return Check.fail(
                "database", f"cannot use the database of COACHBOT_DATABASE_URL: {exc}"
            )
        finally:
            await engine.dispose()

    async def smtp() -> Check:
        if not settings.smtp_url:
            return Check.skipped("smtp")
        try:
            mailer = SmtpMailer(settings.smtp_url, settings.smtp_from)
        except ValueError as exc:
            return Check.fail("smtp", f"COACHBOT_SMTP_URL: {exc}")
        return await mailer.check()

    runs = {
        "database": database,
        "slack": lambda: check_slack(settings),
        "discord": lambda: check_discord(settings),
        "smtp": smtp,
    }
    for name, run in runs.items():
        try:
            async with asyncio.timeout(DOCTOR_SECONDS):
                check = await run()
        except TimeoutError:
            check = Check.fail(name, f"no answer within {DOCTOR_SECONDS:.0f} s")
        except Exception as exc:  # a check that breaks is reported as a failed check
            log.debug("doctor: the %s check failed", name, exc_info=True)
            check = Check.fail(name, f"the check itself failed ({type(exc).__name__}: {exc})")
        checks.append(check)
        print(check.line, flush=True)
    return checks


DOCTOR_SECONDS = 60.0  # the most one check may take


class StartError(RuntimeError):
    """A front end could not start (a token refused, a port taken): one line for the user."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "doctor":
        return _doctor()
    if args.cmd == "slack":
        from adapters.slack.manifest import main as manifest_main

        return manifest_main(args.rest)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    # the console (and `run` without platform tokens, which opens it) stays quiet:
    # nothing below WARNING prints between its replies
    console = args.cmd in ("console", "script") or (args.cmd == "run" and not _platforms(settings))
    configure_logging(settings, quiet=console)

    if args.cmd == "run":
        coroutine = _run(settings)
    elif args.cmd == "console":
        coroutine = _console(settings, args.email, args.db, args.files)
    elif args.cmd == "script":
        coroutine = _script(settings, args.file, args.json, args.db, args.files)
    else:
        coroutine = _db(settings, args.action, getattr(args, "path", None))
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        return 130
    except StartError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except DatabaseUnusable as exc:
        # the settings were well-formed but the database cannot serve: say whose URL it was
        source = "--db" if getattr(args, "db", None) else "COACHBOT_DATABASE_URL"
        print(f"cannot use the database of {source}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
