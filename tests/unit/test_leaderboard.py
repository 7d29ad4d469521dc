"""`/leaderboard` through the real core on both stores (SPEC §2, §3, §4), and a property
test: the leaderboard's SQL agrees with the single-item policy check on random data."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import bot.commands.leaderboard  # noqa: F401  (registers /leaderboard before the core loads)
from bot.bootstrap import App
from bot.commands.leaderboard import SHOWN, Period, leaderboard_period, render
from bot.grammar import GrammarError
from bot.messages import Outgoing, Table, Via
from bot.policy import (
    PRIVACY_FLAGS,
    VISIBILITY,
    Grant,
    Level,
    Privacy,
    Relation,
    Resource,
    Subject,
    Viewer,
    can_see_activity,
    relations,
)
from storage.models import (
    Account,
    Activity,
    ChatIdentity,
    Group,
    GroupMember,
    Membership,
    Org,
    Plan,
    PlanAssignment,
    TrainingSession,
)
from storage.repositories.leaderboard import (
    attendance_query,
    countable,
    read_attendance,
    read_totals,
    shared_with_group,
    totals_query,
)
from tests.conftest import Club

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY, EVE, FIN = (f"{n}@lake.run" for n in ("ava", "ben", "cy", "eve", "fin"))
SQUAD = "#10k-squad"
USAGE = (
    "/leaderboard [club|group:G] [week|month|DATE..DATE] "
    "[by:distance|time|runs|consistency] [type:T]"
)
THURSDAY = datetime(2027, 1, 7, 10, 0, tzinfo=UTC)  # week of Mon 2027-01-04, London = UTC


# -- setting up a club ------------------------------------------------------------------


async def squads(club: Club) -> None:
    """Lakeside (London): head coach hc, coaches kai and noor; 10k-squad = ava, ben, cy,
    linked to #10k-squad; 5k-squad = eve; fin is in no group. Written as rows in one
    transaction (fast; the group commands are not what is under test here), except the
    channel link, made by `/group link` so it matches however the core names channels."""
    async with club.app.sessions() as s, s.begin():
        org = Org(name="Lakeside Striders", timezone="Europe/London", created_at=THURSDAY)
        s.add(org)
        await s.flush()
        members: dict[str, Membership] = {}
        for email in (HC, KAI, NOOR, AVA, BEN, CY, EVE, FIN):
            account = Account(email=email, display_name=email.split("@")[0], created_at=THURSDAY)
            s.add(account)
            await s.flush()
            s.add(
                ChatIdentity(account_id=account.id, platform="console", space_id="", user_id=email)
            )
            coach = email in (HC, KAI, NOOR)
            members[email] = Membership(
                org_id=org.id,
                account_id=account.id,
                is_head_coach=email == HC,
                is_coach=coach,
                is_athlete=not coach,
                status="active",
                labels=[],
                joined_at=THURSDAY,
            )
            s.add(members[email])
        await s.flush()
        for name, athletes in (("10k-squad", (AVA, BEN, CY)), ("5k-squad", (EVE,))):
            group = Group(org_id=org.id, name=name, name_key=name, created_at=THURSDAY)
            s.add(group)
            await s.flush()
            for email in athletes:
                s.add(GroupMember(group_id=group.id, membership_id=members[email].id))
    # the real command links the channel, as the console and each platform name it
    await club.ok(HC, "/group link 10k-squad", channel=SQUAD)
    club.clock.set(THURSDAY)


@dataclass(frozen=True)
class Done:
    """One activity to write directly: who, day, km and minutes (None: not measured)."""

    email: str
    day: date
    km: float | None
    minutes: float | None
    kind: str = "run"
    private: bool = False


async def add_runs(club: Club, *runs: Done) -> None:
    async with club.app.sessions() as s, s.begin():
        for run in runs:
            account, _ = await _athlete(s, run.email)
            s.add(
                Activity(
                    account_id=account.id,
                    started_at=datetime.combine(run.day, time(7), UTC),
                    day=run.day,
                    type=run.kind,
                    distance_m=None if run.km is None else run.km * 1000,
                    duration_s=None if run.minutes is None else run.minutes * 60,
                    source="chat",
                    private=run.private,
                    created_at=THURSDAY,
                )
            )


MON, TUE, WED = date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)


async def log_week(club: Club) -> None:
    """Distance: ben > ava > cy; time: ben > cy > ava; activities: cy > ava > ben."""
    await add_runs(
        club,
        Done(AVA, MON, 10, 50),
        Done(AVA, TUE, 5, 30),  # ava: 15 km, 1:20:00, 2
        Done(BEN, TUE, 21.1, 110),  # ben: 21.1 km, 1:50:00, 1
        *(Done(CY, d, None, m, kind="strength") for d, m in ((MON, 25), (TUE, 40), (WED, 30))),
    )  # cy: 0 km, 1:35:00, 3


def channel_posts(said_messages: list[Outgoing]) -> list[Outgoing]:
    return [m for m in said_messages if m.via is Via.CHANNEL]


def board(text: str) -> list[tuple[str, str, list[str]]]:
    """(rank, name, other cells) of each ranking row of a board's text."""
    rows = []
    for line in text.splitlines():
        cells = line.split()
        if cells and cells[0].isdigit():
            rows.append((cells[0], cells[1], cells[2:]))
    return rows


