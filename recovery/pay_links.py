"""The default pay link: Stripe's hosted invoice page (PAY_LINK=invoice)."""

from __future__ import annotations

from recovery.domain import InvoiceSnapshot


class InvoicePayLinks:
    """`PayLinks` that hands out the invoice's `hosted_invoice_url`, as Stripe gives it."""

    def pay_url(self, *, case_id: int, invoice: InvoiceSnapshot) -> str | None:
        """The hosted invoice page of the (freshly re-read) invoice."""
        return invoice.hosted_invoice_url
