"""Signed, expiring pay links for PAY_LINK=portal: `PUBLIC_URL/r/<token>`.

The token names the case and its invoice, signed with itsdangerous (HMAC, timestamped), so no
table is needed and a changed character is refused. It is valid while the case is open and at
most `MAX_AGE_S`; opening it creates a fresh Stripe billing portal session (those expire
within minutes, so the email cannot carry one itself).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.settings import Settings
from recovery.domain import InvoiceSnapshot

SALT = "dunbot.pay-link.v1"
MAX_AGE_S = 90 * 86_400  # longer than Stripe's retry schedule; the case closing ends it sooner
MAX_TOKEN_CHARS = 300  # refused unread beyond this


class PayLinkError(Exception):
    """The token cannot be used; `expired` tells a stale link from a forged one."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class PayLinkClaim:
    """What a verified token says."""

    case_id: int
    invoice_id: str


class PayLinkSigner:
    """Makes and checks pay-link tokens."""

    def __init__(self, *, secret: str, max_age_s: int = MAX_AGE_S) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._max_age_s = max_age_s

    def token(self, *, case_id: int, invoice_id: str) -> str:
        """A URL-safe token for the case's invoice."""
        return str(self._serializer.dumps([case_id, invoice_id]))

    def verify(self, token: str) -> PayLinkClaim:
        """The claim of a genuine, unexpired token; PayLinkError otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise PayLinkError("malformed token")
        try:
            case_id, invoice_id = self._serializer.loads(token, max_age=self._max_age_s)
        except SignatureExpired as error:
            raise PayLinkError("token expired", expired=True) from error
        except (BadSignature, ValueError, TypeError) as error:
            raise PayLinkError("bad token") from error
        if not isinstance(case_id, int) or not isinstance(invoice_id, str):
            raise PayLinkError("bad token")
        return PayLinkClaim(case_id=case_id, invoice_id=invoice_id)


def pay_link_secret(settings: Settings) -> str | None:
    """PAY_LINK_SECRET, else a key derived from STRIPE_API_KEY (never the key itself)."""
    if settings.pay_link_secret is not None:
        return settings.pay_link_secret.get_secret_value()
    if settings.stripe_api_key is not None:
        material = b"dunbot pay link key|" + settings.stripe_api_key.get_secret_value().encode()
        return hashlib.sha256(material).hexdigest()
    return None


def pay_link_signer(settings: Settings) -> PayLinkSigner | None:
    """The signer of this deployment; None when no secret is configured (no pay links)."""
    secret = pay_link_secret(settings)
    return PayLinkSigner(secret=secret) if secret is not None else None


class PortalPayLinks:
    """`PayLinks` for PAY_LINK=portal: the email carries `PUBLIC_URL/r/<token>`."""

    def __init__(self, *, signer: PayLinkSigner, public_url: str) -> None:
        self._signer = signer
        self._base = public_url.rstrip("/")

    def pay_url(self, *, case_id: int, invoice: InvoiceSnapshot) -> str | None:
        """A dunbot link that opens a fresh portal session for the case's customer."""
        return f"{self._base}/r/{self._signer.token(case_id=case_id, invoice_id=invoice.id)}"
