"""Every table of every domain, so Alembic (env.py) and the schema test see the whole schema."""

from bot.adapters.state_storage import BotStateRecord
from bot.announcements.models import AnnouncementDraft, AnnouncementReceipt
from bot.catalog.models import CatalogVersion, PhoneModel
from bot.choices.models import PhoneChoice
from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import Base
from bot.deductions.models import (
    DeductionPlan,
    PayrollCorrection,
    PayrollImport,
    PayrollPosting,
    PendingNotice,
)
from bot.directory.models import DirectorySyncState, Employee, Unit
from bot.faq.models import FaqFeedback, FaqQuestion
from bot.ict.models import FileUpload
from bot.notifications.models import Campaign, Notification, SendPace
from bot.privacy.models import AuditEvent, CopyLink
from bot.rollout.models import RolloutWave, RolloutWaveUnit
from bot.tickets.models import HelpdeskChannel, HelpdeskMember, Ticket, TicketEvent

__all__ = [
    "AnnouncementDraft",
    "AnnouncementReceipt",
    "AuditEvent",
    "Base",
    "BotStateRecord",
    "Campaign",
    "CatalogVersion",
    "ConversationReferenceRecord",
    "CopyLink",
    "DeductionPlan",
    "DirectorySyncState",
    "Employee",
    "FaqFeedback",
    "FaqQuestion",
    "FileUpload",
    "HelpdeskChannel",
    "HelpdeskMember",
    "Notification",
    "PayrollCorrection",
    "PayrollImport",
    "PayrollPosting",
    "PendingNotice",
    "PhoneChoice",
    "PhoneModel",
    "RolloutWave",
    "RolloutWaveUnit",
    "SendPace",
    "Ticket",
    "TicketEvent",
    "Unit",
]
