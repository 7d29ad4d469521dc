"""Groups, their members and their linked channels."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    bindparam,
    func,
    select,
)

from bot.text import name_key
from storage.models import (
    Group,
    GroupChannel,
    GroupMember,
)
from storage.repositories.base import RepositoryBase

_GROUPS_OF = (
    select(Group)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .where(GroupMember.membership_id == bindparam("member"))
    .order_by(Group.name_key)
)


class GroupQueries(RepositoryBase):
    async def groups_of(self, membership_id: int) -> list[Group]:
        return list((await self.s.scalars(_GROUPS_OF, {"member": membership_id})).all())

    async def group_by_name(
        self, org_id: int, name: str, visible: ColumnElement[bool] | None = None
    ) -> Group | None:
        """`visible`: the policy's filter for the caller (None: any, for uniqueness)."""
        query = select(Group).where(Group.org_id == org_id, Group.name_key == name_key(name))
        if visible is not None:
            query = query.where(visible)
        return (await self.s.scalars(query)).first()

    async def groups(self, org_id: int, visible: ColumnElement[bool] | None = None) -> list[Group]:
        query = select(Group).where(Group.org_id == org_id).order_by(Group.name_key)
        if visible is not None:
            query = query.where(visible)
        return list((await self.s.scalars(query)).all())

    async def group_sizes(self, group_ids: list[int]) -> dict[int, int]:
        query = (
            select(GroupMember.group_id, func.count())
            .where(GroupMember.group_id.in_(group_ids))
            .group_by(GroupMember.group_id)
        )
        return {gid: int(n) for gid, n in (await self.s.execute(query)).all()}

    async def group_channels(self, group_id: int) -> list[GroupChannel]:
        query = select(GroupChannel).where(GroupChannel.group_id == group_id)
        return list((await self.s.scalars(query.order_by(GroupChannel.id))).all())

    async def in_group(self, group_id: int, membership_id: int) -> GroupMember | None:
        return await self.s.get(GroupMember, (group_id, membership_id))

    async def group_for_channel(
        self, platform: str, space_id: str, channel_id: str
    ) -> Group | None:
        query = (
            select(Group)
            .join(GroupChannel, GroupChannel.group_id == Group.id)
            .where(
                GroupChannel.platform == platform,
                GroupChannel.space_id == space_id,
                GroupChannel.channel_id == channel_id,
            )
        )
        return (await self.s.scalars(query)).first()
