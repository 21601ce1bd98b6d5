"""The app's lifespan owns the runtime's resources: every client is closed on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from bot.settings import Settings
from bot.wiring import build_runtime, build_worker
from recovery.drafting.guarded import GuardedDrafter
from recovery.drafting.provider import ProviderReply
from recovery.protocols import BillingError
from tests.fakes.llm_servers import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.fakes.stripe_server import DEFAULT_API_KEY, FakeStripe


async def test_shutdown_closes_the_stripe_slack_and_llm_clients(
    database_url: str, tmp_path: Path
) -> None:
    with FakeStripe() as stripe, FakeSlack() as slack:
        async with FakeOpenAI() as llm:
            settings = Settings(
                database_url=database_url,
                environment="test",
                stripe_api_key=DEFAULT_API_KEY,
                stripe_api_base=stripe.base_url,
                slack_bot_token="xoxb-test-token",
                slack_signing_secret="slack-signing-secret-for-tests",
                slack_api_url=slack.base_url,
                llm_provider="openai",
                openai_api_key="sk-test",
                openai_base_url=llm.base_url,
                email_backend="file",
                email_outbox_dir=tmp_path / "outbox",
            )
            runtime = build_runtime(settings, configure_logs=False)
            app = create_app(runtime, worker=build_worker(runtime))
            assert runtime.slack is not None and runtime.billing is not None
            drafter = runtime.require_engine().proposals.drafter
            assert isinstance(drafter, GuardedDrafter) and drafter.provider is not None
            provider = drafter.provider
            async with app.router.lifespan_context(app):
                session = runtime.slack.client.session
                assert session is not None and not session.closed
                await runtime.slack.client.auth_test()  # reuses the session
                stripe.add_customer(id="cus_a", email="a@example.com")
                assert (await runtime.billing.get_customer("cus_a")).id == "cus_a"
                reply = await provider.generate(system="s", user="u")
                assert isinstance(reply, ProviderReply)

            assert session.closed
            with pytest.raises(BillingError):
                await runtime.billing.get_customer("cus_a")
            with pytest.raises(Exception, match="closed"):
                await provider.generate(system="s", user="u")
