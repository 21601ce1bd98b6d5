"""Sign requests the way Slack and Stripe do, so the sandbox goes through dunbot's real checks."""

from __future__ import annotations

import hashlib
import hmac
import time

from slack_sdk.signature import SignatureVerifier

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def slack_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's `X-Slack-Signature` (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`) and friends."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": FORM_CONTENT_TYPE,
    }


def stripe_signature(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Stripe's `Stripe-Signature` header: `t=…,v1=` HMAC-SHA256 of `{t}.{payload}`."""
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{stamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"
