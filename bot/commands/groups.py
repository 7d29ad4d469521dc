"""Groups: sub-divisions of an org, each optionally linked to a channel (SPEC §1, §4)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command
from bot.commands.common import resolve_member, sees_emails, who
from bot.grammar import MemberRef, shown
from bot.platforms import facts_of
from bot.policy import Action, permits, sees_everyone
from bot.text import clean, keyed
from storage.models import CHANNEL_MAX, GROUP_NAME_MAX, KEY_WIDTH, Group, GroupChannel

NAME_MAX = GROUP_NAME_MAX
GROUP_KEY = GROUP_NAME_MAX * KEY_WIDTH


async def find_group(ctx: Ctx, name: str) -> Group:
    """A group by name; athletes only "find" the groups they belong to (SPEC §2)."""
    org, _ = ctx.require_org()
    group = await ctx.uow.repo.visible_group(ctx.viewer, org.id, name)
    if group is None:
        raise Refusal(f"No group named {shown(name)}. See /group list.")
    return group


def group_name(kind: Kind = Kind.TEXT, help: str = "the group's name") -> str:
    """The group a command names: the rest of the line (/group delete, show, link), or
    one word when more follows it (/group rename, add, remove)."""
    return arg(
        kind, help=help, positional=True, required=True, max_len=NAME_MAX, suggest=Suggest.GROUP
    )


@dataclass(frozen=True)
class CreateGroup:
    name: str = arg(
        Kind.TEXT,
        help="the new group's name, like 5k squad",
        positional=True,
        required=True,
        max_len=NAME_MAX,
    )


@command(
    "group create",
    usage="/group create NAME",
    summary="make a group",
    action=Action.MANAGE_GROUPS,
)
async def create_group(cmd: CreateGroup, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    if await ctx.uow.repo.group_by_name(org.id, cmd.name):
        raise Refusal(f"There is already a group named {shown(cmd.name)}.")
    await ctx.uow.repo.create_group(org.id, cmd.name, keyed(cmd.name, GROUP_KEY), ctx.now)
    await ctx.audit("group_create", None, cmd.name)
    name = f'"{cmd.name}"' if " " in cmd.name else cmd.name
    ctx.reply(
        f"Group {cmd.name} created. Add athletes with /group add {name} MEMBER..., and type "
        f"/group link {name} in its channel for leaderboards."
    )


@dataclass(frozen=True)
class RenameGroup:
    name: str = group_name(Kind.WORD, "the group's current name")
    new_name: str = arg(
        Kind.WORD,
        help="the group's new name",
        positional=True,
        required=True,
        max_len=NAME_MAX,
    )


@command(
    "group rename",
    usage="/group rename NAME NEW-NAME",
    summary="rename a group",
    action=Action.MANAGE_GROUPS,
)
async def rename_group(cmd: RenameGroup, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    group = await find_group(ctx, cmd.name)
    clash = await ctx.uow.repo.group_by_name(org.id, cmd.new_name)
    if clash is not None and clash.id != group.id:
        raise Refusal(f"There is already a group named {shown(cmd.new_name)}.")
    old = group.name
    await ctx.uow.repo.rename_group(group, cmd.new_name, keyed(cmd.new_name, GROUP_KEY))
    await ctx.audit("group_rename", None, f"{old} -> {cmd.new_name}")
    ctx.reply(f"Group {old} is now called {cmd.new_name}.")


@dataclass(frozen=True)
class DeleteGroup:
    name: str = group_name()


@command(
    "group delete",
    usage="/group delete NAME",
    summary="delete a group (its athletes stay in the org)",
    action=Action.MANAGE_GROUPS,
)
async def delete_group(cmd: DeleteGroup, ctx: Ctx) -> None:
    group = await find_group(ctx, cmd.name)
    await ctx.uow.repo.delete_group(group)
    await ctx.audit("group_delete", None, group.name)
    ctx.reply(f"Group {group.name} is deleted; its athletes stay in the organization.")


@dataclass(frozen=True)
class ListGroups:
    pass


@command(
    "group list",
    usage="/group list",
    summary="the groups (athletes: your own)",
    action=Action.VIEW_GROUPS,
)
async def list_groups(cmd: ListGroups, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    groups = await ctx.uow.repo.visible_groups(ctx.viewer, org.id)
    if not groups:
        every = sees_everyone(ctx.viewer, Action.VIEW_GROUPS)
        ctx.reply("No groups yet." if every else "You are in no group yet.")
        return
    counts = await ctx.uow.repo.group_sizes([g.id for g in groups])
    lines = [f"- {g.name} ({counts.get(g.id, 0)} athletes)" for g in groups]
    ctx.reply("Groups:\n" + "\n".join(lines))


@dataclass(frozen=True)
class ShowGroup:
    name: str = group_name()


@command(
    "group show",
    usage="/group show NAME",
    summary="a group's athletes (athletes see their groupmates' names)",
    action=Action.VIEW_GROUPS,
)
async def show_group(cmd: ShowGroup, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    group = await find_group(ctx, cmd.name)
    coach_view = permits(ctx.viewer, Action.MANAGE_GROUPS)
    members = await ctx.uow.repo.members(org.id, group_id=group.id)
    channels = await ctx.uow.repo.group_channels(group.id)
    lines = [f"{group.name} — {len(members)} athletes"]
    if channels and coach_view:
        lines.append("Linked: " + ", ".join(_channel_name(c) for c in channels))
    lines += [f"- {who(a, sees_emails(ctx.viewer))}" for _, a in members[:GROUP_SHOWN]]
    if len(members) > GROUP_SHOWN:
        more = f"… and {len(members) - GROUP_SHOWN} more"
        lines.append(
            f"{more}; narrow with /members group:{group.name} label:L."
            if coach_view
            else f"{more}."
        )
    ctx.reply("\n".join(lines))


@dataclass(frozen=True)
class LinkGroup:
    name: str = group_name()


@command(
    "group link",
    usage="/group link NAME (typed in the group's channel)",
    summary="post this group's leaderboard to the channel you type it in",
    action=Action.MANAGE_GROUPS,
)
async def link_group(cmd: LinkGroup, ctx: Ctx) -> None:
    channel = ctx.caller.channel
    if channel is None:
        raise Refusal("Type /group link in the channel the group's leaderboard should go to.")
    clean(channel.channel_id, what="This channel's name")  # no control characters
    if len(channel.channel_id) > CHANNEL_MAX:
        raise Refusal(f"This channel's name is longer than {CHANNEL_MAX} characters: rename it.")
    group = await find_group(ctx, cmd.name)
    repo = ctx.uow.repo
    taken = await repo.group_for_channel(channel.platform, channel.space_id, channel.channel_id)
    if taken is not None and taken.id != group.id:
        raise Refusal(f"This channel is already linked to group {taken.name}.")
    await repo.link_channel(
        group.id, channel.platform, channel.space_id, channel.channel_id, ctx.now
    )
    await ctx.audit("group_link", None, f"{group.name} -> {channel.name or channel.channel_id}")
    ctx.reply(
        f"{channel.name or 'This channel'} is now {group.name}'s channel: its leaderboard "
        "is posted here."
    )


@dataclass(frozen=True)
class GroupMembers:
    name: str = group_name(Kind.WORD)
    members: tuple[MemberRef, ...] = arg(
        Kind.MEMBERS,
        help="one or more members (e-mail, @mention or name), separated by spaces",
        positional=True,
        required=True,
        suggest=Suggest.MEMBER,
    )


@command(
    "group add",
    usage="/group add NAME MEMBER [MEMBER...]",
    summary="put athletes in a group",
    action=Action.MANAGE_GROUPS,
)
async def group_add(cmd: GroupMembers, ctx: Ctx) -> None:
    group = await find_group(ctx, cmd.name)
    added, already = [], []
    seen: set[int] = set()
    for ref in cmd.members:
        member, account = await resolve_member(ctx, ref)
        if member.id in seen:  # one person named twice (e-mail and name): once
            continue
        seen.add(member.id)
        if not member.is_athlete:
            raise Refusal(f"{account.display_name} is not an athlete; groups hold athletes.")
        if await ctx.uow.repo.in_group(group.id, member.id):
            already.append(account.display_name)
            continue
        await ctx.uow.repo.join_group(group.id, member.id)
        added.append(account.display_name)
    await ctx.audit("group_add", None, f"{group.name}: {', '.join(added)}")
    text = f"Added to {group.name}: {_few_names(added)}." if added else "Nobody new to add."
    if already:
        text += f" Already in it: {_few_names(already)}."
    ctx.reply(text)


@command(
    "group remove",
    usage="/group remove NAME MEMBER [MEMBER...]",
    summary="take athletes out of a group",
    action=Action.MANAGE_GROUPS,
)
async def group_remove(cmd: GroupMembers, ctx: Ctx) -> None:
    group = await find_group(ctx, cmd.name)
    removed = []
    seen: set[int] = set()
    for ref in cmd.members:
        member, account = await resolve_member(ctx, ref)
        if member.id in seen:
            continue
        seen.add(member.id)
        if not await ctx.uow.repo.leave_group(group.id, member.id):
            raise Refusal(f"{account.display_name} is not in {group.name}.")
        removed.append(account.display_name)
    await ctx.audit("group_remove", None, f"{group.name}: {', '.join(removed)}")
    ctx.reply(f"Removed from {group.name}: {_few_names(removed)}.")


NAMES_SHOWN = 20  # a reply names this many people, then counts the rest


def _few_names(names: list[str]) -> str:
    """`ann, ben, ... and 80 more`: the coach sees who, without a wall of names."""
    if len(names) <= NAMES_SHOWN:
        return ", ".join(names)
    return f"{', '.join(names[:NAMES_SHOWN])} and {len(names) - NAMES_SHOWN} more"


GROUP_SHOWN = 60  # athletes listed by /group show


def _channel_name(link: GroupChannel) -> str:
    return facts_of(link.platform).channel_mention(link.channel_id)
