"""A club run's reminder (issue 15 item 3, SPEC §6): a DM to everyone going, 2 hours
before the start, exactly once — planned by the scheduler, rendered when it goes, so a
cancellation or a changed answer in between is respected — on both stores, with the
injected clock."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from adapters.console.transcript import console_caller
from bot.bootstrap import App
from bot.clock import FakeClock
from bot.schedule.planner import Planner
from storage.models import OutboxMessage
from tests.schedule import HEAD, Recorder, at, outbox, say

ANN, BO, CY = "ann@club.run", "bo@club.run", "cy@club.run"
# Saturday 2027-01-09 08:00 in Berlin is 07:00 UTC: the reminder is due at 05:00 UTC
REMIND_AT = at("2027-01-09T06:00:00+01:00")


async def club_with_a_run(app: App) -> str:
    """HEAD heads a Berlin club whose group Long (ann, bo, cy) is linked to #long; a run
    on Saturday at 08:00 is called. Returns its `#ID`."""
    await say(app, HEAD, '/setup-org "River Club" tz:Europe/Berlin')
    for who in (ANN, BO, CY):
        await say(app, HEAD, f"/add-member {who}")
        await say(app, who, "/profile")
    await say(app, HEAD, "/group create Long")
    await say(app, HEAD, f"/group add Long {ANN} {BO} {CY}")
    linked = await app.core.handle(console_caller(HEAD, "long"), "/group link Long")
    assert linked[0].ok, linked
    said = await say(app, HEAD, '/event create group:Long "Long run" date:sat time:08:00')
    found = re.search(r"\(#([A-Z2-9]{7})\)", said[0].text)
    assert found, said[0].text
    return f"#{found[1]}"


async def reminders(rec: Recorder) -> list[tuple[str | None, datetime]]:
    return [(s.to, s.at) for s in rec.of("event_reminder")]


async def test_those_going_are_reminded_once_two_hours_before(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    run = await club_with_a_run(app)
    await say(app, ANN, f"/rsvp {run} going")
    await say(app, BO, f"/rsvp {run} going")
    await say(app, BO, f"/rsvp {run} no")  # changed their mind: no reminder
    await say(app, CY, f"/rsvp {run} maybe")
    await say(app, HEAD, f"/rsvp {run} going")
    await app.scheduling.advance(clock, at("2027-01-09T05:59:00+01:00"))
    assert await reminders(rec) == []
    await app.scheduling.advance(clock, at("2027-01-09T07:59:00+01:00"))
    due = REMIND_AT
    assert sorted(await reminders(rec)) == [(ANN, due), (HEAD, due)]
    [ann] = rec.of("event_reminder", ANN)
    assert ann.message.text.startswith("Reminder: you're going to this club run")
    assert "When: Sat 09 Jan 2027, 08:00 (Europe/Berlin)" in ann.message.text
    # planning again, from this process or another, and sending again change nothing
    assert await app.scheduling.planner.plan() == 0
    assert await Planner(app.scheduling.planner.store, clock).plan() == 0
    await app.scheduling.advance(clock, at("2027-01-09T12:00:00+01:00"))
    assert len(rec.of("event_reminder")) == 2
    rows = await outbox(app, "event_reminder")
    assert sorted(r.key for r in rows) == sorted(
        f"event_reminder:{r.key.split(':')[1]}:{r.account_id}" for r in rows
    )
    assert all(r.status == "sent" for r in rows) and len(rows) == 2


async def test_a_run_called_off_before_its_reminder_reminds_nobody(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    run = await club_with_a_run(app)
    await say(app, ANN, f"/rsvp {run} going")
    clock.set(at("2027-01-08T20:00:00+01:00"))
    said = await say(app, HEAD, f"/event cancel {run}")
    assert [m.email for m in said if m.kind == "event_cancel"] == [ANN]
    await app.scheduling.advance(clock, at("2027-01-09T09:00:00+01:00"))
    assert rec.of("event_reminder") == []
    assert await outbox(app, "event_reminder") == []
    assert len(rec.of("event_cancel", ANN)) == 1  # told once, by the cancellation


async def test_what_changed_after_planning_is_respected_when_it_goes(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    """Rows planned at the reminder's moment but not sent yet (a dispatcher behind): a
    cancellation, a changed answer and a suspension drop them; the rest go."""
    run = await club_with_a_run(app)
    for who in (ANN, BO, CY, HEAD):
        await say(app, who, f"/rsvp {run} going")
    clock.set(REMIND_AT)
    assert await app.scheduling.planner.plan() == 4
    await say_without_sending(app, BO, f"/rsvp {run} no")
    await say_without_sending(app, HEAD, f"/member {CY} status:suspended")
    await say_without_sending(app, HEAD, f"/group remove Long {ANN}")
    await app.scheduling.dispatcher.drain()
    assert [s.to for s in rec.of("event_reminder")] == [HEAD]
    dropped = {r.account_id for r in await outbox(app, "event_reminder") if r.status == "dropped"}
    assert len(dropped) == 3


async def test_a_cancellation_after_planning_drops_every_reminder(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    run = await club_with_a_run(app)
    await say(app, ANN, f"/rsvp {run} going")
    clock.set(REMIND_AT)
    assert await app.scheduling.planner.plan() == 1
    await say_without_sending(app, HEAD, f"/event cancel {run}")
    await app.scheduling.dispatcher.drain()
    assert rec.of("event_reminder") == []
    assert [s.to for s in rec.of("event_cancel")] == [ANN]


async def test_who_says_going_after_the_reminders_moment_gets_none(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    run = await club_with_a_run(app)
    await say(app, ANN, f"/rsvp {run} going")
    clock.set(at("2027-01-09T07:00:00+01:00"))  # an hour before: ann was reminded
    said = await say(app, BO, f"/rsvp {run} going")
    assert "remind you" not in said[0].text
    await app.scheduling.advance(clock, at("2027-01-09T08:30:00+01:00"))
    assert [s.to for s in rec.of("event_reminder")] == [ANN]


async def test_a_reminder_missed_while_down_still_goes_before_the_start_and_not_after(
    app: App, clock: FakeClock, rec: Recorder
) -> None:
    run = await club_with_a_run(app)
    await say(app, ANN, f"/rsvp {run} going")
    clock.set(at("2027-01-09T07:30:00+01:00"))  # down at 06:00, back half an hour before
    await app.scheduling.due_now()
    assert [s.at for s in rec.of("event_reminder")] == [clock.now()]
    other = await say(app, HEAD, '/event create group:Long "Sunday" date:sun time:08:00')
    found = re.search(r"\(#([A-Z2-9]{7})\)", other[0].text)
    assert found
    await say(app, ANN, f"/rsvp #{found[1]} going")
    clock.set(at("2027-01-10T08:30:00+01:00"))  # down through Sunday's whole window
    await app.scheduling.due_now()
    assert len(rec.of("event_reminder")) == 1


async def say_without_sending(app: App, email: str, line: str) -> None:
    answer = await app.core.handle(console_caller(email), line)
    assert answer and answer[0].ok, answer


async def test_the_planners_next_instant_is_the_reminders(app: App, clock: FakeClock) -> None:
    run = await club_with_a_run(app)
    async with app.sessions() as session:
        assert (await session.scalars(select(OutboxMessage.kind))).all().count(
            "event_reminder"
        ) == 0
    await say(app, ANN, f"/rsvp {run} going")
    planner = app.scheduling.planner
    assert await planner.next_due_after(at("2027-01-09T05:00:00+01:00")) == REMIND_AT
