"""A person's own settings and privacy, the audit log, and /help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.commands.base import (
    REGISTRY,
    CommandSpec,
    Ctx,
    Kind,
    Refusal,
    Suggest,
    arg,
    command,
    member_arg,
)
from bot.commands.common import resolve_member
from bot.grammar import MemberRef
from bot.messages import TEXT_LIMIT
from bot.policy import PRIVACY_FLAGS, Action, permits
from bot.schedule.planner import settings_changed

NOTIFY_KINDS = ("daily", "digest", "leaderboard", "weekly", "restday", "feedback")


@dataclass(frozen=True)
class OwnSettings:
    tz: str | None = arg(
        Kind.TIMEZONE, help="your time zone, like Europe/Berlin", suggest=Suggest.TIMEZONE
    )
    units: str | None = arg(
        Kind.CHOICE, help="km or mi, for distances and paces", choices=("km", "mi")
    )
    reminder: time | None = arg(Kind.TIME, help="the time of your daily reminder, like 06:30")
    name: str | None = arg(Kind.WORD, help="your display name", max_len=80)
    goal: str | None = arg(Kind.WORD, help="your goal, like sub-50 10k in May", max_len=200)
    bio: str | None = arg(Kind.WORD, help="a few words about you", max_len=2000, lines=True)
    notify: str | None = arg(
        Kind.CHOICE,
        help="a message to turn on or off: daily, digest, leaderboard, weekly, restday or feedback",
        choices=NOTIFY_KINDS,
    )
    switch: bool | None = arg(
        Kind.ON_OFF, help="on or off, for the notify: message", positional=True
    )


@command(
    "settings",
    usage='/settings [tz:ZONE] [units:km|mi] [reminder:HH:MM] [name:"..."] [goal:"..."] '
    '[bio:"..."] [notify:daily|digest|leaderboard|weekly|restday|feedback on|off]',
    summary="your own settings",
    action=Action.OWN_SETTINGS,
)
async def settings(cmd: OwnSettings, ctx: Ctx) -> None:
    account = ctx.account
    if (cmd.notify is None) != (cmd.switch is None):
        raise Refusal("notify: takes a kind and on or off, e.g. notify:daily off.", show_usage=True)
    changed = []
    columns: dict[str, object] = {}
    before = _daily_settings(ctx)
    if cmd.tz is not None:
        columns["timezone"] = cmd.tz
        changed.append(f"time zone {cmd.tz}")
    if cmd.units is not None:
        columns["units"] = cmd.units
        changed.append(f"units {cmd.units}")
    if cmd.reminder is not None:
        columns["reminder_time"] = reminder = cmd.reminder.strftime("%H:%M")
        changed.append(f"reminder {reminder}")
    if cmd.name is not None:
        columns["display_name"], columns["display_name_set"] = cmd.name, True
        changed.append(f"name {cmd.name}")
    if cmd.goal is not None:
        columns["goal"] = cmd.goal
        changed.append("goal race")
    if cmd.bio is not None:
        columns["bio"] = cmd.bio
        changed.append("bio")
    if cmd.notify is not None:
        columns[f"notify_{cmd.notify}"] = bool(cmd.switch)
        changed.append(f"{cmd.notify} messages {'on' if cmd.switch else 'off'}")
    if changed:
        await ctx.uow.repo.save_own_settings(account, columns)
        after = _daily_settings(ctx)
        if before is not None and after is not None:
            await settings_changed(
                ctx.uow.repo,
                account,
                before,
                after,
                ctx.now,
                daily_on=cmd.notify == "daily" and bool(cmd.switch),
            )
        ctx.reply("Saved: " + ", ".join(changed) + ".")
        return
    zone = account.timezone or f"{ctx.zone.key} (your club's)"
    notify = ", ".join(
        f"{k} {'on' if getattr(account, f'notify_{k}') else 'off'}" for k in NOTIFY_KINDS
    )
    ctx.reply(
        f"Name: {account.display_name}\nTime zone: {zone}\nUnits: {account.units}\n"
        f"Reminder: {account.reminder_time}\nGoal race: {account.goal or '—'}\n"
        f"Bio: {account.bio or '—'}\nMessages: {notify}"
    )


def _daily_settings(ctx: Ctx) -> tuple[str, str] | None:
    """The (zone, reminder time) the planner uses for a member's daily DM."""
    if ctx.org is None:
        return None
    return (ctx.account.timezone or ctx.org.timezone, ctx.account.reminder_time)


@dataclass(frozen=True)
class PrivacyCmd:
    setting: str | None = arg(
        Kind.CHOICE,
        help="the setting to change, like share_pace (leave out to see them all)",
        positional=True,
        choices=PRIVACY_FLAGS,
    )
    switch: bool | None = arg(
        Kind.ON_OFF, help="on to share, off to keep it to yourself", positional=True
    )


