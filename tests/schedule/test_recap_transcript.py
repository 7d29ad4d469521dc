"""The week in review as the console shows it (issue 13 item 6, SPEC §6, §8): a transcript
with `@clock` lines across three Sundays, replayed through the real core and scheduling
on both stores. Checked: who gets a recap and when, and what it says — sessions done vs
planned, distance and time (the athlete's private activity included: it is their own),
the streak, next week's sessions (a `coaches` workout by name, type, kind and targets,
never its description), miles for `units:mi`.
"""

from __future__ import annotations

from adapters.console.transcript import Record, Transcript
from bot.clock import FakeClock
from tests.schedule import Recorder, at, open_app

ANN, BO, CY, HC = "ann@club.run", "bo@club.run", "cy@club.run", "hc@club.run"
SECRET = "3x10 min at threshold"

SCRIPT = f"""\
@clock 2027-01-04T08:00:00+01:00
{HC}: /setup-org "River Club" tz:Europe/Berlin
{HC}: /add-member {ANN}
{HC}: /add-member {BO}
{HC}: /add-member {CY}
{ANN}: /settings notify:daily off
{BO}: /settings units:mi notify:daily off
{CY}: /settings notify:daily off
{HC}: /settings notify:digest off
{HC}: /workout create Easy type:run kind:easy distance:8k desc:"Keep it chatty"
{HC}: /workout create Threshold type:run kind:tempo duration:45m visibility:coaches desc:"{SECRET}"
{HC}: /workout create Long type:run kind:long distance:18k
{HC}: /plan create Base weeks:3
{HC}: /plan set Base week:1 day:tue workout:Easy
{HC}: /plan set Base week:1 day:thu workout:Threshold
{HC}: /plan set Base week:1 day:sun workout:Long
{HC}: /plan set Base week:2 day:tue workout:Easy
{HC}: /plan set Base week:2 day:thu workout:Threshold
{HC}: /plan set Base week:2 day:sat workout:Long
{HC}: /plan set Base week:3 day:tue workout:Easy
{HC}: /assign-plan Base {ANN} start:2027-01-04
{HC}: /assign-plan Base {BO} start:2027-01-04
# Week 1: ann does everything (Thursday's run is private), and a run on a rest day
@clock 2027-01-05T19:00:00+01:00
{ANN}: /log 8k 40:00
{BO}: done
@clock 2027-01-07T19:00:00+01:00
{ANN}: /log 10k 50:00 private
{BO}: /skip tired
@clock 2027-01-09T10:00:00+01:00
{ANN}: /log 5k 30:00
@clock 2027-01-10T10:00:00+01:00
{ANN}: /log 18k 1:40:00
# Sunday 18:00: the recaps of week 1 (bo's Long is still to do)
@clock 2027-01-10T20:00:00+01:00
# Week 2: ann again does all of it, bo nothing
@clock 2027-01-12T19:00:00+01:00
{ANN}: done
@clock 2027-01-14T19:00:00+01:00
{ANN}: done
@clock 2027-01-16T19:00:00+01:00
{ANN}: done
@clock 2027-01-17T20:00:00+01:00
# Week 3, the plan's last, then a week on no plan: no recap
@clock 2027-02-01T12:00:00+01:00
"""

WEEK_1_ANN = """\
Your week, Mon 04 Jan to Sun 10 Jan:
Sessions: 3 of 3 done
Logged: 4 activities, 41.00 km, 3:40:00.
Streak: 1 week with every session done.
Next week:
- Tue 12 Jan: Easy (run, easy, 8.00 km)
- Thu 14 Jan: Threshold (run, tempo, 45:00)
- Sat 16 Jan: Long (run, long, 18.00 km)
Your weeks against your plan, with a chart: /progress"""

WEEK_1_BO = """\
Your week, Mon 04 Jan to Sun 10 Jan:
Sessions: 1 of 3 done (1 skipped, 1 still to do today)
Logged: 1 activity, no distance or time given.
Streak: none this week. Every session done starts one.
Next week:
- Tue 12 Jan: Easy (run, easy, 4.97 mi)
- Thu 14 Jan: Threshold (run, tempo, 45:00)
- Sat 16 Jan: Long (run, long, 11.18 mi)
Your weeks against your plan, with a chart: /progress"""

WEEK_2_ANN = """\
Your week, Mon 11 Jan to Sun 17 Jan:
Sessions: 3 of 3 done
Logged: 3 activities, no distance or time given.
Streak: 2 weeks in a row with every session done.
Next week:
- Tue 19 Jan: Easy (run, easy, 8.00 km)
Your weeks against your plan, with a chart: /progress"""

WEEK_2_BO = """\
Your week, Mon 11 Jan to Sun 17 Jan:
Sessions: 0 of 3 done (3 missed)
Logged: nothing this week.
Streak: none this week. Every session done starts one.
Next week:
- Tue 19 Jan: Easy (run, easy, 4.97 mi)
Your weeks against your plan, with a chart: /progress"""

WEEK_3_ANN = """\
Your week, Mon 18 Jan to Sun 24 Jan:
Sessions: 0 of 1 done (1 missed)
Logged: nothing this week.
Streak: none this week. Every session done starts one.
Next week: no sessions planned.
Your weeks against your plan, with a chart: /progress"""


async def test_the_console_shows_each_athletes_recap_at_sunday_1800(db_url: str) -> None:
    lines = SCRIPT.splitlines()
    clock = FakeClock(at("2027-01-04T07:00:00+00:00"))
    rec = Recorder(clock)
    async with open_app(db_url, clock, rec) as app:
        records = await Transcript(app.core, clock, app.scheduling).run(lines)
    assert [r for r in records if not r.ok] == []

    def line(text: str) -> int:
        return lines.index(text) + 1

    recaps: list[Record] = [r for r in records if r.via == "dm" and r.text.startswith("Your week")]
    assert [(r.line, r.to) for r in recaps] == [
        (line("@clock 2027-01-10T20:00:00+01:00"), ANN),
        (line("@clock 2027-01-10T20:00:00+01:00"), BO),
        (line("@clock 2027-01-17T20:00:00+01:00"), ANN),
        (line("@clock 2027-01-17T20:00:00+01:00"), BO),
        (line("@clock 2027-02-01T12:00:00+01:00"), ANN),
        (line("@clock 2027-02-01T12:00:00+01:00"), BO),
    ]
    assert all(not r.ephemeral and r.channel is None for r in recaps)
    assert [s.at for s in rec.of("weekly")] == [
        at(t)
        for t in (
            "2027-01-10T17:00:00+00:00",
            "2027-01-10T17:00:00+00:00",
            "2027-01-17T17:00:00+00:00",
            "2027-01-17T17:00:00+00:00",
            "2027-01-24T17:00:00+00:00",
            "2027-01-24T17:00:00+00:00",
        )
    ]
    texts = [r.text for r in recaps]
    assert texts[0] == WEEK_1_ANN  # her private 10k counts: it is her own
    assert texts[1] == WEEK_1_BO  # miles; `done` logs no distance or time
    assert texts[2] == WEEK_2_ANN
    assert texts[3] == WEEK_2_BO
    assert texts[4] == WEEK_3_ANN
    # the `coaches` workout shows its name, type, kind and targets, never its description;
    # nor does any recap carry a description at all
    everything = "\n".join(texts)
    assert SECRET not in everything and "Keep it chatty" not in everything
    # cy is on no plan, and the coach is no athlete
    assert {r.to for r in recaps} == {ANN, BO}
