"""`/export` and `/export club` (issue 14 item 5) through the real core on both stores:
the files arrive in a DM made at send time, parse back, hold what §2 lets the reader see
— their own everything; for the head coach, no private activity, no duration where pace
is hidden, and nothing about notes or assignments about themselves — and no secret."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from bot.messages import Attachment, Outgoing, Via
from storage.models import Activity
from tests.conftest import Club, Said

HC, KAI, NOOR = "hc@lake.run", "kai@lake.run", "noor@lake.run"
AVA, BEN, CY = "ava@lake.run", "ben@lake.run", "cy@lake.run"


def export_dm(said: Said) -> Outgoing:
    found = [m for m in said.messages if m.via is Via.DM and m.kind.startswith("export")]
    assert len(found) == 1, said.messages
    return found[0]


def file_named(message: Outgoing, start: str) -> Attachment:
    found = [f for f in message.files if f.name.startswith(start)]
    assert len(found) == 1, [f.name for f in message.files]
    return found[0]


def rows(file: Attachment) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(file.data.decode("utf-8"))))


def walk(value: Any) -> list[str]:
    """Every key and string of a JSON document."""
    if isinstance(value, dict):
        return [k for k in value] + [s for v in value.values() for s in walk(v)]
    if isinstance(value, list):
        return [s for v in value for s in walk(v)]
    return [value] if isinstance(value, str) else []


async def test_own_export_holds_everything_of_ones_own(club: Club) -> None:
    await club.basic_club()
    await club.ok(AVA, "/log 8k 42:10")
    await club.ok(AVA, '/log 5k 25:00 private "=HYPERLINK(evil)"')
    await club.ok(KAI, '/note ava "steady week"')
    code = (await club.ok(AVA, "/link")).text
    said = await club.ok(AVA, "/export")
    assert "on its way" in said.text and "direct message" in said.text
    dm = export_dm(said)
    assert dm.email == AVA and dm.account_id is not None
    assert "2 activities" in dm.text and "coachbot-activities" in dm.text

    profile = json.loads(file_named(dm, "coachbot-profile").data)
    assert profile["account"]["email"] == AVA
    assert profile["membership"]["organization"] == "Lakeside Striders"
    assert profile["membership"]["roles"] == "athlete"
    assert profile["privacy"]["share_with_org"] is False
    assert [i["platform"] for i in profile["identities"]] == ["console"]
    # self-denial: no note and no assignment about oneself; and no secret anywhere
    assert profile["membership"]["coach_notes_written"] == []
    assert profile["membership"]["roster"] == []
    words = " ".join(walk(profile))
    assert "steady week" not in words and "kai" not in words
    for secret in ("hash", "token", "code"):
        assert secret not in " ".join(k.lower() for k in walk(profile) if k in profile), secret
    assert all(part not in words for part in code.split() if len(part) >= 6 and "-" in part)

    activities = rows(file_named(dm, "coachbot-activities"))
    assert [(a["distance_m"], a["duration_s"], a["private"]) for a in activities] == [
        ("8000", "2530", "no"),
        ("5000", "1500", "yes"),
    ]
    assert activities[1]["notes"] == "'=HYPERLINK(evil)"  # never a formula in a spreadsheet


async def test_a_coach_exports_their_roster_and_the_notes_they_wrote(club: Club) -> None:
    await club.basic_club()
    await club.ok(KAI, '/note ava "needs rest"')
    await club.ok(HC, '/note ava "head coach note"')
    dm = export_dm(await club.ok(KAI, "/export"))
    membership = json.loads(file_named(dm, "coachbot-profile").data)["membership"]
    assert membership["roster"] == ["ava"]
    assert [n["text"] for n in membership["coach_notes_written"]] == ["needs rest"]


async def test_the_head_coach_exports_the_club_as_the_policy_lets_them_see_it(
    club: Club,
) -> None:
    await club.basic_club()
    await club.ok(AVA, "/log 8k 42:10")
    await club.ok(AVA, "/log 3k 15:00 private")
    await club.ok(BEN, "/privacy share_with_coaches off")
    await club.ok(BEN, "/log 10k 50:00")
    await club.ok(CY, "/privacy share_activities off")
    await club.ok(CY, "/log 4k 20:00")
    await club.ok(HC, "/member ava labels:fast")
    await club.ok(HC, '/note ava "good form"')
    said = await club.ok(HC, "/export club")
    assert "on its way" in said.text
    dm = export_dm(said)
    assert dm.account_id is not None and "Lakeside Striders" in dm.text

    members = {m["name"]: m for m in rows(file_named(dm, "club-members"))}
    assert set(members) == {"hc", "kai", "noor", "ava", "ben", "cy"}
    assert members["ava"]["labels"] == "fast" and members["ava"]["coaches"] == "kai"
    assert members["ava"]["email"] == AVA and members["kai"]["roles"] == "assistant coach"

    activities = rows(file_named(dm, "club-activities"))
    # ben stopped sharing with coaches, cy shares nothing, ava's private run is hers alone
    assert [(a["athlete"], a["distance_m"], a["duration_s"]) for a in activities] == [
        ("ava", "8000", "2530")
    ]
    notes = rows(file_named(dm, "club-coach-notes"))
    assert [(n["athlete"], n["author"], n["text"]) for n in notes] == [("ava", "hc", "good form")]


async def test_a_head_coach_who_is_an_athlete_gets_nothing_about_themselves(
    club: Club,
) -> None:
    await club.basic_club()
    await club.ok(HC, "/add-coach ben@lake.run")  # ben: coach and athlete, on noor's roster
    await club.ok(NOOR, '/note ben "about ben"')
    await club.ok(HC, '/note ava "about ava"')
    await club.ok(HC, "/member ben labels:secret-label")
    await club.ok(HC, f"/transfer-head-coach {BEN}")
    await club.ok(BEN, "/log 6k 30:00")
    dm = export_dm(await club.ok(BEN, "/export club"))
    members = {m["name"]: m for m in rows(file_named(dm, "club-members"))}
    assert members["ben"]["coaches"] == "" and members["ben"]["labels"] == ""
    notes = rows(file_named(dm, "club-coach-notes"))
    assert [n["text"] for n in notes] == ["about ava"]
    everything = b"".join(f.data for f in dm.files).decode()
    assert "about ben" not in everything and "secret-label" not in everything
    # their own public run is theirs to see, with its duration
    activities = rows(file_named(dm, "club-activities"))
    assert [(a["athlete"], a["duration_s"]) for a in activities] == [("ben", "1800")]
    own = json.loads(file_named(export_dm(await club.ok(BEN, "/export")), "coachbot-p").data)
    assert "about ben" not in json.dumps(own)


async def test_only_the_head_coach_exports_the_club_and_the_refusal_reveals_nothing(
    club: Club,
) -> None:
    await club.basic_club()
    answers = {who: (await club.no(who, "/export club")).text for who in (KAI, AVA)}
    answers["zed"] = (await club.no("zed@else.run", "/export club")).text
    assert len(set(answers.values())) == 1, answers
    assert "head coach" in answers["zed"]
    # and nothing was queued for them
    assert not (await club.say(AVA, "/help")).dms()


async def test_one_export_waits_at_a_time_and_each_request_is_sent_once(club: Club) -> None:
    await club.basic_club()
    first = await club.core.handle(club_caller(AVA), "/export")
    again = await club.core.handle(club_caller(AVA), "/export")
    assert "already on its way" in again[0].text
    sent = await club.app.scheduling.due_now()
    assert [m.kind for m in sent] == ["export"] and "on its way" in first[0].text
    assert await club.app.scheduling.due_now() == []
    assert [m.kind for m in (await club.say(AVA, "/export")).dms()] == ["export"]


async def test_a_large_export_still_works(club: Club) -> None:
    await club.ok(AVA, "/profile")
    async with club.core.uow() as uow:
        account = await uow.repo.account_by_email(AVA)
        assert account is not None
        now = club.clock.now()
        uow.session.add_all(
            Activity(
                account_id=account.id,
                started_at=now - timedelta(hours=n),
                day=(now - timedelta(hours=n)).date(),
                type="run",
                distance_m=5000.0 + n,
                duration_s=1500.0 + n,
                source="chat",
                private=n % 7 == 0,
                created_at=now,
            )
            for n in range(10_000)
        )
        await uow.commit()
    dm = export_dm(await club.ok(AVA, "/export"))
    assert len(rows(file_named(dm, "coachbot-activities"))) == 10_000
    assert "10,000 activities" in dm.text and len(dm.text) < 1000


def club_caller(email: str) -> Any:
    from adapters.console.transcript import console_caller

    return console_caller(email)
