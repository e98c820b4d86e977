"""Structured logging: one JSON object per line (or plain text for local reading)."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.config import LogFormat

# Keys whose values never reach a log line, whatever the caller passes.
_SECRET_KEYS = frozenset({"password", "authorization", "token", "secret", "api_key"})


def _redact(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        key: "[redacted]" if key.lower() in _SECRET_KEYS else value
        for key, value in fields.items()
    }


# Libraries that log whole requests at DEBUG: botocore prints each call's parameters and body
# (an ImportHypervisorConfiguration carries the vCenter password).
_REQUEST_LOGGERS = ("botocore", "boto3", "urllib3", "httpx", "httpcore")
_SECRET_MEMBER = re.compile(
    r"""(?P<name>["']?(?:password|secret\w*|token|authorization)["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,}&]+)""",
    re.IGNORECASE,
)


def redact_secrets(text: str) -> str:
    return _SECRET_MEMBER.sub(lambda match: f"{match['name']}[redacted]", text)


def _redacting_factory(default: Any) -> Any:
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = default(*args, **kwargs)
        if record.name.startswith(_REQUEST_LOGGERS) and record.args:
            # Rendered once here, so no handler (ours or any other) sees the raw arguments.
            record.msg, record.args = redact_secrets(record.getMessage()), ()
        return record

    make_record.vmbackup_redacting = True  # type: ignore[attr-defined]
    return make_record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_redact(getattr(record, "fields", {})))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _redact(getattr(record, "fields", {}))
        suffix = " ".join(f"{key}={value}" for key, value in fields.items())
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()} {suffix}".rstrip()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_HANDLER_NAME = "vmbackup"


def configure_logging(level: str, log_format: LogFormat) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replaces the handler an earlier call installed, and only that: other handlers (a test's
    # log capture) keep receiving records.
    root.handlers[:] = [*(h for h in root.handlers if h.get_name() != _HANDLER_NAME), handler]
    root.setLevel(level.upper())
    if not getattr(logging.getLogRecordFactory(), "vmbackup_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(logging.getLogRecordFactory()))
    # uvicorn's own access log would duplicate ours without the request id.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("botocore", "boto3", "urllib3", "aiosqlite", "asyncio", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
