"""What to say when the store refuses a write by one of its constraints.

The schema holds some rules itself (one org per person, one head coach, unique names),
so a race lost to another process is refused by the database, not by the check the
handler made a moment earlier. The person should read the same sentence either way:
this table maps the constraint named in `bot.ports.Conflict.detail` to it. SQLite and
PostgreSQL name a constraint differently, hence several fragments per sentence.
"""

from __future__ import annotations

from bot.ports import Conflict

CONFLICTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("memberships.account_id", "uq_memberships_account_id"),
        "That person is already a member of another organization.",
    ),
    (
        ("one_head_coach", "UNIQUE constraint failed: memberships.org_id"),
        "An organization has exactly one head coach.",
    ),
    (("name_key",), "That name is already taken in your organization."),
    (
        ("assignments.coach_membership_id", "uq_assignments_coach"),
        "That athlete is already on that coach's roster.",
    ),
    (("accounts.email", "uq_accounts_email"), "That e-mail already has an account."),
    (
        ("org_spaces.platform", "uq_org_spaces_platform"),
        "This workspace is already bound to an organization.",
    ),
)


# The same constraint read from the caller's side, for commands about the caller.
OWN_CONFLICTS: dict[str, tuple[tuple[str, ...], str]] = {
    "setup-org": (
        ("memberships.account_id", "uq_memberships_account_id"),
        "You already belong to an organization; one organization per person.",
    ),
}

UNNAMED = "That change clashed with another one made at the same moment; nothing was changed."


def conflict_message(exc: Conflict, command: str | None = None) -> str:
    """The sentence for a refused write; `command` (the spec's name) picks the caller's
    own reading of a constraint where there is one."""
    text = exc.detail
    own = OWN_CONFLICTS.get(command or "")
    if own is not None and any(fragment in text for fragment in own[0]):
        return own[1]
    for fragments, message in CONFLICTS:
        if any(fragment in text for fragment in fragments):
            return message
    return UNNAMED
