"""Questions about the catalog: what is on offer now, and what a model costs the employee."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.models import CatalogVersion, PhoneModel

COMPACT_SCREEN_MAX_INCHES = 6.3


@dataclass(frozen=True)
class Preferences:
    """What the employee said matters; None means 'no preference'."""

    os: str | None = None  # "ios" or "android"
    max_monthly_cents: int | None = None
    camera_first: bool = False
    size: str | None = None  # "compact" or "large"


async def current_version(*, session: AsyncSession) -> CatalogVersion | None:
    return await session.scalar(
        select(CatalogVersion)
        .where(CatalogVersion.is_current.is_(True))
        .order_by(CatalogVersion.id.desc())
        .limit(1)
    )


async def available_models(*, session: AsyncSession) -> list[PhoneModel]:
    """The current catalog's models that can be ordered, base model first, then by price."""
    version = await current_version(session=session)
    if version is None:
        return []
    rows = await session.scalars(
        select(PhoneModel)
        .where(PhoneModel.catalog_version_id == version.id, PhoneModel.available.is_(True))
        .order_by(PhoneModel.is_base.desc(), PhoneModel.price_cents, PhoneModel.name)
    )
    return list(rows)


async def base_model(*, session: AsyncSession, catalog_version_id: int) -> PhoneModel | None:
    return await session.scalar(
        select(PhoneModel).where(
            PhoneModel.catalog_version_id == catalog_version_id, PhoneModel.is_base.is_(True)
        )
    )


async def orderable_model(*, session: AsyncSession, model_id: int) -> PhoneModel | None:
    """The model as it is in today's catalog (the same SKU after a re-import); None if withdrawn."""
    version = await current_version(session=session)
    model = await session.get(PhoneModel, model_id)
    if model is None or version is None:
        return None
    if model.catalog_version_id != version.id:
        model = await session.scalar(
            select(PhoneModel).where(
                PhoneModel.catalog_version_id == version.id, PhoneModel.sku == model.sku
            )
        )
    return model if model is not None and model.available else None
