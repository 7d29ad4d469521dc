"""The coach digest's flags (SPEC §6; issue 13 item 4): two sessions missed in a row, no
activity for 7 days while on a plan, effort >= 9 twice in 7 days, and the day's skip
reasons quoted — each for the athletes the coach coaches (never the coach's own line)
and, flags being activity data, only where the coach may see the athlete's activities
(SPEC §2); a private activity does not exist for them. Both stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests.conftest import Club
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    WEEK_PLAN,
    seed_lake,
    seed_plan,
)

TWICE = "two sessions missed in a row"
IDLE = "no activity for 7 days while on a plan"
HARD = "effort 9 or more twice in 7 days"


async def on_plan(club: Club, *who: str) -> None:
    """Base (Mon Easy, Tue Tempo, Wed Spin, Fri Easy; week 2: Mon Easy) from Monday
    4 Jan, 09:00 in London (UTC in January)."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 2, WEEK_PLAN)
    for email in who:
        await club.ok(HC, f"/assign-plan Base {email} start:today")


async def morning(club: Club, day: date) -> dict[str, str]:
    """Move to 07:00 on `day` and return the digests sent then, by coach."""
    club.clock.set(datetime.combine(day, time(7, 0), UTC))
    sent = await club.app.scheduling.due_now()
    return {m.email or "": m.text for m in sent if m.kind == "digest"}


def flags(text: str) -> dict[str, str]:
    """`- name: flag; flag` lines after `Flags:`, by name."""
    lines = text.splitlines()
    if "Flags:" not in lines:
        return {}
    found = {}
    for line in lines[lines.index("Flags:") + 1 :]:
        if not line.startswith("- "):
            break
        name, says = line[2:].split(": ", 1)
        found[name] = says
    return found


async def test_two_sessions_missed_in_a_row(club: Club) -> None:
    """ava misses Monday and Tuesday; ben's Monday was done by a private run only (for
    the coaches, missed) and he misses Tuesday; cy skips Monday and misses Tuesday."""
    await on_plan(club, AVA, BEN, CY)
    await club.ok(BEN, "/log 8k 40:00 private")
    await club.ok(CY, "/skip busy")
    tuesday = await morning(club, date(2027, 1, 5))
    assert "Flags:" not in tuesday[HC]  # one miss is no flag
    assert 'Skipped (1): cy (Easy): "busy"' in tuesday[HC]
    wednesday = await morning(club, date(2027, 1, 6))
    assert flags(wednesday[HC]) == {"ava": TWICE, "ben": TWICE}
    assert flags(wednesday[KAI]) == {"ava": TWICE}  # kai's roster: ava
    assert flags(wednesday[NOOR]) == {"ben": TWICE}


async def test_a_session_done_between_two_misses_breaks_the_row(club: Club) -> None:
    await on_plan(club, AVA)
    club.clock.advance(timedelta(days=1))
    await club.ok(AVA, "/log 10k 50:00")  # Tuesday's Tempo done
    await morning(club, date(2027, 1, 6))
    assert "Flags:" not in (await morning(club, date(2027, 1, 7)))[HC]  # Wed missed only


async def test_effort_nine_or_more_twice_in_seven_days(club: Club) -> None:
    """ava: effort 9 on Monday, 10 on Wednesday. ben: 8, then 9. cy: a private 10 on
    Monday, then 9 on Wednesday."""
    await on_plan(club, AVA, BEN, CY)
    await club.ok(AVA, "/log 8k 40:00 effort:9")
    await club.ok(BEN, "/log 8k 40:00 effort:8")
    await club.ok(CY, "/log 8k 40:00 effort:10 private")
    tuesday = await morning(club, date(2027, 1, 5))
    assert not any(HARD in says for says in flags(tuesday[HC]).values())
    club.clock.set(datetime(2027, 1, 6, 12, 0, tzinfo=UTC))
    for who, effort in ((AVA, 10), (BEN, 9), (CY, 9)):
        await club.ok(who, f"/log 45:00 type:ride effort:{effort}")
    thursday = await morning(club, date(2027, 1, 7))
    hard = {name for name, says in flags(thursday[HC]).items() if HARD in says}
    assert hard == {"ava"}
    # told once, the morning after the second: Friday's digest does not repeat it
    friday = await morning(club, date(2027, 1, 8))
    assert friday.get(HC) is None or HARD not in friday[HC]


