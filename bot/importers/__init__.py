"""Turn an activity file an athlete sends to the bot (GPX, FIT or TCX) into an activity.

`parse_activity_file` is the one entry point. Its contract is that for *any* bytes it
returns a `ParsedActivity` or raises `ImportRefused` whose `.message` can be shown to the
athlete as is; nothing else escapes for bad input. Uploads are untrusted, so size is
checked before any parsing and XML is parsed with entity expansion forbidden.

The format is decided by content, not by the file name: chat apps rename files, and
phones save `.gpx` as `.xml` or `.txt`. The extension is used only to word the refusal
for a file too broken to recognise (a `.fit` whose header is gone).

Parsing is synchronous and CPU-bound (a FIT file decodes at roughly 4 ms per KB, a 24 MB
GPX takes seconds), and a thread would hold the GIL all that time, so the bot parses
in worker processes: `bot.importers.pool.ParsePool`.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata

from bot.clock import SystemClock
from bot.importers import _xml
from bot.importers._model import (
    ACTIVITY_TYPES,
    MAX_FILE_BYTES,
    ImportRefused,
    ParsedActivity,
    check_plausible,
)
from bot.importers.fit import CUT_SHORT, parse_fit
from bot.importers.gpx import parse_gpx
from bot.importers.tcx import parse_tcx

__all__ = [
    "ACTIVITY_TYPES",
    "MAX_FILE_BYTES",
    "ImportRefused",
    "ParsedActivity",
    "parse_activity_file",
]

_FIT_SIGNATURE = b".FIT"
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"PK\x03\x04", b"PK\x05\x06")  # gzip; zip (empty zip)


def parse_activity_file(
    filename: str, data: bytes, *, now: dt.datetime | None = None
) -> ParsedActivity:
    """Parse one uploaded file; raise `ImportRefused` for anything that is not an activity.

    `now` (aware) bounds "in the future"; it defaults to the system clock and exists so
    callers holding the bot's injected clock, and tests, can pass their own.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused(
            f"This file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, "
            "too large for one activity; export just the one activity and send that."
        )
    if not data:
        raise ImportRefused("This file is empty.")

    if data[8:12] == _FIT_SIGNATURE:
        activity = parse_fit(data)
    elif _xml.looks_like_xml(data):
        activity = _parse_xml(filename, data)
    else:
        raise _unrecognised(filename, data)
    return check_plausible(activity, now or SystemClock().now())


def _parse_xml(filename: str, data: bytes) -> ParsedActivity:
    label = _xml.sniff_label(data) or _extension_label(filename)
    try:
        root = _xml.parse(data, label or "XML")
    except ImportRefused as exc:
        if label is None:  # broken XML that never claimed to be GPX/TCX: not ours at all
            raise _unrecognised(filename, data) from exc
        raise
    kind = _xml.local_name(root.tag)
    if kind == "gpx":
        return parse_gpx(root)
    if kind == "TrainingCenterDatabase":
        return parse_tcx(root)
    raise ImportRefused(f"{_display_name(filename)} is not a GPX, FIT or TCX activity file.")


def _unrecognised(filename: str, data: bytes) -> ImportRefused:
    if data.startswith(_COMPRESSED_MAGIC):
        return ImportRefused(
            "This file is compressed (zip or gzip); unpack it and send the "
            ".gpx, .fit or .tcx file inside."
        )
    if _extension_label(filename) == "FIT":
        if len(data) < 12:
            return ImportRefused(CUT_SHORT)
        return ImportRefused(
            "This FIT file is damaged — its header is not valid; "
            "export it again from your watch or app."
        )
    return ImportRefused(f"{_display_name(filename)} is not a GPX, FIT or TCX activity file.")


def _extension_label(filename: str) -> str | None:
    extension = os.path.splitext(filename.strip())[1].lower()
    return {".gpx": "GPX", ".fit": "FIT", ".tcx": "TCX"}.get(extension)


def _display_name(filename: str) -> str:
    """The upload's name, quoted and made safe to echo back into a chat message.

    Only the base name is kept (chat clients may send a path), control and formatting
    characters are dropped (no fake line breaks or bidi tricks), and length is capped.
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not clean:
        return "This file"
    if len(clean) > 60:
        clean = clean[:57] + "..."
    return f"“{clean}”"
