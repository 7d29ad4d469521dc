"""The workout library, own settings, privacy and /help through the real core, on both
stores (SPEC §1-4): every command's happy path and its refusals."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Club
from tests.unit.test_membership_commands import (
    AVA,
    BEN,
    HC,
    KAI,
    Case,
    refused_each,
    seed_lakeside,
)


@pytest.fixture
async def lake(club: Club) -> Club:
    await seed_lakeside(club)
    return club


def listed(text: str) -> list[str]:
    """The names in a `/workout list` answer."""
    return [m.group(1) for m in re.finditer(r"^- (.+?) — ", text, re.MULTILINE)]


def not_found(text: str, name: str) -> str:
    """A refusal with the asked-for name blanked, to compare two refusals' wording."""
    return text.replace(repr(name), "'…'")


# -- /workout ----------------------------------------------------------------------------


async def test_workout_create_show_and_list(lake: Club) -> None:
    said = await lake.ok(
        KAI, '/workout create "Easy 8k" type:run kind:easy distance:8k visibility:public'
    )
    assert "Easy 8k — run, easy, 8.00 km" in said.text
    said = await lake.ok(
        HC,
        "/workout create 6x800 type:run kind:interval duration:50m "
        'desc:"2k warm-up, 6x800 @5k pace, 400 jog"',
    )
    assert "6x800 — run, interval, 50:00" in said.text
    await lake.ok(HC, "/workout create Strides type:other")
    shown = await lake.ok(AVA, "/workout show 6x800")
    assert shown.text == "6x800 — run, interval, 50:00\n> 2k warm-up, 6x800 @5k pace, 400 jog"
    assert "Easy 8k — run, easy" in (await lake.ok(AVA, "/workout show easy 8K")).text
    assert listed((await lake.ok(BEN, "/workout list")).text) == ["6x800", "Easy 8k", "Strides"]
    assert "Strides — other, other" in (await lake.ok(BEN, "/workout show strides")).text


async def test_coaches_only_workouts_are_hidden_from_athletes(lake: Club) -> None:
    await lake.ok(HC, '/workout create "Easy 8k" type:run distance:8k')
    said = await lake.ok(KAI, '/workout create "Secret Test" type:run visibility:coaches')
    assert "(coaches only)" in said.text
    for coach in (HC, KAI):
        names = listed((await lake.ok(coach, "/workout list")).text)
        assert names == ["Easy 8k", "Secret Test"]
    assert listed((await lake.ok(AVA, "/workout list")).text) == ["Easy 8k"]
    assert "Secret" not in (await lake.ok(AVA, "/workout list")).text
    hidden = await lake.no(AVA, "/workout show Secret Test")
    missing = await lake.no(AVA, "/workout show Secret Tess")
    assert not_found(hidden.text, "Secret Test") == not_found(missing.text, "Secret Tess")
    # a coach can hide a public workout later
    await lake.ok(HC, '/workout edit "Easy 8k" visibility:coaches')
    assert (await lake.ok(AVA, "/workout list")).text == "The workout library is empty."
    assert listed((await lake.ok(HC, "/workout list")).text) == ["Easy 8k", "Secret Test"]


async def test_workout_names_are_unique_ignoring_case(lake: Club) -> None:
    await lake.ok(HC, '/workout create "Easy 8k" type:run')
    await lake.ok(HC, "/workout create Tempo type:run kind:tempo")
    said = await lake.no(KAI, '/workout create "EASY 8K" type:ride')
    assert "already a workout named 'EASY 8K'" in said.text
    said = await lake.no(KAI, "/workout edit tempo name:easy 8k")
    assert "did not expect" in said.text  # unquoted: two words
    said = await lake.no(KAI, '/workout edit tempo name:"easy 8K"')
    assert "already a workout named 'easy 8K'" in said.text
    # a coaches-only workout's name is taken too, though athletes cannot see it
    await lake.ok(HC, "/workout create Hidden type:run visibility:coaches")
    assert "already" in (await lake.no(KAI, "/workout create hidden type:run")).text
    assert listed((await lake.ok(HC, "/workout list")).text) == ["Easy 8k", "Hidden", "Tempo"]


