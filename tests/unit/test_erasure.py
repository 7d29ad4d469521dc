"""`/forget-me` and `/delete-club` (issue 14 item 5), through the real core on both
stores: what each deletes and keeps, table by table; that no text anywhere names the
forgotten e-mail afterwards (generic over the models' metadata); the confirmation code's
binding and expiry; and what the club is told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import String, Text, cast, func, select

from storage.models import (
    Account,
    Activity,
    AuditEntry,
    Base,
    ChatIdentity,
    CoachNote,
    Comment,
    Invitation,
    Membership,
    Org,
    OutboxMessage,
    Plan,
    Workout,
)
from storage.types import JSONList
from tests.conftest import Club
from tests.unit.test_activities import log

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"


def code_of(text: str, command: str) -> str:
    return text.split(f"{command} ", 1)[1].split()[0]


async def confirmed(club: Club, email: str, command: str) -> Any:
    asked = await club.ok(email, command)
    return await club.say(email, f"{command} {code_of(asked.text, command)}")


async def count(club: Club, model: Any, *where: Any) -> int:
    async with club.core.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)))


async def account_id(club: Club, email: str) -> int:
    async with club.core.uow() as uow:
        account = await uow.repo.account_by_email(email)
        assert account is not None
        return account.id


async def texts_naming(club: Club, needle: str) -> list[str]:
    """Every text column of every table (strings, and JSON lists such as labels) whose
    value names `needle`, any case."""
    found = []
    async with club.core.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, (String, JSONList)):
                    continue
                hits = await uow.session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(func.lower(cast(column, Text)).contains(needle.lower()))
                )
                if hits:
                    found.append(f"{table.name}.{column.name}")
    return found


async def kai_leaves_traces(club: Club) -> str:
    """The basic club; kai (an assistant) writes a note about ava, makes a workout and a
    plan, logs a run that hc comments on, comments on ava's run; hc names kai's e-mail in
    a note, a comment and a workout description (in capitals once). Returns ava's run."""
    await club.basic_club()
    await club.ok(KAI, '/note ava@lake.run "strong tempo today"')
    await club.ok(KAI, "/workout create Hills type:run kind:interval")
    await club.ok(KAI, "/plan create Build weeks:4")
    ava_run = await log(club, AVA, "/log 8k 42:10")
    kai_run = await log(club, KAI, "/log 5k 25:00")
    await club.ok(KAI, f"/comment #{ava_run} well paced")
    await club.ok(HC, f"/comment #{kai_run} nice one")
    await club.ok(HC, '/note ava@lake.run "ask KAI@lake.run about her tempo"')
    await club.ok(HC, f'/comment #{ava_run} "kai@lake.run says hi"')
    await club.ok(HC, '/workout create Tempo type:run kind:tempo desc:"from kai@lake.run"')
    await club.ok(HC, f"/member {BEN} labels:Kai@lake.run-squad,sprinter")
    return ava_run


async def test_forget_me_asks_first_and_deletes_only_when_confirmed(club: Club) -> None:
    await club.basic_club()
    asked = await club.ok(AVA, "/forget-me")
    assert "/forget-me " in asked.text and "cannot be undone" in asked.text
    assert await count(club, Account, Account.email == AVA) == 1
    done = await confirmed(club, AVA, "/forget-me")
    assert done.ok, done.text
    assert await count(club, Account, Account.email == AVA) == 0


async def test_what_forget_me_deletes_and_keeps(club: Club) -> None:
    ava_run = await kai_leaves_traces(club)
    kai = await account_id(club, KAI)
    notes_before = await count(club, CoachNote)
    said = await confirmed(club, KAI, "/forget-me")
    assert said.ok, said.text
    # deleted: the account, its identities, membership, activities, its comments
    assert await count(club, Account, Account.id == kai) == 0
    assert await count(club, ChatIdentity, ChatIdentity.account_id == kai) == 0
    assert await count(club, Membership, Membership.account_id == kai) == 0
    assert await count(club, Activity, Activity.account_id == kai) == 0
    assert await count(club, Comment, Comment.author_account_id == kai) == 0
    assert await count(club, Comment, Comment.text == "nice one") == 0  # on kai's run
    assert await count(club, OutboxMessage, OutboxMessage.account_id == kai) == 0
    # kept with the club: notes (under a stand-in), workouts, plans, ava's run and hc's
    # comment on it, the audit entries (without kai)
    assert await count(club, CoachNote) == notes_before
    assert await count(club, Workout, Workout.name == "Hills", Workout.author_account_id.is_(None))
    assert await count(club, Plan, Plan.name == "Build", Plan.author_account_id.is_(None))
    assert await count(club, Activity, Activity.public_id == ava_run) == 1
    assert await count(club, Comment, Comment.author_account_id.is_not(None)) == 1
    assert await count(club, AuditEntry, AuditEntry.action == "member_left") == 1
    assert await count(club, AuditEntry, AuditEntry.actor_account_id == kai) == 0
    assert await count(club, AuditEntry, AuditEntry.target_account_id == kai) == 0


async def test_no_stored_text_names_the_forgotten_email(club: Club) -> None:
    await kai_leaves_traces(club)
    await club.ok(HC, "/invitations")
    assert await texts_naming(club, KAI)  # the traces are there before
    said = await confirmed(club, KAI, "/forget-me")
    assert said.ok, said.text
    assert await texts_naming(club, KAI) == []
    # what stays reads on, with the e-mail replaced
    notes = (await club.ok(HC, f"/notes {AVA}")).text
    assert "ask a former member about her tempo" in notes


