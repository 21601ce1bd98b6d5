"""`dunbot check` on the channel settings: PAY_LINK=portal needs a usable PUBLIC_URL."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from bot.channel_checks import channel_problems, twilio_probe
from bot.settings import Settings
from tests.fakes.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio


def _problems(**fields: Any) -> list[str]:
    return channel_problems(Settings(stripe_api_key="sk_test_x", **fields))


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


SMS: dict[str, Any] = {
    "dunning_channels": ["email", "sms"],
    "public_url": "https://dunbot.example.com",
}


def test_sms_needs_the_twilio_account_and_a_sender() -> None:
    problems = " ".join(_problems(**SMS))
    assert "TWILIO_ACCOUNT_SID" in problems and "TWILIO_AUTH_TOKEN" in problems
    assert "TWILIO_FROM" in problems
    assert _problems(
        **SMS, twilio_account_sid=ACCOUNT_SID, twilio_auth_token="t", twilio_from="+15005550006"
    ) == []  # fmt: skip
    [bad] = _problems(**SMS, twilio_account_sid=ACCOUNT_SID, twilio_auth_token="t",
                      twilio_messaging_service_sid="XX123")  # fmt: skip
    assert "must start with MG" in bad


async def test_twilio_probe_reaches_the_account() -> None:
    with FakeTwilio() as twilio:
        good = Settings(**SMS, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                        twilio_from="+15005550006", twilio_api_base=twilio.base_url)  # fmt: skip
        assert await twilio_probe(good) is None
        bad = good.model_copy(update={"twilio_auth_token": SecretStr("wrong")})
        assert "Twilio refused the account" in (await twilio_probe(bad) or "")


def test_unknown_channel_or_zone_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="DUNNING_CHANNELS must be"):
        Settings(dunning_channels="email,fax")
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Settings(company_timezone="Mars/Base")


def test_task_targets_need_https_and_a_whsec_secret() -> None:
    assert _problems(teams_webhook_url="https://x.webhook.office.com/a") == []
    [teams] = _problems(teams_webhook_url="http://x.webhook.office.com/a")
    assert "TEAMS_WEBHOOK_URL must be an https URL" in teams
    [secret] = _problems(task_webhook_url="https://crm.example.com/hook")
    assert "TASK_WEBHOOK_SECRET" in secret
    assert _problems(
        task_webhook_url="https://crm.example.com/hook",
        task_webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ) == []  # fmt: skip
