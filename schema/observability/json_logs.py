"""LOG_FORMAT=json: one JSON object per line, for the command line, uvicorn and the app.

Each line has time (UTC, ISO 8601), level, logger and message, then what log_context knows
of the work it comes from, then the traceback if there is one. A message is what the code
logged: no handler here adds request bodies, variables or headers.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from schema.observability import log_context
from schema.observability.settings import LogFormat

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = log_context.current()
        if fields:
            line.update((key, fields[key]) for key in log_context.FIELDS if key in fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def logging_config(log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the process, uvicorn's loggers included: each of
    them passes its lines to the root's one handler (stderr)."""
    formatter: dict[str, Any] = (
        {"()": f"{JsonFormatter.__module__}.{JsonFormatter.__qualname__}"}
        if log_format is LogFormat.JSON
        else {"format": PLAIN_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": "INFO"},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": "INFO"}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        }
        | {"alembic": {"level": "WARNING"}},
    }


def configure_logging(environment_value: str | None) -> None:
    """The command line's logging, by LOG_FORMAT; a value that is neither plain nor json
    logs plainly here, and the command then stops on it with one line (InvalidSetting)."""
    chosen = LogFormat.JSON if (environment_value or "").strip().lower() == "json" else None
    logging.config.dictConfig(logging_config(chosen or LogFormat.PLAIN))
