"""Tables of units and employees; the directory sync fills them, the bot adds first contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, utcnow


class Unit(Base):
    """An organisational unit of the city whose rollout turn comes as one."""

    __tablename__ = "unit"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    employees: Mapped[list[Employee]] = relationship(back_populates="unit")


class Employee(Base):
    """A city employee, keyed by Azure AD object id."""

    __tablename__ = "employee"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    user_principal_name: Mapped[str | None] = mapped_column(String(320), unique=True)
    employee_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    directory_language: Mapped[str | None] = mapped_column(String(16))
    chosen_language: Mapped[str | None] = mapped_column(String(8))
    account_enabled: Mapped[bool] = mapped_column(default=True)
    first_seen_at: Mapped[datetime | None]
    welcomed_at: Mapped[datetime | None]
    department: Mapped[str | None] = mapped_column(String(64))
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit | None] = relationship(back_populates="employees")


class DirectorySyncState(Base):
    """Where the last directory sync left off, so the next one asks only for changes."""

    __tablename__ = "directory_sync_state"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    delta_link: Mapped[str | None] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(default=0)
    last_full_sync_at: Mapped[datetime | None]
    last_delta_sync_at: Mapped[datetime | None]
    last_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
