"""`/progress [MEMBER] [weeks:N]`: planned against done distance, week by week, as text and
a chart (SPEC §4; issue 15 item 1). On demand: the Sunday recap points here rather than
drawing a chart for every athlete.

- **Whose**: the caller's own, or a member's for whoever may see that member's schedule
  (`Action.VIEW_PROGRESS`, the schedule's row: every coach, SPEC §2 "plan assignment and
  schedule"); the refusals are the schedule's (an unknown member, someone in another
  club, another athlete's), each saying what was wrong.
- **What a week says**: the distance its sessions planned, the distance done, and its
  sessions done of those planned. Weeks run Monday to Sunday in the athlete's time zone,
  the last one the athlete's current week; `weeks:N` (1-26, default 8) goes back further.
- **Activity data stays activity data** (SPEC §2): the distance done is the activities
  the caller may see (`bot.commands.schedule.athlete_days`, the policy's filter), so a
  private activity adds nothing for anyone but its athlete and a session only it
  completed reads as missed; a caller who may see the schedule but not the activities
  (an assistant not sharing a grant, an athlete who shares nothing with coaches) sees
  statuses only — no done column, no done bars. No duration is ever shown, so hidden
  pace stays hidden.
- **No plan yet**: the weeks still show what was done (planned 0), and say how a plan
  comes; to a viewer who may not see the activities, just that there is no plan.
- **The chart** is drawn from the rows of the text: a week's label, its planned and done
  distance in the caller's units, its "done/planned" sessions as the mark above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.commands.base import Ctx, Kind, arg, command, member_arg
from bot.commands.schedule import Athlete, athlete_days, athlete_to_view, no_plan
from bot.domain.agenda import Day, ScheduleTotals, totals, week_of
from bot.grammar import MemberRef
from bot.messages import Chart, ChartKind, Series
from bot.policy import Action, Resource, can_see
from bot.render import METRES_PER_MILE, fmt_distance, table_text

DEFAULT_WEEKS = 8
MAX_WEEKS = 26  # half a year: a season's build-up fits, and a chart's labels stay legible
CAPTION = "n/m above a week: its sessions done of those planned"


@dataclass(frozen=True)
class WeekProgress:
    """One week of the reply: the row of its table and the bars of its chart."""

    monday: date
    counted: ScheduleTotals

    def label(self, today: date) -> str:
        return (
            f"{self.monday:%d %b}" if self.monday.year == today.year else f"{self.monday:%d %b %Y}"
        )

    @property
    def sessions(self) -> str:
        c = self.counted
        return f"{c.done}/{c.sessions}" if c.sessions else "—"


def _weeks(days: list[Day], sees_activities: bool) -> list[WeekProgress]:
    return [
        WeekProgress(
            days[i].day, totals(days[i : i + 7], sees_activities=sees_activities, sees_pace=False)
        )
        for i in range(0, len(days), 7)
    ]


def _distance_cell(metres: float | None, units: str) -> str:
    if metres is None:
        return "—"
    return fmt_distance(metres, units) if metres else f"0 {units}"


def progress_chart(
    title: str, weeks: list[WeekProgress], units: str, today: date, *, sees_activities: bool
) -> Chart:
    per = METRES_PER_MILE if units == "mi" else 1000.0
    series = [Series("planned", tuple(w.counted.planned_m / per for w in weeks))]
    if sees_activities:
        series.append(Series("done", tuple((w.counted.done_m or 0.0) / per for w in weeks)))
    done = sum(w.counted.done for w in weeks)
    planned = sum(w.counted.sessions for w in weeks)
    summary = f"Bar chart of {title}: {len(weeks)} weeks, {done} of {planned} sessions done."
    return Chart(
        ChartKind.WEEKLY,
        title,
        units,
        tuple(w.label(today) for w in weeks),
        tuple(series),
        marks=tuple(w.sessions for w in weeks),
        summary=summary,
        caption=CAPTION,
        name="progress.png",
    )


def progress_text(
    athlete: Athlete, weeks: list[WeekProgress], units: str, today: date, *, sees_activities: bool
) -> tuple[str, str]:
    """The reply's text and the chart's title."""
    last = weeks[-1].monday + timedelta(days=6)
    span = "this week" if len(weeks) == 1 else f"{len(weeks)} weeks"
    title = f"{athlete.whose} progress, {span} to {last:%a %d %b %Y}: planned vs done distance"
    columns: tuple[str, ...] = ("Week of", "Planned", "Done", "Sessions done")
    rows: list[tuple[str, ...]] = [
        (
            w.label(today),
            _distance_cell(w.counted.planned_m, units),
            _distance_cell(w.counted.done_m, units),
            w.sessions,
        )
        for w in weeks
    ]
    if not sees_activities:
        columns = ("Week of", "Planned", "Sessions done")
        rows = [(row[0], row[1], row[3]) for row in rows]
    lines = [f"{title}:", table_text(columns, rows)]
    planned = sum(w.counted.planned_m for w in weeks)
    c = [w.counted for w in weeks]
    total = f"Total: planned {_distance_cell(planned, units)}"
    if sees_activities:
        total += f", done {_distance_cell(sum(x.done_m or 0.0 for x in c), units)}"
    sessions = sum(x.sessions for x in c)
    total += (
        f"; {sum(x.done for x in c)} of {sessions} sessions done "
        f"({sum(x.skipped for x in c)} skipped, {sum(x.missed for x in c)} missed, "
        f"{sum(x.to_come for x in c)} to come)."
    )
    lines.append(total)
    if sees_activities:
        lines.append("Done counts every activity of the week, rest days included.")
    else:
        lines.append(
            f"{athlete.name} doesn't share their activities with you, so only the sessions' "
            "statuses are shown."
        )
    return "\n".join(lines), title


@dataclass(frozen=True)
class ShowProgress:
    member: MemberRef | None = member_arg(
        "whose progress (coaches): e-mail, @mention or name; yours if left out"
    )
    weeks: int = arg(
        Kind.INT,
        help=f"how many weeks, up to this one: 1-{MAX_WEEKS} (default {DEFAULT_WEEKS})",
        low=1,
        high=MAX_WEEKS,
        default=DEFAULT_WEEKS,
    )


@command(
    "progress",
    usage=f"/progress [MEMBER] [weeks:1-{MAX_WEEKS}]",
    summary="planned vs done distance per week, as text and a chart",
    action=Action.VIEW_PROGRESS,
)
async def progress(cmd: ShowProgress, ctx: Ctx) -> None:
    athlete = await athlete_to_view(ctx, cmd.member, Action.VIEW_PROGRESS)
    monday, sunday = week_of(athlete.today)
    first = monday - timedelta(weeks=cmd.weeks - 1)
    sees_activities = can_see(Resource.ACTIVITIES, ctx.viewer, athlete.subject)
    planless = not await ctx.uow.repo.has_plan(athlete.member.id)
    if planless and not sees_activities:  # nothing planned, nothing of theirs to see
        ctx.reply(no_plan(athlete))
        return
    days = await athlete_days(ctx, athlete, first, sunday, planless=True)
    assert days is not None
    weeks = _weeks(days, sees_activities)
    units = ctx.account.units
    text, title = progress_text(athlete, weeks, units, ctx.today, sees_activities=sees_activities)
    if planless:  # what they did still counts, week by week
        text += f"\n{no_plan(athlete)}"
    chart = progress_chart(title, weeks, units, ctx.today, sees_activities=sees_activities)
    ctx.reply(text, chart=chart)
