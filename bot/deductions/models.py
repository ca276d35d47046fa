"""The deduction ledger: a plan per Free Choice phone and the instalments payroll posted.

Paid, remaining and the end month are never stored: they follow from the postings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, utcnow


class DeductionPlan(Base):
    """What the employee agreed to: the share and its instalments, from the first month on."""

    __tablename__ = "deduction_plan"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    aad_object_id: Mapped[str] = mapped_column(ForeignKey("employee.aad_object_id"), index=True)
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("phone_choice.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # "choice" or "import"
    model_name: Mapped[str] = mapped_column(String(200))
    total_cents: Mapped[int]
    instalment_count: Mapped[int]
    first_instalment_cents: Mapped[int]
    instalment_cents: Mapped[int]
    first_month: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayrollImport(Base):
    """One payroll file that changed the ledger; the same file again records nothing."""

    __tablename__ = "payroll_import"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int]
    added: Mapped[int]
    corrected: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class PayrollPosting(Base):
    """The amount payroll deducted for one plan in one pay period (first day of the month)."""

    __tablename__ = "payroll_posting"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("deduction_plan.id"), index=True)
    period: Mapped[date]
    amount_cents: Mapped[int]
    import_id: Mapped[int] = mapped_column(ForeignKey("payroll_import.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PayrollCorrection(Base):
    """A posting replaced by a later file: the old and the new amount, kept for audit."""

    __tablename__ = "payroll_correction"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    posting_id: Mapped[int] = mapped_column(ForeignKey("payroll_posting.id"), index=True)
    old_amount_cents: Mapped[int]
    new_amount_cents: Mapped[int]
    import_id: Mapped[int] = mapped_column(ForeignKey("payroll_import.id"))
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingNotice(Base):
    """A life event to tell the employee, kept until the notification engine sends it."""

    __tablename__ = "pending_notice"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    aad_object_id: Mapped[str] = mapped_column(ForeignKey("employee.aad_object_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "phone_paid_off"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