def names(text: str) -> list[str]:
    return [name for _, name, _ in board(text)]


async def _athlete(s: AsyncSession, email: str) -> tuple[Account, Membership]:
    account = (await s.scalars(select(Account).where(Account.email == email))).one()
    member = (await s.scalars(select(Membership).where(Membership.account_id == account.id))).one()
    return account, member


async def give_sessions(club: Club, email: str, statuses: dict[date, str]) -> None:
    """A schedule for one athlete, written directly (plan commands are not under test)."""
    async with club.app.sessions() as s, s.begin():
        account, member = await _athlete(s, email)
        plan = Plan(
            org_id=member.org_id,
            name=f"plan-{account.id}",
            name_key=f"plan-{account.id}",
            weeks=1,
            created_at=THURSDAY,
        )
        s.add(plan)
        await s.flush()
        assignment = PlanAssignment(
            org_id=member.org_id,
            plan_id=plan.id,
            membership_id=member.id,
            start_date=min(statuses),
            end_date=max(statuses),
            created_at=THURSDAY,
        )
        s.add(assignment)
        await s.flush()
        for day, status in statuses.items():
            s.add(
                TrainingSession(
                    membership_id=member.id,
                    plan_assignment_id=assignment.id,
                    day=day,
                    status=status,
                )
            )


# -- ranking ----------------------------------------------------------------------------


RANKINGS = [
    ("", ["ben", "ava", "cy"], "distance (measured activities of every type)"),
    ("by:distance", ["ben", "ava", "cy"], "distance (measured activities of every type)"),
    ("by:time", ["ben", "cy", "ava"], "time (measured activities of every type)"),
    ("by:runs", ["cy", "ava", "ben"], "activities logged (every type counts)"),
]


async def test_ranks_by_metric(club: Club) -> None:
    await squads(club)
    await log_week(club)
    for by, order, heading in RANKINGS:
        said = await club.ok(AVA, f"/leaderboard {by}")
        assert names(said.text) == order, by
        assert said.text.startswith(f"10k-squad leaderboard — {heading}, week of Mon 04 Jan 2027")
        rows = {name: cells for _, name, cells in board(said.text)}
        assert rows["ava"] == ["15.00", "km", "1:20:00", "2"]
        assert rows["ben"] == ["21.10", "km", "1:50:00", "1"]
        assert rows["cy"] == ["0", "km", "1:35:00", "3"]  # no distance measured: counts 0
        assert [rank for rank, _, _ in board(said.text)] == ["1", "2", "3"]


