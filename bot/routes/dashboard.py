"""GET /dashboard: recovery figures as a server-rendered page, behind DASHBOARD_TOKEN.

Access: the token as `?token=…` or `Authorization: Bearer …`; a valid one also sets an
HttpOnly cookie (a keyed hash of the token, never the token itself) so the page can be
reloaded without it. With no DASHBOARD_TOKEN the page is open only in the app `dunbot demo`
builds (its sandbox is mounted; `ENVIRONMENT=demo` alone is not enough); anywhere else it
answers 503 saying to set DASHBOARD_TOKEN.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.dashboard_view import build_view
from bot.playbooks.dashboard import playbook_rows
from bot.runtime import Runtime
from recovery.stats import dashboard_stats

router = APIRouter()

COOKIE_NAME = "dunbot_dashboard"
COOKIE_MAX_AGE_S = 30 * 24 * 3600
_COOKIE_CONTEXT = b"dunbot dashboard cookie v1"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# No scripts at all; the page's own inline <style> only; nothing may frame it.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Access(StrEnum):
    """The outcome of the access check."""

    GRANTED = "granted"  # a valid cookie, or the open demo
    GRANTED_BY_TOKEN = "granted_by_token"  # a valid token: (re)issue the cookie
    MISSING = "missing"  # no credentials presented
    INVALID = "invalid"  # credentials presented, none valid
    NOT_CONFIGURED = "not_configured"  # no DASHBOARD_TOKEN outside the demo


@cache
def templates() -> Environment:
    """The Jinja2 environment for bot/templates, HTML-escaping everything."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def cookie_value(token: str) -> str:
    """What the cookie holds: an HMAC of a fixed context keyed by the token."""
    return hmac.new(token.encode(), _COOKIE_CONTEXT, hashlib.sha256).hexdigest()


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def check_access(request: Request, runtime: Runtime) -> Access:
    """Decide whether this request may see the dashboard (constant-time comparisons)."""
    secret = runtime.settings.dashboard_token
    expected = secret.get_secret_value() if secret is not None else ""
    if not expected:
        in_sandbox = getattr(request.app.state, "sandbox", None) is not None
        return Access.GRANTED if in_sandbox else Access.NOT_CONFIGURED
    tokens = [t for t in (request.query_params.get("token"), _bearer(request)) if t]
    if any(hmac.compare_digest(t.encode(), expected.encode()) for t in tokens):
        return Access.GRANTED_BY_TOKEN
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie and hmac.compare_digest(cookie.encode(), cookie_value(expected).encode()):
        return Access.GRANTED
    return Access.INVALID if tokens or cookie else Access.MISSING


def render_page(template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """A dashboard template as a response with the dashboard's security headers."""
    html = templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_SECURITY_HEADERS)


def refuse(access: Access) -> HTMLResponse:
    """The page for a request without access: 503 when no token is set, else 401."""
    if access is Access.NOT_CONFIGURED:
        return render_page("dashboard_message.html", 503, kind="not_configured")
    response = render_page("dashboard_message.html", 401, kind=access.value)
    response.headers["WWW-Authenticate"] = 'Bearer realm="dunbot dashboard"'
    if access is Access.INVALID:
        response.delete_cookie(COOKIE_NAME, path="/dashboard")
    return response


def remember_token(
    request: Request, runtime: Runtime, response: HTMLResponse, access: Access
) -> HTMLResponse:
    """After access by token, (re)issue the cookie so the next pages need no token."""
    if access is Access.GRANTED_BY_TOKEN:
        secret = runtime.settings.dashboard_token
        assert secret is not None
        response.set_cookie(
            COOKIE_NAME,
            cookie_value(secret.get_secret_value()),
            max_age=COOKIE_MAX_AGE_S,
            path="/dashboard",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    access = check_access(request, runtime)
    if access not in {Access.GRANTED, Access.GRANTED_BY_TOKEN}:
        return refuse(access)
    stats = await dashboard_stats(runtime.db)
    response = render_page(
        "dashboard.html",
        view=build_view(stats),
        company=runtime.settings.company_name,
        demo=runtime.settings.environment == "demo",
        sandbox=getattr(request.app.state, "sandbox", None) is not None,
        playbooks=await playbook_rows(runtime),
    )
    return remember_token(request, runtime, response, access)
