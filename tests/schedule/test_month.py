"""A simulated month (SPEC §6, §8) replayed as a transcript through the real core and the
real scheduling, on both stores.

Two clubs: Spree Runners (Europe/Berlin) and Hudson Harriers (America/New_York). Their
athletes live in three zones (one Berlin athlete lives in New York, one New York athlete
in Tokyo) and pick their own reminder times — one at 02:30, which does not exist in
Berlin on 2027-03-28. March 2027 holds both DST changes: New York springs forward on
03-14, Berlin on 03-28. The clock steps day by day, then a week at a time.

Checked: every daily DM goes exactly once per athlete per planned local date, at the
athlete's local reminder minute (03:00 for 02:30 on the gap day); digests at 07:00 in
each coach's zone, once a day, after each training day, holding the right people;
messages caused by a command (welcome, plan) go out at once and carry that command's
line number; scheduled ones carry the number of the @clock/@tick line that moved time
past them; everything goes out in time order; the squad's leaderboard is posted to its
linked channel every Monday at 08:00 Berlin time (also its own, shorter test); each
athlete's weekly recap goes on every Sunday their plan covers, at 18:00 their time
(issue 13 item 6: this month now holds 23 recaps besides the daily DMs, digests and
boards, and the kinds scheduled by the clock include "weekly").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.console.transcript import Record, Transcript
from bot.clock import FakeClock
from tests.schedule import Recorder, Sent, at, open_app

BERLIN, NEW_YORK, TOKYO = "Europe/Berlin", "America/New_York", "Asia/Tokyo"
START = "2027-03-05T12:00:00+00:00"  # a Friday
PLAN_MONDAY = date(2027, 3, 8)
GUS_MONDAY = date(2027, 3, 15)


def plan_days(prefix: str, plan: str, workouts: dict[str, str]) -> str:
    return "\n".join(
        f"{prefix}: /plan set {plan} week:{week} day:{day} workout:{workout}"
        for week in range(1, 5)
        for day, workout in workouts.items()
    )


MONTH = f"""\
# Two clubs, set up on Friday 5 March 2027.
@clock {START}
hb@spree.run: /setup-org "Spree Runners" tz:Europe/Berlin
hb@spree.run: /add-coach kb@spree.run
kb@spree.run: /profile
hb@spree.run: /add-member anna@spree.run
hb@spree.run: /add-member ben@spree.run
hb@spree.run: /add-member chloe@spree.run
anna@spree.run: /profile
ben@spree.run: /settings reminder:02:30
chloe@spree.run: /settings tz:America/New_York reminder:06:00
hb@spree.run: /assign-athlete kb@spree.run anna@spree.run
kb@spree.run: /workout create Easy type:run kind:easy distance:8k
kb@spree.run: /workout create Long type:run kind:long distance:18k
kb@spree.run: /plan create Spring weeks:4
{plan_days("kb@spree.run", "Spring", {"tue": "Easy", "sat": "Long"})}
kb@spree.run: /group create squad
kb@spree.run: /group add squad anna@spree.run ben@spree.run
kb@spree.run #spree-squad: /group link squad
hb@spree.run: /assign-plan Spring group:squad start:2027-03-08
hb@spree.run: /assign-plan Spring chloe@spree.run
hn@hudson.run: /setup-org "Hudson Harriers" tz:America/New_York
hn@hudson.run: /add-member dan@hudson.run
hn@hudson.run: /add-member eve@hudson.run
dan@hudson.run: /profile
eve@hudson.run: /settings tz:Asia/Tokyo reminder:05:45
hn@hudson.run: /workout create Easy type:run kind:easy distance:5mi
hn@hudson.run: /plan create Base weeks:4
{plan_days("hn@hudson.run", "Base", {"tue": "Easy", "sat": "Easy"})}
hn@hudson.run: /assign-plan Base dan@hudson.run start:2027-03-08
hn@hudson.run: /assign-plan Base eve@hudson.run start:2027-03-08
# Day by day to Tuesday 9 March; two check-ins.
@tick 1d
@tick 1d
@tick 1d
@tick 1d
anna@spree.run: done
dan@hudson.run: /skip tired
@tick 1d
@tick 1d
@tick 1d
# Friday 12 March: someone joins mid-month; their plan starts on Monday.
hb@spree.run: /add-member gus@spree.run
gus@spree.run: /profile
hb@spree.run: /assign-plan Spring gus@spree.run
@tick 7d
@tick 7d
@clock 2027-03-29T12:00:00+00:00
@tick 7d
"""
END = at("2027-04-05T12:00:00+00:00")

# athlete -> (zone, local reminder, plan start); every plan runs 4 weeks
ATHLETES = {
    "anna@spree.run": (BERLIN, time(6, 0), PLAN_MONDAY),
    "ben@spree.run": (BERLIN, time(2, 30), PLAN_MONDAY),
    "chloe@spree.run": (NEW_YORK, time(6, 0), PLAN_MONDAY),
    "gus@spree.run": (BERLIN, time(6, 0), GUS_MONDAY),
    "dan@hudson.run": (NEW_YORK, time(6, 0), PLAN_MONDAY),
    "eve@hudson.run": (TOKYO, time(5, 45), PLAN_MONDAY),
}
# a reminder that does not exist on that local date goes at the first minute after it
GAP = {("ben@spree.run", date(2027, 3, 28)): time(3, 0)}
# coach -> zone and whose sessions their digest covers
COACHES = {
    "hb@spree.run": (BERLIN, "the whole club"),
    "kb@spree.run": (BERLIN, "your roster"),
    "hn@hudson.run": (NEW_YORK, "the whole club"),
}
TRAINING = [PLAN_MONDAY + timedelta(weeks=w, days=d) for w in range(4) for d in (1, 5)]
SCHEDULED = ("daily", "digest", "leaderboard", "weekly")


def expected_weekly(email: str) -> list[datetime]:
    """Sunday 18:00 local of each week of the athlete's plan, up to the end of the run."""
    zone, _, start = ATHLETES[email]
    sundays = [start + timedelta(days=6, weeks=w) for w in range(4)]
    instants = [datetime.combine(d, time(18), ZoneInfo(zone)) for d in sundays]
    return [i for i in instants if i <= END]