@command(
    "privacy",
    usage="/privacy [SETTING on|off]",
    summary="who may see your activities, pace and profile",
    action=Action.OWN_SETTINGS,
)
async def privacy(cmd: PrivacyCmd, ctx: Ctx) -> None:
    account = ctx.account
    if cmd.setting is not None:
        if cmd.switch is None:
            raise Refusal(f"Say on or off: /privacy {cmd.setting} off.", show_usage=True)
        await ctx.uow.repo.save_own_settings(account, {cmd.setting: cmd.switch})
        ctx.reply(f"{cmd.setting} is now {'on' if cmd.switch else 'off'}.")
        return
    lines = [f"- {flag}: {'on' if getattr(account, flag) else 'off'}" for flag in PRIVACY_FLAGS]
    ctx.reply(
        "Your privacy settings (change one with /privacy SETTING on|off):\n" + "\n".join(lines)
    )


@dataclass(frozen=True)
class Audit:
    member: MemberRef | None = member_arg(
        "only changes about this member: e-mail, @mention or name"
    )
    since: date | None = arg(
        Kind.DATE_BACKWARD, help="only changes since this date: 2027-01-04, yesterday, mon…sun"
    )


@command(
    "audit",
    usage="/audit [MEMBER] [since:DATE]",
    summary="what coaches changed, newest first",
    action=Action.AUDIT,
)
async def audit(cmd: Audit, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    target_id = None
    if cmd.member is not None:
        try:
            _, account = await resolve_member(ctx, cmd.member)
            target_id = account.id
        except Refusal:
            # someone no longer a member: by e-mail, if this org's log names them (the
            # log is where a removal is looked up; anyone else reads as no member at all)
            former = None
            if cmd.member.kind == "email":
                former = await ctx.uow.repo.account_by_email(cmd.member.value)
            if former is None or not await ctx.uow.repo.audit_names(org.id, former.id):
                raise
            target_id = former.id

    since = datetime.combine(cmd.since, time(0), ZoneInfo(org.timezone)) if cmd.since else None
    rows = await ctx.uow.repo.audit_entries(ctx.viewer, org.id, target_id=target_id, since=since)
    if not rows:
        ctx.reply("Nothing in the audit log for that.")
        return
    lines = []
    for entry, actor, target in rows:
        when = entry.at.astimezone(ZoneInfo(org.timezone)).strftime("%Y-%m-%d %H:%M")
        # an actor whose account was erased (/forget-me) is no longer named
        line = f"- {when} {actor.email if actor else 'a former member'}: {entry.action}"
        if target is not None:
            line += f" {target.email}"
        if entry.detail:
            line += f" ({entry.detail})"
        lines.append(line)
    ctx.reply("Audit log (newest first):\n" + "\n".join(lines))


@dataclass(frozen=True)
class Help:
    topic: str | None = arg(
        Kind.WORD,
        help="a command, like add-member",
        positional=True,
        max_len=40,
        suggest=Suggest.COMMAND,
    )


def allowed_specs(ctx: Ctx) -> list[CommandSpec]:
    """/help hides what the caller cannot use (ARCHITECTURE convention 7)."""
    return [spec for spec in REGISTRY.values() if permits(ctx.viewer, spec.action)]


def command_help(spec: CommandSpec) -> str:
    """`/help COMMAND`: the usage line, what the command does, then one line per
    parameter with its help text (`group:` for a key:value option, the bare name for a
    positional one or a flag)."""
    lines = [spec.usage, f"    {spec.summary}"]
    for param in spec.params:
        keyed = not param.positional and param.kind is not Kind.FLAG
        label = f"{param.spelling}:" if keyed else param.spelling
        lines.append(f"    {label}  {param.help}")
    return "\n".join(lines)


@command(
    "help",
    usage="/help [COMMAND]",
    summary="the commands you can use",
    action=Action.HELP,
)
async def help_(cmd: Help, ctx: Ctx) -> None:
    specs = allowed_specs(ctx)
    if cmd.topic:
        topic = cmd.topic.lstrip("/").lower()
        matches = [s for s in specs if s.root == topic or s.name == topic]
        if not matches:
            raise Refusal(f"No command /{topic} that you can use. Type /help for the list.")
        ctx.reply("\n".join(command_help(s) for s in matches))
        return
    listed = [s for s in sorted(specs, key=lambda s: s.name) if not s.dm_form]
    text = "Commands you can use:\n" + "\n".join(f"{s.usage} — {s.summary}" for s in listed)
    if len(text) > TEXT_LIMIT:  # a head coach's list: the usages, each summary on request
        usages = [s.usage for s in listed]
        text = "\n".join(["Commands you can use:", *usages, "/help COMMAND says what one does."])
    ctx.reply(text)
