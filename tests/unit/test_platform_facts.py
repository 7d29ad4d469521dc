"""The platform facts the core decides by (`bot.platforms`), and the constraint table
(`bot.conflicts`): both are data the pipeline reads instead of naming a platform or a
driver, so each row is checked here against what the SPEC promises."""

from __future__ import annotations

from bot.commands.base import Caller, identity_space, mention_of
from bot.conflicts import UNNAMED, conflict_message
from bot.messages import ChannelRef
from bot.platforms import facts_of
from bot.ports import Conflict


def test_what_each_platform_vouches_for() -> None:
    console, slack, discord = facts_of("console"), facts_of("slack"), facts_of("discord")
    # SPEC §5a: the console's e-mail is the identity; Slack's proves within bound
    # workspaces (re-read daily); Discord tells no e-mail at all
    assert console.trusted_email and console.email_proof == "console"
    assert not slack.trusted_email and slack.email_proof_by_workspace
    assert slack.email_proof == "slack_email"
    assert not discord.tells_email and not discord.email_proof_by_workspace
    # only the console has no workspaces and no mentions
    assert [f.workspaces for f in (console, slack, discord)] == [False, True, True]
    assert [f.mentions for f in (console, slack, discord)] == [False, True, True]


def test_an_unknown_platform_vouches_for_nothing() -> None:
    facts = facts_of("matrix")
    assert not facts.tells_email and not facts.trusted_email
    assert not facts.global_users and facts.workspaces
    assert facts.mention("u1") == "<@u1> on matrix"


def test_identities_are_keyed_per_workspace_except_discords() -> None:
    assert identity_space(Caller(platform="slack", user_id="U1", space_id="T1")) == "T1"
    assert identity_space(Caller(platform="discord", user_id="9", space_id="G1")) == ""
    assert identity_space(Caller(platform="console", user_id="a@x.org")) == ""


def test_how_people_and_their_identities_are_named() -> None:
    assert mention_of(Caller(platform="console", user_id="a@x.org")) == "a@x.org"
    assert mention_of(Caller(platform="slack", user_id="U1", space_id="T1")) == "<@U1> on Slack"
    assert mention_of(Caller(platform="discord", user_id="9")) == "<@9> on Discord"
    assert facts_of("console").where("", "a@x.org") == "console, a@x.org"
    assert facts_of("slack").where("T1", "U1") == "Slack workspace T1, <@U1>"
    assert facts_of("discord").where("", "9") == "Discord, <@9>"


def test_only_console_channels_belong_to_the_org() -> None:
    assert ChannelRef("console", "", "general", "#general").org_scoped
    assert not ChannelRef("slack", "T1", "C1").org_scoped
    assert not ChannelRef("discord", "G1", "55").org_scoped


def test_a_constraint_reads_the_same_on_both_stores() -> None:
    sqlite = Conflict("UNIQUE constraint failed: memberships.account_id")
    postgres = Conflict(
        'duplicate key value violates unique constraint "uq_memberships_account_id"'
    )
    for detail in (sqlite, postgres):
        assert (
            conflict_message(detail) == "That person is already a member of another organization."
        )
        # about oneself, the same constraint is worded from the caller's side
        assert conflict_message(detail, "setup-org").startswith("You already belong")
    assert conflict_message(Conflict("CHECK constraint failed: something new")) == UNNAMED
