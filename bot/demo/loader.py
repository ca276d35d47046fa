"""Load the demo data into an empty database, and leave an already loaded one as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.models import CatalogVersion, PhoneModel
from bot.directory.models import Employee, Unit
from bot.rollout.models import RolloutWave
from bot.rollout.service import schedule_wave


@dataclass(frozen=True)
class DemoCounts:
    units: int
    employees: int
    phone_models: int


def demo_data() -> dict[str, Any]:
    text = resources.files("bot.demo").joinpath("data.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


async def load_demo_data(*, session: AsyncSession) -> DemoCounts:
    """Idempotent: units and people are upserted; the sample catalog is added once."""
    data = demo_data()
    for unit in data["units"]:
        await session.merge(Unit(**unit))
    for person in data["employees"]:
        existing = await session.get(Employee, person["aad_object_id"])
        employee = existing or Employee(aad_object_id=person["aad_object_id"])
        employee.display_name = person["name"]
        employee.user_principal_name = person["upn"]
        employee.employee_number = person["number"]
        employee.unit_code = person["unit"]
        employee.directory_language = person["language"]
        if existing is None:
            session.add(employee)
    has_catalog = await session.scalar(select(func.count()).select_from(CatalogVersion))
    if not has_catalog:
        catalog = data["catalog"]
        version = CatalogVersion(source=catalog["source"], is_example=True, is_current=True)
        version.models = [PhoneModel(**model) for model in catalog["models"]]
        session.add(version)
    await session.flush()
    return DemoCounts(
        units=await _count(session, Unit),
        employees=await _count(session, Employee),
        phone_models=await _count(session, PhoneModel),
    )


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def load_demo_waves(*, session: AsyncSession, today: date) -> int:
    """The demo's rollout waves around `today`, once; the tests' own data leaves them out."""
    if await session.scalar(select(func.count()).select_from(RolloutWave)):
        return 0
    waves = demo_data()["waves"]
    for wave in waves:
        await schedule_wave(
            session=session,
            name=wave["name"],
            opens_on=today + timedelta(days=wave["opens_in_days"]),
            closes_on=today + timedelta(days=wave["closes_in_days"]),
            unit_codes=list(wave["units"]),
        )
    return len(waves)
