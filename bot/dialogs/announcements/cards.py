"""The announcement card its recipients get, sent or reminded, and acknowledged in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.announcements import receipts
from bot.announcements import service as announcements
from bot.announcements.service import SentAnnouncement
from bot.dialogs.actions import Verb, execute, submit
from bot.dialogs.cards import card, text_block
from bot.dialogs.unasked import Unasked
from bot.i18n import Texts

Card = dict[str, Any]


def announcement_card(
    t: Texts,
    *,
    title: str,
    text: str,
    image_url: str = "",
    links: list[tuple[str, str]] | None = None,
    receipt_for: int | None = None,
    acknowledged_at: datetime | None = None,
    reminder: bool = False,
) -> Card:
    """What every recipient sees: the author's Teams markdown, their image and their link; and,
    when the announcement asks for it (`receipt_for`, its campaign), the button that
    acknowledges it, or when it was acknowledged."""
    body: list[dict[str, Any]] = []
    if reminder:
        body.append(text_block(t("announce.reminder"), weight="Bolder", color="Accent"))
    body += [
        text_block(title, size="Large", weight="Bolder", style="heading"),
        text_block(text),
    ]
    if image_url:
        body.append({"type": "Image", "url": image_url, "altText": title, "size": "Stretch"})
    actions: list[dict[str, Any]] = []
    if receipt_for is not None and acknowledged_at is not None:
        body.append(
            text_block(t("announce.acknowledged", when=t.datetime(acknowledged_at)), isSubtle=True)
        )
    elif receipt_for is not None:
        body.append(text_block(t("announce.receipt_asked"), isSubtle=True, size="Small"))
        actions.append(
            execute(t("announce.acknowledge"), Verb.ANNOUNCEMENT_ACKNOWLEDGE, campaign=receipt_for)
        )
    for link_title, link_url in links or []:
        actions.append({"type": "Action.OpenUrl", "title": link_title, "url": link_url})
    actions.append(submit(t("menu.open_menu"), Verb.OPEN_MENU))
    return card(body, actions)


def sent_announcement_card(t: Texts, announcement: SentAnnouncement) -> Card:
    """The announcement in the recipient's language, as sent, reminded or acknowledged."""
    title, text = announcement.content(t.language)
    return announcement_card(
        t,
        title=title,
        text=text,
        image_url=announcement.image_url,
        links=announcement.links,
        receipt_for=announcement.campaign_id if announcement.asks_receipt else None,
        acknowledged_at=announcement.acknowledged_at,
        reminder=announcement.reminder,
    )


UNASKED = {
    announcements.ANNOUNCEMENT: Unasked(announcements.announcement_to_tell, sent_announcement_card),
    receipts.ANNOUNCEMENT_REMINDER: Unasked(receipts.reminder_to_tell, sent_announcement_card),
}
