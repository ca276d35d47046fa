"""Log lines for people (plain text, the default) or for a log pipeline (one JSON object per
line), both with the correlation id of the turn or job that wrote them."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from bot.telemetry.correlation import CorrelationFilter

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"
# Libraries whose INFO lines are per request and say nothing an operator needs.
QUIET_LOGGERS = ("alembic", "httpx", "azure.core.pipeline.policies.http_logging_policy")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, correlation id, and the
    exception's type and stack when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = {
                "type": record.exc_info[0].__name__,
                "stack": self.formatException(record.exc_info),
            }
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, log_format: LogFormat) -> None:
    """The root logger writes to stderr in the chosen format, every record with its id; as
    with `logging.basicConfig`, a root logger someone already set up is left alone."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
