"""The SDKs' per-request log lines show only at DEBUG (they were 85% of the log in a burst)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.adapters.stripe_billing import StripeBilling
from bot.logs import configure_logging
from tests.fakes.stripe_server import FakeStripe


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("stripe", "httpx", "slack_sdk")}
    yield
    root.handlers, root.level = handlers, level
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


async def _read_one_invoice(stripe_api: FakeStripe, billing: StripeBilling) -> None:
    stripe_api.add_customer(id="cus_log", email="log@example.com")
    stripe_api.add_invoice(id="in_log", customer="cus_log")
    await billing.get_invoice("in_log")


@pytest.mark.usefixtures("restore_logging")
async def test_stripe_request_lines_are_hidden_at_info(
    stripe_api: FakeStripe, billing: StripeBilling, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(fmt="json", level="INFO", secrets=[])
    await _read_one_invoice(stripe_api, billing)
    logging.getLogger("dunbot.test").info("dunbot line")
    err = capsys.readouterr().err
    assert "dunbot line" in err
    assert "Request to Stripe api" not in err and "Stripe API response" not in err


@pytest.mark.usefixtures("restore_logging")
async def test_stripe_request_lines_show_at_debug(
    stripe_api: FakeStripe, billing: StripeBilling, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(fmt="json", level="DEBUG", secrets=[])
    await _read_one_invoice(stripe_api, billing)
    assert "Request to Stripe api" in capsys.readouterr().err
