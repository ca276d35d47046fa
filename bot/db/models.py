"""Imports every table so metadata (and Alembic) sees the whole schema."""

from bot.adapters.state_storage import BotStateRecord
from bot.catalog.models import CatalogVersion, PhoneModel
from bot.conversations.models import ConversationReferenceRecord
from bot.db.base import Base
from bot.directory.models import Employee, Unit

__all__ = [
    "Base",
    "BotStateRecord",
    "CatalogVersion",
    "ConversationReferenceRecord",
    "Employee",
    "PhoneModel",
    "Unit",
]
