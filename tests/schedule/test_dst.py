"""Daily DMs across daylight-saving changes (SPEC §6): a reminder time that does not exist
that day goes at the first minute after the gap (02:30 in Berlin on 2027-03-28 goes at
03:00 = 01:00Z); one that occurs twice goes once, at its first occurrence.

Berlin springs forward on 2027-03-28 (02:00 CET -> 03:00 CEST) and falls back on
2027-10-31 (03:00 CEST -> 02:00 CET); New York on 2027-03-14 (02:00 EST -> 03:00 EDT)
and 2027-11-07 (02:00 EDT -> 01:00 EST).

First the rules as functions (`bot.schedule.localtime`, tables plus a property against a
brute-force oracle), then end to end: an athlete with `/settings tz:... reminder:...`
and a plan, a transcript across the DST night, and a recording sender that notes the
injected clock's instant of every send. Last, changing zone or reminder time mid-plan.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.console.transcript import Transcript
from bot.clock import FakeClock
from bot.schedule.localtime import due_instant, end_of_day, next_occurrence
from tests.schedule import HEAD, Recorder, Sent, at, open_app, outbox, say, seed_club, z

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


# -- due_instant --------------------------------------------------------------------------

DUE = [
    # zone, local day, local time, the instant (UTC)
    pytest.param(BERLIN, "2027-03-27", "02:30", "2027-03-27 01:30", id="berlin-day-before"),
    pytest.param(BERLIN, "2027-03-28", "01:59", "2027-03-28 00:59", id="berlin-before-gap"),
    pytest.param(BERLIN, "2027-03-28", "02:00", "2027-03-28 01:00", id="berlin-gap-start"),
    pytest.param(BERLIN, "2027-03-28", "02:30", "2027-03-28 01:00", id="berlin-gap-0230"),
    pytest.param(BERLIN, "2027-03-28", "02:59", "2027-03-28 01:00", id="berlin-gap-end"),
    pytest.param(BERLIN, "2027-03-28", "03:00", "2027-03-28 01:00", id="berlin-after-gap"),
    pytest.param(BERLIN, "2027-03-28", "03:01", "2027-03-28 01:01", id="berlin-0301"),
    pytest.param(BERLIN, "2027-03-29", "02:30", "2027-03-29 00:30", id="berlin-day-after"),
    pytest.param(BERLIN, "2027-10-31", "01:59", "2027-10-30 23:59", id="berlin-before-fold"),
    pytest.param(BERLIN, "2027-10-31", "02:00", "2027-10-31 00:00", id="berlin-fold-start"),
    pytest.param(BERLIN, "2027-10-31", "02:30", "2027-10-31 00:30", id="berlin-fold-0230"),
    pytest.param(BERLIN, "2027-10-31", "02:59", "2027-10-31 00:59", id="berlin-fold-end"),
    pytest.param(BERLIN, "2027-10-31", "03:00", "2027-10-31 02:00", id="berlin-after-fold"),
    pytest.param(BERLIN, "2027-11-01", "02:30", "2027-11-01 01:30", id="berlin-winter"),
    pytest.param(NEW_YORK, "2027-03-13", "02:30", "2027-03-13 07:30", id="ny-day-before"),
    pytest.param(NEW_YORK, "2027-03-14", "01:59", "2027-03-14 06:59", id="ny-before-gap"),
    pytest.param(NEW_YORK, "2027-03-14", "02:00", "2027-03-14 07:00", id="ny-gap-start"),
    pytest.param(NEW_YORK, "2027-03-14", "02:30", "2027-03-14 07:00", id="ny-gap-0230"),
    pytest.param(NEW_YORK, "2027-03-14", "03:00", "2027-03-14 07:00", id="ny-after-gap"),
    pytest.param(NEW_YORK, "2027-03-15", "02:30", "2027-03-15 06:30", id="ny-day-after"),
    pytest.param(NEW_YORK, "2027-11-07", "00:59", "2027-11-07 04:59", id="ny-before-fold"),
    pytest.param(NEW_YORK, "2027-11-07", "01:00", "2027-11-07 05:00", id="ny-fold-start"),
    pytest.param(NEW_YORK, "2027-11-07", "01:30", "2027-11-07 05:30", id="ny-fold-0130"),
    pytest.param(NEW_YORK, "2027-11-07", "02:00", "2027-11-07 07:00", id="ny-after-fold"),
    pytest.param(NEW_YORK, "2027-11-08", "01:30", "2027-11-08 06:30", id="ny-winter"),
]


@pytest.mark.parametrize(("zone", "day", "local", "expected"), DUE)
def test_due_instant(zone: str, day: str, local: str, expected: str) -> None:
    instant = due_instant(date.fromisoformat(day), time.fromisoformat(local), ZoneInfo(zone))
    assert instant == z(expected)
    assert instant.utcoffset() == timedelta(0)


# -- end_of_day -----------------------------------------------------------------------------

ENDS = [
    # zone, local day, when it ends (UTC), its length in hours
    pytest.param(BERLIN, "2027-03-27", "2027-03-27 23:00", 24, id="berlin-sat"),
    pytest.param(BERLIN, "2027-03-28", "2027-03-28 22:00", 23, id="berlin-spring"),
    pytest.param(BERLIN, "2027-10-30", "2027-10-30 22:00", 24, id="berlin-sat-fall"),
    pytest.param(BERLIN, "2027-10-31", "2027-10-31 23:00", 25, id="berlin-fall"),
    pytest.param(NEW_YORK, "2027-03-13", "2027-03-14 05:00", 24, id="ny-sat"),
    pytest.param(NEW_YORK, "2027-03-14", "2027-03-15 04:00", 23, id="ny-spring"),
    pytest.param(NEW_YORK, "2027-11-06", "2027-11-07 04:00", 24, id="ny-sat-fall"),
    pytest.param(NEW_YORK, "2027-11-07", "2027-11-08 05:00", 25, id="ny-fall"),
]


@pytest.mark.parametrize(("zone", "day", "ends", "hours"), ENDS)
def test_end_of_day(zone: str, day: str, ends: str, hours: int) -> None:
    d, tz = date.fromisoformat(day), ZoneInfo(zone)
    assert end_of_day(d, tz) == z(ends)
    assert end_of_day(d, tz) - end_of_day(d - timedelta(days=1), tz) == timedelta(hours=hours)


# -- next_occurrence ------------------------------------------------------------------------

NEXT = [
    # now (UTC), local time, zone, weekday, the next instant strictly after now (UTC)
    pytest.param("2027-03-28 00:00", "02:30", BERLIN, None, "2027-03-28 01:00", id="into-gap"),
    pytest.param("2027-03-28 01:00", "02:30", BERLIN, None, "2027-03-29 00:30", id="strict"),
    pytest.param("2027-10-31 00:29", "02:30", BERLIN, None, "2027-10-31 00:30", id="fold-first"),
    pytest.param(
        "2027-10-31 00:30", "02:30", BERLIN, None, "2027-11-01 01:30", id="fold-second-skipped"
    ),
    pytest.param(
        "2027-10-31 01:10", "02:30", BERLIN, None, "2027-11-01 01:30", id="inside-second-hour"
    ),
    pytest.param("2027-03-14 03:00", "02:30", NEW_YORK, None, "2027-03-14 07:00", id="ny-gap"),
    pytest.param(
        "2027-11-07 05:30", "01:30", NEW_YORK, None, "2027-11-08 06:30", id="ny-fold-skipped"
    ),
    pytest.param("2027-03-28 12:00", "08:00", BERLIN, 0, "2027-03-29 06:00", id="monday"),
    pytest.param("2027-03-29 06:00", "08:00", BERLIN, 0, "2027-04-05 06:00", id="next-monday"),
    pytest.param("2027-03-22 06:59", "08:00", BERLIN, 0, "2027-03-22 07:00", id="monday-cet"),
]


@pytest.mark.parametrize(("now", "local", "zone", "weekday", "expected"), NEXT)
def test_next_occurrence(
    now: str, local: str, zone: str, weekday: int | None, expected: str
) -> None:
    found = next_occurrence(z(now), time.fromisoformat(local), ZoneInfo(zone), weekday=weekday)
    assert found == z(expected)


# -- a property against a brute-force oracle -------------------------------------------------

ZONES = [BERLIN, NEW_YORK, "Europe/London", "Australia/Sydney", "Asia/Tokyo", "UTC"]
TRANSITIONS = [
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2027, 3, 14),
    date(2027, 11, 7),
    date(2027, 4, 4),  # Sydney falls back
    date(2027, 10, 3),  # Sydney springs forward
    date(2026, 3, 29),
    date(2026, 10, 25),
]


def first_instant_at_or_after(day: date, at_: time, zone: ZoneInfo) -> datetime:
    """The oracle: walk UTC minute by minute; the first instant whose wall-clock time is
    at or after the wanted one is its first occurrence, or the first minute after a gap."""
    wanted = datetime.combine(day, at_)
    probe = (wanted - timedelta(hours=15)).replace(tzinfo=UTC)
    while probe.astimezone(zone).replace(tzinfo=None) < wanted:
        probe += timedelta(minutes=1)
    return probe


@given(
    zone=st.sampled_from(ZONES),
    day=st.one_of(st.sampled_from(TRANSITIONS), st.dates(date(2026, 1, 1), date(2028, 12, 31))),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_due_instant_agrees_with_the_oracle(zone: str, day: date, minute: int) -> None:
    tz = ZoneInfo(zone)
    at_ = time(minute // 60, minute % 60)
    assert due_instant(day, at_, tz) == first_instant_at_or_after(day, at_, tz)
    ends = end_of_day(day, tz)
    assert ends.astimezone(tz).replace(tzinfo=None) == datetime.combine(
        day + timedelta(days=1), time(0)
    )
    assert (ends - timedelta(minutes=1)).astimezone(tz).date() == day


# -- end to end: the transcript across the DST night ----------------------------------------

SETUP = """\
@clock {start}
hc@club.run: /setup-org "Club" tz:Europe/London
hc@club.run: /workout create Easy type:run kind:easy distance:8k
hc@club.run: /plan create Base weeks:2
hc@club.run: /plan set Base week:1 day:sun workout:Easy
hc@club.run: /add-member ann@club.run
ann@club.run: /settings tz:{zone} reminder:{reminder}
hc@club.run: /assign-plan Base ann@club.run start:{monday}
@clock {end}
"""

ACROSS = [
    # zone, reminder, the clock at the start (a Friday, after the reminder), the plan's
    # Monday, the clock at the end; then every daily DM: local date and instant (UTC)
    pytest.param(
        BERLIN,
        "02:30",
        "2027-03-26T12:00:00+00:00",
        "2027-03-22",
        "2027-03-29T12:00:00+00:00",
        [
            ("2027-03-27", "2027-03-27 01:30"),
            ("2027-03-28", "2027-03-28 01:00"),  # 02:30 does not exist: 03:00 CEST
            ("2027-03-29", "2027-03-29 00:30"),
        ],
        id="berlin-spring-forward",
    ),
    pytest.param(
        BERLIN,
        "02:30",
        "2027-10-29T12:00:00+00:00",
        "2027-10-25",
        "2027-11-01T12:00:00+00:00",
        [
            ("2027-10-30", "2027-10-30 00:30"),
            ("2027-10-31", "2027-10-31 00:30"),  # the first 02:30 (CEST), not the second
            ("2027-11-01", "2027-11-01 01:30"),
        ],
        id="berlin-fall-back",
    ),
    pytest.param(
        NEW_YORK,
        "02:30",
        "2027-03-12T12:00:00+00:00",
        "2027-03-08",
        "2027-03-15T12:00:00+00:00",
        [
            ("2027-03-13", "2027-03-13 07:30"),
            ("2027-03-14", "2027-03-14 07:00"),  # 02:30 does not exist: 03:00 EDT
            ("2027-03-15", "2027-03-15 06:30"),
        ],
        id="new-york-spring-forward",
    ),
    pytest.param(
        NEW_YORK,
        "01:30",
        "2027-11-05T12:00:00+00:00",
        "2027-11-01",
        "2027-11-08T12:00:00+00:00",
        [
            ("2027-11-06", "2027-11-06 05:30"),
            ("2027-11-07", "2027-11-07 05:30"),  # the first 01:30 (EDT), not 06:30Z
            ("2027-11-08", "2027-11-08 06:30"),
        ],
        id="new-york-fall-back",
    ),
]


@pytest.mark.parametrize(("zone", "reminder", "start", "monday", "end", "expected"), ACROSS)
async def test_one_daily_dm_per_local_date_across_dst(
    db_url: str,
    zone: str,
    reminder: str,
    start: str,
    monday: str,
    end: str,
    expected: list[tuple[str, str]],
) -> None:
    clock = FakeClock(at(start))
    rec = Recorder(clock)
    script = SETUP.format(start=start, zone=zone, reminder=reminder, monday=monday, end=end)
    async with open_app(db_url, clock, rec) as app:
        records = await Transcript(app.core, clock, app.scheduling).run(script.splitlines())
        rows = await outbox(app, "daily")
    refused = [r for r in records if not r.ok]
    assert not refused, refused
    daily = rec.of("daily", "ann@club.run")
    got = [(s.local(zone).date().isoformat(), s.at) for s in daily]
    assert got == [(day, z(utc)) for day, utc in expected]
    for sent in daily:
        # the DM names the athlete's local date, not London's or UTC's
        assert sent.message.text.startswith(f"Good morning! {sent.local(zone):%A %d %B}:")
    # every daily DM is printed on the @clock line that moved time past it
    lines = [r.line for r in records if r.via == "dm" and r.text.startswith("Good morning!")]
    assert lines == [9] * len(expected)
    assert sorted(r.key for r in rows) == sorted(
        f"daily:{rows[0].account_id}:{day}" for day, _ in expected
    )
    assert {r.status for r in rows} == {"sent"}


LIVE_NIGHTS = [
    # zone, reminder, from, to (UTC): a live tick every 10 minutes across the night
    pytest.param(
        BERLIN, "02:30", "2027-03-27 22:00", "2027-03-28 03:00", "2027-03-28 01:00", id="spring"
    ),
    pytest.param(
        BERLIN, "02:30", "2027-10-30 22:00", "2027-10-31 03:00", "2027-10-31 00:30", id="fall"
    ),
]


@pytest.mark.parametrize(("zone", "reminder", "start", "stop", "expected"), LIVE_NIGHTS)
async def test_live_ticks_through_the_dst_night_send_once(
    db_url: str, zone: str, reminder: str, start: str, stop: str, expected: str
) -> None:
    """No jumping between due instants: the planner and dispatcher run every 10 minutes
    (as the live tick does), also during the repeated hour, and send the DM once."""
    clock = FakeClock(z(start))  # the evening before: the plan starts with the night's DM
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        await seed_club(
            app,
            clock.now(),
            zone=zone,
            athletes=["ann@club.run"],
            plan_start=date.fromisoformat(start[:10]) - timedelta(days=6),
            reminder=reminder,
        )
        while clock.now() <= z(stop):
            await app.scheduling.due_now()
            clock.advance(timedelta(minutes=10))
        rows = await outbox(app, "daily")
    sends = rec.of("daily", "ann@club.run")
    assert [s.at for s in sends] == [z(expected)]
    assert [(r.local_date, r.due_at, r.status) for r in rows] == [
        (z(expected).astimezone(ZoneInfo(zone)).date(), z(expected), "sent")
    ]


# -- changing zone or reminder time mid-plan ------------------------------------------------

ANN = "ann@club.run"
AFTER = [
    # the /settings line at 07:00 Berlin on Tue 2027-01-05 (06:00Z), after Tuesday's DM
    # went at 06:00 Berlin (05:00Z); then the daily DMs: (local date, instant UTC)
    pytest.param(
        "reminder:09:00",
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 08:00")],
        id="later",
    ),
    pytest.param(
        "reminder:05:00",
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 04:00")],
        id="earlier",
    ),
    pytest.param(
        "tz:America/New_York",  # 06:00 in New York on Tue is still to come: no second DM
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 11:00")],
        id="west",
    ),
    pytest.param(
        "tz:Asia/Tokyo",  # already Tue 15:00 in Tokyo: Wednesday's DM at 06:00 Tokyo
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-05 21:00")],
        id="east",
    ),
]
BEFORE = [
    # the /settings line at 05:00 Berlin on Tue (04:00Z), before Tuesday's 06:00 DM; as
    # the requirement reads ("takes effect from the next day"): Tuesday's DM still at
    # 06:00 Berlin, Wednesday's at the new setting
    pytest.param(
        "reminder:09:00",
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 08:00")],
        id="later",
    ),
    pytest.param(
        "reminder:05:30",
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 04:30")],
        id="earlier",
    ),
    pytest.param(
        "tz:America/New_York",  # Mon 23:00 in New York when it changes
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-06 11:00")],
        id="west",
    ),
    pytest.param(
        "tz:Asia/Tokyo",  # Tue 13:00 in Tokyo when it changes
        [("2027-01-05", "2027-01-05 05:00"), ("2027-01-06", "2027-01-05 21:00")],
        id="east",
    ),
]


async def change_settings(db_url: str, when: str, change: str) -> tuple[list[Any], list[Sent]]:
    """Ann (Berlin, reminder 06:00) on a plan from Monday 2027-01-04, assigned at 09:00Z
    that day (after its reminder, so her first DM is Tuesday's); she types `/settings
    {change}` at `when` (UTC); the clock runs to Wednesday noon UTC."""
    clock = FakeClock(z("2027-01-04 09:00"))
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        await seed_club(app, clock.now(), zone=BERLIN, athletes=[ANN], plan_start=date(2027, 1, 4))
        await app.scheduling.advance(clock, z(when))
        await say(app, ANN, f"/settings {change}")
        await app.scheduling.advance(clock, z("2027-01-06 12:00"))
        rows = await outbox(app, "daily")
    assert all(n == 1 for n in Counter(r.local_date for r in rows).values()), rows
    return rows, rec.of("daily", ANN)


@pytest.mark.parametrize(("change", "expected"), AFTER)
async def test_a_change_after_todays_dm_takes_effect_the_next_day(
    db_url: str, change: str, expected: list[tuple[str, str]]
) -> None:
    rows, sends = await change_settings(db_url, "2027-01-05 06:00", change)
    assert [(str(r.local_date), s.at) for r, s in zip(rows, sends, strict=True)] == [
        (day, z(utc)) for day, utc in expected
    ]


@pytest.mark.parametrize(("change", "expected"), BEFORE)
async def test_a_change_before_todays_dm_neither_loses_nor_doubles_it(
    db_url: str, change: str, expected: list[tuple[str, str]]
) -> None:
    """What the outbox key alone guarantees: one DM per local date, Tuesday's and
    Wednesday's are each sent once, and nothing goes before the change or twice in one
    local day."""
    rows, sends = await change_settings(db_url, "2027-01-05 04:00", change)
    dates = [str(r.local_date) for r in rows]
    assert dates.count("2027-01-05") == dates.count("2027-01-06") == 1
    assert len(sends) == len(rows) == len(set(dates))
    assert all(s.at >= z("2027-01-05 04:00") for s in sends)


@pytest.mark.parametrize(("change", "expected"), BEFORE)
async def test_a_change_before_todays_dm_takes_effect_the_next_day(
    db_url: str, change: str, expected: list[tuple[str, str]]
) -> None:
    rows, sends = await change_settings(db_url, "2027-01-05 04:00", change)
    assert [(str(r.local_date), s.at) for r, s in zip(rows, sends, strict=True)] == [
        (day, z(utc)) for day, utc in expected
    ]


async def test_moving_east_before_todays_dm_never_loses_it(db_url: str) -> None:
    """At 05:00 Berlin on Tuesday (04:00Z) Ann moves to Tokyo, where it is 13:00 and her
    06:00 has passed: Tuesday's DM has not gone yet; the change plans it under the old
    settings (06:00 Berlin, 14:00 in Tokyo), so it is not lost, and Wednesday's follows
    at 06:00 Tokyo. No coach digest runs in between."""
    clock = FakeClock(z("2027-01-04 09:00"))
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        await seed_club(app, clock.now(), zone=BERLIN, athletes=[ANN], plan_start=date(2027, 1, 4))
        await say(app, HEAD, "/settings notify:digest off")
        await app.scheduling.advance(clock, z("2027-01-05 04:00"))
        await say(app, ANN, "/settings tz:Asia/Tokyo")
        await app.scheduling.advance(clock, z("2027-01-06 12:00"))
    assert [s.local("Asia/Tokyo").date() for s in rec.of("daily", ANN)] == [
        date(2027, 1, 5),
        date(2027, 1, 6),
    ]


async def test_two_zones_in_one_club_across_spring_forward(db_url: str) -> None:
    """Two athletes of one Berlin club across the spring-forward night: ann keeps the
    club's zone with reminder 02:30, bo lives in New York (no change that weekend); each
    gets one DM per own local date; the head coach's digest comes at 07:00 Berlin."""
    clock = FakeClock(z("2027-03-26 12:00"))
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        await seed_club(
            app,
            clock.now(),
            zone=BERLIN,
            athletes=[ANN, "bo@club.run"],
            plan_start=date(2027, 3, 22),
            reminder="02:30",
        )
        await say(app, "bo@club.run", "/settings tz:America/New_York")
        await app.scheduling.advance(clock, z("2027-03-29 12:00"))
    ann = [s.at for s in rec.of("daily", ANN)]
    bo = [s.at for s in rec.of("daily", "bo@club.run")]
    assert ann == [z("2027-03-27 01:30"), z("2027-03-28 01:00"), z("2027-03-29 00:30")]
    # New York is on EDT since 2027-03-14: 02:30 EDT = 06:30Z all weekend
    assert bo == [z("2027-03-27 06:30"), z("2027-03-28 06:30"), z("2027-03-29 06:30")]
    digests = rec.of("digest", HEAD)
    assert [s.at for s in digests] == [
        z("2027-03-26 12:00"),  # Friday's, caught up at once (its local day lasts)
        z("2027-03-27 06:00"),
        z("2027-03-28 05:00"),
        z("2027-03-29 05:00"),
    ]
    assert [s.local(BERLIN).time() for s in digests[1:]] == [time(7, 0)] * 3
