"""The tabs' HTML: Jinja templates (escaped by default) worded from the locale catalogs."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.i18n import texts

_ENVIRONMENT = Environment(
    loader=PackageLoader("bot.tabs", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, language: str, **values: Any) -> str:
    """One template in one language; `t` in the template is that language's texts."""
    return _ENVIRONMENT.get_template(template).render(
        t=texts(language), language=language, **values
    )
