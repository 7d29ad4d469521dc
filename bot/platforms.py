"""What the core needs to know about a chat platform, as data (SPEC §5a, §7).

The core never asks which platform a caller is on; it asks what that platform can vouch
for: `caller.facts.trusted_email` rather than `caller.platform == "console"`. The adapter
names its platform on every `Caller` and `ChannelRef` it builds, and the facts follow
from that name here — one table, so a rule about proof or channels is read in one place,
and a stored identity or channel row (which has only the name) gets the same facts as a
live caller. A new platform is one row.

Standard library only, like `bot.policy`: a fact is a decision, not an integration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformFacts:
    name: str
    label: str  # how people are told where an identity lives ("on Slack")
    # the proof a chat identity records when the platform's e-mail matched an account;
    # None: the platform tells the bot no e-mail (Discord), so one typed proves nothing
    email_proof: str | None = None
    # the e-mail *is* the user id and proves the account by itself: the console runs on
    # the operator's machine, so whoever types there is who they say
    trusted_email: bool = False
    # the e-mail proves an account only in workspaces bound to the account's org (a
    # workspace admin elsewhere can give any user any address), and is re-read daily
    email_proof_by_workspace: bool = False
    # one user id across every guild and DMs: an identity is not keyed by its space
    global_users: bool = False
    # the platform has workspaces/guilds; without them (the console) a channel name
    # belongs to the caller's org, and wherever one types is "here"
    workspaces: bool = True
    # people can be @mentioned; on the console they are named by e-mail
    mentions: bool = True

    @property
    def tells_email(self) -> bool:
        """The platform tells the bot each user's verified e-mail."""
        return self.email_proof is not None

    def identity_space(self, space_id: str) -> str:
        """The space a chat identity is keyed by."""
        return "" if self.global_users else space_id

    def mention(self, user_id: str) -> str:
        """How a user of this platform is named to others."""
        return f"<@{user_id}> on {self.label}" if self.mentions else user_id

    def channel_mention(self, channel_id: str) -> str:
        """How a channel is written in a message so that it shows as a link to it."""
        return f"<#{channel_id}>" if self.mentions else f"#{channel_id}"

    def channel_name(self, channel_id: str) -> str:
        """A channel's name on a `ChannelRef`: the console's channels are bare names
        within the org (`#runners`); a platform's are its own ids."""
        return channel_id if self.workspaces else f"#{channel_id}"

    def where(self, space_id: str, user_id: str) -> str:
        """Where an identity lives, for the lists that show a person their identities."""
        if not self.mentions:
            return f"{self.label}, {user_id}"
        if self.global_users:
            return f"{self.label}, <@{user_id}>"
        return f"{self.label} workspace {space_id}, <@{user_id}>"


CONSOLE = PlatformFacts(
    name="console",
    label="console",
    email_proof="console",
    trusted_email=True,
    workspaces=False,
    mentions=False,
)
SLACK = PlatformFacts(
    name="slack", label="Slack", email_proof="slack_email", email_proof_by_workspace=True
)
DISCORD = PlatformFacts(name="discord", label="Discord", global_users=True)

PLATFORMS = {facts.name: facts for facts in (CONSOLE, SLACK, DISCORD)}


def facts_of(platform: str) -> PlatformFacts:
    """The facts of a platform by name; an unknown one vouches for nothing."""
    found = PLATFORMS.get(platform)
    return found if found is not None else PlatformFacts(name=platform, label=platform)
