"""The suite's moment: tests stand on a fixed day unless they bring their own clock."""

from __future__ import annotations

from datetime import UTC, datetime

# An ordinary working Tuesday morning in Pori (10.00 in Helsinki), far from any holiday.
TEST_NOW = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
