"""Coach private notes (SPEC §2: athletes never see them, not even about themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Ctx, Kind, Refusal, arg, command, member_arg
from bot.commands.common import require, resolve_member, target_of
from bot.grammar import MemberRef
from bot.policy import Action
from bot.text import free_text

NOTE_MAX = 2000


@dataclass(frozen=True)
class WriteNote:
    member: MemberRef = member_arg("the athlete: e-mail, @mention or name", required=True)
    text: str = arg(
        Kind.TEXT,
        help="the note; athletes never see it",
        positional=True,
        required=True,
        max_len=NOTE_MAX,
        lines=True,
    )


@command(
    "note",
    usage='/note MEMBER "TEXT"',
    summary="write a private coach note about an athlete",
    action=Action.WRITE_NOTES,
)
async def write_note(cmd: WriteNote, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    member, account = await resolve_member(ctx, cmd.member)
    target = await target_of(ctx, member, account)
    if target.own:  # said before the roster check: nobody is on their own roster
        require(ctx, Action.WRITE_NOTES, target)
    if not member.is_athlete:
        raise Refusal(f"{account.display_name} is not an athlete.")
    require(ctx, Action.WRITE_NOTES, target)
    await ctx.uow.repo.write_note(org.id, ctx.account.id, member.id, cmd.text, ctx.now)
    await ctx.audit("note", account.id)
    ctx.reply(
        f"Note about {account.display_name} saved. Coaches only: "
        f"{account.display_name} never sees it."
    )


@dataclass(frozen=True)
class ReadNotes:
    member: MemberRef = member_arg("the athlete: e-mail, @mention or name", required=True)


@command(
    "notes",
    usage="/notes MEMBER",
    summary="coach notes about an athlete that you may read",
    action=Action.READ_NOTES,
)
async def read_notes(cmd: ReadNotes, ctx: Ctx) -> None:
    member, account = await resolve_member(ctx, cmd.member)
    rows = await ctx.uow.repo.notes_about(member.id, ctx.viewer)
    if not rows:
        # the same words whether there are hidden notes or none at all
        ctx.reply(f"No notes about {account.display_name} that you can read.")
        return
    lines = [
        f"- {note.created_at.astimezone(ctx.zone):%Y-%m-%d} {author.display_name}: "
        + free_text(note.text)
        for note, author in rows
    ]
    ctx.reply(f"Notes about {account.display_name}:\n" + "\n".join(lines))