async def test_equal_totals_share_a_place(club: Club) -> None:
    await squads(club)
    await add_runs(club, Done(AVA, MON, 10, 50), Done(BEN, TUE, 10, 55), Done(CY, TUE, 12, 60))
    said = await club.ok(BEN, "/leaderboard")
    assert [(rank, name) for rank, name, _ in board(said.text)] == [
        ("1", "cy"),
        ("2", "ava"),
        ("2", "ben"),
    ]


async def test_measured_values_only(club: Club) -> None:
    """A `done` check-in (no distance, no duration) counts as an activity, adds nothing."""
    await squads(club)
    async with club.app.sessions() as s, s.begin():
        account, _ = await _athlete(s, AVA)
        s.add(
            Activity(
                account_id=account.id,
                started_at=THURSDAY,
                day=THURSDAY.date(),
                type="run",
                source="checkin",
                created_at=THURSDAY,
            )
        )
    await add_runs(club, Done(BEN, MON, 3, None), Done(BEN, TUE, None, 20))  # one measure each
    for by in ("", "by:time", "by:runs"):
        rows = {n: cells for _, n, cells in board((await club.ok(CY, f"/leaderboard {by}")).text)}
        assert rows["ava"] == ["0", "km", "0:00", "1"]
        assert rows["ben"] == ["3.00", "km", "20:00", "2"]


async def test_private_activities_and_non_sharing_athletes_are_left_out(club: Club) -> None:
    await squads(club)
    await log_week(club)
    await club.ok(AVA, "/log 30k 2:40:00 date:wed private")
    await club.ok(BEN, "/privacy share_with_group off")
    await club.ok(BEN, "/privacy share_with_org on")  # the org sees ben; the board must not
    await club.ok(CY, "/privacy share_activities off")
    for who in (AVA, HC, KAI):
        said = await club.ok(who, "/leaderboard group:10k-squad")
        assert names(said.text) == ["ava"]
        assert {n: c for _, n, c in board(said.text)}["ava"] == ["15.00", "km", "1:20:00", "2"]
        assert "ben" not in said.text and "cy" not in said.text
    await club.ok(BEN, "/privacy share_with_group on")
    said = await club.ok(AVA, "/leaderboard")
    assert names(said.text) == ["ben", "ava"]


async def test_a_45_minute_ride_counts_on_the_time_board(club: Club) -> None:
    """`45m` is a duration (SPEC §4): it was once read as 45 metres."""
    await squads(club)
    await club.ok(AVA, "/log 45m type:ride date:mon")
    said = await club.ok(AVA, "/leaderboard by:time")
    assert {n: c for _, n, c in board(said.text)}["ava"] == ["0", "km", "45:00", "1"]


async def test_nobody_sharing_says_so(club: Club) -> None:
    await squads(club)
    await club.ok(EVE, "/privacy share_with_group off")
    said = await club.ok(EVE, "/leaderboard")
    assert board(said.text) == []
    assert "No athlete of this group shares their activities with it yet." in said.text


async def test_athletes_with_nothing_logged_are_ranked_with_zero(club: Club) -> None:
    await squads(club)
    await add_runs(club, Done(AVA, MON, 5, 25))
    said = await club.ok(AVA, "/leaderboard")
    assert [(r, n) for r, n, _ in board(said.text)] == [("1", "ava"), ("2", "ben"), ("2", "cy")]


# -- consistency ------------------------------------------------------------------------


