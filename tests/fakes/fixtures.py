"""Where the fakes find their recorded API fixtures (JSON files, one directory per service)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def fixtures_dir(service: str) -> Path:
    """`$DUNBOT_FIXTURES_DIR/<service>` when set, else the repository's copy in
    `tests/fixtures/<service>`."""
    override = os.environ.get("DUNBOT_FIXTURES_DIR")
    if override:
        return Path(override) / service
    return Path(__file__).resolve().parents[1] / "fixtures" / service


def load_json_fixture(service: str, name: str) -> dict[str, Any]:
    """One fixture of `service` by file stem."""
    data: dict[str, Any] = json.loads(
        (fixtures_dir(service) / f"{name}.json").read_text(encoding="utf-8")
    )
    return data
