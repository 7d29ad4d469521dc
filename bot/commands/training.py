"""The athlete's side: their schedule, logging, check-ins and skips (SPEC §1, §4, §6)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot import grammar
from bot.commands.base import Ctx, Kind, Refusal, arg, command
from bot.commands.feedback import skip_feedback
from bot.commands.plans import workout_line
from bot.commands.schedule import member_plan, member_today, member_week, schedule_member
from bot.domain.schedule import monday_of
from bot.grammar import MemberRef, Token
from bot.messages import Button
from bot.policy import Action
from bot.render import fmt_day, fmt_distance, fmt_duration, fmt_pace
from bot.text import clean
from storage.models import RACE_NAME_MAX, Activity, TrainingSession, Workout

NOTES_MAX = 2000
TYPES = ("run", "ride", "swim", "strength", "walk", "hike", "other")
TYPE_WORDS = {
    "run": "run",
    "running": "run",
    "jog": "run",
    "ride": "ride",
    "bike": "ride",
    "cycling": "ride",
    "cycle": "ride",
    "swim": "swim",
    "swimming": "swim",
    "walk": "walk",
    "walking": "walk",
    "hike": "hike",
    "hiking": "hike",
    "strength": "strength",
    "gym": "strength",
    "other": "other",
}
# Fastest and slowest believable pace, seconds per km, by type (None: no check).
PACE_LIMITS: dict[str, tuple[float, float] | None] = {
    "run": (120, 3600),
    "walk": (240, 3600),
    "hike": (240, 7200),
    "ride": (50, 1800),
    "swim": (420, 7200),
    "strength": None,
    "other": None,
}
MAX_ACTIVITY = timedelta(hours=72)
CHECK_IN_BUTTONS = (Button("Done", "done"), Button("Skip", "skip"))


# -- recording -------------------------------------------------------------------------


@dataclass(frozen=True)
class LogParts:
    distance: float | None = None
    duration: timedelta | None = None
    type: str | None = None
    private: bool = False
    notes: str | None = None


SKIP_REASON_MAX = 500  # sessions.note
MEASURE = re.compile(r"^[+-]?(\d|\.\d)")
SHORT_MINUTES = re.compile(r"^(\d{1,2})m$", re.IGNORECASE)  # 45m: minutes, not metres
DISTANCE_UNIT = re.compile(r"(k|km|mi|m)$", re.IGNORECASE)


def _measure(word: str) -> tuple[str, float | timedelta]:
    """One number-like word as a distance or a duration, or GrammarError saying which
    one it failed to be. Under 100 with `m` it is minutes (`45m`); from 100 on, metres
    (`800m`): nobody logs a 45-metre run, and few a 100-minute one written that way."""
    if word.startswith("-"):
        raise grammar.GrammarError(f"{word} is negative; distances and times are above zero.")
    short = SHORT_MINUTES.match(word)
    if short:
        return "duration", grammar.parse_duration(word)
    if ":" in word or re.search(r"\d[hs]", word, re.IGNORECASE):
        return "duration", grammar.parse_duration(word)
    if DISTANCE_UNIT.search(word) or word.lower() in ("half", "marathon"):
        return "distance", grammar.parse_distance(word)
    return "distance", grammar.parse_distance(word)  # a bare number: the grammar explains


NOT_NUMBERS = frozenset({"nan", "inf", "infinity"})
ISO_DURATION = re.compile(r"p(?:\d+[ymwd])*(?:t(?:\d+(?:[.,]\d+)?[hms])+)?", re.IGNORECASE)


def not_a_number(word: str) -> None:
    """Words that pose as numbers are refused rather than filed as a note (issue 11
    item 6): `NaN`, `inf`, an ISO 8601 duration such as `PT1H`, digits of another script."""
    bare = word.lstrip("+-")
    if bare.lower() in NOT_NUMBERS:
        raise grammar.GrammarError(
            f"{grammar.shown(word)} is not a number: give a distance like 8k or a time "
            "like 42:10 (quote it to keep it as a note)."
        )
    if len(bare) > 1 and ISO_DURATION.fullmatch(bare):
        raise grammar.GrammarError(
            f"{grammar.shown(word)} looks like an ISO 8601 duration, which I don't read: "
            "write 1h, 45m or 42:10."
        )
    if bare[:1].isdigit() and not bare[:1].isascii():
        raise grammar.GrammarError(
            f"{grammar.shown(word)}: write numbers with the digits 0-9, like 8k or 42:10."
        )


def parse_log_words(tokens: Sequence[Token]) -> LogParts:
    """`8k easy 42:10`, `10k 55:00 private`, `45m ride hills`: measures, type, notes.

    Every number-like word must be a distance or a duration: a typo is refused rather
    than filed away as a note. Quoted words are a note, kept whole: only a bare
    `private` is the flag, so `"not private at all"` stays what it says."""
    distance: float | None = None
    duration: timedelta | None = None
    kind = None
    private = False
    notes: list[str] = []
    for token in tokens:
        if token.quoted:
            notes.append(token.value)
            continue
        word = unicodedata.normalize("NFKC", token.value)  # a full-width １０ｋ is 10k
        lower = word.lower()
        not_a_number(word)
        if MEASURE.match(word) or lower in ("half", "marathon"):
            what, value = _measure(word)
            if what == "distance" and isinstance(value, float):
                if distance is not None:
                    raise grammar.GrammarError("Give one distance per activity.")
                distance = value
            elif isinstance(value, timedelta):
                if duration is not None:
                    raise grammar.GrammarError("Give one duration per activity.")
                duration = value
            continue
        if kind is None and lower in TYPE_WORDS:
            kind = TYPE_WORDS[lower]
            continue
        if lower == "private":
            private = True
            continue
        notes.append(token.value)
    text = " ".join(notes).strip() or None
    return LogParts(distance, duration, kind, private, text)


def check_measures(kind: str, distance: float | None, duration: timedelta | None) -> None:
    if duration is not None and duration > MAX_ACTIVITY:
        raise Refusal("That is longer than 72 hours; check the duration (42:10 is 42 min 10 s).")
    limits = PACE_LIMITS.get(kind)
    if limits and distance and duration:
        pace = duration.total_seconds() / (distance / 1000)
        fastest, slowest = limits
        if pace < fastest:
            raise Refusal(
                f"{fmt_distance(distance, 'km')} in {fmt_duration(duration)} would be faster "
                f"than anyone can {kind}; check the numbers."
            )
        if pace > slowest:
            raise Refusal(
                f"{fmt_distance(distance, 'km')} in {fmt_duration(duration)} is slower than a "
                f"{kind} can be; check the numbers."
            )


async def todays_session(ctx: Ctx, day: date) -> tuple[TrainingSession, Workout | None] | None:
    if ctx.membership is None:
        return None
    found = await ctx.uow.repo.sessions_between(ctx.membership.id, day, day)
    return found[0] if found else None


async def record(
    ctx: Ctx,
    *,
    day: date,
    kind: str,
    distance: float | None,
    duration: timedelta | float | None,
    source: str,
    effort: int | None = None,
    notes: str | None = None,
    private: bool = False,
    started_at: datetime | None = None,
    race_name: str | None = None,
) -> tuple[Activity, TrainingSession | None]:
    """Store an activity and complete that day's session when the type matches."""
    if day > ctx.today:
        raise Refusal(
            f"{day.isoformat()} is after your today ({ctx.today.isoformat()}); "
            "log what you have done."
        )
    if notes is not None and len(notes) > NOTES_MAX:
        raise Refusal(f"Notes are {len(notes):,} characters long; the most is {NOTES_MAX:,}.")
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    if started_at is None:
        started_at = ctx.now if day == ctx.today else datetime.combine(day, time(12), ctx.zone)
    activity = await ctx.uow.repo.add(
        Activity(
            account_id=ctx.account.id,
            started_at=started_at,
            day=day,
            type=kind,
            distance_m=distance,
            duration_s=seconds,
            effort=effort,
            notes=notes,
            source=source,
            private=private,
            race_name=race_name,
            created_at=ctx.now,
        )
    )
    return activity, await match_session(ctx, activity)


