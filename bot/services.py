"""What adapters ask of the core besides running a command: has this delivery been
handled, what may this caller pick from, where does an account have identities. `Core`
offers each as a thin method (`core.suggest`, ...), so an adapter holds one object; the
work is here, each in a short transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.commands.base import Caller, identity_space
from bot.grammar import GrammarError
from bot.identity import normalised, viewer_of
from bot.ports import Conflict

if TYPE_CHECKING:
    from storage.unit_of_work import UnitOfWork


class AdapterServices:
    def __init__(self, units: Callable[[], UnitOfWork], clock: Clock) -> None:
        self.units = units
        self.clock = clock

    async def first_delivery(self, platform: str, event_id: str) -> bool:
        """True the first time a platform delivery id is seen, False for every retry:
        the record is in the database, so this holds across restarts and processes."""
        async with self.units() as uow:
            try:
                await uow.repo.record_delivery(platform, event_id, self.clock.now())
                await uow.commit()
            except Conflict:
                return False
        return True

    async def suggest(self, caller: Caller, kind: str, prefix: str, limit: int = 25) -> list[str]:
        """Autocomplete (Discord): members, groups, workouts or plans whose name starts
        with `prefix`, among those the caller may see — through the same policy as the
        commands that take them."""
        from bot.commands.suggestions import suggestions

        try:
            caller = normalised(caller)
        except GrammarError:
            return []
        async with self.units() as uow:
            account = await uow.repo.account_by_identity(
                caller.platform, identity_space(caller), caller.user_id
            )
            if account is None and caller.facts.trusted_email and caller.email:
                account = await uow.repo.account_by_email(caller.email)  # the console proves
            if account is None:
                return []
            membership = await uow.repo.membership_of(account.id)
            if membership is None or membership.status == "suspended":
                return []
            if caller.space_id and caller.facts.workspaces:
                bound = await uow.repo.org_for_space(caller.platform, caller.space_id)
                if bound is None or bound.id != membership.org_id:
                    return []  # a space of another org (or none) shows nothing
            viewer = viewer_of(account, membership)
            return await suggestions(uow, viewer, kind, prefix.strip(), limit)

    async def identities(self, account_id: int) -> list[tuple[str, str, str]]:
        """(platform, workspace/guild, user id) of each chat identity of an account."""
        async with self.units() as uow:
            found = await uow.repo.identities_of(account_id)
            return [(i.platform, i.space_id, i.user_id) for i in found]
