"""VIP tasks to Microsoft Teams (an Adaptive Card through a Workflows/incoming webhook) and to
a generic outbound webhook signed as the Standard Webhooks specification says.

The webhook body is `{"type": "vip_task.opened", "timestamp": …, "data": {task facts}}` with
`webhook-id` (the delivery's id, the same on every retry), `webhook-timestamp` (this attempt)
and `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, signed with the
`standardwebhooks` library, so any Standard Webhooks implementation verifies it. Any non-2xx
answer or network failure raises TaskTargetError: the job retries with backoff.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from recovery.domain import TaskFacts
from recovery.protocols import TaskTargetError

_TIMEOUT_S = 10.0
EVENT_TYPE = "vip_task.opened"
_MARKDOWN = re.compile(r"([\\`*_\[\]()~<>])")  # emphasis, links, code, tags


def _plain(text: str | None) -> str:
    """Customer data shown as text in Teams: markdown characters escaped, one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join((text or "").split()))


def adaptive_card(task: TaskFacts) -> dict[str, Any]:
    """The Teams message: an Adaptive Card with the Slack card's facts and a link back."""
    customer = task.customer_name or task.customer_email or task.customer_id
    invoice = task.invoice_number or task.invoice_id
    facts = [
        {"title": "Customer", "value": _plain(f"{customer} ({task.customer_email or '-'})")},
        {"title": "Invoice", "value": _plain(invoice)},
        {"title": "Amount due", "value": _plain(task.amount_text)},
        {"title": "Why VIP", "value": _plain("; ".join(task.reasons) or "-")},
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Large",
                "weight": "Bolder",
                "wrap": True,
                "text": f"VIP payment failed: {_plain(customer)}",
            },
            {"type": "FactSet", "facts": facts},
            {
                "type": "TextBlock",
                "wrap": True,
                "isSubtle": True,
                "text": "An account manager claims this task in Slack.",
            },
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Stripe", "url": task.stripe_url}],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def webhook_body(task: TaskFacts, *, now: datetime) -> str:
    """The outbound webhook's JSON text (what is signed is exactly what is sent)."""
    payload = {
        "type": EVENT_TYPE,
        "timestamp": now.isoformat(),
        "data": task.model_dump(mode="json"),
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signed_headers(*, secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers for `body`."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


class HttpTaskTargets:
    """`recovery.protocols.TaskTargets` over HTTP (httpx)."""

    def __init__(
        self,
        *,
        teams_url: str | None,
        webhook_url: str | None,
        webhook_secret: str | None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._teams_url = teams_url
        self._webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._client = client or httpx.AsyncClient(timeout=_TIMEOUT_S, follow_redirects=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"  # the URLs carry secrets

    @property
    def targets(self) -> tuple[str, ...]:
        """The configured targets, in a fixed order."""
        return tuple(
            name
            for name, url in (("teams", self._teams_url), ("webhook", self._webhook_url))
            if url
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver(self, *, target: str, message_id: str, task: TaskFacts) -> None:
        """POST the task to `target` once; TaskTargetError unless the answer is 2xx."""
        now = datetime.now(UTC)
        if target == "teams" and self._teams_url:
            url, body = self._teams_url, json.dumps(adaptive_card(task))
            headers = {"content-type": "application/json"}
        elif target == "webhook" and self._webhook_url and self._webhook_secret:
            url, body = self._webhook_url, webhook_body(task, now=now)
            headers = signed_headers(
                secret=self._webhook_secret, message_id=message_id, body=body, now=now
            )
        else:
            raise TaskTargetError(f"target {target} is not configured")
        try:
            response = await self._client.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:
            raise TaskTargetError(f"{target}: {type(error).__name__}") from error
        if not response.is_success:
            raise TaskTargetError(f"{target} answered HTTP {response.status_code}")