async def match_session(ctx: Ctx, activity: Activity) -> TrainingSession | None:
    """Complete the scheduled session of the activity's day when the type matches."""
    found = await todays_session(ctx, activity.day)
    if found is None:
        return None
    session, workout = found
    if session.status == "scheduled" and workout is not None and workout.type == activity.type:
        await ctx.uow.repo.complete_session(session, activity.id)
        return session
    return None


def logged_text(ctx: Ctx, activity: Activity, completed: TrainingSession | None) -> str:
    units = ctx.account.units
    parts = [activity.type]
    if activity.distance_m:
        parts.append(fmt_distance(activity.distance_m, units))
    if activity.duration_s:
        parts.append(fmt_duration(activity.duration_s))
    if activity.distance_m and activity.duration_s:
        parts.append(fmt_pace(activity.distance_m, activity.duration_s, units))
    text = f"Logged #{activity.public_id}: {', '.join(parts)} on {fmt_day(activity.day, ctx.today)}"
    if activity.race_name:
        text += f", race result: {activity.race_name}"
    if activity.private:
        text += " (private: only you see it)"
    text += "."
    if completed is not None:
        text += " That completes the day's session."
    return text


# -- /log, the DM forms, /skip ---------------------------------------------------------


def activity_type_arg() -> str | None:
    """An activity's type, as /log and /activity edit take it."""
    return arg(Kind.CHOICE, help="run, ride, swim, strength, walk, hike or other", choices=TYPES)