async def test_workout_edit_and_rename(lake: Club) -> None:
    await lake.ok(HC, '/workout create "Easy 8k" type:run kind:easy distance:8k')
    said = await lake.ok(KAI, '/workout edit "easy 8k" name:"Easy 10k" distance:10k kind:recovery')
    assert "Easy 10k — run, recovery, 10.00 km" in said.text
    gone = await lake.no(AVA, "/workout show Easy 8k")
    assert "No workout named 'Easy 8k'" in gone.text
    assert "10.00 km" in (await lake.ok(AVA, "/workout show Easy 10k")).text
    said = await lake.ok(HC, '/workout edit "Easy 10k" duration:1h desc:"keep it chatty"')
    assert "1:00:00" in said.text
    assert "keep it chatty" in (await lake.ok(AVA, "/workout show Easy 10k")).text
    nothing = await lake.no(HC, '/workout edit "Easy 10k"')
    assert "Say what to change" in nothing.text and "Usage: /workout edit" in nothing.text


async def test_workout_rename_changing_only_capitals(lake: Club) -> None:
    await lake.ok(HC, "/workout create tempo type:run")
    await lake.ok(HC, "/workout edit tempo name:Tempo")
    assert listed((await lake.ok(HC, "/workout list")).text) == ["Tempo"]


async def test_workout_delete(lake: Club) -> None:
    await lake.ok(HC, '/workout create "Easy 8k" type:run')
    await lake.ok(HC, "/workout create Tempo type:run")
    said = await lake.ok(KAI, "/workout delete easy 8k")
    assert "Easy 8k is deleted" in said.text
    assert listed((await lake.ok(HC, "/workout list")).text) == ["Tempo"]
    again = await lake.no(KAI, "/workout delete easy 8k")
    assert "No workout named 'easy 8k'" in again.text
    # the name is free again
    await lake.ok(HC, '/workout create "Easy 8k" type:walk')


WORKOUT_REFUSALS: list[Case] = [
    (AVA, "/workout create Mine type:run", "not open to your role"),
    (AVA, "/workout edit Tempo distance:5k", "not open to your role"),
    (AVA, "/workout delete Tempo", "not open to your role"),
    ("nobody@else.where", "/workout list", "needs an organization"),
    (HC, "/workout create Jog", "type is missing"),
    (HC, "/workout create Jog type:skate", "type must be one of"),
    (HC, "/workout create Jog type:run kind:fartlek", "kind must be one of"),
    (HC, "/workout create Jog type:run distance:-5k", "can't be negative"),
    (HC, "/workout create Jog type:run duration:forever", "'forever' is not a duration"),
    (HC, "/workout create Jog type:run visibility:secret", "visibility must be one of"),
    (HC, "/workout create " + "x" * 101 + " type:run", "the most is 100"),
    (HC, "/workout edit Nope distance:5k", "No workout named 'Nope'"),
    (HC, "/workout show", "name is missing"),
    (HC, "/workout", "/workout needs one of"),
    (HC, "/workout frobnicate", "/workout needs one of"),
]


async def test_workout_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await lake.ok(HC, "/workout create Tempo type:run kind:tempo")
    await refused_each(lake, subtests, WORKOUT_REFUSALS)
    assert listed((await lake.ok(HC, "/workout list")).text) == ["Tempo"]
    assert "Tempo — run, tempo" in (await lake.ok(AVA, "/workout show tempo")).text


