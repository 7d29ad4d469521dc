"""`/leaderboard`: a group's totals for a period (SPEC §2, §3, §4).

Decisions (docs for the reply wording and for the lead engineer):

- **Who is ranked** is the group-level rule of SPEC §2 note 3, the same for every viewer:
  the group's athletes whose `share_activities` and `share_with_group` are on, counting
  their activities that are not `private`. Storage compiles the predicate from the policy
  table (`VISIBILITY[ACTIVITIES][GROUPMATE]`, see `storage.repositories.leaderboard`),
  never by hand, and a property test compares it with `can_see_activity` for a pure
  groupmate viewer. A coach therefore sees the board the group sees — totals, never
  single activities.
- **Metrics**: `distance` and `time` sum measured values only (a `done` check-in has
  none); `runs` counts logged activities of *every* type (said in the header); all three
  count every activity type. `consistency` is completed ÷ due sessions, shown as a
  percentage only, for sharing athletes with at least one session due in the period (a
  session is due once settled or once its day is over; one completed only by a private
  activity counts as not completed). Pace is never shown, and neither is the time of
  an athlete whose pace the group may not see (`share_pace` off): the distance and runs
  boards show a dash for it and the time board leaves them out, so distance ÷ time
  cannot be worked out from two boards.
- **Periods** are in the org's time zone: `week` (default) = this Monday–Sunday, `month`
  = this calendar month, `DATE..DATE` (or one date) = those days, at most 366; they are
  compared with activities' local dates.
- **Which group**: `group:G` (athletes: only their own groups; any other name is answered
  exactly like a group that does not exist); else the group linked to the channel it is
  typed in; else the caller's only group. Typed in a linked channel by one of its
  athletes or a coach, the board is posted to the channel; an athlete of another group
  typing there gets their own board privately, as if the channel were not linked.
- **Units**: a private reply uses the caller's units; a channel post uses the units of
  whoever typed the command (they chose to post it; the header names the unit).
- **The club board** (`club`, issue 13 item 7) ranks the org's athletes who share their
  activities with the org (SPEC §2 note 4: `share_activities` and `share_with_org`),
  compiled from the org-athlete cells as the group board is from the groupmate cells;
  every member may ask for it (`Action.CLUB_LEADERBOARD`). It is always the caller's
  private answer, never a channel post, wherever it is typed: no channel is the club's,
  and a channel of a bound workspace may be read by people outside the org.
- **`type:T`** counts only activities of that type on every board (`runs` then counts
  those activities) and, for consistency, only sessions whose workout is of that type.
- **The chart** (issue 15) is a ranked bar per row the text shows, in its order, of the
  number the board ranks by (distance in the caller's units, time in hours, activities,
  consistency in percent), each bar marked as the text writes it; built from those rows
  (`board_chart`), it holds nothing the text does not. No rows, no chart.
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot import grammar
from bot.commands.base import Ctx, Kind, Refusal, Suggest, arg, command
from bot.commands.common import require
from bot.commands.training import TYPES
from bot.grammar import GrammarError, shown
from bot.messages import ChannelRef, Chart, ChartKind, Series, Table
from bot.policy import Action, Target, decide, sees_everyone
from bot.render import METRES_PER_MILE, fmt_distance, fmt_duration, table_text

if TYPE_CHECKING:
    from storage.models import Group
    from storage.repositories.leaderboard import Attendance, Totals

METRICS = ("distance", "time", "runs", "consistency")
MAX_DAYS = 366
SHOWN = 25  # rows in one message: chat platforms cut long messages
GROUP_NAME_MAX = 80


# -- periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


def leaderboard_period(word: str | None, today: date) -> Period:
    """`week` (default), `month`, or `DATE..DATE` / one date, as of the org's `today`."""
    key = (word or "week").strip().lower()
    if key == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6), f"week of {monday:%a %d %b %Y}")
    if key == "month":
        last = calendar.monthrange(today.year, today.month)[1]
        return Period(today.replace(day=1), today.replace(day=last), f"{today:%B %Y}")
    try:
        start, end = grammar.parse_date_range(key, today)
    except GrammarError as exc:
        raise GrammarError(
            f"{exc.message} The period is week, month or DATE..DATE; name a group with group:NAME."
        ) from None
    if (end - start).days + 1 > MAX_DAYS:
        raise GrammarError(f"A leaderboard covers at most {MAX_DAYS} days; shorten the range.")
    label = start.isoformat() if start == end else f"{start.isoformat()} to {end.isoformat()}"
    return Period(start, end, label)


# -- which group ------------------------------------------------------------------------


def _may_view(ctx: Ctx, group: Group, my_group_ids: set[int]) -> bool:
    target = Target(in_group=group.id in my_group_ids, name=group.name)
    return bool(decide(ctx.viewer, Action.LEADERBOARD, target))


