"""Files on their way out to Discord (charts, exports), within Discord's upload limits.

Discord takes at most 10 attachments in one message, and a bot without a boosted guild
at most 10 MiB per upload (discord.com/developers/docs/reference#uploading-files; an
interaction tells its own `attachment_size_limit`). `bundles` packs a message's files
into as few messages as those limits allow, each message's files together within the
size limit as well (the safe reading of a limit Discord applies per request); a file too
large alone goes as a ZIP of itself (`NAME.zip`, deflated — CSV shrinks several times),
and one still too large is left out, named in a line the text carries.

The text is sent first and the files after it, in messages of their own: a refused or
failed upload cannot lose or fail the text; it is logged and counted (`Observed.files`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import discord

from bot.messages import Attachment
from bot.observe import Observed

MAX_FILES = 10
FILE_LIMIT = 10 * 1024 * 1024  # bytes: Discord's default upload limit for a bot
DESCRIPTION_LIMIT = 1024  # an attachment's description (alt text)


@dataclass(frozen=True)
class Packed:
    """A message's files as Discord can take them: messages of files, and the names of
    files no message could carry."""

    messages: tuple[tuple[Attachment, ...], ...]
    left_out: tuple[str, ...] = ()


def zipped(file: Attachment) -> Attachment:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(file.name, file.data)
    return Attachment(f"{file.name}.zip", out.getvalue(), "application/zip", alt=file.alt)


def bundles(files: Sequence[Attachment], limit: int = FILE_LIMIT) -> Packed:
    """`files` packed in order into messages of at most `MAX_FILES` files and `limit`
    bytes together (see the module's notes)."""
    fitting: list[Attachment] = []
    left_out: list[str] = []
    for file in files:
        if file.size > limit:
            file = zipped(file)
        if file.size > limit:
            left_out.append(file.name.removesuffix(".zip"))
            continue
        fitting.append(file)
    messages: list[tuple[Attachment, ...]] = []
    current: list[Attachment] = []
    for file in fitting:
        full = len(current) >= MAX_FILES or sum(f.size for f in current) + file.size > limit
        if current and full:
            messages.append(tuple(current))
            current = []
        current.append(file)
    if current:
        messages.append(tuple(current))
    return Packed(tuple(messages), tuple(left_out))


def as_discord(files: Sequence[Attachment]) -> list[discord.File]:
    """Fresh `discord.File`s (one can be sent only once: a retry needs new ones)."""
    return [
        discord.File(
            io.BytesIO(f.data),
            filename=f.name,
            description=(f.alt or None) and f.alt[:DESCRIPTION_LIMIT],
        )
        for f in files
    ]


def left_out_line(names: Sequence[str], limit: int = FILE_LIMIT) -> str:
    return (
        f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} larger than Discord lets "
        f"me send ({limit // (1024 * 1024)} MB, zipped too), so I could not attach "
        f"{'it' if len(names) == 1 else 'them'} here."
    )


def counted(observed: Observed, packed: Packed) -> None:
    """The files no message could carry, counted as failed sends of kind `file`."""
    if packed.left_out:
        observed.files("discord", "failed", list(packed.left_out), "too large")