def line_of(lines: list[str], text: str, nth: int = 0) -> int:
    found = [i for i, line in enumerate(lines, start=1) if line == text]
    return found[nth]


def time_lines(lines: list[str]) -> list[tuple[int, datetime]]:
    """(line number, the clock after it) for every @clock/@tick line."""
    out: list[tuple[int, datetime]] = []
    now = at(START)
    for number, line in enumerate(lines, start=1):
        if line.startswith("@clock"):
            now = at(line.split()[1])
        elif line.startswith("@tick"):
            now += timedelta(days=int(line.split()[1].removesuffix("d")))
        else:
            continue
        out.append((number, now))
    return out


def covering_line(windows: list[tuple[int, datetime]], instant: datetime) -> int:
    """The @clock/@tick line whose move of the clock reached `instant`."""
    return next(number for number, reached in windows if reached >= instant)


def expected_daily(email: str) -> list[tuple[date, time]]:
    zone, reminder, start = ATHLETES[email]
    end = start + timedelta(weeks=4, days=-1)
    days = []
    day = start
    while day <= end:
        local = GAP.get((email, day), reminder)
        when = datetime.combine(day, local, ZoneInfo(zone))
        if when > END:
            break
        days.append((day, local))
        day += timedelta(days=1)
    return days


async def replay(db_url: str, script: str) -> tuple[list[str], list[Record], Recorder]:
    lines = script.splitlines()
    clock = FakeClock(at(START))
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        records = await Transcript(app.core, clock, app.scheduling).run(lines)
    refused = [r for r in records if not r.ok]
    assert not refused, refused
    return lines, records, rec


