"""The batch review message and modal within Slack's limits, with untrusted text escaped."""

from __future__ import annotations

import json

from bot.slack.blocks.batch import BATCH_BLOCK_ID, batch_message
from bot.slack.blocks.batch_review import REVIEW_PAGE_SIZE, review_modal
from bot.slack.blocks.kit import MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, VIEW_BLOCKS_MAX
from bot.slack.ids import BatchAction
from bot.slack.views import BatchLine, BatchLineState, BatchView

HOSTILE = "<!channel> *Bob* <https://evil.example|click> @here"


def line(
    n: int, *, name: str | None = None, state: BatchLineState = BatchLineState.PENDING
) -> BatchLine:
    return BatchLine(
        draft_id=n,
        draft_version=1,
        invoice_id=f"in_{n}",
        invoice_number=f"INV-{n:05d}",
        customer_name=name or f"Customer {n} " + "x" * 100,
        customer_email=f"c{n}@example.com",
        amount=4_900,
        amount_text="$49.00",
        state=state,
        actionable=state is BatchLineState.PENDING,
        subject="Your payment",
        body=f"Hello {HOSTILE}. Please update your card.",
    )


def view(lines: list[BatchLine], *, status: str = "open") -> BatchView:
    return BatchView(
        batch_id=7,
        version=len(lines),
        status=status,
        currency="usd",
        decline_text="card expired",
        segment="standard",
        language_text="English",
        source="ai",
        lines=lines,
        decided_by="UFIN" if status != "open" else None,
    )


def texts(value: object) -> str:
    """Every text in blocks, joined (as Slack would render them, escapes and all)."""
    if isinstance(value, dict):
        return "\n".join(texts(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(texts(v) for v in value)
    return value if isinstance(value, str) else ""


def elements(blocks: list[dict]) -> dict[str, dict]:
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_a_long_batch_stays_within_slacks_message_limits() -> None:
    message = batch_message(view([line(n) for n in range(500)]))

    assert len(message.blocks) <= MESSAGE_BLOCKS_MAX
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_MAX
    dumped = json.dumps(message.blocks)
    assert "more; Review one by one pages through all of them" in dumped
    assert any(b.get("block_id") == BATCH_BLOCK_ID for b in message.blocks)
    approve = elements(message.blocks)[BatchAction.APPROVE_ALL]
    assert approve["text"]["text"] == "Approve all 500"
    assert "500 emails totalling $24,500.00" in approve["confirm"]["text"]["text"]


def test_customer_names_and_draft_text_are_escaped() -> None:
    message = batch_message(view([line(1, name=HOSTILE), line(2)]))
    shown = texts(message.blocks) + message.text

    assert "<!channel>" not in shown and "<https://evil" not in shown
    assert "&lt;!channel&gt;" in shown and "@\u2060here" in shown


def test_a_decided_batch_shows_progress_and_no_approve_all() -> None:
    lines = (
        [line(n, state=BatchLineState.SENT) for n in range(412)]
        + [line(1000 + n, state=BatchLineState.PAID_BEFORE_SENDING) for n in range(38)]
        + [line(2000 + n, state=BatchLineState.WAITING) for n in range(25)]
    )
    message = batch_message(view(lines, status="approved"))
    dumped = json.dumps(message.blocks)

    assert "412 sent, 38 paid before sending, 25 waiting" in dumped
    assert "<@UFIN>" in dumped
    assert BatchAction.APPROVE_ALL not in elements(message.blocks)


def test_the_review_modal_pages_within_slacks_view_limits() -> None:
    lines = [line(n) for n in range(23)]
    last = review_modal(view(lines), page=99, origin=None)  # clamped to the last page

    assert len(last["blocks"]) <= VIEW_BLOCKS_MAX and "submit" not in last
    assert json.dumps(last["blocks"]).count(BatchAction.REVIEW_APPROVE) == 23 - 4 * REVIEW_PAGE_SIZE
    assert json.loads(last["private_metadata"])["page"] == 4
    assert "&lt;!channel&gt;" in texts(last["blocks"])
