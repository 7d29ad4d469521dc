"""Messages over time (SPEC §6, §8, §10): what the schedule tests share.

- `Recorder`: a Sender that writes down every send with the injected clock's instant at
  that moment (so a test checks *when* each message went out, not only that it did), and
  can fail on demand (`SendError` doubles: 429 with Retry-After, transient, permanent).
- `seed_club`: a club written straight to the store — org, head coach, athletes, a plan
  with a workout on every day, its assignments and sessions — for the tests of the
  outbox mechanics, where typing the set-up (tens of ms a line) would cost more than the
  behaviour checked. The end-to-end tests type their set-up through the real core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.console.transcript import console_caller
from bot.bootstrap import App, bootstrap
from bot.clock import FakeClock
from bot.domain.schedule import plan_end
from bot.messages import Outgoing
from bot.schedule.dispatcher import SendError
from storage.models import (
    Account,
    Membership,
    Org,
    OutboxMessage,
    Plan,
    PlanAssignment,
    PlanDay,
    TrainingSession,
    Workout,
)

HEAD = "hc@club.run"


@dataclass(frozen=True)
class Sent:
    """One call of `Sender.send`: the instant on the injected clock, what, and the nonce."""

    at: datetime
    message: Outgoing
    nonce: str

    @property
    def kind(self) -> str:
        return self.message.kind

    @property
    def to(self) -> str | None:
        return self.message.email

    def local(self, zone: str) -> datetime:
        return self.at.astimezone(ZoneInfo(zone))


Failure = Callable[[Outgoing], SendError | None]


class Recorder:
    """A platform double: accepts every message unless `fail` returns an error for it."""

    platform = "console"

    def __init__(self, clock: FakeClock, fail: Failure | None = None) -> None:
        self.clock = clock
        self.fail = fail
        self.attempts: list[Sent] = []  # every call
        self.sent: list[Sent] = []  # the calls the platform accepted

    async def send(self, message: Outgoing, *, nonce: str) -> None:
        call = Sent(self.clock.now(), message, nonce)
        self.attempts.append(call)
        error = self.fail(message) if self.fail is not None else None
        if error is not None:
            raise error
        self.sent.append(call)

    def of(self, kind: str, to: str | None = None) -> list[Sent]:
        return [s for s in self.sent if s.kind == kind and (to is None or s.to == to)]

    def tried(self, kind: str, to: str | None = None) -> list[Sent]:
        return [s for s in self.attempts if s.kind == kind and (to is None or s.to == to)]


@asynccontextmanager
async def open_app(db_url: str, clock: FakeClock, sender: Recorder) -> AsyncIterator[App]:
    app = await bootstrap(db_url, clock=clock, migrate=False, sender=sender)
    try:
        yield app
    finally:
        await app.close()


async def say(app: App, email: str, line: str) -> list[Outgoing]:
    """Type one line as `email`, then deliver whatever is due (as the console does)."""
    answer = await app.core.handle(console_caller(email), line)
    assert answer and answer[0].ok, f"{email}: {line} -> {answer}"
    return answer + await app.scheduling.due_now()


async def outbox(app: App, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    async with app.sessions() as session:
        return list((await session.scalars(query)).all())


@dataclass
class Seeded:
    org_id: int
    accounts: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)


async def seed_club(
    app: App,
    now: datetime,
    *,
    zone: str,
    athletes: Sequence[str],
    on_plan: Iterable[str] | None = None,
    plan_start: date,
    weeks: int = 2,
    reminder: str = "06:00",
    coaches: Sequence[str] = (),
) -> Seeded:
    """HEAD heads a club in `zone`; `athletes` (default: all of them on the plan) follow
    a plan of `weeks` weeks from `plan_start` with a workout, "Easy", on every day. The
    assignment is dated `now`, so a reminder before `now` on its first day is not sent."""
    planned = set(athletes if on_plan is None else on_plan)
    async with app.core.uow() as uow:
        s = uow.session
        org = Org(name="Club", timezone=zone, created_at=now)
        people = [HEAD, *coaches, *athletes]
        accounts = {
            email: Account(
                email=email,
                display_name=email.split("@")[0],
                reminder_time=reminder,
                created_at=now,
            )
            for email in people
        }
        s.add_all([org, *accounts.values()])
        await s.flush()
        members = {
            email: Membership(
                org_id=org.id,
                account_id=accounts[email].id,
                is_head_coach=email == HEAD,
                is_coach=email == HEAD or email in coaches,
                is_athlete=email in athletes,
                status="active",
                labels=[],
                joined_at=now,
            )
            for email in people
        }
        workout = Workout(
            org_id=org.id,
            name="Easy",
            name_key="easy",
            type="run",
            kind="easy",
            distance_m=8000.0,
            visibility="public",
            created_at=now,
        )
        plan = Plan(org_id=org.id, name="Base", name_key="base", weeks=weeks, created_at=now)
        s.add_all([*members.values(), workout, plan])
        await s.flush()
        s.add_all(
            PlanDay(plan_id=plan.id, week=w, weekday=d, workout_id=workout.id)
            for w in range(1, weeks + 1)
            for d in range(7)
        )
        end = plan_end(plan_start, weeks)
        for email in athletes:
            if email not in planned:
                continue
            assignment = PlanAssignment(
                org_id=org.id,
                plan_id=plan.id,
                membership_id=members[email].id,
                start_date=plan_start,
                end_date=end,
                created_at=now,
            )
            s.add(assignment)
            await s.flush()
            s.add_all(
                TrainingSession(
                    membership_id=members[email].id,
                    plan_assignment_id=assignment.id,
                    day=plan_start + timedelta(days=i),
                    workout_id=workout.id,
                    status="scheduled",
                )
                for i in range((end - plan_start).days + 1)
            )
        seeded = Seeded(
            org.id,
            {e: a.id for e, a in accounts.items()},
            {e: m.id for e, m in members.items()},
        )
        await uow.commit()
    return seeded


def z(utc: str) -> datetime:
    """'2027-03-28 01:00' (UTC) as an aware instant."""
    return datetime.fromisoformat(utc).replace(tzinfo=UTC)


START = z("2027-01-04 09:00")  # a Monday: 10:00 in Berlin


def at(text: str) -> datetime:
    """An ISO instant with its offset, e.g. at("2027-03-28T01:00:00+00:00")."""
    when = datetime.fromisoformat(text)
    assert when.tzinfo is not None
    return when
