"""Per-recipient results of a campaign, as CSV for Excel: who got it, who did not, and why;
and, for an announcement that asked for it, when each acknowledged it as read."""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.announcements.receipts import receipts_of
from bot.db.base import as_utc
from bot.directory.models import Employee, Unit
from bot.i18n import texts
from bot.notifications.models import Notification
from bot.spreadsheet import excel_text

HEADERS = (
    "henkilö",
    "käyttäjätunnus",
    "yksikkö",
    "tila",
    "syy",
    "yrityksiä",
    "lähetetty",
    "tapa",
    "kuitattu",
)


async def write_recipients_csv(*, session: AsyncSession, campaign_id: int, stream: TextIO) -> int:
    """`;`-separated UTF-8 with BOM, one row per recipient in name order; returns the rows."""
    rows = (
        await session.execute(
            select(Notification, Employee.display_name, Employee.user_principal_name, Unit.name_fi)
            .outerjoin(Employee, Employee.aad_object_id == Notification.recipient)
            .outerjoin(Unit, Unit.code == Employee.unit_code)
            .where(Notification.campaign_id == campaign_id)
            .order_by(Employee.display_name, Notification.recipient)
        )
    ).all()
    t = texts("fi")
    acknowledged = await receipts_of(session=session, campaign_id=campaign_id)
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";")
    writer.writerow(HEADERS)
    for notification, name, upn, unit in rows:
        writer.writerow(
            [
                excel_text(name or notification.recipient),
                excel_text(upn),
                excel_text(unit),
                notification.state,
                notification.reason or "",
                notification.attempts,
                t.datetime(as_utc(notification.sent_at)) if notification.sent_at else "",
                notification.outcome or "",
                t.datetime(acknowledged[notification.recipient])
                if notification.recipient in acknowledged
                else "",
            ]
        )
    return len(rows)
