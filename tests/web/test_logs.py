"""Logs never carry a configured secret, in JSON or console format."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import ConsoleFormatter, JsonFormatter, SecretRedactor

SECRET = "whsec_very_secret_value"


@pytest.mark.parametrize("formatter", [JsonFormatter(), ConsoleFormatter()])
def test_secret_is_redacted_from_message_args_and_extras(formatter: logging.Formatter) -> None:
    record = logging.makeLogRecord(
        {
            "name": "dunbot.test",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "verifying with %s",
            "args": (SECRET,),
            "header": f"t=1,secret={SECRET}",
        }
    )
    assert SecretRedactor([SECRET, "short"]).filter(record)
    line = formatter.format(record)
    assert SECRET not in line and "[redacted]" in line
    if isinstance(formatter, JsonFormatter):
        entry = json.loads(line)
        assert entry["message"] == "verifying with [redacted]"
        assert entry["header"] == "t=1,secret=[redacted]"