async def test_workout_distances_follow_the_viewers_units(lake: Club) -> None:
    await lake.ok(HC, '/workout create "Easy 8k" type:run distance:8k')
    await lake.ok(AVA, "/settings units:mi")
    assert "4.97 mi" in (await lake.ok(AVA, "/workout show Easy 8k")).text
    assert "km" not in (await lake.ok(AVA, "/workout list")).text
    assert "8.00 km" in (await lake.ok(BEN, "/workout show Easy 8k")).text


# -- /settings ---------------------------------------------------------------------------


async def test_settings_defaults(lake: Club) -> None:
    said = await lake.ok(AVA, "/settings")
    assert said.text.splitlines() == [
        "Name: ava",
        "Time zone: Europe/London (your club's)",
        "Units: km",
        "Reminder: 06:00",
        "Goal race: —",
        "Bio: —",
        "Messages: daily on, digest on, leaderboard on, weekly on, restday on, feedback on",
    ]


@pytest.mark.parametrize(
    ("args", "saved", "shown"),
    [
        ("tz:america/new_york", "time zone America/New_York", "Time zone: America/New_York"),
        ("units:MI", "units mi", "Units: mi"),
        ("reminder:7:30", "reminder 07:30", "Reminder: 07:30"),
        ('name:"Ava Q"', "name Ava Q", "Name: Ava Q"),
        ('goal:"Berlin Marathon 2027"', "goal race", "Goal race: Berlin Marathon 2027"),
        ('bio:"Trail runner, two cats"', "bio", "Bio: Trail runner, two cats"),
        ("notify:daily off", "daily messages off", "Messages: daily off, digest on, leaderboard"),
        ("notify:digest off", "digest messages off", "daily on, digest off, leaderboard on"),
        ("notify:leaderboard no", "leaderboard messages off", "leaderboard off"),
        ("notify:weekly off", "weekly messages off", "leaderboard on, weekly off, restday on"),
        ("notify:restday off", "restday messages off", "weekly on, restday off"),
        ("notify:feedback off", "feedback messages off", "restday on, feedback off"),
    ],
)
async def test_settings_each_field(lake: Club, args: str, saved: str, shown: str) -> None:
    said = await lake.ok(AVA, f"/settings {args}")
    assert said.text == f"Saved: {saved}."
    assert shown in (await lake.ok(AVA, "/settings")).text
    # settings are one's own: nobody else's changed
    assert (await lake.ok(BEN, "/settings")).text.splitlines()[1:4] == [
        "Time zone: Europe/London (your club's)",
        "Units: km",
        "Reminder: 06:00",
    ]


async def test_settings_several_at_once_and_back_on(lake: Club) -> None:
    said = await lake.ok(KAI, "/settings units:mi reminder:05:45 notify:daily off")
    assert said.text == "Saved: units mi, reminder 05:45, daily messages off."
    await lake.ok(KAI, "/settings notify:daily on")
    shown = (await lake.ok(KAI, "/settings")).text
    assert "Units: mi" in shown and "Reminder: 05:45" in shown
    assert "Messages: daily on" in shown


async def test_settings_name_is_what_others_see(lake: Club) -> None:
    await lake.ok(AVA, '/settings name:"Ava Quinn"')
    assert "Ava Quinn <ava@lake.run>" in (await lake.ok(HC, "/members")).text
    assert "Ava Quinn" in (await lake.ok(KAI, "/roster")).text
    assert (await lake.ok(BEN, '/profile "ava quinn"')).text.startswith("Ava Quinn")


SETTINGS_REFUSALS: list[Case] = [
    (AVA, "/settings tz:Mars/Olympus", "not a time zone"),
    (AVA, "/settings tz:../../etc/passwd", "not a time zone"),
    (AVA, "/settings units:furlongs", "units must be one of km, mi"),
    (AVA, "/settings reminder:25:00", "not a time of day"),
    (AVA, "/settings reminder:7pm", "not a time of day"),
    (AVA, "/settings notify:daily", "notify: takes a kind and on or off"),
    (AVA, "/settings notify:monthly off", "notify must be one of"),
    (AVA, "/settings off", "notify: takes a kind and on or off"),
    (AVA, "/settings notify:daily maybe", "not on or off"),
    (AVA, "/settings name:" + "x" * 81, "the most is 80"),
    (AVA, "/settings colour:blue", "colour: is not an option"),
    (AVA, "/settings units:mi tz:Nowhere", "not a time zone"),
]