async def test_notes_of_a_former_coach_are_signed_so(club: Club) -> None:
    await kai_leaves_traces(club)
    await confirmed(club, KAI, "/forget-me")
    notes = (await club.ok(HC, f"/notes {AVA}")).text
    assert "a former coach: strong tempo today" in notes
    assert "kai" not in notes.lower().replace("ask a former member", "")
    # the stand-in is nobody: no e-mail, no identity, no membership
    async with club.core.uow() as uow:
        stand_in = await uow.session.scalar(
            select(Account).where(Account.display_name == "a former coach")
        )
        assert stand_in is not None and stand_in.email is None
        assert await uow.repo.membership_of(stand_in.id) is None


async def test_the_club_is_told_only_that_a_member_left(club: Club) -> None:
    await club.basic_club()
    await club.ok(AVA, "/log 5k 25:00 private")
    said = await confirmed(club, AVA, "/forget-me")
    (notice,) = said.dms()
    assert notice.text == "A member left Lakeside Striders."
    audit = (await club.ok(HC, "/audit")).text
    assert "a former member: member_left" in audit
    assert "ava" not in audit.split("member_left", 1)[1].split("\n", 1)[0]
    for who in (HC, KAI, BEN):
        seen = (await club.say(who, "/members")).everything + (
            await club.say(who, "/activities")
        ).everything
        assert "ava" not in seen.lower() and "5.00 km" not in seen


async def test_the_head_coach_transfers_the_role_first(club: Club) -> None:
    await club.basic_club()
    refused = await club.no(HC, "/forget-me")
    assert "/transfer-head-coach" in refused.text
    assert await count(club, Account, Account.email == HC) == 1
    await club.ok(HC, f"/transfer-head-coach {KAI}")
    assert (await confirmed(club, HC, "/forget-me")).ok


async def test_wrong_expired_and_someone_elses_codes_are_refused(club: Club) -> None:
    await club.basic_club()
    ava_code = code_of((await club.ok(AVA, "/forget-me")).text, "/forget-me")
    ben_code = code_of((await club.ok(BEN, "/forget-me")).text, "/forget-me")
    assert ava_code != ben_code
    other = await club.no(BEN, f"/forget-me {ava_code}")
    assert "Type /forget-me for a new one" in other.text and "Usage: /forget-me" in other.text
    await club.no(AVA, "/forget-me ABCDEF")
    club.clock.advance(timedelta(minutes=11))
    await club.no(AVA, f"/forget-me {ava_code}")
    assert await count(club, Account, Account.email.in_((AVA, BEN))) == 2
    club.clock.advance(timedelta(minutes=-5))  # within the ten minutes it works, any case
    assert (await club.say(BEN, f"/forget-me {ben_code.lower()}")).ok


async def test_after_forgetting_the_same_chat_user_is_a_newcomer(club: Club) -> None:
    await club.basic_club()
    await club.ok(AVA, "/log 5k 25:00")
    old = await account_id(club, AVA)
    await confirmed(club, AVA, "/forget-me")
    profile = await club.ok(AVA, "/profile")
    assert await account_id(club, AVA) != old
    assert "Lakeside" not in profile.text
    refused = await club.no(AVA, "/activities")
    assert "not in an organization" in refused.text or "needs an organization" in refused.text


async def test_someone_with_no_club_can_forget_themselves(club: Club) -> None:
    await club.ok("solo@far.run", "/profile")
    said = await confirmed(club, "solo@far.run", "/forget-me")
    assert said.ok and said.dms() == []
    assert await count(club, Account, Account.email == "solo@far.run") == 0


# -- /delete-club ----------------------------------------------------------------------


async def test_only_the_head_coach_deletes_the_club(club: Club) -> None:
    await club.basic_club()
    for who in (KAI, AVA):
        await club.no(who, "/delete-club")
    code = code_of((await club.ok(HC, "/delete-club")).text, "/delete-club")
    await club.no(KAI, f"/delete-club {code}")
    assert await count(club, Org) == 1


async def test_delete_club_leaves_no_row_of_the_club(club: Club) -> None:
    ava_run = await kai_leaves_traces(club)
    await club.ok(HC, "/group create Squad")
    await club.ok(HC, f"/group add Squad {AVA}")
    await club.ok(HC, f"/assign-plan Build {AVA}")
    async with club.core.uow() as uow:
        org_id = await uow.session.scalar(select(Org.id))
    assert org_id is not None
    said = await confirmed(club, HC, "/delete-club")
    assert said.ok, said.text
    assert {m.account_id for m in said.dms()} == {
        await account_id(club, who) for who in (KAI, NOOR, AVA, BEN, CY)
    }
    assert all("Lakeside Striders was deleted" in m.text for m in said.dms())
    async with club.core.uow() as uow:
        for table in Base.metadata.sorted_tables:
            if "org_id" in table.columns:
                left = await uow.session.scalar(
                    select(func.count()).select_from(table).where(table.c.org_id == org_id)
                )
                assert left == 0, table.name
    assert await count(club, Org) == 0
    assert await count(club, Membership) == 0
    assert await count(club, Invitation) == 0
    # the people and their own activities stay
    assert await count(club, Account, Account.email.in_((HC, KAI, AVA))) == 3
    assert await count(club, Activity, Activity.public_id == ava_run) == 1
    assert (await club.ok(HC, '/setup-org "Fresh Start"')).ok


async def test_a_suspended_member_may_still_forget_themselves(club: Club) -> None:
    await club.basic_club()
    await club.ok(HC, f"/member {CY} status:suspended")
    await club.no(CY, "/log 5k 25:00")
    assert (await confirmed(club, CY, "/forget-me")).ok
    assert await count(club, Account, Account.email == CY) == 0