async def test_consistency_is_a_percentage_of_sessions_due(club: Club) -> None:
    await squads(club)
    monday = date(2027, 1, 4)
    days = [monday + timedelta(days=i) for i in range(7)]
    # ava: mon done, tue skipped, wed done; thu (today) and sun still open -> 2 of 3
    await give_sessions(
        club,
        AVA,
        {
            days[0]: "completed",
            days[1]: "skipped",
            days[2]: "completed",
            days[3]: "scheduled",
            days[6]: "scheduled",
        },
    )
    # ben: mon missed, today already done -> 1 of 2; a session last week is out of range
    await give_sessions(
        club,
        BEN,
        {monday - timedelta(days=1): "completed", days[0]: "scheduled", days[3]: "completed"},
    )
    # eve (another group) is perfect, cy has no plan: neither is on 10k-squad's board
    await give_sessions(club, EVE, {days[0]: "completed"})
    said = await club.ok(CY, "/leaderboard by:consistency")
    assert board(said.text) == [("1", "ava", ["67%"]), ("2", "ben", ["50%"])]
    assert "consistency (sessions completed of those due)" in said.text
    assert (
        "Athletes with no session due in the period, or who don't share with the group, "
        "are not ranked." in said.text
    )
    assert "Private activities" not in said.text
    assert not re.search(r"\d+\s*(/|of)\s*\d+", said.text.split("\n", 1)[1])  # no counts
    await club.ok(AVA, "/privacy share_with_group off")
    said = await club.ok(CY, "/leaderboard by:consistency")
    assert board(said.text) == [("1", "ben", ["50%"])]


async def test_consistency_with_no_sessions_due(club: Club) -> None:
    await squads(club)
    said = await club.ok(HC, "/leaderboard group:10k-squad by:consistency")
    assert board(said.text) == []
    assert "No one with a session due in this period shares with the group yet." in said.text


# -- where the answer goes --------------------------------------------------------------


async def test_typed_in_the_linked_channel_it_is_posted(club: Club) -> None:
    await squads(club)
    await log_week(club)
    for who in (AVA, HC, KAI):  # one of its athletes, the head coach, an assistant coach
        said = await club.ok(who, "/leaderboard", channel=SQUAD)
        assert said.text == "Posted 10k-squad's leaderboard to #10k-squad.", who
        assert said.reply.ephemeral
        [post] = channel_posts(said.messages)
        assert post.channel is not None and post.channel.name == SQUAD
        assert not post.ephemeral and post.ok
        assert names(post.text) == ["ben", "ava", "cy"]
        assert "@" not in post.text and "/km" not in post.text  # no e-mails, no pace
        assert post.tables and [r[1] for r in post.tables[0].rows] == ["ben", "ava", "cy"]


async def test_a_post_holds_only_what_the_group_may_see(club: Club) -> None:
    await squads(club)
    await log_week(club)
    await add_runs(club, Done(AVA, WED, 42.2, 210, private=True))
    await club.ok(CY, "/privacy share_with_group off")
    said = await club.ok(HC, "/leaderboard", channel=SQUAD)
    [post] = channel_posts(said.messages)
    assert names(post.text) == ["ben", "ava"]
    assert "57.20" not in post.text and "cy" not in post.text


PRIVATE_REPLIES = [
    (AVA, "/leaderboard", None, "10k-squad"),  # a DM
    (AVA, "/leaderboard", "#random", "10k-squad"),  # a channel linked to nothing
    (HC, "/leaderboard group:5k-squad", SQUAD, "5k-squad"),  # another group than the room's
    (EVE, "/leaderboard", SQUAD, "5k-squad"),  # not her group's room: her own, privately
]


async def test_otherwise_the_reply_is_ephemeral(club: Club) -> None:
    await squads(club)
    await log_week(club)
    for who, line, channel, group_shown in PRIVATE_REPLIES:
        said = await club.ok(who, line, channel=channel)
        assert channel_posts(said.messages) == [], (who, line, channel)
        assert said.reply.ephemeral
        assert said.text.startswith(f"{group_shown} leaderboard")


async def test_group_named_in_its_own_channel_is_posted(club: Club) -> None:
    await squads(club)
    said = await club.ok(BEN, "/leaderboard group:10K-Squad month", channel=SQUAD)
    [post] = channel_posts(said.messages)
    assert "January 2027" in post.text


async def test_units_follow_the_caller(club: Club) -> None:
    await squads(club)
    await log_week(club)
    await club.ok(AVA, "/settings units:mi")
    said = await club.ok(AVA, "/leaderboard", channel=SQUAD)
    [post] = channel_posts(said.messages)
    assert "in mi" in post.text and "13.11 mi" in post.text and " km" not in post.text
    said = await club.ok(BEN, "/leaderboard")
    assert "21.10 km" in said.text and " mi" not in said.text