async def test_settings_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, SETTINGS_REFUSALS)
    for _, line, _ in SETTINGS_REFUSALS[:3]:
        said = await lake.no(AVA, line)
        assert "Usage: /settings" in said.text
    # nothing was half-written (units:mi came with a bad tz)
    said = await lake.ok(AVA, "/settings")
    assert "Units: km" in said.text and "Time zone: Europe/London" in said.text
    assert "Messages: daily on, digest on, leaderboard on, weekly on, restday on" in said.text


async def test_settings_without_an_organization(club: Club) -> None:
    said = await club.ok("loner@else.where", "/settings tz:Asia/Tokyo units:mi")
    assert said.text == "Saved: time zone Asia/Tokyo, units mi."
    shown = (await club.ok("loner@else.where", "/settings")).text
    assert "Time zone: Asia/Tokyo" in shown


# -- /privacy ----------------------------------------------------------------------------


async def test_privacy_show_and_set(lake: Club) -> None:
    said = await lake.ok(BEN, "/privacy")
    assert said.text.splitlines()[1:] == [
        "- share_activities: on",
        "- share_with_coaches: on",
        "- share_with_group: on",
        "- share_with_org: off",
        "- share_pace: on",
        "- share_profile: on",
    ]
    assert (await lake.ok(BEN, "/privacy share_pace off")).text == "share_pace is now off."
    assert (await lake.ok(BEN, "/privacy SHARE_WITH_ORG yes")).text == "share_with_org is now on."
    shown = (await lake.ok(BEN, "/privacy")).text
    assert "- share_pace: off" in shown and "- share_with_org: on" in shown
    assert "- share_pace: on" in (await lake.ok(AVA, "/privacy")).text  # one's own only


async def test_share_profile_hides_goal_and_bio_from_teammates(lake: Club) -> None:
    await lake.ok(BEN, '/settings goal:"Valencia Marathon" bio:"Loves hills"')
    seen = (await lake.ok(AVA, "/profile ben")).text
    assert "Goal race: Valencia Marathon" in seen and "Bio: Loves hills" in seen
    await lake.ok(BEN, "/privacy share_profile off")
    seen = (await lake.ok(AVA, "/profile ben")).text
    assert "Valencia" not in seen and "Loves hills" not in seen
    assert "ben@lake.run" not in seen
    # coaches see the full profile regardless
    assert "Goal race: Valencia Marathon" in (await lake.ok(KAI, "/profile ben")).text


PRIVACY_REFUSALS: list[Case] = [
    (BEN, "/privacy share_everything on", "setting must be one of"),
    (BEN, "/privacy share_pace", "Say on or off"),
    (BEN, "/privacy share_pace maybe", "not on or off"),
    (BEN, "/privacy share_pace off extra", "did not expect 'extra'"),
]


async def test_privacy_refusals(lake: Club, subtests: pytest.Subtests) -> None:
    await refused_each(lake, subtests, PRIVACY_REFUSALS)
    assert "Usage: /privacy" in (await lake.no(BEN, "/privacy share_pace")).text
    assert "- share_pace: on" in (await lake.ok(BEN, "/privacy")).text


# -- /help -------------------------------------------------------------------------------

ATHLETE_HIDDEN = (
    "/add-member",
    "/add-coach",
    "/remove-member",
    "/members",
    "/member ",
    "/roster",
    "/audit",
    "/note ",
    "/notes",
    "/invitations",
    "/invite-link",
    "/workout create",
    "/workout edit",
    "/workout delete",
    "/transfer-head-coach",
    "/assign-athlete",
    "/setup-org",
    "/join",
)


