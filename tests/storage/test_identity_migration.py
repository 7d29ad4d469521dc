"""Migration 0005 (identity by proof) reads yesterday's data honestly (issue 10): nothing
recorded how an identity reached an account, so Slack identities are re-checked on next
use, console ones stand, and Discord identities on e-mail accounts — put there by a
mention or a code — are split off or lose the typed e-mail, with everyone told.
Seeded in the shape of revision 0004, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import upgrade
from tests.storage import old_shape as old
from tests.storage.test_migrations import empty  # noqa: F401  (the fixture)

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _identity(conn: object, account: int, platform: str, space: str, user: str) -> int:
    return await old.insert(
        conn,  # type: ignore[arg-type]
        "chat_identities",
        account_id=account,
        platform=platform,
        space_id=space,
        user_id=user,
    )


async def test_the_past_is_read_honestly(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty, "0004")
    async with empty.begin() as conn:
        org = await old.org(conn, "Lake", AT)
        coach = await old.account(conn, "coach@lake.run", AT)
        await old.membership(conn, org, coach, AT, role="head")
        await _identity(conn, coach, "console", "", "coach@lake.run")
        # a Slack user: re-checked on next use
        sam = await old.account(conn, "sam@lake.run", AT)
        slack_id = await _identity(conn, sam, "slack", "T1", "USAM")
        # a coach's `/add-member dee@ user:@dee` on Discord: the e-mail was only typed
        dee = await old.account(conn, "dee@lake.run", AT)
        dee_member = await old.membership(conn, org, dee, AT, role="athlete")
        dee_discord = await _identity(conn, dee, "discord", "", "4242")
        await old.activity(conn, dee, AT, public_id="DEERVN2")
        await old.insert(
            conn,
            "audit_log",
            org_id=org,
            actor_account_id=coach,
            action="add_member",
            target_account_id=dee,
            detail="",
            at=AT,
        )
        # ann proved her e-mail on the console; a Discord user was named for it later
        ann = await old.account(conn, "ann@lake.run", AT)
        await _identity(conn, ann, "console", "", "ann@lake.run")
        ann_run = await old.activity(conn, ann, AT, public_id="ANNRVN2")
        intruder = await _identity(conn, ann, "discord", "", "666")
        # two Discord users named for one e-mail: the first keeps the account
        pat = await old.account(conn, "pat@lake.run", AT)
        pat_first = await _identity(conn, pat, "discord", "", "100")
        pat_second = await _identity(conn, pat, "discord", "", "101")

    await upgrade(empty)

    async with empty.connect() as conn:

        async def one(sql: str, **params: object) -> tuple:
            return tuple((await conn.execute(text(sql), params)).one())

        async def owner(identity: int) -> int:
            return (await one("SELECT account_id FROM chat_identities WHERE id = :i", i=identity))[
                0
            ]

        proofs = dict((await conn.execute(text("SELECT id, proof FROM chat_identities"))).all())
        assert proofs[slack_id] == "legacy"
        checked = await one("SELECT checked_at FROM chat_identities WHERE id = :i", i=slack_id)
        assert checked == (None,)
        assert (await one("SELECT email FROM accounts WHERE id = :a", a=sam)) == ("sam@lake.run",)

        # dee keeps her account, her club and her run, but not the typed e-mail
        assert await owner(dee_discord) == dee
        assert proofs[dee_discord] == "created"
        assert (await one("SELECT email FROM accounts WHERE id = :a", a=dee)) == (None,)
        assert (await one("SELECT count(*) FROM activities WHERE account_id = :a", a=dee)) == (1,)
        note = await one(
            "SELECT author_account_id, text FROM coach_notes WHERE athlete_membership_id = :m",
            m=dee_member,
        )
        assert note[0] == coach and "dee@lake.run" in note[1] and "not verified" in note[1]

        # the Discord user named for ann's e-mail gets an empty account of their own
        split = await owner(intruder)
        assert split != ann and proofs[intruder] == "created"
        assert (await one("SELECT email FROM accounts WHERE id = :a", a=split)) == (None,)
        assert (await one("SELECT count(*) FROM activities WHERE account_id = :a", a=split)) == (0,)
        assert (await one("SELECT account_id FROM activities WHERE id = :r", r=ann_run)) == (ann,)

        # pat's first Discord identity keeps the account; the second is split off
        assert await owner(pat_first) == pat
        assert await owner(pat_second) != pat

        # everyone concerned is told, once each
        told = [
            account
            for (account,) in (
                await conn.execute(text("SELECT account_id FROM outbox WHERE kind = 'notice'"))
            ).all()
        ]
        for account in (dee, ann, split, pat, await owner(pat_second)):
            assert told.count(account) == 1, (account, told)
        assert coach not in told and sam not in told


async def test_a_fresh_database_needs_no_reading_of_the_past(empty: AsyncEngine) -> None:  # noqa: F811
    await upgrade(empty)
    async with empty.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0