# -- who may ask ------------------------------------------------------------------------


async def test_other_groups_are_answered_like_missing_ones(club: Club) -> None:
    await squads(club)
    await log_week(club)
    hidden = await club.no(EVE, "/leaderboard group:10k-squad")
    missing = await club.no(EVE, "/leaderboard group:no-such-squad")
    assert hidden.text == "No group named '10k-squad'. See /group list."
    assert missing.text == "No group named 'no-such-squad'. See /group list."
    assert "ava" not in hidden.everything and channel_posts(hidden.messages) == []
    # every coach may see any group's board, assigned or not
    for coach in (HC, KAI, "noor@lake.run"):
        said = await club.ok(coach, "/leaderboard group:10k-squad")
        assert names(said.text) == ["ben", "ava", "cy"]


async def test_outsiders_are_refused(club: Club) -> None:
    await squads(club)
    await log_week(club)
    # a stranger with no organization
    said = await club.no("zed@else.org", "/leaderboard group:10k-squad")
    assert "needs an organization" in said.text and "ava" not in said.everything
    # a head coach of another club cannot reach this club's groups
    await club.ok("boss@other.run", '/setup-org "Other Club" tz:Europe/Paris')
    said = await club.no("boss@other.run", "/leaderboard group:10k-squad")
    assert said.text == "No group named '10k-squad'. See /group list."
    # nor borrow its channel: in the console, #10k-squad typed by them is not linked for them
    said = await club.no("boss@other.run", "/leaderboard", channel=SQUAD)
    assert channel_posts(said.messages) == [] and "ava" not in said.everything


async def test_suspended_athletes_are_refused(club: Club) -> None:
    await squads(club)
    await club.ok(HC, f"/member {AVA} status:suspended")
    said = await club.no(AVA, "/leaderboard")
    assert "suspended" in said.text


async def test_without_a_group_name(club: Club) -> None:
    await squads(club)
    said = await club.no(FIN, "/leaderboard")
    assert said.text == "You are in no group yet, so there is no leaderboard for you."
    said = await club.no(HC, "/leaderboard")
    assert said.text == (
        "Which group? Name one: /leaderboard group:NAME (groups: 10k-squad, 5k-squad)."
    )
    await club.ok(HC, f"/group add 5k-squad {AVA}")
    said = await club.no(AVA, "/leaderboard")
    assert said.text == (
        "You are in 2 groups (10k-squad, 5k-squad): name one, e.g. /leaderboard group:10k-squad"
    )


async def test_a_coach_of_a_club_without_groups(club: Club) -> None:
    await club.ok("solo@new.run", '/setup-org "New Club" tz:Europe/Oslo')
    said = await club.no("solo@new.run", "/leaderboard")
    assert said.text == "There are no groups yet; a coach makes one with /group create NAME."


async def test_help_lists_it_for_members_only(club: Club) -> None:
    await squads(club)
    usage = USAGE
    for who in (AVA, KAI, HC):
        assert usage in (await club.ok(who, "/help")).text
    assert "/leaderboard" not in (await club.ok("zed@else.org", "/help")).text
    said = await club.ok(AVA, "/help leaderboard")
    assert said.text.startswith(usage)


# -- periods ----------------------------------------------------------------------------


PERIODS = [
    ("", ["ava"]),  # this week: Mon 4 - Sun 10 Jan
    ("week", ["ava"]),
    ("month", ["ben", "ava"]),  # January: the 3rd counts, 31 Dec does not
    ("2026-12-31..2027-01-03", ["cy", "ben"]),
    ("2026-12-31", ["cy"]),
    ("sun..today", ["ben", "ava"]),  # last Sunday (the 3rd) to Thursday
]