def effort_arg() -> int | None:
    """How hard an activity felt, as /log and /activity edit take it."""
    return arg(Kind.INT, help="how hard it felt, 1 (easy) to 10 (all out)", low=1, high=10)


def log_words(help: str) -> tuple[Token, ...]:
    """What was done, in free words (/log and the DM forms): a quoted note stays whole;
    the note's own limit is checked in record()."""
    return arg(Kind.WORDS, help=help, positional=True, max_len=50_000, lines=True, default=())


@dataclass(frozen=True)
class Log:
    what: tuple[Token, ...] = log_words('what you did, like 8k easy 42:10 "felt strong"')
    type: str | None = activity_type_arg()
    date: date | None = arg(
        Kind.DATE_BACKWARD, help="the day, if not today: 2027-01-04, yesterday, mon…sun"
    )
    effort: int | None = effort_arg()
    race: str | None = arg(
        Kind.WORD,
        help='a race result: the race\'s name, like "City 10k"',
        max_len=RACE_NAME_MAX,
    )
    private: bool = arg(Kind.FLAG, help="only you see it", default=False)


async def _log(cmd: Log, ctx: Ctx, *, source: str = "chat") -> None:
    parts = parse_log_words(cmd.what)
    if parts.distance is None and parts.duration is None:
        raise Refusal(
            "Say how far or how long, e.g. /log 8k 42:10 or /log 45m type:ride.", show_usage=True
        )
    kind = cmd.type or parts.type or "run"
    check_measures(kind, parts.distance, parts.duration)
    day = cmd.date or ctx.today
    activity, completed = await record(
        ctx,
        day=day,
        kind=kind,
        distance=parts.distance,
        duration=parts.duration,
        source=source,
        effort=cmd.effort,
        notes=parts.notes,
        private=cmd.private or parts.private,
        race_name=cmd.race,
    )
    ctx.reply(logged_text(ctx, activity, completed))


@command(
    "log",
    usage="/log [DISTANCE] [DURATION] [type:T] [date:D] [effort:1-10] "
    '[race:"NAME"] [private] ["notes"]',
    summary="log a run (or ride, swim...) you did",
    action=Action.OWN_TRAINING,
)
async def log(cmd: Log, ctx: Ctx) -> None:
    await _log(cmd, ctx)


@dataclass(frozen=True)
class Skip:
    reason: str | None = arg(
        Kind.TEXT,
        help="why you skip (optional)",
        positional=True,
        max_len=SKIP_REASON_MAX,
    )