async def target_group(ctx: Ctx, name: str | None) -> tuple[Group, ChannelRef | None]:
    """The group to rank and the channel to post to (None: answer privately)."""
    org, me = ctx.require_org()
    repo = ctx.uow.repo
    mine = await repo.groups_of(me.id)
    my_ids = {g.id for g in mine}
    channel = ctx.caller.channel
    linked: Group | None = None
    if channel is not None:
        found = await repo.group_for_channel(channel.platform, channel.space_id, channel.channel_id)
        if found is not None and found.org_id == org.id and _may_view(ctx, found, my_ids):
            linked = found
    if name is not None:
        group = await repo.group_by_name(org.id, name)
        if group is None or not _may_view(ctx, group, my_ids):
            raise Refusal(f"No group named {shown(name)}. See /group list.")
        post_to = channel if linked is not None and linked.id == group.id else None
        return group, post_to
    if linked is not None:
        return linked, channel
    if len(mine) == 1:
        return mine[0], None
    if sees_everyone(ctx.viewer, Action.VIEW_GROUPS):
        names = [g.name for g in await repo.groups(org.id)]
        if not names:
            raise Refusal("There are no groups yet; a coach makes one with /group create NAME.")
        raise Refusal(
            f"Which group? Name one: /leaderboard group:NAME (groups: {', '.join(names)})."
        )
    if not mine:
        raise Refusal("You are in no group yet, so there is no leaderboard for you.")
    raise Refusal(
        f"You are in {len(mine)} groups ({', '.join(g.name for g in mine)}): name one, "
        f"e.g. /leaderboard group:{mine[0].name}"
    )


# -- rendering --------------------------------------------------------------------------


def _ranks(keys: list[object]) -> list[int]:
    """Competition ranking over keys already sorted best first: ties share a place."""
    ranks: list[int] = []
    for i, key in enumerate(keys):
        ranks.append(ranks[-1] if i and key == keys[i - 1] else i + 1)
    return ranks


def _distance(metres: float, units: str) -> str:
    return fmt_distance(metres, units) if metres else f"0 {units}"


def totals_table(rows: list[Totals], by: str, units: str) -> Table:
    key = {
        "distance": lambda r: r.distance_m,
        "time": lambda r: r.duration_s,
        "runs": lambda r: r.activities,
    }[by]
    ranks = _ranks([key(r) for r in rows])
    body = tuple(
        (
            str(rank),
            r.name,
            _distance(r.distance_m, units),
            fmt_duration(r.duration_s) if r.time_shown else "—",
            str(r.activities),
        )
        for rank, r in zip(ranks, rows, strict=True)
    )
    return Table("Leaderboard", ("#", "Athlete", "Distance", "Time", "Activities"), body)


def totals_values(rows: list[Totals], by: str, units: str) -> list[float]:
    """The number each row of `totals_table` is ranked by, in its order: distance in
    `units`, time in hours, activities."""
    per = METRES_PER_MILE if units == "mi" else 1000.0
    if by == "distance":
        return [r.distance_m / per for r in rows]
    if by == "time":
        return [r.duration_s / 3600 for r in rows]
    return [float(r.activities) for r in rows]


def ranked_attendance(rows: list[Attendance]) -> list[Attendance]:
    """The consistency board's rows, best first: those with a session due."""
    return sorted(
        (r for r in rows if r.due),
        key=lambda r: (-Fraction(r.completed, r.due), r.name.lower(), r.account_id),
    )


def attendance_values(rows: list[Attendance]) -> list[float]:
    """The percentage each row of `attendance_table` shows, in its order."""
    return [float(round(100 * r.completed / r.due)) for r in ranked_attendance(rows)]


def attendance_table(rows: list[Attendance]) -> Table:
    ranked = ranked_attendance(rows)
    ranks = _ranks([Fraction(r.completed, r.due) for r in ranked])
    body = tuple(
        (str(rank), r.name, f"{round(100 * r.completed / r.due)}%")
        for rank, r in zip(ranks, ranked, strict=True)
    )
    return Table("Leaderboard", ("#", "Athlete", "Consistency"), body)


HEADINGS = {
    "distance": "distance (measured activities of every type)",
    "time": "time (measured activities of every type)",
    "runs": "activities logged (every type counts)",
    "consistency": "consistency (sessions completed of those due)",
}


TYPED_HEADINGS = {
    "distance": "distance ({kind} only)",
    "time": "time ({kind} only)",
    "runs": "activities logged ({kind} only)",
    "consistency": "consistency ({kind} sessions completed of those due)",
}


def heading(by: str, kind: str | None) -> str:
    return HEADINGS[by] if kind is None else TYPED_HEADINGS[by].format(kind=kind)


