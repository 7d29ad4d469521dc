"""The export DMs, made when they are sent (`/export`, `/export club`; issue 14 item 5).

The outbox row holds no text and no data: here, in the dispatcher's read-only session,
the reader's data are read through the policy as it stands at this moment and written
into files (`bot.domain.export`). The text beside the files lists each one and what it
holds, so a platform that cannot take a file still says what was meant to arrive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.export import club_files, files_text, own_files
from bot.messages import Outgoing, Via

if TYPE_CHECKING:
    from storage.models import OutboxMessage
    from storage.outbox_reads import OutboxReads

KEEP_SAFE = "Keep these files safe: they hold personal data."


async def own_export(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """`/export`: the reader's profile and every activity of theirs, private ones too."""
    if row.account_id is None:
        return None
    data = await reads.exports.own_export(row.account_id)
    if data is None:
        return None  # the account is gone (erased since it asked)
    files = own_files(data, row.created_at.date())
    count = len(data.activities)
    text = (
        f"Your coachbot export ({count:,} activit{'y' if count == 1 else 'ies'}):\n"
        f"{files_text(files)}\n{KEEP_SAFE}"
    )
    return Outgoing(Via.DM, text, account_id=row.account_id, kind=row.kind, files=files)


async def club_export(reads: OutboxReads, row: OutboxMessage) -> Outgoing | None:
    """`/export club`: the members, the activities and the notes the head coach may see.
    A reader who is no longer the head coach gets a line saying so, and no file."""
    if row.account_id is None:
        return None
    data = await reads.exports.club_export(row.account_id)
    if data is None:
        return Outgoing(
            Via.DM,
            "Your club export was not made: you are not a club's head coach any more.",
            ok=False,
            account_id=row.account_id,
            kind=row.kind,
        )
    files = club_files(data, row.created_at.date())
    members, activities = len(data.members), len(data.activities)
    text = (
        f"The {data.org_name} export ({members:,} member{'' if members == 1 else 's'}, "
        f"{activities:,} activit{'y' if activities == 1 else 'ies'}):\n{files_text(files)}\n"
        "Private activities are never in it, and durations only where you may see "
        f"the athlete's pace.\n{KEEP_SAFE}"
    )
    return Outgoing(Via.DM, text, account_id=row.account_id, kind=row.kind, files=files)
