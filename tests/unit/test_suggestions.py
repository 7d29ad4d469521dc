"""Autocomplete suggestions go through the policy like the commands that take them."""

from __future__ import annotations

from adapters.console.transcript import console_caller
from tests.conftest import Club


async def test_suggestions_follow_the_policy(club: Club) -> None:
    await club.basic_club()
    hc, ava = "hc@lake.run", "ava@lake.run"
    await club.ok(hc, "/group create hills")
    await club.ok(hc, "/group create track")
    await club.ok(hc, "/group add hills ava@lake.run")
    await club.ok(hc, "/workout create easy type:run distance:8k")
    await club.ok(hc, "/workout create secret type:run distance:8k visibility:coaches")
    await club.ok(hc, "/plan create base weeks:2")
    await club.ok(hc, "/plan create other weeks:2")
    await club.ok(hc, "/assign-plan base ava@lake.run")
    core = club.core

    async def suggest(email: str, kind: str, prefix: str = "") -> list[str]:
        return await core.suggest(console_caller(email), kind, prefix)

    # coaches: every member by e-mail, every group, workout and plan
    assert "ben@lake.run" in await suggest(hc, "member")
    assert await suggest(hc, "member", "be") == ["ben@lake.run"]
    assert await suggest(hc, "group") == ["hills", "track"]
    assert await suggest(hc, "workout") == ["easy", "secret"]
    assert await suggest(hc, "plan") == ["base", "other"]
    # athletes: display names only (never e-mails), own groups, public workouts, own plan
    names = await suggest(ava, "member")
    assert "ben" in names and not any("@" in n for n in names)
    assert await suggest(ava, "group") == ["hills"]
    assert await suggest(ava, "workout") == ["easy"]
    assert await suggest(ava, "plan") == ["base"]
    # strangers and unknown kinds get nothing; prefixes are literal, not patterns
    assert await suggest("stranger@else.where", "member") == []
    assert await suggest(hc, "nonsense") == []
    assert await suggest(hc, "member", "%") == []
