"""One line per command and per send, and the same facts to the metrics port (issue 14).

The core and the dispatcher report here what they did — a command's registered name and
outcome, a send's platform, kind and outcome, each with its duration — and nothing else:
never a command's arguments or a message's text, so no join code, `/verify` or `/link`
code, note or activity note reaches a log line by this way. The lines go to the loggers
`coachbot.commands` and `coachbot.sends` at INFO (the console raises its floor to
WARNING, so they never print between its replies); the formatters of `bot.logs` render
the fields as text or as JSON keys.
"""

from __future__ import annotations

import logging

from bot.ports import Observer

commands_log = logging.getLogger("coachbot.commands")
sends_log = logging.getLogger("coachbot.sends")
schedule_log = logging.getLogger("coachbot.schedule")
charts_log = logging.getLogger("coachbot.charts")

# command outcomes: answered, refused (a rule, the grammar, the policy), a constraint the
# store held (a race lost), the store busy, an unexpected error, cut short by a shutdown
OK, REFUSED, CONFLICT, UNAVAILABLE, ERROR = "ok", "refused", "conflict", "unavailable", "error"
CANCELLED = "cancelled"


class Observed:
    """The log lines, and the metrics port when one is wired (`coachbot run`)."""

    def __init__(self, observer: Observer | None = None) -> None:
        self.observer = observer

    def command(self, name: str, outcome: str, seconds: float, *, platform: str) -> None:
        ms = round(seconds * 1000, 1)
        commands_log.info(
            "command %s %s in %s ms (%s)",
            name,
            outcome,
            ms,
            platform,
            extra={
                "fields": {
                    "event": "command",
                    "command": name,
                    "outcome": outcome,
                    "duration_ms": ms,
                    "platform": platform,
                }
            },
        )
        if self.observer is not None:
            self.observer.command(name, outcome, seconds)

    def send(self, platform: str, kind: str, outcome: str, seconds: float, *, row: int) -> None:
        ms = round(seconds * 1000, 1)
        sends_log.info(
            "send %s #%s %s to %s in %s ms",
            kind,
            row,
            outcome,
            platform,
            ms,
            extra={
                "fields": {
                    "event": "send",
                    "platform": platform,
                    "kind": kind,
                    "outcome": outcome,
                    "duration_ms": ms,
                    "message_id": row,
                }
            },
        )
        if self.observer is not None:
            self.observer.send(platform, kind, outcome, seconds)

    def files(self, platform: str, outcome: str, names: list[str], reason: str = "") -> None:
        """Files that went with a message, or did not: a failed upload never fails the
        message's text (it went first), so it is counted here as a send of kind `file`
        with its own outcome. Names are the core's own file names, never user text."""
        level = logging.INFO if outcome == "sent" else logging.WARNING
        sends_log.log(
            level,
            "files %s %s to %s%s",
            ", ".join(names),
            outcome,
            platform,
            f": {reason}" if reason else "",
            extra={
                "fields": {
                    "event": "files",
                    "platform": platform,
                    "outcome": outcome,
                    "files": len(names),
                    "reason": reason,
                }
            },
        )
        if self.observer is not None:
            for _ in names:
                self.observer.send(platform, "file", outcome, 0.0)

    def waited(self, platform: str, seconds: float) -> None:
        if self.observer is not None:
            self.observer.waited(platform, seconds)

    def scheduler_lag(self, seconds: float) -> None:
        schedule_log.debug("tick ran %.3f s after it was due", seconds)
        if self.observer is not None:
            self.observer.scheduler_lag(seconds)

    def chart(self, outcome: str, seconds: float, *, kind: str) -> None:
        ms = round(seconds * 1000, 1)
        level = logging.INFO if outcome == OK else logging.WARNING
        charts_log.log(
            level,
            "chart %s %s in %s ms",
            kind,
            outcome,
            ms,
            extra={
                "fields": {"event": "chart", "kind": kind, "outcome": outcome, "duration_ms": ms}
            },
        )
        if self.observer is not None:
            self.observer.chart(outcome, seconds)