def render(
    name: str,
    period: Period,
    by: str,
    table: Table,
    units: str,
    *,
    kind: str | None = None,
    club: bool = False,
) -> tuple[str, Table]:
    """The board's text and its table; `name` is the group's (or the club's) name."""
    unit_note = f", in {units}" if by == "distance" else ""
    head = f"{name} leaderboard — {heading(by, kind)}, {period.label}{unit_note}"
    shown = table.rows[:SHOWN]
    lines = [head]
    whom = "the club" if club else "the group"
    if not table.rows:
        lines.append(
            f"No one with a session due in this period shares with {whom} yet."
            if by == "consistency"
            else (
                "No athlete of the club shares their activities with it yet."
                if club
                else "No athlete of this group shares their activities with it yet."
            )
        )
    else:
        lines.append(table_text(table.columns, list(shown)))
        if len(table.rows) > SHOWN:
            lines.append(f"… and {len(table.rows) - SHOWN} more.")
    if by == "consistency":
        lines.append(
            f"Athletes with no session due in the period, or who don't share with {whom}, "
            "are not ranked."
        )
    elif by == "time":
        lines.append(
            "Private activities, and athletes who don't share their activities or their pace "
            f"with {whom}, are left out."
        )
    else:
        lines.append(f"Private activities and athletes who don't share with {whom} are left out.")
    if club:
        lines.append("To be on the club board: /privacy share_with_org on.")
    return "\n".join(lines), Table(head, table.columns, shown)


CHART_UNITS = {"time": "hours", "runs": "activities", "consistency": "% of sessions due, done"}
MARK_COLUMN = {"distance": "Distance", "time": "Time", "runs": "Activities"}


def board_chart(shown: Table, values: list[float], by: str, units: str) -> Chart | None:
    """The ranked bar chart of a board's text: `shown` is the table the text holds (its
    rows, cut to `SHOWN`), `values` the numbers of all the board's rows in that order.
    Each bar is marked with the text's own cell (a distance without its unit, which
    the axis names)."""
    if not shown.rows:
        return None
    column = shown.columns.index(MARK_COLUMN.get(by, "Consistency"))
    names = tuple(row[1] for row in shown.rows)
    marks = tuple(row[column].removesuffix(f" {units}") for row in shown.rows)
    unit = units if by == "distance" else CHART_UNITS[by]
    more = f" (the first {len(names)})" if len(values) > len(names) else ""
    summary = (
        f"Bar chart of {shown.title}: {len(names)} athletes{more}, "
        f"led by {names[0]} with {shown.rows[0][column]}."
    )
    return Chart(
        ChartKind.RANKED,
        shown.title,
        unit,
        names,
        (Series(unit, tuple(values[: len(names)])),),
        marks=marks,
        summary=summary,
        name=f"leaderboard-{by}.png",
    )


# -- the command ------------------------------------------------------------------------


@dataclass(frozen=True)
class ShowLeaderboard:
    period: str | None = arg(
        Kind.WORD,
        help="week, month, or dates like 2027-01-01..2027-01-31 (default: this week)",
        positional=True,
        max_len=40,
    )
    group: str | None = arg(
        Kind.WORD,
        help="the group to rank (default: this channel's group, or your only one)",
        max_len=GROUP_NAME_MAX,
        suggest=Suggest.GROUP,
    )
    by: str = arg(
        Kind.CHOICE,
        help="rank by distance, time, runs or consistency",
        choices=METRICS,
        default="distance",
    )
    club: bool = arg(
        Kind.FLAG,
        help="rank the whole club: every athlete who shares with the org",
        default=False,
    )
    type: str | None = arg(
        Kind.CHOICE,
        help="count only this activity type: run, ride, swim, strength, walk, hike or other",
        choices=TYPES,
    )


@command(
    "leaderboard",
    usage="/leaderboard [club|group:G] [week|month|DATE..DATE] "
    "[by:distance|time|runs|consistency] [type:T]",
    summary="a group's or the club's ranking for the week, month or dates",
    action=Action.LEADERBOARD,
)
async def leaderboard(cmd: ShowLeaderboard, ctx: Ctx) -> None:
    org, _ = ctx.require_org()
    today = ctx.now.astimezone(ZoneInfo(org.timezone)).date()
    if cmd.club and cmd.group is not None:
        raise Refusal("Name the club or one group:G, not both.", show_usage=True)
    period = leaderboard_period(cmd.period, today)
    units = ctx.account.units
    repo = ctx.uow.repo
    kind = cmd.type
    if cmd.club:
        require(ctx, Action.CLUB_LEADERBOARD)
        # never a channel post: see the module's notes
        scope, name, post_to = org.id, org.name, None
        attendance: Callable[..., Awaitable[list[Attendance]]] = repo.club_leaderboard_attendance
        totals: Callable[..., Awaitable[list[Totals]]] = repo.club_leaderboard_totals
    else:
        group, post_to = await target_group(ctx, cmd.group)
        scope, name = group.id, group.name
        attendance, totals = repo.leaderboard_attendance, repo.leaderboard_totals
    if cmd.by == "consistency":
        present = await attendance(scope, period.start, period.end, today, kind=kind)
        table, values = attendance_table(present), attendance_values(present)
    else:
        found = await totals(scope, period.start, period.end, by=cmd.by, kind=kind)
        table, values = totals_table(found, cmd.by, units), totals_values(found, cmd.by, units)
    text, shown = render(name, period, cmd.by, table, units, kind=kind, club=cmd.club)
    chart = board_chart(shown, values, cmd.by, units)
    if post_to is None:
        ctx.reply(text, tables=(shown,), chart=chart)
        return
    ctx.post(post_to, text, tables=(shown,), chart=chart)
    ctx.reply(f"Posted {name}'s leaderboard to {post_to.name or 'this channel'}.")
