"""A hosted_invoice_url that is not https:// is no pay link: the approved email is held (never
sent without a way to pay) and the card says why; once Stripe has an https link, Retry sends."""

from __future__ import annotations

import pytest

from bot.adapters.mail.file import list_outbox
from bot.slack.ids import ApprovalAction
from tests.slack_flow.conftest import FINANCE, SlackHarness, add_standard, buttons, message_text


async def _card(sh: SlackHarness) -> dict:
    draft = await sh.latest_draft("in_std")
    return await sh.card("approval", draft.id)


@pytest.mark.parametrize(
    "url", ["http://invoice.stripe.com/i/acct_1/test", "javascript:alert(1)", None]
)
async def test_an_email_without_an_https_pay_link_is_held_and_the_card_says_why(
    sh: SlackHarness, url: str | None
) -> None:
    add_standard(sh.stripe)
    sh.stripe.update_invoice("in_std", hosted_invoice_url=url)
    await sh.fail("in_std")
    assert (await sh.click(ApprovalAction.APPROVE, FINANCE, await _card(sh))).status_code == 200
    await sh.worker.run_until_idle()

    assert list_outbox(sh.outbox) == []
    card = await _card(sh)
    assert "no secure pay link" in message_text(card) and "https://" in message_text(card)
    assert ApprovalAction.RETRY_SEND in buttons(card)

    secure = "https://invoice.stripe.com/i/acct_1/secure"
    sh.stripe.update_invoice("in_std", hosted_invoice_url=secure)
    assert (await sh.click(ApprovalAction.RETRY_SEND, FINANCE, card)).status_code == 200
    await sh.worker.run_until_idle()
    [email] = list_outbox(sh.outbox)
    assert secure in email.text
