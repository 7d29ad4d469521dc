"""Files the bot sends, on the console (SPEC §8): described in the transcript, and
written to a folder when one is given (`coachbot script FILE --files DIR`,
`coachbot console --files DIR`); without one they are not written anywhere.

A file's name comes from the core, but it is still treated as untrusted on its way to
the disk: only its last path part is used, with anything but letters, digits, `.`, `-`
and `_` replaced, so it can never leave the folder. Two files of one run with the same
name are kept apart (`name-2.csv`); a file left by an earlier run is replaced.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from bot.messages import Attachment

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def described(files: Iterable[Attachment]) -> list[dict[str, object]]:
    """What a transcript's JSON says about each file: its name, size and SHA-256."""
    return [
        {"name": f.name, "bytes": f.size, "sha256": hashlib.sha256(f.data).hexdigest()}
        for f in files
    ]


def safe_name(name: str) -> str:
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    return base or "file"


class FileFolder:
    """Where the files of one run are written (None: nowhere)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._taken: set[str] = set()

    def keep(self, files: Iterable[Attachment]) -> list[Path]:
        """Write each file; returns where they went (nothing without a folder)."""
        if self.folder is None:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        written = []
        for file in files:
            path = self.folder / self._unique(safe_name(file.name))
            path.write_bytes(file.data)
            written.append(path)
        return written

    def _unique(self, name: str) -> str:
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            stem, suffix = name, ""
        candidate, number = name, 1
        while candidate in self._taken:
            number += 1
            candidate = f"{stem}-{number}{dot}{suffix}"
        self._taken.add(candidate)
        return candidate


def file_line(file: Attachment, where: Path | None = None) -> str:
    """The line the console prints for a file."""
    place = f" -> {where}" if where is not None else ""
    return f"[file] {file.name} ({file.size:,} bytes){place}"
