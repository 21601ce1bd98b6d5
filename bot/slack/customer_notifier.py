"""Slack for customer rules: a rule's notification (channel or DM) and owner look-ups."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.playbooks.slack_cards import rule_message
from storage.queue import RetryLater


class SlackCustomerNotifier:
    """`CustomerNotifier` over Slack's Web API."""

    def __init__(self, *, client: AsyncWebClient) -> None:
        self.client = client

    async def post_text(self, *, channel: str, text: str, footer: str) -> None:
        """Post escaped mrkdwn; a user id (U…) as channel lands in the bot's DM with them."""
        message = rule_message(text=text, footer=footer)
        await self._call(
            self.client.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        )

    async def user_by_email(self, email: str) -> str | None:
        """users.lookupByEmail; None when no member of the workspace has that email."""
        try:
            response = await self._call(self.client.users_lookupByEmail(email=email))
        except SlackApiError as error:
            if error.response is not None and error.response.get("error") == "users_not_found":
                return None
            raise
        user = response.get("user") or {}
        user_id = user.get("id")
        return user_id if isinstance(user_id, str) else None

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except SlackApiError as error:
            if error.response is not None and error.response.status_code == 429:
                retry_after = float(error.response.headers.get("Retry-After", 1) or 1)
                raise RetryLater(retry_after, "Slack rate limit (429)") from None
            raise
