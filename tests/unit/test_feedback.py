"""Feedback reaches coaches (SPEC §6, issue 13 item 5), through the real core and the
outbox on both stores: an athlete's skip with a reason and their comment on their own
activity (a reply when a coach commented first) go by DM to their roster coaches — the
head coach when they have none — each only if that coach may see what the DM quotes
(SPEC §2), never to the athlete themselves, and not to a coach who turned
`notify:feedback` off. Every skip path (`/skip`, `skip` in a DM, the check-in button)
notifies alike."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from adapters.buttons import button_line
from adapters.console.transcript import console_caller
from bot.messages import Via
from storage.models import Membership, OutboxMessage
from tests.conftest import Club, Said
from tests.unit.test_activities import log
from tests.unit.test_training import (
    AVA,
    BEN,
    CY,
    HC,
    KAI,
    NOOR,
    Lake,
    count,
    seed_group,
    seed_lake,
    seed_plan,
)

EVERY_DAY = {(1, d): "Tempo" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def feedback(said: Said) -> dict[str | None, str]:
    """The feedback DMs a line caused, by recipient."""
    found = [m for m in said.messages if m.via is Via.DM and m.kind == "feedback"]
    by_recipient = {m.email: m.text for m in found}
    assert len(by_recipient) == len(found), f"someone got two: {found}"
    return by_recipient


async def on_plan(club: Club, *athletes: str) -> Lake:
    """The basic club, with a Tempo run every day this week for each of `athletes`."""
    lake = await seed_lake(club)
    await seed_plan(club, lake, "Base", 1, EVERY_DAY)
    for athlete in athletes:
        await club.ok(HC, f"/assign-plan Base {athlete} start:today")
    return lake


async def also_athlete(club: Club, lake: Lake, email: str) -> None:
    async with club.core.uow() as uow:
        await uow.session.execute(
            update(Membership).where(Membership.id == lake.members[email]).values(is_athlete=True)
        )
        await uow.commit()


# -- skips --------------------------------------------------------------------------------


async def test_a_skip_reason_reaches_every_roster_coach(club: Club) -> None:
    await on_plan(club, AVA)
    await club.ok(HC, f"/assign-athlete {NOOR} {AVA}")  # ava: on kai's and noor's rosters
    said = await club.ok(AVA, "/skip sore calf")
    text = "ava skipped Tempo on Mon 04 Jan: sore calf"
    assert feedback(said) == {KAI: text, NOOR: text}  # not the head coach, not ava


async def test_with_no_roster_coach_the_head_coach_hears(club: Club) -> None:
    await on_plan(club, CY)
    said = await club.ok(CY, "/skip travelling for work")
    assert feedback(said) == {HC: "cy skipped Tempo on Mon 04 Jan: travelling for work"}


async def test_every_skip_path_notifies_alike(club: Club) -> None:
    """`/skip REASON` and `skip REASON` in a DM tell the coaches; without a reason (also the
    check-in button, which carries none) there is nothing to tell."""
    await on_plan(club, AVA)
    said = await club.ok(AVA, "skip long day at work")
    assert feedback(said) == {KAI: "ava skipped Tempo on Mon 04 Jan: long day at work"}
    for line in ("/skip", "skip", button_line("skip")):
        await next_day(club)
        said = await club.ok(AVA, line)
        assert "Skipped today's Tempo." == said.text, line
        assert feedback(said) == {}, line


async def next_day(club: Club) -> None:
    club.clock.advance(timedelta(days=1))


async def test_the_button_runs_the_same_skip(club: Club) -> None:
    await on_plan(club, AVA)
    caller = console_caller(AVA)
    said = Said(
        await club.core.handle(caller, button_line("skip")) + await club.app.scheduling.due_now()
    )
    assert said.ok and said.text == "Skipped today's Tempo."
    assert feedback(said) == {}


async def test_a_skip_reason_follows_the_activities_grant(club: Club) -> None:
    await on_plan(club, AVA)
    await club.ok(AVA, "/privacy share_with_coaches off")
    assert feedback(await club.ok(AVA, "/skip not telling")) == {}
    await next_day(club)
    await club.ok(AVA, "/privacy share_with_coaches on")
    await club.ok(AVA, "/privacy share_activities off")
    assert feedback(await club.ok(AVA, "/skip not telling either")) == {}
    await next_day(club)
    await club.ok(AVA, "/privacy share_activities on")
    assert set(feedback(await club.ok(AVA, "/skip now you may know"))) == {KAI}


async def test_a_coach_who_turned_feedback_off_gets_none(club: Club) -> None:
    await on_plan(club, AVA)
    await club.ok(HC, f"/assign-athlete {NOOR} {AVA}")
    said = await club.ok(KAI, "/settings notify:feedback off")
    assert said.text == "Saved: feedback messages off."
    assert set(feedback(await club.ok(AVA, "/skip sore calf"))) == {NOOR}
    # an athlete's own setting decides nothing about their coaches' DMs
    await club.ok(AVA, "/settings notify:feedback off")
    await club.ok(KAI, "/settings notify:feedback on")
    await next_day(club)
    assert set(feedback(await club.ok(AVA, "/skip still sore"))) == {KAI, NOOR}


async def test_a_suspended_coach_gets_none(club: Club) -> None:
    await on_plan(club, AVA)
    await club.ok(HC, f"/member {KAI} status:suspended")
    assert feedback(await club.ok(AVA, "/skip sore calf")) == {}


async def test_feedback_about_oneself_is_not_sent_to_oneself(club: Club) -> None:
    """A head coach who trains too has no roster coach: the head coach is themselves, so
    nobody hears. An assistant who trains on another's roster: that coach hears, they
    do not."""
    lake = await on_plan(club)
    await also_athlete(club, lake, HC)
    await also_athlete(club, lake, KAI)
    await club.ok(HC, f"/assign-athlete {NOOR} {KAI}")
    for who in (HC, KAI):
        await club.ok(HC, f"/assign-plan Base {who} start:today")
    assert feedback(await club.ok(HC, "/skip board meeting")) == {}
    assert set(feedback(await club.ok(KAI, "/skip coaching all day"))) == {NOOR}
    number = await log(club, HC, "/log 5k 25:00")
    assert feedback(await club.ok(HC, f"/comment #{number} felt easy")) == {}
    number = await log(club, KAI, "/log 5k 25:00")
    assert set(feedback(await club.ok(KAI, f"/comment #{number} felt easy"))) == {NOOR}


async def test_each_feedback_dm_is_sent_once(club: Club) -> None:
    await on_plan(club, AVA)
    await club.ok(HC, f"/assign-athlete {NOOR} {AVA}")
    await club.ok(AVA, "/skip sore calf")
    number = await log(club, AVA, "/log 5k 25:00")
    await club.ok(AVA, f"/comment #{number} legs heavy")
    assert await count(club, OutboxMessage, OutboxMessage.kind == "feedback") == 4
    assert await club.app.scheduling.due_now() == []  # nothing left, nothing again
    async with club.core.uow() as uow:
        statuses = (
            await uow.session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.kind == "feedback")
            )
        ).all()
    assert statuses == ["sent"] * 4


# -- comments on one's own activity ------------------------------------------------------


async def test_a_comment_on_ones_own_activity_reaches_the_coach(club: Club) -> None:
    """The DM quotes the comment and names the activity: nothing of its measures, so it
    holds no more than the thread the coach may read."""
    await seed_lake(club)
    number = await log(club, AVA, '/log 10k 50:00 effort:9 "legs heavy"')
    said = await club.ok(AVA, f"/comment #{number} felt strong at the end")
    assert feedback(said) == {
        KAI: f"ava commented on their run of Mon 04 Jan (#{number}): felt strong at the end\n"
        f"/comments #{number} shows the thread."
    }
    assert said.dms(AVA) == []


async def test_a_comment_after_a_coachs_is_a_reply(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 8k 42:10")
    said = await club.ok(KAI, f"/comment #{number} great pacing")
    assert feedback(said) == {}  # the coach's comment goes to the athlete, as before
    (to_ava,) = said.dms(AVA)
    assert "great pacing" in to_ava.text and to_ava.kind == "comment"
    said = await club.ok(AVA, f"/comment #{number} thanks coach")
    assert feedback(said) == {
        KAI: f"ava replied to kai's comment on their run of Mon 04 Jan (#{number}): "
        f"thanks coach\n/comments #{number} shows the thread."
    }
    await club.ok(HC, f"/comment #{number} agreed")
    said = await club.ok(AVA, f"/comment #{number} thank you both")
    assert "ava replied to hc's comment" in feedback(said)[KAI]


async def test_a_private_activity_leaves_no_feedback(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 5k 25:00 private")
    said = await club.ok(AVA, f"/comment #{number} just for me")
    assert feedback(said) == {} and said.dms() == []


async def test_a_comment_follows_the_activities_grant(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 5k 25:00")
    await club.ok(AVA, "/privacy share_with_coaches off")
    assert feedback(await club.ok(AVA, f"/comment #{number} hidden from coaches")) == {}
    # an athlete with no roster coach: the head coach, while they may see it
    other = await log(club, BEN, "/log 5k 25:00")
    await club.ok(HC, f"/unassign-athlete {NOOR} {BEN}")
    assert set(feedback(await club.ok(BEN, f"/comment #{other} tough one"))) == {HC}


async def test_a_multi_line_comment_is_quoted(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 5k 25:00")
    said = await club.ok(AVA, f'/comment #{number} "line one\n/assign-plan Base cy"')
    text = feedback(said)[KAI]
    assert "\n> line one\n> /assign-plan Base cy\n" in text, text


async def test_feedback_names_only_what_the_coach_may_see(club: Club) -> None:
    """Neither DM carries distance, time, pace, effort or notes: only the workout's name
    (coaches see every schedule) or the activity's type, day and id."""
    await on_plan(club, AVA)
    number = await log(club, AVA, '/log 10k 50:00 effort:9 "legs heavy"')
    texts = list(feedback(await club.ok(AVA, f"/comment #{number} ok")).values())
    await next_day(club)
    texts += feedback(await club.ok(AVA, "/skip sore")).values()
    assert len(texts) == 2
    for text in texts:
        for secret in ("10.00 km", "10k", "50:00", "/km", "effort", "legs heavy"):
            assert secret not in text, (secret, text)


async def test_the_policy_decides_for_a_coach_who_also_runs_in_the_group(club: Club) -> None:
    """Not sharing with coaches does not hide what a coach may see as a groupmate: the
    feedback follows the one rule, whatever relation opens it (docs/DESIGN.md)."""
    lake = await on_plan(club, AVA)
    await also_athlete(club, lake, KAI)
    await seed_group(club, lake, "Hills", AVA, KAI)
    await club.ok(AVA, "/privacy share_with_coaches off")
    assert set(feedback(await club.ok(AVA, "/skip sore calf"))) == {KAI}
    await club.ok(AVA, "/privacy share_with_group off")
    number = await log(club, AVA, "/log 5k 25:00")
    assert feedback(await club.ok(AVA, f"/comment #{number} better today")) == {}
