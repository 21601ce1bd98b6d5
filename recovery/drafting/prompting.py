"""DraftRequest → prompt inputs, the only place that knows both shapes."""

from __future__ import annotations

from collections.abc import Sequence

from prompts import PromptInputs, template_email
from prompts import render_prompt as render_inputs
from recovery.domain import AttemptStage, DraftRequest


def prompt_inputs(request: DraftRequest, *, feedback: Sequence[str] = ()) -> PromptInputs:
    """Plain prompt inputs for a request; `feedback` lists why the last answer was refused."""
    return PromptInputs(
        company_name=request.company_name,
        locale=request.locale,
        decline_category=request.decline_category.value,
        stage=request.stage.value,
        attempt_number=request.attempt_number,
        will_retry=request.will_retry and request.stage != AttemptStage.FINAL,
        invoice_number=request.invoice_number,
        customer_name=request.customer_name,
        customer_email=request.customer_email,
        reviewer_instruction=request.instruction,
        previous_body=request.previous_body,
        feedback=tuple(feedback),
    )


def render_prompt(request: DraftRequest, *, feedback: Sequence[str] = ()) -> tuple[str, str]:
    """Return (system, user) prompts for a request."""
    return render_inputs(prompt_inputs(request, feedback=feedback))


def template_draft(request: DraftRequest) -> tuple[str, str]:
    """The deterministic, offline (subject, body) for a request."""
    return template_email(
        locale=request.locale,
        decline_category=request.decline_category.value,
        stage=request.stage.value,
        will_retry=request.will_retry,
        company_name=request.company_name,
    )
