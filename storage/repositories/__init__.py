"""Queries the core asks for, by intent, one module per aggregate (ARCHITECTURE:
every SQL statement of the project lives in `storage/`). No policy decisions here: list
queries that depend on who is asking take their WHERE clause from `storage.visibility`,
compiled from `bot.policy`'s table.

`Repository` gathers the aggregates behind the one `uow.repo` a command uses, so a
handler never needs to know which module holds a query."""

from __future__ import annotations

from storage.repositories.accounts import AccountQueries
from storage.repositories.activities import ActivityQueries
from storage.repositories.audit import AuditQueries
from storage.repositories.base import RepositoryBase
from storage.repositories.calendar import CalendarQueries
from storage.repositories.compliance import ComplianceQueries
from storage.repositories.deliveries import DeliveryQueries
from storage.repositories.erasure import ErasureQueries
from storage.repositories.events import EventQueries
from storage.repositories.exports import ExportQueries
from storage.repositories.groups import GroupQueries
from storage.repositories.invitations import InvitationQueries
from storage.repositories.leaderboard import LeaderboardQueries
from storage.repositories.members import Member, MemberQueries
from storage.repositories.outbox import OutboxQueries
from storage.repositories.pace import PaceQueries
from storage.repositories.plans import PlanQueries
from storage.repositories.proof import ProofQueries
from storage.repositories.rosters import RosterQueries
from storage.repositories.schedules import ScheduleQueries
from storage.repositories.suggestions import SuggestionQueries
from storage.repositories.training import TrainingQueries
from storage.repositories.workouts import WorkoutQueries

__all__ = ["Member", "Repository"]


class Repository(
    AccountQueries,
    MemberQueries,
    RosterQueries,
    GroupQueries,
    InvitationQueries,
    PlanQueries,
    WorkoutQueries,
    TrainingQueries,
    ActivityQueries,
    LeaderboardQueries,
    AuditQueries,
    ProofQueries,
    OutboxQueries,
    SuggestionQueries,
    DeliveryQueries,
    ScheduleQueries,
    ComplianceQueries,
    ErasureQueries,
    ExportQueries,
    CalendarQueries,
    PaceQueries,
    EventQueries,
    RepositoryBase,
):
    """Every aggregate's queries on one open session."""
