"""`dunbot rules replay`: a stored history through the example rules, counted by hand."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import REPO_ROOT
from tests.fakes.stripe_events import store_events

DAY = 86_400


def event(n: int, event_type: str, obj: dict[str, Any], *, age_days: float = 1) -> dict[str, Any]:
    return {
        "id": f"evt_replay_{n}",
        "object": "event",
        "type": event_type,
        "created": int(time.time() - age_days * DAY),
        "data": {"object": obj},
    }


def payment(n: int, amount: int, currency: str = "usd", **kw: Any) -> dict[str, Any]:
    obj = {"id": f"pi_{n}", "object": "payment_intent", "amount": amount, "currency": currency}
    return event(n, "payment_intent.succeeded", obj | {"customer": f"cus_{n}"}, **kw)


def fraud(n: int, amount: int, *, refunded: bool = False) -> dict[str, Any]:
    charge = {
        "id": f"ch_{n}",
        "object": "charge",
        "amount": amount,
        "currency": "usd",
        "refunded": refunded,
        "amount_refunded": amount if refunded else 0,
    }
    obj = {"id": f"issfr_{n}", "object": "radar.early_fraud_warning", "charge": charge}
    return event(n, "radar.early_fraud_warning.created", obj)


HISTORY = [
    payment(1, 150_000),  # > 1,000 USD: alert + email
    payment(2, 250_000),  # > 2,000 USD: alert + email + metadata
    payment(3, 90_000),  # under both
    payment(4, 900_000, "eur"),  # another currency: nothing
    payment(5, 500_000, age_days=45),  # older than 30 days: not replayed
    fraud(6, 1_200),  # refund $12.00, automatic
    fraud(7, 2_000),  # refund $20.00, after an approval
    fraud(8, 500, refunded=True),  # already refunded: nothing
    event(
        9,
        "invoice.overdue",
        {"id": "in_9", "object": "invoice", "amount_remaining": 60_000, "currency": "usd"},
    ),
]


@pytest.fixture
def stored_history(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    url = f"sqlite+aiosqlite:///{tmp_path}/dunbot.db"
    upgrade(url)

    async def store() -> None:
        db = Database(url)
        try:
            assert all(await store_events(db, *HISTORY))
        finally:
            await db.dispose()

    import asyncio

    asyncio.run(store())
    for name in ("STRIPE_API_KEY", "PLAYBOOKS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("DATABASE_URL", url)
    return tmp_path


def test_replay_matches_the_hand_computed_history(stored_history: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["rules", "replay", "--since", "30d", "--file", str(REPO_ROOT / "playbooks.example.toml")],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "8 stored event(s) replayed"
    assert "• Large payment: thank-you note: 2 of 4 event(s) matched" in lines
    assert "• Very large payment: mark VIP: 1 of 4 event(s) matched" in lines
    assert "• Early fraud warning: refund: 2 of 3 event(s) matched" in lines
    assert "    2 refunds ($32.00)" in lines
    assert "    1 of them would have waited for an approval" in lines
    assert lines[-1] == (
        "would have: 2 alerts, 2 team emails, 1 metadata changes, 2 refunds ($32.00), "
        "1 overdue alerts"
    )


def test_replay_of_one_rule(stored_history: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "replay",
            "--rule",
            "Early fraud warning: refund",
            "--file",
            str(REPO_ROOT / "playbooks.example.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "would have: 2 refunds ($32.00)"


def test_replay_of_an_unknown_rule_names_the_rules(stored_history: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["rules", "replay", "--rule", "Nope", "--file", str(REPO_ROOT / "playbooks.example.toml")],
    )
    assert result.exit_code == 2 and '"Early fraud warning: refund"' in result.output
