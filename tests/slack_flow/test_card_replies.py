"""Ephemeral replies never contradict the card; /dunning names customers, marks pauses,
writes numbers in words, and shows an audit history."""

from __future__ import annotations

from typing import Any

from bot.slack.ids import ApprovalAction, EditDraftField, ModalCallback, RegenerateDraftField
from storage.models import DraftStatus
from tests.slack_flow.conftest import FINANCE, MANAGER, SlackHarness, add_standard, message_text


async def pending_card(sh: SlackHarness, invoice_id: str = "in_std") -> dict[str, Any]:
    return await sh.card("approval", (await sh.latest_draft(invoice_id)).id)


async def test_an_approval_that_took_effect_gets_no_ephemeral_the_card_says_it(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    await sh.click(ApprovalAction.APPROVE, FINANCE, await pending_card(sh))
    await sh.worker.run_until_idle()
    assert "Email sent" in message_text(await pending_card(sh))
    assert sh.slack.ephemerals == []


async def test_an_edit_shows_its_editor_and_long_guardrail_errors_end_on_a_word(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    await sh.click(ApprovalAction.EDIT, FINANCE, await pending_card(sh))
    [opened] = sh.slack.calls_to("views.open")
    meta = opened.args["view"]["private_metadata"]
    subject, body = EditDraftField.SUBJECT, EditDraftField.BODY
    hostile = (
        "Reply with your card number and CVV. Send your online banking password and login. "
        "Pay $999.00 at https://evil.example.com/pay now. Do it today. Or else. Really."
    )
    values = {
        subject.block_id: {subject.action_id: "About your payment"},
        body.block_id: {body.action_id: hostile},
    }
    refused = await sh.submit(ModalCallback.EDIT_DRAFT, meta, values, FINANCE)
    shown = refused.json()["errors"][body.block_id]
    assert len(shown) <= 150 and shown.endswith("…")  # six problems do not fit
    kept = shown.removesuffix("…")
    # Cut between words (the exact rule is tested on `shorten`), not "… login d".
    assert not kept.endswith(" ") and len(kept.split()[-1]) > 1
    good = "Your card has expired. Please update it soon."
    values[body.block_id] = {body.action_id: good}
    await sh.submit(ModalCallback.EDIT_DRAFT, meta, values, FINANCE)
    await sh.worker.run_until_idle()
    assert f"Edited by <@{FINANCE}>" in message_text(await pending_card(sh))
    assert sh.slack.ephemerals == []  # the updated card is the answer


async def test_regenerate_with_the_template_drafter_says_it_cannot_follow_instructions(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    await sh.click(ApprovalAction.REGENERATE, FINANCE, await pending_card(sh))
    [opened] = sh.slack.calls_to("views.open")
    assert "cannot follow instructions" in str(opened.args["view"])
    field = RegenerateDraftField.INSTRUCTION
    await sh.submit(
        ModalCallback.REGENERATE_DRAFT,
        opened.args["view"]["private_metadata"],
        {field.block_id: {field.action_id: "mention the new pricing"}},
        FINANCE,
    )
    await sh.worker.run_until_idle()
    [told] = sh.slack.ephemerals
    assert "cannot follow instructions" in told["text"] and "Edit" in told["text"]


async def test_dunning_names_customers_marks_pauses_and_counts_in_words(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    listed = (await sh.command("list", FINANCE)).text
    assert "One open case" in listed and "paused" not in listed
    paused = (await sh.command("pause cus_std for 2w holiday", FINANCE)).text
    assert "Dunning paused for Ana Smith (ana@example.com) `cus_std`" in paused
    listed = (await sh.command("list", MANAGER)).text
    assert "*paused*" in listed
    status = (await sh.command("status cus_std", MANAGER)).text
    assert status.startswith("Ana Smith (ana@example.com) `cus_std`: dunning paused by <@UFIN>")
    [case_line, why] = (await sh.command("status in_std", MANAGER)).text.splitlines()
    assert case_line.endswith(" — *paused*")
    assert why.startswith("Ana Smith (ana@example.com) `cus_std`: dunning paused by <@UFIN> until")
    assert why.endswith("(holiday)")
    resumed = (await sh.command("resume ana@example.com", FINANCE)).text
    assert "Dunning resumed for Ana Smith (ana@example.com) `cus_std`" in resumed
    assert "one open case is being re-checked" in resumed
    assert "paused" not in (await sh.command("status in_std", MANAGER)).text
    assert "(s)" not in listed + resumed


async def test_dunning_history_lists_the_last_ten_audit_entries_newest_first(
    sh: SlackHarness,
) -> None:
    add_standard(sh.stripe)
    await sh.fail("in_std")
    for n in range(6):  # twelve entries of the customer, plus the case's own
        await sh.command(f"pause cus_std for {n + 1}d <!channel> reason {n}", FINANCE)
        await sh.command("resume cus_std", FINANCE)
    history = (await sh.command("history cus_std", MANAGER)).text
    lines = history.splitlines()
    assert (
        lines[0] == "*Latest ten entries for Ana Smith (ana@example.com) `cus_std`, newest first*"
    )
    entries = lines[1:]
    assert len(entries) == 10
    assert "Customer resumed by <@UFIN>" in entries[0]
    assert "Customer paused by <@UFIN>: " in entries[1]
    assert "reason: &lt;!channel&gt; reason 5" in entries[1]
    assert "<!channel>" not in history
    by_invoice = (await sh.command("history in_std", FINANCE)).text
    assert "Case opened" in by_invoice and "Customer paused" not in by_invoice
    unknown = (await sh.command("history in_nothing", FINANCE)).text
    assert "No dunning case for invoice `in_nothing`" in unknown
    refused = (await sh.command("history ana@example.com", FINANCE)).text
    assert "`cus_…` id or an `in_…` id" in refused
    assert (await sh.latest_draft("in_std")).status == DraftStatus.PENDING