async def test_no_activity_for_seven_days_while_on_a_plan(club: Club) -> None:
    """From Tuesday 5 to Monday 11: ava logged only on Monday 4, ben ran on Thursday 7,
    cy only privately on Wednesday 6."""
    await on_plan(club, AVA, BEN, CY)
    await club.ok(AVA, "/log 8k 40:00")
    club.clock.set(datetime(2027, 1, 6, 12, 0, tzinfo=UTC))
    await club.ok(CY, "/log 45:00 type:ride private")
    club.clock.set(datetime(2027, 1, 7, 12, 0, tzinfo=UTC))
    await club.ok(BEN, "/log 5k 25:00")
    # Monday 11 07:00 covers Sunday 10, a rest day for everyone: ava and cy are idle
    # since Monday 4 but the window starts then, so no flag; and no news, no digest
    assert HC not in await morning(club, date(2027, 1, 11))
    tuesday = await morning(club, date(2027, 1, 12))
    found = flags(tuesday[HC])
    assert IDLE in found["ava"] and IDLE in found["cy"]
    assert "ben" not in found or IDLE not in found["ben"]
    assert found["ava"] == f"{TWICE}; {IDLE}"  # Friday and Monday missed, too
    assert flags(tuesday[KAI]) == {"ava": f"{TWICE}; {IDLE}"}


async def test_no_idle_flag_before_a_plan_covers_the_whole_week(club: Club) -> None:
    await on_plan(club)
    await club.ok(HC, f"/assign-plan Base {AVA} start:2027-01-06")
    tuesday = await morning(club, date(2027, 1, 12))
    assert flags(tuesday[HC]) == {"ava": TWICE}  # Friday and Monday missed; no IDLE


async def test_flags_follow_the_activities_grant(club: Club) -> None:
    """ava shares nothing with coaches: her misses are still listed (statuses), but no
    flag about her reaches any coach."""
    await on_plan(club, AVA)
    await club.ok(AVA, "/privacy share_with_coaches off")
    await morning(club, date(2027, 1, 5))
    wednesday = await morning(club, date(2027, 1, 6))
    for coach in (HC, KAI):
        assert "Missed (1): ava (Tempo)" in wednesday[coach]
        assert "Flags:" not in wednesday[coach] and TWICE not in wednesday[coach]


async def test_skip_reasons_and_flags_leave_the_coachs_own_line_out(club: Club) -> None:
    """ben, on a plan, becomes head coach: his own skip reason and his own flags never
    reach his digest; noor, whose roster holds him, gets both."""
    await on_plan(club, BEN, CY)
    await club.ok(HC, f"/add-coach {BEN}")
    await club.ok(HC, f"/transfer-head-coach {BEN}")
    await club.ok(BEN, "/skip knee niggle")
    await club.ok(CY, "/skip exams")
    tuesday = await morning(club, date(2027, 1, 5))
    assert 'cy (Easy): "exams"' in tuesday[BEN]
    assert "ben" not in tuesday[BEN] and "knee" not in tuesday[BEN]
    assert 'Skipped (1): ben (Easy): "knee niggle"' in tuesday[NOOR]
    assert "exams" not in tuesday[NOOR] and "exams" not in tuesday.get(KAI, "")  # not theirs
    await morning(club, date(2027, 1, 6))
    club.clock.set(datetime(2027, 1, 7, 7, 0, tzinfo=UTC))
    thursday = await morning(club, date(2027, 1, 7))  # ben missed Tuesday and Wednesday
    assert "ben" not in flags(thursday[BEN]) and "ben" not in thursday[BEN]
    assert flags(thursday[NOOR]).get("ben") == TWICE


async def test_skip_reasons_follow_the_activities_grant(club: Club) -> None:
    """A skip reason is one of the digest's flags (SPEC §6), so activity data (§2): with
    `share_with_coaches off` the skip is still listed (a status), its reason is not — as
    the feedback DM is never sent then. Turned back on, the next reason is quoted."""
    await on_plan(club, AVA)
    await club.ok(AVA, "/privacy share_with_coaches off")
    await club.ok(AVA, "/skip sore calf")
    tuesday = await morning(club, date(2027, 1, 5))
    for coach in (HC, KAI):
        assert "Skipped (1): ava (Easy)" in tuesday[coach]
        assert "sore calf" not in tuesday[coach]
    await club.ok(AVA, "/privacy share_with_coaches on")
    club.clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    await club.ok(AVA, "/skip travelling")
    wednesday = await morning(club, date(2027, 1, 6))
    assert 'Skipped (1): ava (Tempo): "travelling"' in wednesday[HC]
