"""Files on their way out to Slack (charts, exports): Slack's current upload flow.

1. `files.getUploadURLExternal` (filename, length, alt text) gives an upload URL and a
   file id; 2. the bytes are POSTed to that URL (no token: the URL is the authority);
3. `files.completeUploadExternal` with `files=[{id, title}]` finishes them — with
   `channel_id` they are shared in that conversation (a DM, a channel), without it they
   stay private to the bot, for an image block to show (`slack_file: {"id": ...}`).

The text of a message always goes first, on its own (`chat.postMessage`, `respond`):
an upload that fails afterwards cannot lose it. Such a failure is logged and counted
(`Observed.files`, a send of kind `file` in the metrics) and never fails the send.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Attachment

log = logging.getLogger("coachbot.slack.files")

# what an image block shows (docs.slack.dev: Slack file object — png, jpg, jpeg, gif)
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
ALT_LIMIT = 2000  # characters of an image block's alt_text and title


class UploadFailed(Exception):
    """An upload that did not go through; `reason` is Slack's error word or the HTTP
    status, never the file's content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_image(file: Attachment) -> bool:
    return file.mime in IMAGE_TYPES


def image_blocks(files: Sequence[Attachment], ids: Sequence[str]) -> list[dict[str, Any]]:
    """Image blocks showing uploaded (private) files by id, with their alt text."""
    return [
        {
            "type": "image",
            "slack_file": {"id": file_id},
            "alt_text": (file.alt or file.name)[:ALT_LIMIT],
            "title": {"type": "plain_text", "text": file.name[:ALT_LIMIT]},
        }
        for file, file_id in zip(files, ids, strict=True)
    ]


class Uploader:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def upload(self, files: Sequence[Attachment], *, channel: str | None) -> list[str]:
        """Upload `files` and complete them together: shared in `channel`, or private
        to the bot when None. Returns their ids; raises UploadFailed."""
        try:
            ids = [await self._one(file) for file in files]
            done: list[dict[str, str | None]] = [
                {"id": i, "title": f.name} for f, i in zip(files, ids, strict=True)
            ]
            await self.client.files_completeUploadExternal(files=done, channel_id=channel)
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            raise UploadFailed(str(error or "error")) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise UploadFailed(type(exc).__name__) from None
        return ids

    async def _one(self, file: Attachment) -> str:
        answer = await self.client.files_getUploadURLExternal(
            filename=file.name, length=file.size, alt_txt=(file.alt or None)
        )
        url, file_id = str(answer.get("upload_url") or ""), str(answer.get("file_id") or "")
        if not url or not file_id:
            raise UploadFailed("files.getUploadURLExternal gave no upload URL")
        await self._post(url, file)
        return file_id

    async def _post(self, url: str, file: Attachment) -> None:
        session = self.client.session
        if session is not None and not session.closed:
            await self._post_with(session, url, file)
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as own:
            await self._post_with(own, url, file)

    @staticmethod
    async def _post_with(session: aiohttp.ClientSession, url: str, file: Attachment) -> None:
        headers = {"Content-Type": file.mime or "application/octet-stream"}
        async with session.post(url, data=file.data, headers=headers) as response:
            if response.status != 200:
                raise UploadFailed(f"upload answered HTTP {response.status}")