def usages(text: str) -> list[str]:
    return [line.split(" — ")[0] for line in text.splitlines()[1:]]


async def test_athlete_help_lists_no_coach_commands(lake: Club) -> None:
    said = await lake.ok(AVA, "/help")
    assert said.text.startswith("Commands you can use:")
    lines = usages(said.text)
    for shown in ("/profile", "/settings", "/privacy", "/workout list", "/workout show", "/help"):
        assert any(line.startswith(shown) for line in lines), shown
    for hidden in ATHLETE_HIDDEN:
        assert not any(line.startswith(hidden) for line in lines), hidden


async def test_help_follows_the_role(lake: Club) -> None:
    head = usages((await lake.ok(HC, "/help")).text)
    assistant = usages((await lake.ok(KAI, "/help")).text)
    newcomer = usages((await lake.ok("loner@else.where", "/help")).text)

    def has(lines: list[str], command: str) -> bool:
        return any(line.startswith(command + " ") or line == command for line in lines)

    for command in ("/audit", "/transfer-head-coach", "/remove-member", "/assign-athlete"):
        assert has(head, command) and not has(assistant, command), command
    for command in ("/add-member", "/roster", "/members", "/note", "/workout create"):
        assert has(head, command) and has(assistant, command), command
    assert has(head, "/invitations revoke") and not has(assistant, "/invitations revoke")
    assert has(newcomer, "/setup-org") and has(newcomer, "/join")
    assert not has(newcomer, "/members") and not has(newcomer, "/workout list")
    assert not has(head, "/join")


async def test_item_04_help_for_one_command_lists_its_parameters(lake: Club) -> None:
    """Issue 12 item 4: after the usage line and summary, one line per parameter with
    its help text — positionals and flags by name, options as `key:`."""
    lines = (await lake.ok(HC, "/help add-member")).text.splitlines()
    assert lines == [
        "/add-member EMAIL|@member [group:G] [plan:P start:DATE] [coach:C] [user:@mention]",
        "    add an athlete to your organization, or invite them",
        "    person  an e-mail, or an @mention of the person to add or invite",
        "    group:  put them in this group",
        "    plan:  assign them this plan (start: says from when)",
        "    start:  the plan's first day: 2027-01-04, today, tomorrow, mon…sun",
        "    coach:  the assistant coach whose roster they join: e-mail, @mention or name",
        "    user:  the chat user (@mention) who gets the invitation; the e-mail is your note",
    ]
    log = (await lake.ok(AVA, "/help log")).text.splitlines()
    assert "    private  only you see it" in log  # a bare-word flag, not `private:`
    # a family: each subcommand with its own parameters, nothing without a help text
    family = (await lake.ok(HC, "/help workout")).text.splitlines()
    assert "    name:  a new name for the workout" in family  # the key, not field `rename`
    assert "    distance:  the distance, like 10k, 800m, 6.2mi, half, marathon" in family
    assert all(line.strip() and not line.endswith(" ") for line in family)


async def test_help_for_one_command(lake: Club) -> None:
    said = await lake.ok(HC, "/help add-member")
    assert said.text.splitlines()[0] == (
        "/add-member EMAIL|@member [group:G] [plan:P start:DATE] [coach:C] [user:@mention]"
    )
    assert (await lake.ok(KAI, "/help /ADD-MEMBER")).text == said.text
    workout = (await lake.ok(HC, "/help workout")).text
    for sub in ("create", "list", "show", "edit", "delete"):
        assert f"/workout {sub}" in workout
    athlete_workout = (await lake.ok(AVA, "/help workout")).text
    assert "/workout list" in athlete_workout and "/workout create" not in athlete_workout
    refused = await lake.no(AVA, "/help add-member")
    assert "No command /add-member that you can use" in refused.text
    assert "No command /frobnicate" in (await lake.no(AVA, "/help frobnicate")).text
