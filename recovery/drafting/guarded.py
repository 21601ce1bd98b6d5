"""GuardedDrafter: LLM draft → guardrails → one regeneration → template fallback. Never raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from prompts import PROMPT_VERSION, TEMPLATE_VERSION
from recovery.domain import DraftRequest, DraftResult
from recovery.drafting.pricing import estimate_cost
from recovery.drafting.prompting import render_prompt, template_draft
from recovery.drafting.provider import (
    LLMProvider,
    ProviderDeferred,
    ProviderOutputError,
    ProviderReply,
    Usage,
)
from recovery.guardrails import check_draft

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 45.0
MAX_ATTEMPTS = 2  # the first draft plus one regeneration with the reasons it failed


@dataclass
class _Spend:
    """Tokens used across the attempts of one draft."""

    input_tokens: int = 0
    output_tokens: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, usage: Usage) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens


def describe_error(error: BaseException) -> str:
    """Short, secret-free description of a provider failure for staff."""
    status = getattr(error, "status_code", None)
    if status is not None:
        return f"HTTP {status} ({type(error).__name__})"
    if "timeout" in type(error).__name__.lower():
        return f"request timed out ({type(error).__name__})"
    return type(error).__name__


class GuardedDrafter:
    """Implements recovery.protocols.Drafter on top of one LLMProvider (or none: template)."""

    def __init__(
        self,
        *,
        provider: LLMProvider | None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        company_name: str | None = None,
    ) -> None:
        self.provider = provider
        self.timeout_s = timeout_s
        self.company_name = company_name

    async def draft(self, request: DraftRequest) -> DraftResult:
        """A checked draft; falls back to the template on any failure instead of raising,
        except ProviderDeferred (the shared LLM budget says wait: the draft job runs later)."""
        request = self._with_company(request)
        spend = _Spend()
        if self.provider is None:
            return self._template(request, spend=spend, reason=None)
        try:
            return await self._draft_with_llm(self.provider, request, spend)
        except ProviderDeferred:
            raise
        except TimeoutError:
            reason = f"timed out after {self.timeout_s:g} s"
        except ProviderOutputError as error:
            spend.add(error.usage)
            reason = f"invalid output: {error}"
        except Exception as error:  # the Drafter contract: never raise
            log.warning("LLM draft failed", exc_info=True, extra={"action": "draft_error"})
            reason = f"error: {describe_error(error)}"
        return self._template(
            request, spend=spend, reason=f"{self.provider.name} {self.provider.model}: {reason}"
        )

    async def aclose(self) -> None:
        """Release the provider's HTTP client."""
        if self.provider is not None:
            await self.provider.aclose()

    async def _draft_with_llm(
        self, provider: LLMProvider, request: DraftRequest, spend: _Spend
    ) -> DraftResult:
        feedback: Sequence[str] = ()
        async with asyncio.timeout(self.timeout_s):
            for attempt in range(1, MAX_ATTEMPTS + 1):
                system, user = render_prompt(request, feedback=feedback)
                reply = await provider.generate(system=system, user=user)
                spend.add(reply.usage)
                reasons = check_draft(
                    reply.subject,
                    reply.body,
                    amount_due=request.amount_due,
                    currency=request.currency,
                    allowed_terms=(request.company_name,),
                )
                if not reasons:
                    return self._ai_result(provider, reply, spend)
                spend.notes.extend(f"AI draft {attempt} rejected: {reason}" for reason in reasons)
                feedback = reasons
        return self._template(
            request,
            spend=spend,
            reason=f"{provider.name} {provider.model}: guardrails rejected every AI draft",
        )

    def _ai_result(self, provider: LLMProvider, reply: ProviderReply, spend: _Spend) -> DraftResult:
        return DraftResult(
            subject=reply.subject,
            body=reply.body,
            source="ai",
            provider=provider.name,
            model=provider.model,
            prompt_version=PROMPT_VERSION,
            guardrail_notes=spend.notes + self._cost_notes(spend),
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            cost_usd=self._cost(spend),
        )

    def _template(self, request: DraftRequest, *, spend: _Spend, reason: str | None) -> DraftResult:
        subject, body = template_draft(request)
        problems = check_draft(
            subject,
            body,
            amount_due=request.amount_due,
            currency=request.currency,
            allowed_terms=(request.company_name,),
        )
        if reason:
            log.info("template fallback: %s", reason, extra={"action": "draft_fallback"})
        return DraftResult(
            subject=subject,
            body=body,
            source="template",
            provider="template",
            model=None,
            prompt_version=TEMPLATE_VERSION,
            fallback_reason=reason,
            guardrail_notes=spend.notes
            + [f"template draft: {problem}" for problem in problems]
            + self._cost_notes(spend),
            input_tokens=spend.input_tokens,
            output_tokens=spend.output_tokens,
            cost_usd=self._cost(spend),
        )

    def _cost(self, spend: _Spend) -> float:
        model = self.provider.model if self.provider else None
        cost = estimate_cost(
            model, input_tokens=spend.input_tokens, output_tokens=spend.output_tokens
        )
        return cost or 0.0

    def _cost_notes(self, spend: _Spend) -> list[str]:
        if self.provider is None or not (spend.input_tokens or spend.output_tokens):
            return []
        if estimate_cost(self.provider.model, input_tokens=0, output_tokens=0) is None:
            return [f"cost not estimated: no price known for model {self.provider.model!r}"]
        return []

    def _with_company(self, request: DraftRequest) -> DraftRequest:
        if request.company_name.strip() or not self.company_name:
            return request
        return request.model_copy(update={"company_name": self.company_name})