async def test_periods(club: Club) -> None:
    """Activities logged with /log on their athletes' local dates, ranked per period."""
    await squads(club)
    await club.ok(AVA, "/log 5k 25:00 date:mon")
    await club.ok(BEN, "/log 10k 50:00 date:2027-01-03")
    await club.ok(CY, "/log 12k 60:00 date:2026-12-31")
    for period, expected in PERIODS:
        said = await club.ok(AVA, f"/leaderboard {period}")
        ranked = [name for _, name, cells in board(said.text) if cells[-1] != "0"]
        assert ranked == expected, period


async def test_the_period_follows_the_org_time_zone(club: Club) -> None:
    """Sunday noon in London is already Monday in Auckland: the org's week still counts."""
    await squads(club)
    club.clock.set(datetime(2027, 1, 10, 12, 0, tzinfo=UTC))
    await club.ok(AVA, "/log 8k 40:00 date:2027-01-04")
    await club.ok(AVA, "/settings tz:Pacific/Auckland")
    said = await club.ok(AVA, "/leaderboard")
    assert "week of Mon 04 Jan 2027" in said.text
    assert {n: c for _, n, c in board(said.text)}["ava"][0] == "8.00"


BAD_INPUT = [
    ("/leaderboard fortnight", "The period is week, month or DATE..DATE"),
    ("/leaderboard 10k-squad", "name a group with group:NAME"),
    ("/leaderboard 2027-01-05..2027-01-01", "starts after it ends"),
    ("/leaderboard 2025-01-01..2027-01-01", "at most 366 days"),
    ("/leaderboard 2027-02-30", "2027-02-30"),
    ("/leaderboard by:pace", "by must be one of distance, time, runs, consistency"),
    ("/leaderboard colour:red", "colour: is not an option here"),
    ("/leaderboard week month", "I did not expect 'month' there."),
    ("/leaderboard type:rowing", "type must be one of run, ride, swim"),
    ("/leaderboard club group:10k-squad", "Name the club or one group:G, not both."),
]


async def test_bad_input_is_refused_with_the_usage(club: Club) -> None:
    await squads(club)
    for line, problem in BAD_INPUT:
        said = await club.no(AVA, line)
        assert problem in said.text, (line, said.text)
        assert said.text.endswith(f"Usage: {USAGE}")


@pytest.mark.parametrize(
    ("word", "today", "start", "end", "label"),
    [
        (None, date(2027, 1, 7), date(2027, 1, 4), date(2027, 1, 10), "week of Mon 04 Jan 2027"),
        ("WEEK", date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 10), "week of Mon 04 Jan 2027"),
        ("week", date(2027, 1, 3), date(2026, 12, 28), date(2027, 1, 3), "week of Mon 28 Dec 2026"),
        ("month", date(2028, 2, 10), date(2028, 2, 1), date(2028, 2, 29), "February 2028"),
        ("month", date(2027, 12, 31), date(2027, 12, 1), date(2027, 12, 31), "December 2027"),
        (
            "mon..today",
            date(2027, 1, 7),
            date(2027, 1, 4),
            date(2027, 1, 7),
            "2027-01-04 to 2027-01-07",
        ),
        ("yesterday", date(2027, 1, 7), date(2027, 1, 6), date(2027, 1, 6), "2027-01-06"),
        (
            "2026-01-07..2027-01-07",
            date(2027, 1, 7),
            date(2026, 1, 7),
            date(2027, 1, 7),
            "2026-01-07 to 2027-01-07",
        ),
    ],
)
def test_leaderboard_period(
    word: str | None, today: date, start: date, end: date, label: str
) -> None:
    assert leaderboard_period(word, today) == Period(start, end, label)


def test_leaderboard_period_refuses_more_than_366_days() -> None:
    with pytest.raises(GrammarError, match="at most 366 days"):
        leaderboard_period("2026-01-06..2027-01-07", date(2027, 1, 7))


def test_long_boards_are_cut_for_chat() -> None:
    rows = tuple((str(i + 1), f"athlete{i}", "1 km", "5:00", "1") for i in range(SHOWN + 7))
    table = Table("Leaderboard", ("#", "Athlete", "Distance", "Time", "Activities"), rows)
    text, shown = render(
        "Big", Period(date(2027, 1, 4), date(2027, 1, 10), "w"), "distance", table, "km"
    )
    assert len(shown.rows) == SHOWN and f"athlete{SHOWN - 1}" in text
    assert f"athlete{SHOWN}" not in text and "… and 7 more." in text


