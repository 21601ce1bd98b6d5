"""GET /r/<token>: a customer opens the pay link of their email (PAY_LINK=portal).

A genuine token of an open case → a fresh Stripe billing portal session and a 303 redirect
to it. That Stripe call is the one external call made inside a request, because it is the
feature: portal sessions expire within minutes, so one is created when the customer clicks.
Nothing is stored. A forged, expired or settled link gets a friendly page and creates nothing.
"""

from __future__ import annotations

import html
import logging
import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from bot.adapters.stripe_portal import create_portal_session
from bot.pay_links import PayLinkError, pay_link_signer
from bot.runtime import Runtime
from recovery.protocols import BillingError
from storage.models import OPEN_CASE_STATUSES, Case, CaseStatus

log = logging.getLogger("dunbot.pay_link")
router = APIRouter()

_NO_STORE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


def _page(status: int, title: str, message: str) -> HTMLResponse:
    """A small, self-contained page for the customer (no links, nothing external)."""
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:32rem;margin:3rem auto;'
        'padding:0 1rem;color:#1f2937;line-height:1.5">'
        f'<h1 style="font-size:1.4rem">{html.escape(title)}</h1><p>{html.escape(message)}</p>'
        "</body></html>\n"
    )
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


INVALID = (404, "This payment link is not valid", "Please use the link in your latest email.")
EXPIRED = (
    410,
    "This payment link has expired",
    "Please reply to our latest email and we will send you a new one.",
)
PAID = (410, "This invoice is already paid", "Thank you — there is nothing left to do.")
SETTLED = (
    410,
    "This invoice no longer needs paying here",
    "There is nothing to pay through this link. Reply to our email if you have questions.",
)
UNAVAILABLE = (
    503,
    "The payment page is not available right now",
    "Please try again in a minute.",
)


@router.get("/r/done")
async def portal_return() -> Response:
    """Where the Stripe portal sends the customer back to."""
    return _page(200, "Thank you", "You can close this page now.")


@router.get("/r/{token}")
async def open_pay_link(token: str, request: Request) -> Response:
    """Verify the token and the case, then redirect to a new billing portal session."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    signer = pay_link_signer(settings)
    if signer is None or settings.stripe_api_key is None:
        return _page(*INVALID)
    try:
        claim = signer.verify(token)
    except PayLinkError as error:
        return _page(*(EXPIRED if error.expired else INVALID))
    async with runtime.db.sessions() as session:
        case = await session.get(Case, claim.case_id)
        if case is None or case.invoice_id != claim.invoice_id:
            return _page(*INVALID)
        status, customer_id = case.status, case.customer_id
    if status == CaseStatus.PAID:
        return _page(*PAID)
    if status not in OPEN_CASE_STATUSES:
        return _page(*SETTLED)
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    try:
        url = await create_portal_session(
            api_key=settings.stripe_api_key.get_secret_value(),
            api_base=settings.stripe_api_base,
            customer_id=customer_id,
            return_url=f"{base}/r/done",
            idempotency_key=f"dunbot-portal-{claim.case_id}-{uuid.uuid4()}",
        )
    except BillingError as error:
        log.warning("pay link of case %s: %s", claim.case_id, error)
        return _page(*UNAVAILABLE)
    log.info("pay link of case %s opened a portal session", claim.case_id)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)
