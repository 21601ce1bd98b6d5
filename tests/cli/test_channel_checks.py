"""`dunbot check` on the channel settings: PAY_LINK=portal needs a usable PUBLIC_URL."""

from __future__ import annotations

import pytest

from bot.channel_checks import channel_problems
from bot.settings import Settings


def _problems(**fields: object) -> list[str]:
    return channel_problems(Settings(stripe_api_key="sk_test_x", **fields))  # type: ignore[arg-type]


def test_invoice_link_needs_nothing() -> None:
    assert _problems() == []


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        (None, "PAY_LINK=portal needs PUBLIC_URL"),
        ("http://dunbot.example.com", "must use https"),
        ("https://dunbot.example.com/?a=1", "is not a base address"),
        ("dunbot.example.com", "is not a base address"),
    ],
)
def test_portal_link_needs_an_https_public_url(public_url: str | None, expected: str) -> None:
    [problem] = _problems(pay_link="portal", public_url=public_url)
    assert expected in problem


def test_portal_link_with_public_url_passes() -> None:
    assert _problems(pay_link="portal", public_url="https://dunbot.example.com") == []
    assert _problems(pay_link="portal", public_url="http://127.0.0.1:8000") == []