def test_the_group_rule_is_generated_from_the_policy_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sql = str(shared_with_group().compile(compile_kwargs={"literal_binds": True}))
    assert sql == "accounts.share_activities IS true AND accounts.share_with_group IS true"
    row = VISIBILITY[Resource.ACTIVITIES]
    monkeypatch.setitem(row, Relation.GROUPMATE, Grant(Level.FULL, ("share_pace",)))
    assert str(shared_with_group()) == "accounts.share_pace IS true"
    monkeypatch.setitem(row, Relation.GROUPMATE, Grant(Level.NONE))
    assert str(shared_with_group().compile(compile_kwargs={"literal_binds": True})) == "false"
    assert str(countable()) == "activities.private IS false"


# -- the SQL agrees with the single-item check ------------------------------------------

PERIOD = Period(date(2027, 1, 4), date(2027, 1, 10), "week")
TODAY = date(2027, 1, 7)
_serial = itertools.count()


@dataclass(frozen=True)
class Run:
    day: date
    private: bool
    distance_m: float | None
    duration_s: float | None
    type: str


@dataclass(frozen=True)
class Athlete:
    flags: tuple[bool, ...]  # PRIVACY_FLAGS, in order
    place: str  # "G" (the ranked group), "H" (another group), "-" (no group), "GH" (both)
    runs: tuple[Run, ...]
    sessions: tuple[tuple[date, str], ...]


days = st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 1, 13))
runs = st.builds(
    Run,
    day=days,
    private=st.booleans(),
    distance_m=st.none() | st.integers(100, 50_000).map(float),
    duration_s=st.none() | st.integers(60, 20_000).map(float),
    type=st.sampled_from(["run", "ride", "swim", "strength", "walk"]),
)
athletes = st.builds(
    Athlete,
    flags=st.tuples(*(st.booleans() for _ in PRIVACY_FLAGS)),
    place=st.sampled_from(["G", "G", "H", "-", "GH"]),
    runs=st.lists(runs, max_size=5).map(tuple),
    sessions=st.dictionaries(
        days, st.sampled_from(["scheduled", "completed", "skipped"]), max_size=5
    ).map(lambda d: tuple(sorted(d.items()))),
)


