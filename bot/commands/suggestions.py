"""Name suggestions for autocomplete. The repository filters them by the same policy
clauses the commands use to find things, so autocomplete never offers what a command
would refuse; what a suggestion shows (an e-mail or a name) is decided here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.policy import Action, Thing, Viewer, permits

if TYPE_CHECKING:
    from storage.unit_of_work import UnitOfWork

THING_KINDS = {"group": Thing.GROUP, "workout": Thing.WORKOUT, "plan": Thing.PLAN}


async def suggestions(
    uow: UnitOfWork, viewer: Viewer, kind: str, prefix: str, limit: int
) -> list[str]:
    if viewer.org_id is None:
        return []
    if kind == "member":
        emails = permits(viewer, Action.VIEW_MEMBERS)  # SPEC §2: e-mails for coaches only
        found = await uow.repo.member_names_starting(viewer, prefix, limit, by_email=emails)
        return [(email or name) if emails else name for name, email in found]
    if kind in THING_KINDS:
        return await uow.repo.thing_names_starting(THING_KINDS[kind], viewer, prefix, limit)
    return []