async def _skip(reason: str | None, ctx: Ctx) -> None:
    if reason:  # the DM form's words are free text: the reason is one line of 500 at most
        reason = clean(reason, what="The reason")
        if len(reason) > SKIP_REASON_MAX:
            raise Refusal(f"The reason is {len(reason):,} characters; the most is 500.")
    found = await todays_session(ctx, ctx.today)
    if found is None:
        raise Refusal("You have no session today, so there is nothing to skip.")
    session, workout = found
    if workout is None:
        raise Refusal("Today is a rest day already.")
    if session.status != "scheduled":
        raise Refusal(f"Today's session is already {session.status}.")
    await ctx.uow.repo.skip_session(session, reason or None)
    if reason:  # the button, /skip and `skip` in a DM all come here (SPEC §6)
        await skip_feedback(ctx, session.id, workout, reason)
    ctx.reply(f"Skipped today's {workout.name}." + (f" Reason noted: {reason}" if reason else ""))


@command(
    "skip",
    usage="/skip [reason]",
    summary="skip today's session",
    action=Action.OWN_TRAINING,
)
async def skip(cmd: Skip, ctx: Ctx) -> None:
    await _skip(cmd.reason, ctx)


async def _done(ctx: Ctx) -> None:
    found = await todays_session(ctx, ctx.today)
    if found is None or found[1] is None:
        raise Refusal("You have no session to check in today; log what you did, e.g. 8k 42:10.")
    session, workout = found
    assert workout is not None
    if session.status != "scheduled":
        raise Refusal(f"Today's session is already {session.status}.")
    activity = await ctx.uow.repo.add(
        Activity(
            account_id=ctx.account.id,
            started_at=ctx.now,
            day=ctx.today,
            type=workout.type,
            source="checkin",
            private=False,
            created_at=ctx.now,
        )
    )
    await ctx.uow.repo.complete_session(session, activity.id)
    ctx.reply(f"Nice work — {workout.name} is done.")


@dataclass(frozen=True)
class Say:
    """Plain words sent to the bot: `done`, `skip [reason]`, or a log like `8k easy 42:10`."""

    words: tuple[Token, ...] = log_words("done, skip [reason], or what you did, like 8k easy 42:10")


@command(
    "say",
    usage="done | skip [reason] | 8k easy 42:10",
    summary="check in by plain words in a direct message",
    action=Action.OWN_TRAINING,
    dm_form=True,
)
async def say(cmd: Say, ctx: Ctx) -> None:
    words = cmd.words
    if not words:
        raise Refusal("Reply done, skip, or what you ran like 8k easy 42:10 — or type /help.")
    first = "" if words[0].quoted else words[0].value.lower().strip(".!")
    if first == "done" and len(words) == 1:
        await _done(ctx)
    elif first == "skip":
        await _skip(" ".join(t.value for t in words[1:]) or None, ctx)
    elif any(not t.quoted and MEASURE.match(t.value) for t in words):
        await _log(Log(what=words), ctx)
    else:
        raise Refusal(
            "I didn't catch that. Reply done, skip, or what you ran like 8k easy 42:10 — "
            "or type /help."
        )


# -- the schedule ----------------------------------------------------------------------


def session_line(
    day: date,
    session: TrainingSession | None,
    workout: Workout | None,
    units: str,
    today: date | None = None,
) -> str:
    shown_day = fmt_day(day, today or day)
    if session is None or workout is None:
        return f"{shown_day}: rest"
    return f"{shown_day}: {workout_line(workout, units)} — {session.status}"


@dataclass(frozen=True)
class Today:
    member: MemberRef | None = schedule_member()


