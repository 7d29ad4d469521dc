"""The repository's verbs on an athlete's scheduled sessions, on both stores: what each
leaves in the store once committed, and enrolment's count of what it replaced.

The commands reach these through /log, /skip, `done` and /activity edit|delete; here
each verb is checked on its own, in a transaction of its own, so a verb that forgot to
write (or wrote the wrong column) fails by name."""

from __future__ import annotations

from datetime import date

from storage.models import Activity
from tests.conftest import Club
from tests.unit.test_training import AVA, BEN, HC, Lake, day, seed_lake, seed_plan


async def _stored(
    club: Club, lake: Lake, email: str, on: date
) -> tuple[str, int | None, str | None]:
    """(status, activity id, note) of the member's session that day, as committed."""
    async with club.core.uow() as uow:
        found = await uow.repo.sessions_between(lake.members[email], on, on)
        assert len(found) == 1, found
        session = found[0][0]
        return session.status, session.activity_id, session.note


async def test_complete_reopen_and_skip_are_stored(club: Club) -> None:
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy", (1, "thu"): "Tempo"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    tuesday, thursday = day(1), day(3)

    async with club.core.uow() as uow:
        (session, workout), *_ = await uow.repo.sessions_between(
            lake.members[AVA], tuesday, thursday
        )
        assert workout is not None and workout.name == "Easy"
        activity = await uow.repo.add(
            Activity(
                account_id=lake.accounts[AVA],
                started_at=club.clock.now(),
                day=tuesday,
                type="run",
                source="chat",
                private=False,
                created_at=club.clock.now(),
            )
        )
        activity_id = activity.id
        await uow.repo.complete_session(session, activity_id)
        await uow.commit()
    assert await _stored(club, lake, AVA, tuesday) == ("completed", activity_id, None)

    async with club.core.uow() as uow:
        completed = await uow.repo.session_completed_by(activity_id)
        assert completed is not None and completed.day == tuesday
        await uow.repo.reopen_session(completed)
        await uow.commit()
    assert await _stored(club, lake, AVA, tuesday) == ("scheduled", None, None)
    async with club.core.uow() as uow:
        assert await uow.repo.session_completed_by(activity_id) is None

    async with club.core.uow() as uow:
        (thursdays, _), *_ = await uow.repo.sessions_between(lake.members[AVA], thursday, thursday)
        await uow.repo.skip_session(thursdays, "sore calf")
        await uow.commit()
    assert await _stored(club, lake, AVA, thursday) == ("skipped", None, "sore calf")


async def test_enrolment_counts_only_what_was_still_to_come(club: Club) -> None:
    lake = await seed_lake(club)
    base = await seed_plan(club, lake, "Base", 1, {(1, "tue"): "Easy", (1, "thu"): "Tempo"})
    await club.ok(HC, "/assign-plan Base ava start:today")
    async with club.core.uow() as uow:
        (tuesdays, _), *_ = await uow.repo.sessions_between(lake.members[AVA], day(1), day(1))
        await uow.repo.skip_session(tuesdays, None)
        await uow.commit()

    async with club.core.uow() as uow:
        plan = await uow.repo.plan(base)
        assert plan is not None
        schedule = [(day(1), lake.workouts["Tempo"]), (day(3), lake.workouts["Easy"])]
        members = [lake.members[BEN], lake.members[AVA]]
        enrolment = await uow.repo.enroll(
            plan,
            members,
            day(0),
            day(6),
            schedule,
            by_account_id=lake.accounts[HC],
            now=club.clock.now(),
        )
        await uow.commit()
    # ben had nothing; of ava's two sessions the skipped Tuesday is history and stays
    assert enrolment.replaced == {lake.members[AVA]: 1}
    ben_assignment, ava_assignment = enrolment.assignment_ids
    assert ben_assignment != ava_assignment
    async with club.core.uow() as uow:
        ben = await uow.repo.sessions_between(lake.members[BEN], day(0), day(6))
        assert [(s.day, s.plan_assignment_id, w and w.name) for s, w in ben] == [
            (day(1), ben_assignment, "Tempo"),
            (day(3), ben_assignment, "Easy"),
        ]
        ava = await uow.repo.sessions_between(lake.members[AVA], day(0), day(6))
        assert [(s.day, s.status, s.plan_assignment_id == ava_assignment) for s, _ in ava] == [
            (day(1), "skipped", False),  # the old plan's Easy, kept
            (day(3), "scheduled", True),
        ]
