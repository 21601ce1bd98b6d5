"""Plain inputs for prompt rendering, so `prompts/` depends on nothing of ours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class PromptInputs:
    """What a prompt may mention. Customer fields are untrusted data, never instructions."""

    company_name: str
    locale: str = "en"
    decline_category: str = "unknown"
    stage: str = "first"
    attempt_number: int = 1
    will_retry: bool = False
    invoice_number: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    customer_company: str | None = None
    customer_metadata: Mapping[str, str] = field(default_factory=dict)
    reviewer_instruction: str | None = None
    previous_body: str | None = None
    feedback: Sequence[str] = ()