@command(
    "today",
    usage="/today [MEMBER]",
    summary="today's session (coaches: any athlete's)",
    action=Action.OWN_TRAINING,
)
async def today(cmd: Today, ctx: Ctx) -> None:
    if cmd.member is not None:
        return await member_today(ctx, cmd.member)
    _, me = ctx.require_org()
    found = await todays_session(ctx, ctx.today)  # a one-off session needs no plan
    if found is None and await ctx.uow.repo.current_plan_assignment(me.id) is None:
        ctx.reply("You have no training plan yet; your coach assigns one with /assign-plan.")
        return
    session, workout = found if found else (None, None)
    text = "Today, " + session_line(ctx.today, session, workout, ctx.account.units)
    if session is not None and session.status == "scheduled" and workout is not None:
        text += ".\nReply done, skip, or what you did (e.g. 8k 42:10)."
    ctx.reply(text)


@dataclass(frozen=True)
class Week:
    member: MemberRef | None = schedule_member()


@command(
    "week",
    usage="/week [MEMBER]",
    summary="this week's sessions (coaches: any athlete's)",
    action=Action.OWN_TRAINING,
)
async def week(cmd: Week, ctx: Ctx) -> None:
    if cmd.member is not None:
        return await member_week(ctx, cmd.member)
    _, me = ctx.require_org()
    first = monday_of(ctx.today)
    found = {
        s.day: (s, w)
        for s, w in await ctx.uow.repo.sessions_between(me.id, first, first + timedelta(days=6))
    }
    if not found and await ctx.uow.repo.current_plan_assignment(me.id) is None:
        ctx.reply("You have no training plan yet; your coach assigns one with /assign-plan.")
        return
    lines = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        session, workout = found.get(day, (None, None))
        lines.append(session_line(day, session, workout, ctx.account.units, ctx.today))
    ctx.reply(f"Week of {first:%d %b %Y}:\n" + "\n".join(lines))


@dataclass(frozen=True)
class MyPlan:
    member: MemberRef | None = schedule_member()


@command(
    "my-plan",
    usage="/my-plan [MEMBER]",
    summary="your plan and how it is going (coaches: any athlete's)",
    action=Action.OWN_TRAINING,
)
async def my_plan(cmd: MyPlan, ctx: Ctx) -> None:
    if cmd.member is not None:
        return await member_plan(ctx, cmd.member)
    _, me = ctx.require_org()
    current = await ctx.uow.repo.current_plan_assignment(me.id)
    if current is None:
        ctx.reply("You have no training plan yet; your coach assigns one with /assign-plan.")
        return
    plan = await ctx.uow.repo.plan(current.plan_id)
    assert plan is not None
    end = current.end_date  # earlier than the template's last day after /plan end
    if end < current.start_date:
        ctx.reply(f"Your plan {plan.name} was withdrawn; there is nothing in it.")
        return
    sessions = [  # a day kept as rest on purpose (/session clear) is no session
        (s, w)
        for s, w in await ctx.uow.repo.sessions_between(me.id, current.start_date, end)
        if w is not None
    ]
    counts = {status: 0 for status in ("completed", "skipped", "scheduled")}
    for session, _ in sessions:
        counts[session.status] += 1
    missed = sum(1 for s, _ in sessions if s.status == "scheduled" and s.day < ctx.today)
    week_no = (monday_of(ctx.today) - monday_of(current.start_date)).days // 7 + 1
    lines = [
        f"{plan.name}: {current.start_date:%a %d %b %Y} to {end:%a %d %b %Y}"
        + (f" (week {week_no} of {plan.weeks})" if 1 <= week_no <= plan.weeks else ""),
        f"Sessions: {counts['completed']} completed, {counts['skipped']} skipped, "
        f"{counts['scheduled'] - missed} to come" + (f", {missed} missed" if missed else ""),
        "Coming up:",
    ]
    upcoming = [(s, w) for s, w in sessions if s.day >= ctx.today][:7]
    lines += [f"- {session_line(s.day, s, w, ctx.account.units)}" for s, w in upcoming] or [
        "- nothing left: well done"
    ]
    ctx.reply("\n".join(lines))


async def session_for_activity(ctx: Ctx, activity_id: int) -> TrainingSession | None:
    """The session an activity completed, to open again when the activity moves or goes."""
    return await ctx.uow.repo.session_completed_by(activity_id)
