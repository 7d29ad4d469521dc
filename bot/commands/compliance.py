"""`/compliance [group:G|coach:C] [week|month|DATE..DATE]`: who did their sessions, at a
glance (SPEC §4; issue 13 item 4).

- **Who may**: coaches, in scope (`Action.VIEW_COMPLIANCE`, scoped as changing a
  schedule): the head coach sees the whole club, an assistant their own roster. The
  list itself is the policy's SQL (`coached_filter`), which never holds the caller's own
  line (SPEC §2 self-denial). `group:G` narrows it to that group's athletes (an
  assistant: those of them on their roster); `coach:C` to C's roster — the head coach
  may name any coach, an assistant only themselves.
- **What a line says**: sessions due (done, skipped or missed), done, skipped, missed, the
  share done of due, and distance done against planned. Statuses are schedule data,
  shown to every coach in scope; the distance done is activity data and follows the
  activities grant per athlete (`share_activities` + `share_with_coaches`): without it
  the column shows a dash. Private activities count nowhere, and a session only a
  private activity completed reads as missed once its day is over. No duration is ever
  shown, so hidden pace cannot be worked out from this reply.
- **The chart** (issue 15): a stacked bar per athlete line the reply shows, in its order
  (worst first), of sessions done, skipped and missed, marked with the line's done share
  — statuses only, which every coach in scope may see, so no activity data is drawn.
- **Periods**: `week` (default) this Monday–Sunday, `month` this calendar month, or
  `DATE..DATE` (one date: that day), at most `MAX_DAYS` days, as of the caller's today.
  Missed is judged by each athlete's own date.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from bot import grammar
from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command, member_arg
from bot.commands.common import require, resolve_member
from bot.commands.leaderboard import Period
from bot.domain.compliance import Compliance, compliance_of, near_days, worst_first
from bot.grammar import GrammarError, MemberRef, shown
from bot.messages import Chart, ChartKind, Series, Table
from bot.policy import Action, Target, sees_everyone
from bot.render import fmt_distance, table_text

MAX_DAYS = 92  # a quarter: the longest stretch a coach reviews at once
SHOWN = 40  # lines in one reply; the rest are counted, and group:/coach: narrow it
GROUP_NAME_MAX = 80
USAGE = "/compliance [group:G|coach:C] [week|month|DATE..DATE]"


def compliance_period(word: str | None, today: date) -> Period:
    key = (word or "week").strip().lower()
    if key == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6), f"week of {monday:%a %d %b %Y}")
    if key == "month":
        days = calendar.monthrange(today.year, today.month)[1]
        return Period(today.replace(day=1), today.replace(day=days), f"{today:%B %Y}")
    try:
        first, last = grammar.parse_date_range(key, today)
    except GrammarError as exc:
        raise GrammarError(f"{exc.message} The period is week, month or DATE..DATE.") from None
    if (last - first).days + 1 > MAX_DAYS:
        raise GrammarError(f"Compliance covers at most {MAX_DAYS} days; shorten the range.")
    if first == last:
        return Period(first, last, f"{first:%a %d %b %Y}")
    return Period(first, last, f"{first:%a %d %b %Y} to {last:%a %d %b %Y}")


def _distance_or_dash(metres: float | None, units: str) -> str:
    if metres is None:
        return "—"
    return fmt_distance(metres, units) if metres else f"0 {units}"


def compliance_table(rows: list[Compliance], units: str) -> Table:
    body = tuple(
        (
            r.name,
            str(r.due),
            str(r.done),
            str(r.skipped),
            str(r.missed),
            "—" if r.percent is None else f"{r.percent}%",
            f"{_distance_or_dash(r.done_m, units)} / {_distance_or_dash(r.planned_m, units)}",
        )
        for r in rows
    )
    columns = ("Athlete", "Due", "Done", "Skipped", "Missed", "Done %", "Distance done / planned")
    return Table("Compliance", columns, body)


def compliance_chart(title: str, rows: list[Compliance]) -> Chart | None:
    """Done, skipped and missed per athlete of `rows` (the lines the reply shows)."""
    if not rows:
        return None
    due = sum(r.due for r in rows)
    done = sum(r.done for r in rows)
    summary = (
        f"Stacked bar chart of {title.rstrip(':')}: {len(rows)} athletes, {done} of {due} "
        "sessions due done; worst first."
    )
    return Chart(
        ChartKind.STACKED,
        title.rstrip(":"),
        "sessions",
        tuple(r.name for r in rows),
        (
            Series("done", tuple(float(r.done) for r in rows)),
            Series("skipped", tuple(float(r.skipped) for r in rows)),
            Series("missed", tuple(float(r.missed) for r in rows)),
        ),
        marks=tuple("—" if r.percent is None else f"{r.percent}%" for r in rows),
        summary=summary,
        name="compliance.png",
    )


@dataclass(frozen=True)
class ShowCompliance:
    period: str | None = arg(
        Kind.WORD,
        help="week (the default), month, or dates like 2027-01-01..2027-01-31",
        positional=True,
        max_len=40,
    )
    group: str | None = arg(
        Kind.WORD,
        help="only the athletes of this group",
        max_len=GROUP_NAME_MAX,
        suggest=Suggest.GROUP,
    )
    coach: MemberRef | None = member_arg(
        "only the athletes on this coach's roster", positional=False
    )


async def _scope(ctx: Ctx, cmd: ShowCompliance) -> tuple[str, int | None, int | None]:
    """Whose athletes (the heading's words), the group and the coach's membership to
    narrow to."""
    org, me = ctx.require_org()
    everyone = sees_everyone(ctx.viewer, Action.VIEW_COMPLIANCE)
    whose = "the whole club" if everyone else "your roster"
    group_id = coach_id = None
    if cmd.group is not None and cmd.coach is not None:
        raise Refusal("Name a group or a coach, not both.", show_usage=True)
    if cmd.group is not None:
        group = await ctx.uow.repo.group_by_name(org.id, cmd.group)
        if group is None:
            raise Refusal(f"No group named {shown(cmd.group)}. See /group list.")
        group_id = group.id
        whose = f"group {group.name}" + ("" if everyone else ", athletes on your roster")
    if cmd.coach is not None:
        member, account = await resolve_member(ctx, cmd.coach)
        if not member.is_coach:
            raise Refusal(f"{account.display_name} is not a coach; coach: names a coach.")
        own = member.id == me.id
        require(
            ctx,
            Action.VIEW_COMPLIANCE,
            Target(account_id=account.id, name=account.display_name, own=own, on_roster=own),
        )
        coach_id = member.id
        whose = "your roster" if own else f"{account.display_name}'s roster"
    return whose, group_id, coach_id


@command(
    "compliance",
    usage=USAGE,
    summary="sessions due, done, skipped and missed per athlete, and distance done vs planned",
    action=Action.VIEW_COMPLIANCE,
)
async def compliance(cmd: ShowCompliance, ctx: Ctx) -> None:
    whose, group_id, coach_id = await _scope(ctx, cmd)
    period = compliance_period(cmd.period, ctx.today)
    counted = await ctx.uow.repo.compliance(
        ctx.viewer,
        period.start,
        period.end,
        near=near_days(ctx.now),
        group_id=group_id,
        coach_membership_id=coach_id,
    )
    planned = worst_first([compliance_of(row, ctx.now) for row in counted if row.sessions])
    idle = len(counted) - len(planned)
    head = f"Compliance, {period.label}, {whose}:"
    if not counted:
        ctx.reply(f"{head}\nNo athletes here.")
        return
    lines = [head]
    shown_rows = planned[:SHOWN]
    table = compliance_table(shown_rows, ctx.account.units)
    if table.rows:
        lines.append(table_text(table.columns, list(table.rows)))
    if len(planned) > SHOWN:
        lines.append(
            f"… and {len(planned) - SHOWN} more: narrow it with group:G or coach:C, "
            "or a shorter period."
        )
    if idle:
        lines.append(f"No session planned in this period: {idle} athlete{'s' * (idle != 1)}.")
    lines.append(
        "Due: done, skipped, or missed (its day over, in the athlete's time zone). "
        "Distance done shows — where the athlete doesn't share their activities with you; "
        "private activities count nowhere."
    )
    ctx.reply(
        "\n".join(lines),
        tables=(table,) if table.rows else (),
        chart=compliance_chart(head, shown_rows),
    )
