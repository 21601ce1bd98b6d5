"""SMS through the official `twilio` SDK (`Client.messages.create_async`).

TWILIO_API_BASE points the SDK elsewhere (a local fake in tests) the way Twilio documents for
other hosts: a custom HTTP client that rewrites the `*.twilio.com` address of each request.
Errors become `recovery.protocols` SMS errors: 429 and 5xx are temporary, other 4xx (invalid
number 21211, opted out 21610, …) permanent, and a connection lost after the request may
have reached Twilio is an unknown outcome (never resent blindly). The SDK retries nothing.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from recovery.protocols import PermanentSmsError, TemporarySmsError, UnknownSmsOutcome

DEFAULT_API_BASE = "https://api.twilio.com"
_TIMEOUT_S = 20.0


class BaseAddressHttpClient(AsyncTwilioHttpClient):
    """Twilio's async HTTP client, sending each `*.twilio.com` request to `api_base`."""

    def __init__(self, *, api_base: str, timeout: float = _TIMEOUT_S) -> None:
        super().__init__(timeout=timeout)
        self._base = api_base.rstrip("/").removesuffix("/2010-04-01")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Rewrite the host (path and query kept); send the credentials as a header, since
        aiohttp deprecates the `BasicAuth` object the SDK would pass."""
        parts = urlsplit(url)
        if parts.hostname and parts.hostname.endswith("twilio.com"):
            url = self._base + parts.path + (f"?{parts.query}" if parts.query else "")
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def classify(error: TwilioRestException) -> Exception:
    """Twilio's answer as a temporary or permanent SMS error, with its code in words."""
    text = f"Twilio error {error.code} (HTTP {error.status}): {error.msg}"
    if error.status == 429 or error.status >= 500:
        return TemporarySmsError(text)
    return PermanentSmsError(text)


class TwilioSmsSender:
    """`recovery.protocols.SmsSender` on Twilio; a new HTTP session per message."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str | None,
        messaging_service_sid: str | None,
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        if not sender and not messaging_service_sid:
            raise ValueError("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is needed")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender = sender
        self._service = messaging_service_sid
        self._api_base = api_base or DEFAULT_API_BASE

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account_sid={self._account_sid!r})"

    def client(self, http_client: AsyncTwilioHttpClient) -> Client:
        """An SDK client on `http_client` (for `dunbot check` too)."""
        return Client(self._account_sid, self._auth_token, http_client=http_client)

    async def send(self, *, to: str, body: str) -> str:
        """Create one message; its SID."""
        http_client = BaseAddressHttpClient(api_base=self._api_base)
        params: dict[str, Any] = {"to": to, "body": body}
        if self._service:
            params["messaging_service_sid"] = self._service
        else:
            params["from_"] = self._sender
        try:
            message = await self.client(http_client).messages.create_async(**params)
        except TwilioRestException as error:
            raise classify(error) from error
        except aiohttp.ClientConnectorError as error:  # never connected: nothing was sent
            raise TemporarySmsError(f"could not reach Twilio: {error.strerror}") from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise UnknownSmsOutcome(
                f"connection to Twilio lost after the request was sent ({type(error).__name__})"
            ) from error
        finally:
            await http_client.close()
        return str(message.sid)
