"""Signed but malformed Slack requests answer 200 (and an ephemeral where a person is known),
never 500; a button carrying another card's value is refused; /dunning escapes stored fields."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from bot.slack.ids import ApprovalAction
from storage.models import DraftStatus
from tests.fakes.slack_requests import block_action_body, slash_command_body
from tests.slack_flow.conftest import (
    FINANCE,
    SlackHarness,
    add_standard,
    button_value,
)

NOT_A_CARD = "not one of dunbot's current cards"


async def pending_card(sh: SlackHarness, invoice_id: str = "in_std") -> dict[str, Any]:
    draft = await sh.latest_draft(invoice_id)
    return await sh.card("approval", draft.id)


def approve_payload(card: dict[str, Any], user: str = FINANCE) -> dict[str, Any]:
    """The payload of a real Approve click on `card`, to be broken by each test."""
    value = button_value(card, ApprovalAction.APPROVE)
    body = block_action_body(ApprovalAction.APPROVE, value, user, card["channel"], card["ts"])
    payload: dict[str, Any] = json.loads(parse_qs(body.decode())["payload"][0])
    return payload


def form(payload: Any) -> bytes:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": raw}).encode()


async def assert_nothing_changed(sh: SlackHarness) -> None:
    await sh.worker.run_until_idle()
    assert (await sh.latest_draft("in_std")).status == DraftStatus.PENDING


@pytest.fixture
async def card(sh: SlackHarness) -> dict[str, Any]:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    return await pending_card(sh)


@pytest.mark.parametrize(
    "payload",
    ["{not json", "[1, 2]", '"a string"', "null", ""],
    ids=["not-json", "json-list", "json-string", "json-null", "empty"],
)
async def test_a_signed_payload_that_is_not_a_json_object_gets_200(
    sh: SlackHarness, card: dict[str, Any], payload: str
) -> None:
    response = await sh.post(form(payload))
    assert response.status_code == 200
    await assert_nothing_changed(sh)
    assert sh.slack.ephemerals == []


async def test_an_unsigned_malformed_payload_is_still_401(
    sh: SlackHarness, card: dict[str, Any]
) -> None:
    assert (await sh.post(form("{not json"), secret="wrong")).status_code == 401
    assert (await sh.post(b"\xff\xfe payload", secret="wrong")).status_code == 401


async def test_a_click_without_a_user_gets_200_and_tells_nobody(
    sh: SlackHarness, card: dict[str, Any]
) -> None:
    payload = approve_payload(card)
    del payload["user"]  # the message still names its author: that is not who clicked
    assert (await sh.post(form(payload))).status_code == 200
    payload["user"] = {"id": 12345}
    assert (await sh.post(form(payload))).status_code == 200
    await assert_nothing_changed(sh)
    assert sh.slack.ephemerals == []


@pytest.mark.parametrize("actions", [None, [], [None], ["approve"], [{"type": "button"}]], ids=repr)
async def test_a_click_without_usable_actions_gets_200(
    sh: SlackHarness, card: dict[str, Any], actions: Any
) -> None:
    payload = approve_payload(card)
    if actions is None:
        del payload["actions"]
    else:
        payload["actions"] = actions
    assert (await sh.post(form(payload))).status_code == 200
    await assert_nothing_changed(sh)


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "draft", "id": 2**70, "version": 0},
        {"kind": "draft", "id": 1, "version": 2**63},
        {"kind": "draft", "id": -1, "version": 0},
        {"kind": "invoice", "id": 1, "version": 0},
        "not json at all",
    ],
    ids=["huge-id", "huge-version", "negative-id", "unknown-kind", "not-json"],
)
async def test_a_button_value_out_of_range_gets_200_and_an_ephemeral(
    sh: SlackHarness, card: dict[str, Any], value: Any
) -> None:
    payload = approve_payload(card)
    payload["actions"][0]["value"] = value if isinstance(value, str) else json.dumps(value)
    assert (await sh.post(form(payload))).status_code == 200
    await assert_nothing_changed(sh)
    [ephemeral] = sh.slack.ephemerals
    assert ephemeral["user"] == FINANCE and NOT_A_CARD in ephemeral["text"]


async def test_a_slash_command_without_a_user_gets_200(sh: SlackHarness) -> None:
    body = slash_command_body("list", FINANCE).replace(b"user_id=UFIN", b"user_id=")
    assert (await sh.post(body)).status_code == 200


async def test_card_a_button_with_card_b_value_is_refused(sh: SlackHarness) -> None:
    add_standard(sh.stripe, "in_a", customer="cus_a", email="a@example.com")
    add_standard(sh.stripe, "in_b", customer="cus_b", email="b@example.com")
    await sh.fail("in_a")
    await sh.fail("in_b")
    card_a = await pending_card(sh, "in_a")
    card_b = await pending_card(sh, "in_b")
    value_b = button_value(card_b, ApprovalAction.APPROVE)
    body = block_action_body(
        ApprovalAction.APPROVE, value_b, FINANCE, card_a["channel"], card_a["ts"]
    )
    assert (await sh.post(body)).status_code == 200
    await sh.worker.run_until_idle()
    assert (await sh.latest_draft("in_b")).status == DraftStatus.PENDING
    assert (await sh.latest_draft("in_a")).status == DraftStatus.PENDING
    [ephemeral] = sh.slack.ephemerals
    assert "does not belong to the card" in ephemeral["text"]
    elsewhere = block_action_body(
        ApprovalAction.APPROVE, value_b, FINANCE, card_b["channel"], "1700009999.000001"
    )
    assert (await sh.post(elsewhere)).status_code == 200
    await sh.worker.run_until_idle()
    assert (await sh.latest_draft("in_b")).status == DraftStatus.PENDING
    same_card = block_action_body(
        ApprovalAction.APPROVE, value_b, FINANCE, card_b["channel"], card_b["ts"]
    )
    assert (await sh.post(same_card)).status_code == 200
    assert (await sh.latest_draft("in_b")).status == DraftStatus.APPROVED


async def test_dunning_list_and_status_escape_the_merchants_invoice_number(
    sh: SlackHarness,
) -> None:
    hostile = "<!channel> <https://evil.example|pay here> *bold*"
    sh.stripe.add_customer(id="cus_std", email="ana@example.com", name="<!here> Ana")
    sh.stripe.add_invoice(
        id="in_std",
        customer="cus_std",
        amount_due=4_900,
        attempt_count=1,
        next_payment_attempt=2_000_000_000,
        number=hostile,
    )
    sh.stripe.add_failed_payment("in_std", decline_code="expired_card", code="expired_card")
    await sh.fail("in_std")
    for text in ("list", "status cus_std", "status in_std", "status ana@example.com"):
        reply = (await sh.command(text, FINANCE)).text
        assert "<!channel>" not in reply and "<!here>" not in reply, text
        assert "<https://evil.example" not in reply, text
        assert "&lt;!channel&gt;" in reply, text


async def test_an_unexpected_error_answers_200_with_a_reference_the_log_carries(
    sh: SlackHarness, card: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    sh.slack.fail_next("views.open", error="expired_trigger_id")
    response = await sh.click(ApprovalAction.EDIT, FINANCE, card)
    assert response.status_code == 200
    await sh.worker.run_until_idle()
    [ephemeral] = sh.slack.ephemerals
    assert ephemeral["user"] == FINANCE and "reference" in ephemeral["text"]
    [failure] = [r for r in caplog.records if r.getMessage() == "slack listener failed"]
    reference = failure.__dict__["correlation_id"]
    assert f"`{reference}`" in ephemeral["text"]
    assert "ana@example.com" not in ephemeral["text"]
