"""The Slack user behind a request, as the domain's Actor."""

from __future__ import annotations

from recovery.actors import Actor


def slack_actor(user_id: str) -> Actor:
    """`slack:U123` in the audit log, shown as a mention."""
    return Actor(kind="slack", id=user_id, display=f"<@{user_id}>")
