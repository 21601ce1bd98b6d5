"""Slack requests are acknowledged at once while the LLM is busy: drafting is a job."""

from __future__ import annotations

import asyncio

from bot.adapters.llm.factory import build_drafter
from bot.slack.ids import ApprovalAction, ModalCallback, RegenerateDraftField
from storage.models import DraftStatus
from tests.fakes.llm_servers import FakeOpenAI, LLMReply
from tests.slack_flow.conftest import FINANCE, SlackHarness, add_standard


async def test_clicks_are_acked_within_3s_while_a_draft_waits_on_a_slow_llm(
    sh: SlackHarness,
) -> None:
    async with FakeOpenAI() as llm:
        engine = sh.runtime.require_engine()
        engine.proposals.drafter = build_drafter(
            "openai",
            model="gpt-test",
            openai_api_key="sk-test",
            openai_base_url=llm.base_url,
            company_name="Acme",
            timeout_s=60.0,
        )
        add_standard(sh.stripe, "in_a", customer="cus_a", email="a@example.com")
        add_standard(sh.stripe, "in_b", customer="cus_b", email="b@example.com")
        await sh.fail("in_a")
        await sh.fail("in_b")
        assert len(llm.requests) == 2
        card_a = await sh.card("approval", (await sh.latest_draft("in_a")).id)
        card_b = await sh.card("approval", (await sh.latest_draft("in_b")).id)

        llm.default = LLMReply.slow()  # the next completion hangs until released
        await sh.click(ApprovalAction.REGENERATE, FINANCE, card_a)
        [opened] = sh.slack.calls_to("views.open")
        field = RegenerateDraftField.INSTRUCTION
        await sh.submit(
            ModalCallback.REGENERATE_DRAFT,
            opened.args["view"]["private_metadata"],
            {field.block_id: {field.action_id: "shorter"}},
            FINANCE,
        )
        stop = asyncio.Event()
        worker = asyncio.create_task(sh.worker.run(stop))
        await llm.wait_for_requests(3, timeout=10)  # the worker is now stuck on the LLM

        response = await asyncio.wait_for(
            sh.click(ApprovalAction.APPROVE, FINANCE, card_b), timeout=3
        )
        assert response.status_code == 200
        assert (await sh.latest_draft("in_b")).status == DraftStatus.APPROVED
        assert (await sh.latest_draft("in_a")).status == DraftStatus.SUPERSEDED

        llm.release()
        stop.set()
        await asyncio.wait_for(worker, timeout=30)
    regenerated = await sh.latest_draft("in_a")
    assert regenerated.status == DraftStatus.PENDING and regenerated.source == "ai"
