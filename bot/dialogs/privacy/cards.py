"""The "My data" card: each kind of data with its purpose, readers, retention and rows."""

from __future__ import annotations

from typing import Any

from bot.dialogs.cards import card, text_block
from bot.i18n import Texts
from bot.privacy.inventory import kinds_held
from bot.privacy.policy import RetentionPolicy
from bot.privacy.service import LINK_LIFETIME, MyData, retention_of_kind


def my_data_card(
    t: Texts, mine: MyData, policy: RetentionPolicy, link: str, notice_url: str
) -> dict[str, Any]:
    """Kinds with rows only, each with why, who sees it and how long; counts, never the data."""
    body: list[dict[str, Any]] = [
        text_block(t("privacy.card.title"), size="Large", weight="Bolder", style="heading"),
        text_block(
            t("privacy.card.intro", rows=t.shown(mine.rows))
            if mine.rows
            else t("privacy.card.none")
        ),
    ]
    for kind in kinds_held():
        rows = mine.kinds.get(kind, 0)
        if not rows:
            continue
        prefix = f"privacy.kind.{kind}"
        body += [
            text_block(
                f"**{t(f'{prefix}.name')}** · {t('privacy.card.rows', count=rows)}",
                separator=True,
                spacing="Medium",
            ),
            text_block(t(f"{prefix}.purpose"), size="Small"),
            text_block(
                f"{t(f'{prefix}.readers')} · {retention_of_kind(t, policy, kind)}",
                size="Small",
                isSubtle=True,
            ),
        ]
    minutes = int(LINK_LIFETIME.total_seconds() // 60)  # the link works once, within these
    body.append(
        text_block(t("privacy.card.link_note", minutes=minutes), size="Small", spacing="Medium")
    )
    body.append(
        text_block(
            t("privacy.card.notice_text" if notice_url else "privacy.card.notice_missing"),
            size="Small",
            isSubtle=True,
        )
    )
    actions = [{"type": "Action.OpenUrl", "title": t("privacy.card.download"), "url": link}]
    if notice_url:
        actions.append(
            {"type": "Action.OpenUrl", "title": t("privacy.card.notice"), "url": notice_url}
        )
    return card(body, actions)
