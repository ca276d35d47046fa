"""The one way a domain service says no: it raises a `Refused` and has changed nothing.

A refusal carries its reasons as catalog keys with their values, so the chat words them in the
reader's language and the commands in theirs; str() names only the keys, which is what logs need.
A lookup that finds nothing returns None instead: not finding is an answer, not a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    from bot.i18n import Texts

Value = str | int


@dataclass(frozen=True)
class Reason:
    """One reason: a key under the catalog section of whoever gives it (a refusal, a file's
    problem), and the values its text names."""

    key: str
    values: Mapping[str, Value] = field(default_factory=dict)


class Refused(Exception):
    """Base of every domain's refusal; a subclass names the catalog section that words it."""

    catalog: ClassVar[str]

    def __init__(self, key: str, /, **values: Value) -> None:
        self.reasons: tuple[Reason, ...] = (Reason(key, values),)
        super().__init__(key)

    @classmethod
    def for_all(cls, reasons: Sequence[Reason]) -> Self:
        """One refusal for several reasons, as a form or a wave with more than one problem."""
        refusal = cls(reasons[0].key, **reasons[0].values)
        refusal.reasons = tuple(reasons)
        return refusal

    @property
    def reason(self) -> str:
        """The first reason's key: what callers branch on."""
        return self.reasons[0].key

    @property
    def problems(self) -> list[tuple[str, dict[str, Value]]]:
        """The reasons as (key, values) pairs, as the cards' problem lists take them."""
        return [(reason.key, dict(reason.values)) for reason in self.reasons]

    def worded(self, t: Texts) -> str:
        """Every reason in the reader's language, one after another."""
        return "; ".join(
            t(f"{self.catalog}.{reason.key}", **reason.values) for reason in self.reasons
        )

    def __str__(self) -> str:
        return ", ".join(reason.key for reason in self.reasons)
