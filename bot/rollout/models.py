"""Waves of units whose choice window opens and closes on given dates (Europe/Helsinki)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, utcnow


class RolloutWave(Base):
    """A window of days in which the units of this wave choose their phones."""

    __tablename__ = "rollout_wave"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    units: Mapped[list[RolloutWaveUnit]] = relationship(
        back_populates="wave", cascade="all, delete-orphan"
    )


class RolloutWaveUnit(Base):
    __tablename__ = "rollout_wave_unit"

    wave_id: Mapped[int] = mapped_column(ForeignKey("rollout_wave.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), primary_key=True, index=True)
    wave: Mapped[RolloutWave] = relationship(back_populates="units")
