"""`/comments #ID` (issue 13 item 5): an activity's thread, to whoever may see the activity
(SPEC §1-2), through the real core on both stores. Of the comments, besides the
athlete, a reader sees those written in their own org; an activity they may not see
answers exactly like an id that does not exist."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Activity, Comment
from tests.conftest import Club
from tests.unit.test_activities import NOWHERE, as_missing, log, missing_text
from tests.unit.test_training import AVA, BEN, CY, HC, KAI, NOOR, seed_group, seed_lake

ZED = "zed@far.run"  # the head coach of another club
THREAD = ("kai: well paced", "hc: agreed", "ava: thanks both")


async def ava_thread(club: Club) -> str:
    """The basic club, cy in a group with ava, zed heading another club; ava's run with
    three comments written in Lakeside and one written in Far (as if she had been there).
    Returns the run's id."""
    lake = await seed_lake(club)
    await seed_group(club, lake, "Hills", AVA, CY)
    await club.ok(ZED, '/setup-org "Far Runners"')
    number = await log(club, AVA, "/log 8k 42:10")
    await club.ok(KAI, f"/comment #{number} well paced")
    await club.ok(HC, f"/comment #{number} agreed")
    await club.ok(AVA, f"/comment #{number} thanks both")
    async with club.core.uow() as uow:
        activity = await uow.session.scalar(select(Activity).where(Activity.public_id == number))
        assert activity is not None
        zed = await uow.repo.account_by_email(ZED)
        assert zed is not None
        far = await uow.repo.membership_of(zed.id)
        assert far is not None
        uow.session.add(
            Comment(
                activity_id=activity.id,
                org_id=far.org_id,
                author_account_id=far.account_id,
                text="welcome to Far",
                created_at=club.clock.now(),
            )
        )
        await uow.commit()
    return number


def shown(text: str) -> set[str]:
    """The comments a thread reply lists, as `name: text`."""
    return {
        f"{line[2:].split(',', 1)[0]}: {line.split(': ', 1)[1]}"
        for line in text.splitlines()
        if line.startswith("- ")
    }


async def test_the_thread_to_whoever_sees_the_activity(club: Club) -> None:
    number = await ava_thread(club)
    said = await club.ok(AVA, f"/comments #{number}")
    assert said.text.splitlines()[0] == f"Comments on your run of Mon 04 Jan (#{number}):"
    assert said.text.splitlines()[1] == "- kai, Mon 04 Jan 09:00: well paced"
    # the athlete reads every comment on her activity, whichever org it was written in
    assert shown(said.text) == {*THREAD, "zed: welcome to Far"}
    for coach in (KAI, HC):
        said = await club.ok(coach, f"/comments {number}")  # the `#` is optional
        assert said.text.startswith(f"Comments on ava's run of Mon 04 Jan (#{number}):")
        assert shown(said.text) == set(THREAD), coach
    # a groupmate, while ava shares with the group (the default)
    assert shown((await club.ok(CY, f"/comments #{number}")).text) == set(THREAD)


async def test_who_may_not_see_it_is_told_as_for_a_missing_one(club: Club) -> None:
    number = await ava_thread(club)
    missing = {
        who: await missing_text(club, who, "/comments #N") for who in (HC, KAI, NOOR, BEN, CY, ZED)
    }
    assert f"#{NOWHERE}" not in missing[KAI] and "No activity" in missing[KAI]

    async def hidden_from(*people: str) -> None:
        for who in people:
            said = await club.no(who, f"/comments #{number}")
            assert as_missing(said, number) == missing[who], who

    await hidden_from(NOOR, BEN, ZED)  # another coach, an org athlete, another club
    await club.ok(AVA, "/privacy share_with_group off")
    await hidden_from(CY)
    await club.ok(AVA, "/privacy share_with_org on")  # now every athlete of Lakeside
    assert shown((await club.ok(CY, f"/comments #{number}")).text) == set(THREAD)
    assert shown((await club.ok(BEN, f"/comments #{number}")).text) == set(THREAD)
    await hidden_from(NOOR, ZED)
    await club.ok(AVA, "/privacy share_with_coaches off")
    await hidden_from(KAI, HC)
    assert shown((await club.ok(AVA, f"/comments #{number}")).text) >= set(THREAD)


async def test_a_private_activity_is_its_athletes_alone(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 5k 25:00 private")
    await club.ok(AVA, f"/comment #{number} easy one")
    assert shown((await club.ok(AVA, f"/comments #{number}")).text) == {"ava: easy one"}
    for who in (HC, KAI):
        said = await club.no(who, f"/comments #{number}")
        assert as_missing(said, number) == await missing_text(club, who, "/comments #N")


async def test_an_empty_thread_and_bad_ids(club: Club) -> None:
    await seed_lake(club)
    number = await log(club, AVA, "/log 5k 25:00")
    said = await club.ok(KAI, f"/comments #{number}")
    assert said.text == (
        f"No comments on ava's run of Mon 04 Jan (#{number}) yet. /comment #{number} TEXT adds one."
    )
    for line in ("/comments #12", "/comments #ÅÅÅÅÅÅÅ", f"/comments #{NOWHERE}"):
        said = await club.no(KAI, line)
        assert said.text.startswith("No activity #"), line
    said = await club.no(KAI, "/comments")
    assert "Usage: /comments #ACTIVITY" in said.text


async def test_comments_is_in_help(club: Club) -> None:
    await seed_lake(club)
    for who in (AVA, KAI, HC):
        assert "/comments #ACTIVITY" in (await club.ok(who, "/help")).text
    assert "/comments #ACTIVITY" in (await club.ok(AVA, "/help comments")).text
