"""Logging an operator can use (issue 14 item 2): COACHBOT_LOG_FORMAT=text|json.

- `text`: `TIME LEVEL LOGGER: MESSAGE`, one line per record (a traceback follows on its
  own lines); `json`: one JSON object per line with `time`, `level`, `logger`,
  `message`, the structured fields a line carries (a command's `command`, `outcome`,
  `duration_ms`; a send's `platform`, `kind`, `outcome`, `duration_ms`) and `exc` for a
  traceback.
- Secrets: coachbot's own lines never carry a command's arguments or a message's text
  (`bot.observe`); on top of that every line is scrubbed of the secrets the settings
  hold (tokens, the signing secret, passwords in the database and SMTP URLs), whoever
  logs it. The libraries whose DEBUG lines quote request payloads or statement
  parameters (message text: join codes, notes) are held at INFO or WARNING whatever
  COACHBOT_LOG_LEVEL says; the composition root names them (`bot.cli`).
- The console stays quiet: `coachbot console`, `script`, and `run` without platform
  tokens log WARNING and above only (DEBUG when asked for), so nothing prints between
  replies; APScheduler's per-tick INFO lines are dropped everywhere unless DEBUG.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"


class _Scrub:
    """Replaces every known secret in a rendered line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # longest first, so a secret containing another is replaced whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__(TEXT_FORMAT)
        self.scrub = _Scrub(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.scrub = _Scrub(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.scrub(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                if key not in line:
                    line[key] = self.scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exc"] = self.scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc"] = self.scrub(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


class CoachbotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """coachbot's own handler, so `configure` replaces it and only it."""


class _StderrHandler(CoachbotHandler):
    """Writes to whatever `sys.stderr` is at each line (as logging's last resort does),
    not the object it was when configured — which a caller may since have closed."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def formatter(fmt: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    return JsonFormatter(secrets) if fmt == "json" else TextFormatter(secrets)


def configure(
    level: str,
    fmt: str = "text",
    *,
    secrets: Iterable[str] = (),
    quiet: bool = False,
    stream: TextIO | None = None,
    quiet_unless_debug: Iterable[str] = (),
    never_below: Mapping[str, int] | None = None,
) -> logging.Handler:
    """Send every log line to `stream` (stderr) in `fmt`, at `level` — at WARNING at
    least when `quiet` (the console) unless `level` is DEBUG. Replaces any handler set
    before by this function (never another's, such as a test runner's), so it may be
    called again. `quiet_unless_debug`: loggers held at WARNING unless `level` is
    DEBUG; `never_below`: loggers never more talkative than their level, whatever
    `level` is (the composition root names the libraries, `bot.cli.LIBRARY_LOGS`)."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    if quiet and numeric > logging.DEBUG:
        numeric = max(numeric, logging.WARNING)
    handler = CoachbotHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(formatter(fmt, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, CoachbotHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in quiet_unless_debug:
        quiet_level = numeric if numeric == logging.DEBUG else max(numeric, logging.WARNING)
        logging.getLogger(name).setLevel(quiet_level)
    for name, floor in (never_below or {}).items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    return handler
