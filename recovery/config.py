"""Settings the recovery engine needs, passed in by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from recovery.segmentation import VipThresholds


@dataclass(frozen=True, slots=True)
class RecoveryConfig:
    """Cadence, thresholds and email identity. Amounts are minor units."""

    vip_ltv_threshold: int = 500_000
    vip_ltv_thresholds: dict[str, int] = field(default_factory=dict)
    vip_invoice_threshold: int = 50_000
    vip_plans: frozenset[str] = frozenset()
    vip_tenure_months: int | None = None
    vip_tenure_min_invoice: int = 0
    max_emails_per_invoice: int = 3
    min_days_between_emails: float = 3.0
    vip_claim_sla_s: float = 7200.0
    ltv_cache_s: float = 86_400.0
    company_name: str = "Example Inc."
    email_from: str = "billing@example.com"
    email_reply_to: str | None = None
    pause_recheck_s: float = 60.0
    sms_consent_field: str = "sms_consent"
    company_timezone: str = "UTC"
    # Event types (Stripe's and dunbot.case.*) the playbooks listen to: queued for evaluation.
    playbook_event_types: frozenset[str] = frozenset()
    task_targets: tuple[str, ...] = ()  # "teams", "webhook": VIP tasks besides Slack
    refresh_customer_facts: bool = False  # customer/invoice events queue a facts refresh
    dunning_plans: bool = False  # a plan retries: new cases get a plan, card changes retry now

    @property
    def vip_thresholds(self) -> VipThresholds:
        """The segmentation thresholds these settings describe."""
        return VipThresholds(
            default_ltv=self.vip_ltv_threshold,
            ltv_by_currency=dict(self.vip_ltv_thresholds),
            invoice_amount=self.vip_invoice_threshold,
            plans=self.vip_plans,
            tenure_months=self.vip_tenure_months,
            tenure_min_invoice=self.vip_tenure_min_invoice,
        )
