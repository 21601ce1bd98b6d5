"""Structured logging: JSON in production, readable lines in a terminal; secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# Record attributes that are not `extra=` fields (uvicorn adds a colourised copy of messages).
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
REDACTED = "[redacted]"
# Third-party SDKs whose per-request INFO lines would drown dunbot's own log.
SDK_REQUEST_LOGGERS = ("stripe", "httpx", "httpcore", "openai", "anthropic", "slack_sdk")


class SecretRedactor(logging.Filter):
    """Replaces any configured secret value that shows up in a message or its extras."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
            for key, value in list(vars(record).items()):
                if key not in _STANDARD_ATTRS and isinstance(value, str):
                    setattr(record, key, self.redact(value))
        return True


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    """`12:00:01 INFO  dunbot.worker  job failed  kind=draft attempt=2`."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{time} {record.levelname:<5} {record.name}  {record.getMessage()}  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.rstrip()


class StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time of the record (not at set-up)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        """The stream is always the current sys.stderr."""


def configure_logging(*, fmt: str, level: str, secrets: Iterable[str]) -> None:
    """Install one handler on the root logger (idempotent)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    handler.addFilter(SecretRedactor(secrets))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The SDKs log every request at INFO (Stripe: two lines each); those show only at DEBUG.
    sdk_level = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for sdk in SDK_REQUEST_LOGGERS:
        logging.getLogger(sdk).setLevel(sdk_level)
