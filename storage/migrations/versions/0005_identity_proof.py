"""Identity by proof (SPEC §5a): optional verified e-mails, how each chat identity was
proven, addressed and declined invitations — and an honest reading of the past.

Nothing in the earlier data records how an identity reached an account, so:

- Slack identities become `legacy`: the core re-reads their e-mail on their next use and
  detaches them when it no longer matches the account;
- console identities are the console's given e-mail, so they keep speaking for it;
- a Discord identity on an account with an e-mail got there by a coach's mention or a
  code, since Discord shows bots no e-mail. When the account has a proven identity too
  (console, Slack), the Discord identity is split off into an e-mail-less account of its
  own, and both sides are told. When Discord identities are all it has, the e-mail was
  only typed: it is removed from the account (which keeps everything it logged, with its
  first Discord identity; any others are split off), it becomes a note by the coach who
  added the person, and the person is told how to prove it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 14:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_accounts = sa.table(
    "accounts",
    sa.column("id", sa.BigInteger),
    sa.column("email", sa.String),
    sa.column("display_name", sa.String),
    sa.column("display_name_set", sa.Boolean),
    sa.column("units", sa.String),
    sa.column("reminder_time", sa.String),
    sa.column("locale", sa.String),
    sa.column("notify_daily", sa.Boolean),
    sa.column("notify_digest", sa.Boolean),
    sa.column("notify_leaderboard", sa.Boolean),
    sa.column("share_activities", sa.Boolean),
    sa.column("share_with_coaches", sa.Boolean),
    sa.column("share_with_group", sa.Boolean),
    sa.column("share_with_org", sa.Boolean),
    sa.column("share_pace", sa.Boolean),
    sa.column("share_profile", sa.Boolean),
    sa.column("created_at", storage.types.UTCDateTime),
)
_identities = sa.table(
    "chat_identities",
    sa.column("id", sa.BigInteger),
    sa.column("account_id", sa.BigInteger),
    sa.column("platform", sa.String),
    sa.column("proof", sa.String),
    sa.column("created_at", storage.types.UTCDateTime),
)
_memberships = sa.table(
    "memberships",
    sa.column("id", sa.BigInteger),
    sa.column("org_id", sa.BigInteger),
    sa.column("account_id", sa.BigInteger),
    sa.column("is_head_coach", sa.Boolean),
)
_audit = sa.table(
    "audit_log",
    sa.column("id", sa.BigInteger),
    sa.column("org_id", sa.BigInteger),
    sa.column("actor_account_id", sa.BigInteger),
    sa.column("action", sa.String),
    sa.column("target_account_id", sa.BigInteger),
)
_notes = sa.table(
    "coach_notes",
    sa.column("org_id", sa.BigInteger),
    sa.column("author_account_id", sa.BigInteger),
    sa.column("athlete_membership_id", sa.BigInteger),
    sa.column("text", sa.Text),
    sa.column("created_at", storage.types.UTCDateTime),
)
_outbox = sa.table(
    "outbox",
    sa.column("key", sa.String),
    sa.column("kind", sa.String),
    sa.column("account_id", sa.BigInteger),
    sa.column("text", sa.Text),
    sa.column("due_at", storage.types.UTCDateTime),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("created_at", storage.types.UTCDateTime),
)


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=True)

    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proof", sa.String(length=16), server_default="legacy", nullable=False)
        )
        batch_op.add_column(
            sa.Column("checked_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint(
            op.f("ck_chat_identities_proof"),
            "proof IN ('created', 'console', 'slack_email', 'verify', 'link', 'legacy')",
        )

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("address_space", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("address_user", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("made_in_platform", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("made_in_space", sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f("ck_invitations_kind"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_email_needs_address"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_invitations_kind"), "kind IN ('email', 'link', 'person')"
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_status"),
            "status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')",
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_email_needs_address"), "kind <> 'email' OR email IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_person_needs_identity"),
            "kind <> 'person' OR address_user IS NOT NULL",
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actions", sa.Text(), nullable=True))

    _read_the_past(op.get_bind())


def _read_the_past(conn: sa.Connection) -> None:
    now = datetime.now(UTC)
    conn.execute(
        _identities.update().where(_identities.c.platform == "console").values(proof="console")
    )
    rows = conn.execute(
        sa.select(_identities.c.id, _identities.c.account_id, _identities.c.platform)
        .join(_accounts, _accounts.c.id == _identities.c.account_id)
        .where(_accounts.c.email.is_not(None))
        .order_by(_identities.c.account_id, _identities.c.id)
    ).all()
    by_account: dict[int, list[tuple[int, str]]] = {}
    for identity_id, account_id, platform in rows:
        by_account.setdefault(account_id, []).append((identity_id, platform))
    for account_id, identities in by_account.items():
        discord = [i for i, platform in identities if platform == "discord"]
        if not discord:
            continue
        proven = any(platform != "discord" for _, platform in identities)
        if proven:
            for identity_id in discord:
                _split_off(conn, account_id, identity_id, now)
            continue
        email = conn.execute(
            sa.select(_accounts.c.email).where(_accounts.c.id == account_id)
        ).scalar_one()
        conn.execute(_accounts.update().where(_accounts.c.id == account_id).values(email=None))
        conn.execute(
            _identities.update().where(_identities.c.id == discord[0]).values(proof="created")
        )
        _note_typed_email(conn, account_id, email, now)
        _tell(
            conn,
            account_id,
            f"migrate:typed:{account_id}",
            f"Your coachbot account no longer uses the e-mail {email}: it was typed in "
            "Discord, never proven. Everything you logged stays with you. To use that "
            "e-mail, prove it with /verify EMAIL, or /link this account from an identity "
            "that has it."
            + (
                " Other Discord users who had been linked to it have accounts of their own now."
                if len(discord) > 1
                else ""
            ),
            now,
        )
        for identity_id in discord[1:]:
            _split_off(conn, account_id, identity_id, now, tell_old=False)


def _split_off(
    conn: sa.Connection, account_id: int, identity_id: int, now: datetime, *, tell_old: bool = True
) -> None:
    """Move one Discord identity to a new e-mail-less account of its own."""
    name = conn.execute(
        sa.select(_accounts.c.display_name).where(_accounts.c.id == account_id)
    ).scalar_one()
    new_id = conn.execute(
        _accounts.insert()
        .values(
            email=None,
            display_name=name,
            display_name_set=False,
            units="km",
            reminder_time="06:00",
            locale="en",
            notify_daily=True,
            notify_digest=True,
            notify_leaderboard=True,
            share_activities=True,
            share_with_coaches=True,
            share_with_group=True,
            share_with_org=False,
            share_pace=True,
            share_profile=True,
            created_at=now,
        )
        .returning(_accounts.c.id)
    ).scalar_one()
    conn.execute(
        _identities.update()
        .where(_identities.c.id == identity_id)
        .values(account_id=new_id, proof="created", created_at=now)
    )
    if tell_old:  # otherwise the owner hears of it in the one message they get
        _tell(
            conn,
            account_id,
            f"migrate:split:{identity_id}:old",
            "A Discord user had been linked to your coachbot account by a coach's mention or a "
            "code, which proves nothing; it is no longer linked. If that was you, type /link "
            "here and /link CODE on Discord.",
            now,
        )
    _tell(
        conn,
        new_id,
        f"migrate:split:{identity_id}:new",
        "Your Discord account was linked to a coachbot account by someone else's word, so it "
        "now has an account of its own. If the other one is yours, type /link there and "
        "/link CODE here; or /join CODE with a code from your coach.",
        now,
    )


def _note_typed_email(conn: sa.Connection, account_id: int, email: str, now: datetime) -> None:
    member = conn.execute(
        sa.select(_memberships.c.id, _memberships.c.org_id, _memberships.c.is_head_coach).where(
            _memberships.c.account_id == account_id
        )
    ).first()
    if member is None or member.is_head_coach:
        return
    author = conn.execute(
        sa.select(_audit.c.actor_account_id)
        .where(
            _audit.c.org_id == member.org_id,
            _audit.c.target_account_id == account_id,
            _audit.c.action.in_(("add_member", "add_coach")),
            _audit.c.actor_account_id.is_not(None),
        )
        .order_by(_audit.c.id.desc())
        .limit(1)
    ).scalar()
    if author is None:
        author = conn.execute(
            sa.select(_memberships.c.account_id).where(
                _memberships.c.org_id == member.org_id, _memberships.c.is_head_coach
            )
        ).scalar()
    if author is None:
        return
    conn.execute(
        _notes.insert().values(
            org_id=member.org_id,
            author_account_id=author,
            athlete_membership_id=member.id,
            text=f"E-mail given when they were added on Discord (not verified): {email}",
            created_at=now,
        )
    )


def _tell(conn: sa.Connection, account_id: int, key: str, text: str, now: datetime) -> None:
    conn.execute(
        _outbox.insert().values(
            key=key,
            kind="notice",
            account_id=account_id,
            text=text,
            due_at=now,
            status="pending",
            attempts=0,
            created_at=now,
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("actions")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_invitations_person_needs_identity"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_email_needs_address"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_invitations_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_invitations_kind"), "kind IN ('email', 'link')")
        batch_op.create_check_constraint(
            op.f("ck_invitations_status"), "status IN ('pending', 'accepted', 'revoked', 'expired')"
        )
        batch_op.create_check_constraint(
            op.f("ck_invitations_email_needs_address"), "kind = 'link' OR email IS NOT NULL"
        )
        batch_op.drop_column("made_in_space")
        batch_op.drop_column("made_in_platform")
        batch_op.drop_column("address_user")
        batch_op.drop_column("address_space")
        batch_op.drop_column("address_platform")
    with op.batch_alter_table("chat_identities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_chat_identities_proof"), type_="check")
        batch_op.drop_column("created_at")
        batch_op.drop_column("checked_at")
        batch_op.drop_column("proof")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=320), nullable=False)
