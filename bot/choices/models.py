"""Recorded choices, each keeping the figures the employee saw and accepted."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class ChoiceOption(StrEnum):
    FREE_CHOICE = "free_choice"
    PORI_PHONE = "pori_phone"


class ChoiceStatus(StrEnum):
    CHOSEN = "chosen"  # recorded; the employee may still change it
    ORDERED = "ordered"  # sent to the web shop: no more changes
    DELIVERED = "delivered"
    PAID_OFF = "paid_off"  # the phone is the employee's own; they may choose again
    CHANGED = "changed"  # replaced by a newer choice
    CANCELLED = "cancelled"


OPEN_STATUSES = (ChoiceStatus.CHOSEN, ChoiceStatus.ORDERED, ChoiceStatus.DELIVERED)
_OPEN_SQL = "status IN ('chosen', 'ordered', 'delivered')"


class PhoneChoice(Base):
    """One choice by one employee; at most one open choice per employee (a partial index)."""

    __tablename__ = "phone_choice"
    __table_args__ = (
        Index(
            "uq_phone_choice_open_per_employee",
            "aad_object_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    aad_object_id: Mapped[str] = mapped_column(ForeignKey("employee.aad_object_id"), index=True)
    option: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ChoiceStatus.CHOSEN.value)
    phone_model_id: Mapped[int | None] = mapped_column(ForeignKey("phone_model.id"))
    catalog_version_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_version.id"))
    sku: Mapped[str | None] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(default=0)
    city_share_cents: Mapped[int] = mapped_column(default=0)
    employee_share_cents: Mapped[int] = mapped_column(default=0)
    instalment_count: Mapped[int] = mapped_column(default=0)
    instalment_cents: Mapped[int] = mapped_column(default=0)
    first_instalment_cents: Mapped[int] = mapped_column(default=0)
    first_deduction_month: Mapped[date | None]
    consent_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    consented_at: Mapped[datetime | None]
    consent_language: Mapped[str | None] = mapped_column(String(8))
    consent_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None]
