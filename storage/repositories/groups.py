"""Groups, their members and their linked channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Select,
    bindparam,
    delete,
    func,
    select,
)

from bot.policy import Thing, Viewer
from bot.text import name_key
from storage.models import (
    Group,
    GroupChannel,
    GroupMember,
)
from storage.repositories.base import RepositoryBase
from storage.visibility import per_viewer_shape, thing_filter, viewer_params

_GROUPS_OF = (
    select(Group)
    .join(GroupMember, GroupMember.group_id == Group.id)
    .where(GroupMember.membership_id == bindparam("member"))
    .order_by(Group.name_key)
)

_GROUP_BY_NAME = select(Group).where(
    Group.org_id == bindparam("org"), Group.name_key == bindparam("key")
)

_GROUPS = select(Group).where(Group.org_id == bindparam("org")).order_by(Group.name_key)

_LEAVE_GROUP = (
    delete(GroupMember)
    .where(
        GroupMember.group_id == bindparam("group"),
        GroupMember.membership_id == bindparam("member"),
    )
    # the session cannot evaluate parametric criteria on the places it holds
    .execution_options(synchronize_session=False)
)


@per_viewer_shape
def _visible_group(viewer: Viewer) -> Select[Group]:
    """Group `key` of org `org`, if the viewer may see it (athletes: their own groups)."""
    return _GROUP_BY_NAME.where(thing_filter(Thing.GROUP, viewer))


@per_viewer_shape
def _visible_groups(viewer: Viewer) -> Select[Group]:
    return _GROUPS.where(thing_filter(Thing.GROUP, viewer))


class GroupQueries(RepositoryBase):
    async def groups_of(self, membership_id: int) -> list[Group]:
        return list((await self.s.scalars(_GROUPS_OF, {"member": membership_id})).all())

    async def group_by_name(self, org_id: int, name: str) -> Group | None:
        """Any group of that name, seen or not: for uniqueness and for code that checks
        what the caller may see itself."""
        params = {"org": org_id, "key": name_key(name)}
        return (await self.s.scalars(_GROUP_BY_NAME, params)).first()

    async def visible_group(self, viewer: Viewer, org_id: int, name: str) -> Group | None:
        """The group of that name if the policy lets the viewer see it."""
        params = {**viewer_params(viewer), "org": org_id, "key": name_key(name)}
        return (await self.s.scalars(_visible_group(viewer), params)).first()

    async def groups(self, org_id: int) -> list[Group]:
        return list((await self.s.scalars(_GROUPS, {"org": org_id})).all())

    async def visible_groups(self, viewer: Viewer, org_id: int) -> list[Group]:
        params = {**viewer_params(viewer), "org": org_id}
        return list((await self.s.scalars(_visible_groups(viewer), params)).all())

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

    async def create_group(self, org_id: int, name: str, key: str, at: datetime) -> Group:
        """`key`: the name's `name_key`, checked to fit by the caller."""
        group: Group = await self.add(Group(org_id=org_id, name=name, name_key=key, created_at=at))
        return group

    async def rename_group(self, group: Group, name: str, key: str) -> None:
        group.name, group.name_key = name, key
        await self.s.flush()

    async def delete_group(self, group: Group) -> None:
        """Its places and channel links cascade; its athletes stay in the org."""
        await self.delete(group)

    async def join_group(self, group_id: int, membership_id: int) -> None:
        await self.add(GroupMember(group_id=group_id, membership_id=membership_id))

    async def leave_group(self, group_id: int, membership_id: int) -> bool:
        """False when the member was not in the group."""
        params = {"group": group_id, "member": membership_id}
        result = await self.s.execute(_LEAVE_GROUP, params)
        return bool(getattr(result, "rowcount", 0))

    async def link_channel(
        self, group_id: int, platform: str, space_id: str, channel_id: str, at: datetime
    ) -> None:
        """The group's one channel on that platform: a link made before is replaced."""
        for old in await self.group_channels(group_id):
            if old.platform == platform:
                await self.delete(old)
        await self.add(
            GroupChannel(
                group_id=group_id,
                platform=platform,
                space_id=space_id,
                channel_id=channel_id,
                linked_at=at,
            )
        )
