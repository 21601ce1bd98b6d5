"""Input neither database can store as given (a NUL, a lone surrogate, an over-long value) is
cleaned where it enters: from Stripe (customer names, emails) and from people (reasons, notes).
On PostgreSQL each of these made a job die or a click answer 500."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.slack.actors import slack_actor
from recovery import decisions
from recovery.pauses import pause_customer
from recovery.storable_text import storable_email, storable_line, storable_text
from storage.models import CustomerRow, Draft, Job, JobStatus, Pause
from tests.recovery.conftest import Harness


async def test_a_customer_name_and_email_with_nul_are_cleaned_and_the_case_opens(
    h: Harness,
) -> None:
    h.stripe.add_customer(
        id="cus_nul", email="ana\x00@example.com", name="Ana\x00 Smith" + "x" * 600
    )
    h.stripe.add_invoice(
        id="in_nul", customer="cus_nul", amount_due=4_900, attempt_count=1,
        customer_name="Ana\x00 Smith", customer_email="ana@example.com\x00",
    )  # fmt: skip
    h.stripe.add_failed_payment("in_nul", decline_code="expired_card", code="expired_card")
    await h.deliver("invoice.payment_failed", "in_nul")
    await h.run_jobs()

    assert [job.status for job in await h.jobs() if job.status == JobStatus.DEAD] == []
    case = await h.case("in_nul")
    assert case is not None
    assert (case.customer_name, case.customer_email) == ("Ana Smith", "ana@example.com")
    async with h.db.sessions() as session:
        customer = await session.get(CustomerRow, "cus_nul")
    assert customer is not None and customer.email == "ana@example.com"
    assert customer.name is not None and "\x00" not in customer.name
    assert len(customer.name) == 500


async def test_reasons_and_notes_from_people_are_stored_without_nul(h: Harness) -> None:
    h.stripe.add_customer(id="cus_std", email="ana@example.com", name="Ana")
    h.stripe.add_invoice(id="in_std", customer="cus_std", amount_due=4_900, attempt_count=1)
    h.stripe.add_failed_payment("in_std", decline_code="expired_card", code="expired_card")
    await h.deliver("invoice.payment_failed", "in_std")
    await h.run_jobs()
    case = await h.case("in_std")
    assert case is not None
    [draft] = await h.drafts(case.id)

    async with h.db.transaction() as session:
        rejected = await decisions.reject_draft(
            session, draft_id=draft.id, version=draft.version, actor=slack_actor("UFIN"),
            reason="wrong\x00 tone\ud800",
        )  # fmt: skip
        await pause_customer(
            session,
            customer_id="cus_std",
            until=None,
            reason="call\x00 first",
            by=slack_actor("UFIN"),
        )
    assert rejected.ok
    async with h.db.sessions() as session:
        stored = await session.get(Draft, draft.id)
        pause = await session.scalar(select(Pause))
        dead = await session.scalar(select(Job).where(Job.status == JobStatus.DEAD))
    assert stored is not None and stored.reject_reason == "wrong tone"
    assert pause is not None and pause.reason == "call first"
    assert dead is None


_ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x00\ud800\x1f"))


@given(_ANY_TEXT, st.integers(min_value=1, max_value=50))
def test_storable_text_is_always_storable(text: str, limit: int) -> None:
    for cleaned in (storable_text(text, max_chars=limit), storable_line(text, max_chars=limit)):
        assert cleaned is None or (
            0 < len(cleaned) <= limit
            and "\x00" not in cleaned
            and not any(0xD800 <= ord(char) <= 0xDFFF for char in cleaned)
        )


def test_an_email_that_cannot_be_one_is_dropped() -> None:
    assert storable_email(" ana@example.com ") == "ana@example.com"
    assert storable_email("ana@" + "x" * 300 + ".com") is None
    assert storable_email("not an email") is None
