"""Catalog versions and the phone models in each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, utcnow


class CatalogVersion(Base):
    """One imported catalog; exactly one is current at a time."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(500))
    is_example: Mapped[bool] = mapped_column(default=False)
    is_current: Mapped[bool] = mapped_column(default=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    models: Mapped[list[PhoneModel]] = relationship(back_populates="catalog_version")


class PhoneModel(Base):
    """A phone in one catalog version; price in integer euro cents."""

    __tablename__ = "phone_model"
    __table_args__ = (UniqueConstraint("catalog_version_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    catalog_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_version.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    brand: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    price_cents: Mapped[int]
    storage_gb: Mapped[int]
    screen_inches: Mapped[float]
    camera_mp: Mapped[int]
    dual_sim: Mapped[bool] = mapped_column(default=True)
    esim: Mapped[bool] = mapped_column(default=True)
    five_g: Mapped[bool] = mapped_column(default=True)
    os: Mapped[str] = mapped_column(String(16))
    available: Mapped[bool] = mapped_column(default=True)
    is_base: Mapped[bool] = mapped_column(default=False)

    catalog_version: Mapped[CatalogVersion] = relationship(back_populates="models")