async def test_a_month_in_two_clubs_across_both_dst_changes(db_url: str) -> None:
    lines, records, rec = await replay(db_url, MONTH)
    windows = time_lines(lines)

    # every DM and channel post printed is a send the platform got, in the same order
    out = [r for r in records if r.via != "reply"]
    assert [(r.to, r.text) for r in out] == [(s.to, s.message.text) for s in rec.sent]
    sent_at: list[tuple[Record, Sent]] = list(zip(out, rec.sent, strict=True))
    # ... in time order, each at its due moment
    assert [s.at for s in rec.sent] == sorted(s.at for s in rec.sent)

    # daily DMs: exactly once per athlete and planned local date, at the local minute
    for email, (zone, _, _) in ATHLETES.items():
        daily = rec.of("daily", email)
        got = [(s.local(zone).date(), s.local(zone).time()) for s in daily]
        assert got == expected_daily(email), email
        assert not [d for d, n in Counter(d for d, _ in got).items() if n > 1]
    assert {s.to for s in rec.of("daily")} == set(ATHLETES)

    # digests: 07:00 coach-local, once a day, the morning after each training day
    for email, (zone, whose) in COACHES.items():
        digests = rec.of("digest", email)
        assert [s.local(zone).time() for s in digests] == [time(7, 0)] * len(digests)
        days = [s.local(zone).date() for s in digests]
        assert days == [d + timedelta(days=1) for d in TRAINING], email
        assert all(f"for {whose}:" in s.message.text for s in digests)
    first = {e: rec.of("digest", e)[0].message.text for e in COACHES}  # Wed 10 March
    assert "Done (1): anna (Easy)" in first["hb@spree.run"]
    assert "Missed (2): ben (Easy); chloe (Easy)" in first["hb@spree.run"]
    assert "Done (1): anna (Easy)" in first["kb@spree.run"]
    assert "ben" not in first["kb@spree.run"] and "chloe" not in first["kb@spree.run"]
    assert 'Skipped (1): dan (Easy): "tired"' in first["hn@hudson.run"]  # the reason quoted
    assert "Missed (1): eve (Easy)" in first["hn@hudson.run"]

    # the squad's weekly leaderboard: its linked channel, Mondays 08:00 Berlin, once each
    boards = [(r, s) for r, s in sent_at if s.kind == "leaderboard"]
    assert [(r.via, r.channel) for r, _ in boards] == [("channel", "#spree-squad")] * 5
    assert [s.local(BERLIN) for _, s in boards] == [
        datetime.combine(PLAN_MONDAY + timedelta(weeks=w), time(8), ZoneInfo(BERLIN))
        for w in range(5)
    ]
    assert [s.at.hour for _, s in boards] == [7, 7, 7, 6, 6]  # CET, then CEST from 03-28

    # weekly recaps: Sunday 18:00 athlete-local, once per week of each athlete's plan
    for email, (zone, _, _) in ATHLETES.items():
        recaps = rec.of("weekly", email)
        assert [s.at for s in recaps] == expected_weekly(email), email
        assert all(s.local(zone).time() == time(18) for s in recaps)
    assert len(rec.of("weekly")) == 23  # 4 each for five athletes, 3 for gus
    assert {r.to for r, s in sent_at if s.kind == "weekly"} == set(ATHLETES)

    # scheduled messages carry the line of the @clock/@tick that reached them
    for record, sent in sent_at:
        if sent.kind in SCHEDULED:
            assert record.line == covering_line(windows, sent.at), (record, sent.at)

    # messages caused by a command go at once, with that command's line
    caused: dict[int, list[str]] = defaultdict(list)
    for record, sent in sent_at:
        if sent.kind not in SCHEDULED:
            caused[record.line].append(f"{sent.kind} {sent.to}")
    squad = line_of(lines, "hb@spree.run: /assign-plan Spring group:squad start:2027-03-08")
    assert caused[squad] == ["plan_assigned anna@spree.run", "plan_assigned ben@spree.run"]
    gus_plan = line_of(lines, "hb@spree.run: /assign-plan Spring gus@spree.run")
    assert caused[gus_plan] == ["plan_assigned gus@spree.run"]
    gus_joins = line_of(lines, "gus@spree.run: /profile")
    assert caused[gus_joins] == ["welcome gus@spree.run"]
    assigned = {
        "anna@spree.run": squad,
        "ben@spree.run": squad,
        "chloe@spree.run": line_of(lines, "hb@spree.run: /assign-plan Spring chloe@spree.run"),
        "gus@spree.run": gus_plan,
        "dan@hudson.run": line_of(
            lines, "hn@hudson.run: /assign-plan Base dan@hudson.run start:2027-03-08"
        ),
        "eve@hudson.run": line_of(
            lines, "hn@hudson.run: /assign-plan Base eve@hudson.run start:2027-03-08"
        ),
    }
    plan_dms = [(s.to, r.line) for r, s in sent_at if s.kind == "plan_assigned"]
    assert sorted(plan_dms) == sorted(assigned.items())
    # ... after the command's answer, stamped with the clock of that moment
    gus_line = [r for r in records if r.line == gus_plan]
    assert [r.via for r in gus_line] == ["reply", "dm"]
    (gus_sent,) = [s for s in rec.sent if s.kind == "plan_assigned" and s.to == "gus@spree.run"]
    assert gus_sent.at == at("2027-03-12T12:00:00+00:00")
    assert "from Mon 15 Mar 2027" in gus_sent.message.text


LEADERBOARD = """\
@clock 2027-03-17T12:00:00+00:00
hb@spree.run: /setup-org "Spree Runners" tz:Europe/Berlin
hb@spree.run: /add-member anna@spree.run
hb@spree.run: /add-member ben@spree.run
anna@spree.run: /settings tz:Asia/Tokyo
ben@spree.run: /profile
hb@spree.run: /group create squad
hb@spree.run: /group add squad anna@spree.run ben@spree.run
hb@spree.run #spree-squad: /group link squad
anna@spree.run: /log 10k 50:00 date:2027-03-16
ben@spree.run: /log 5k 30:00 date:2027-03-17
@tick 7d
anna@spree.run: /log 12k 60:00 date:2027-03-24
@tick 7d
"""


async def test_weekly_leaderboard_posts_on_monday_0800_org_time(db_url: str) -> None:
    """Monday 08:00 Berlin: 07:00Z on 03-22 (CET), 06:00Z on 03-29 (CEST), once each, to
    the linked channel, for the previous Monday-Sunday; anna, who lives in Tokyo, counts
    in the week her activities fall in."""
    _, records, rec = await replay(db_url, LEADERBOARD)
    posts = [r for r in records if r.via == "channel"]
    assert [(r.channel, r.line, r.to, r.ephemeral) for r in posts] == [
        ("#spree-squad", 12, None, False),
        ("#spree-squad", 14, None, False),
    ]
    times = [s.at for s in rec.sent if s.kind == "leaderboard"]
    assert times == [at("2027-03-22T07:00:00+00:00"), at("2027-03-29T06:00:00+00:00")]
    assert "week of Mon 15 Mar 2027" in posts[0].text
    assert "1  anna     10.00 km" in posts[0].text and "2  ben      5.00 km" in posts[0].text
    assert "week of Mon 22 Mar 2027" in posts[1].text
    assert "1  anna     12.00 km" in posts[1].text and "2  ben      0 km" in posts[1].text