async def _store(s: AsyncSession, world: list[Athlete]) -> tuple[int, int, list[tuple[int, int]]]:
    """Insert one org holding `world`; returns (org id, group G id, (account, member) ids)."""
    n = next(_serial)
    org = Org(name=f"prop-{n}", timezone="UTC", created_at=THURSDAY)
    s.add(org)
    await s.flush()
    g = Group(org_id=org.id, name=f"G{n}", name_key=f"g{n}", created_at=THURSDAY)
    h = Group(org_id=org.id, name=f"H{n}", name_key=f"h{n}", created_at=THURSDAY)
    plan = Plan(org_id=org.id, name=f"P{n}", name_key=f"p{n}", weeks=2, created_at=THURSDAY)
    accounts = [
        Account(
            email=f"p{n}-{i}@prop.run",
            display_name=f"p{i}",
            created_at=THURSDAY,
            **dict(zip(PRIVACY_FLAGS, who.flags, strict=True)),
        )
        for i, who in enumerate(world)
    ]
    s.add_all([g, h, plan, *accounts])
    await s.flush()
    members = [Membership(org_id=org.id, account_id=a.id, joined_at=THURSDAY) for a in accounts]
    s.add_all(members)
    await s.flush()
    assignments = [
        PlanAssignment(
            org_id=org.id,
            plan_id=plan.id,
            membership_id=m.id,
            start_date=PERIOD.start,
            end_date=PERIOD.end,
            created_at=THURSDAY,
        )
        for m in members
    ]
    s.add_all(assignments)
    await s.flush()
    for who, account, member, assignment in zip(world, accounts, members, assignments, strict=True):
        s.add_all(
            GroupMember(group_id=group.id, membership_id=member.id)
            for letter, group in (("G", g), ("H", h))
            if letter in who.place
        )
        s.add_all(
            Activity(
                account_id=account.id,
                started_at=datetime.combine(r.day, time(7), UTC),
                day=r.day,
                type=r.type,
                distance_m=r.distance_m,
                duration_s=r.duration_s,
                source="chat",
                private=r.private,
                created_at=THURSDAY,
            )
            for r in who.runs
        )
        s.add_all(
            TrainingSession(
                membership_id=member.id,
                plan_assignment_id=assignment.id,
                day=day,
                status=status,
            )
            for day, status in who.sessions
        )
    await s.flush()
    return org.id, g.id, [(a.id, m.id) for a, m in zip(accounts, members, strict=True)]


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
@given(world=st.lists(athletes, min_size=1, max_size=6))
async def test_sql_agrees_with_the_single_item_check(app: App, world: list[Athlete]) -> None:
    async with app.sessions() as s, s.begin():
        org_id, group_id, ids = await _store(s, world)
        # A pure groupmate of G: no coach, not an org athlete, so only rule 3 applies.
        viewer = Viewer(account_id=-1, org_id=org_id, membership_id=-1)
        expected: dict[int, tuple[float, float, int]] = {}
        attendance: dict[int, tuple[int, int]] = {}
        for who, (account_id, member_id) in zip(world, ids, strict=True):
            subject = Subject(
                account_id=account_id,
                org_id=org_id,
                membership_id=member_id,
                shares_group_with_viewer="G" in who.place,
                privacy=Privacy(**dict(zip(PRIVACY_FLAGS, who.flags, strict=True))),
            )
            if "G" in who.place:
                assert relations(viewer, subject) == {Relation.GROUPMATE}
            if not can_see_activity(viewer, subject, private=False):
                continue  # not shared with the group: not on its board
            seen = [
                r
                for r in who.runs
                if PERIOD.start <= r.day <= PERIOD.end
                and can_see_activity(viewer, subject, private=r.private)
            ]
            expected[account_id] = (
                sum(r.distance_m for r in seen if r.distance_m is not None),
                sum(r.duration_s for r in seen if r.duration_s is not None),
                len(seen),
            )
            due = [
                status
                for day, status in who.sessions
                if PERIOD.start <= day <= PERIOD.end and (day < TODAY or status != "scheduled")
            ]
            attendance[account_id] = (due.count("completed"), len(due))

        for by in ("distance", "time", "runs"):
            query = totals_query(
                group_id,
                PERIOD.start,
                PERIOD.end,
                athletes=shared_with_group(),
                countable=countable(),
                by=by,
            )
            rows = await read_totals(s, query)
            got = {r.account_id: (r.distance_m, r.duration_s, r.activities) for r in rows}
            assert got.keys() == expected.keys()
            for account_id, (dist, dur, count) in expected.items():
                assert got[account_id] == (pytest.approx(dist), pytest.approx(dur), count)
            metric = {"distance": 0, "time": 1, "runs": 2}[by]
            values = [got[r.account_id][metric] for r in rows]
            assert values == sorted(values, reverse=True)
        query = attendance_query(
            group_id, PERIOD.start, PERIOD.end, TODAY, athletes=shared_with_group()
        )
        found = await read_attendance(s, query)
        assert {r.account_id: (r.completed, r.due) for r in found} == attendance
        await s.rollback()


async def test_a_member_of_two_groups_is_counted_once(club: Club) -> None:
    await squads(club)
    await club.ok(HC, f"/group add 5k-squad {AVA}")
    await club.ok(AVA, "/log 10k 50:00 date:mon")
    said = await club.ok(HC, "/leaderboard group:10k-squad")
    assert {n: c for _, n, c in board(said.text)}["ava"] == ["10.00", "km", "50:00", "1"]
