"""The `/sandbox` page: a Slack-like workspace plus Stripe and outbox controls, for the demo.

Every button on the page goes through dunbot's real entry points: clicks, modal submissions,
slash commands and App Home opens become signed Slack requests to `POST /slack/events`, and
the Stripe controls become signed events to `POST /stripe/webhook`, sent to this same app
in-process (httpx.ASGITransport). The page polls `GET /sandbox/state` about once a second.
"""

from __future__ import annotations

import hashlib
import html
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.adapters.mail.file import list_outbox
from bot.runtime import Runtime
from bot.sandbox.billing import SandboxBilling, SandboxError
from bot.sandbox.payloads import (
    APP_ID,
    block_actions_body,
    slash_command_body,
    view_submission_body,
)
from bot.sandbox.playbook_controls import (
    PLAYBOOK_EVENTS,
    fire_playbook_event,
    playbook_bar_html,
)
from bot.sandbox.render import blocks_html, modal_html, mrkdwn_html
from bot.sandbox.signing import slack_headers
from bot.sandbox.slack_api import TEAM_ID, SandboxMessage, SandboxSlack
from bot.sandbox.stripe_events import send_to_webhook
from bot.sandbox.subscriptions import subscription_label
from bot.sandbox.time_travel import ADVANCE_STEP, advance_invoice
from recovery.money import format_amount
from recovery.protocols import NotFoundError
from storage.models import Case

BOT_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = BOT_DIR / "templates"
STATIC_DIR = BOT_DIR / "static"
SLASH_COMMAND = "/dunning"
_INTERNAL_BASE = "http://dunbot.sandbox"

_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class SandboxUser:
    id: str
    name: str
    role: str


@dataclass
class SandboxDemo:
    """What the sandbox page needs: the fake workspace, the billing data and the secrets."""

    slack: SandboxSlack
    billing: SandboxBilling
    users: list[SandboxUser]
    slack_signing_secret: str
    stripe_webhook_secret: str
    outbox_dir: Path
    started_at: float = field(default_factory=time.time)

    @property
    def user_names(self) -> dict[str, str]:
        return {u.id: u.name for u in self.users} | {"U0DUNBOT": "dunbot"}

    def user(self, user_id: str) -> SandboxUser:
        found = next((u for u in self.users if u.id == user_id), None)
        if found is None:
            raise HTTPException(400, f"unknown sandbox user {user_id!r}")
        return found


@cache
def templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --- rendering the panes ------------------------------------------------------------------


def _message_html(demo: SandboxDemo, message: SandboxMessage, *, reply: bool) -> str:
    body = (
        blocks_html(message.blocks, users=demo.user_names, channels=demo.slack.channel_names)
        if message.blocks
        else mrkdwn_html(message.text)
    )
    edited = ' <span class="edited">(edited)</span>' if message.edited else ""
    stamp = datetime.fromtimestamp(float(message.ts)).strftime("%H:%M:%S")
    return (
        f'<article class="message{" reply" if reply else ""}" '
        f'data-channel="{html.escape(message.channel)}" data-ts="{html.escape(message.ts)}" '
        f'aria-label="Message from dunbot at {stamp}">'
        f'<div class="avatar" aria-hidden="true">d</div><div class="message-main">'
        f'<div class="meta"><strong>dunbot</strong> <span class="app-badge">APP</span> '
        f"<time>{stamp}</time>{edited}</div>"
        f'<div class="message-body">{body}</div></div></article>'
    )


def _ephemeral_html(demo: SandboxDemo, text: str, ts: str) -> str:
    stamp = datetime.fromtimestamp(float(ts)).strftime("%H:%M:%S")
    return (
        f'<article class="message ephemeral" data-ts="{html.escape(ts)}" '
        'aria-label="Only visible to you">'
        '<div class="avatar" aria-hidden="true">d</div><div class="message-main">'
        f'<div class="meta"><strong>dunbot</strong> <span class="app-badge">APP</span> '
        f'<time>{stamp}</time> <span class="only-you">Only visible to you</span></div>'
        f'<div class="message-body">{mrkdwn_html(text, users=demo.user_names)}</div>'
        "</div></article>"
    )


def channel_html(demo: SandboxDemo, channel: str, user: str) -> str:
    """A channel's messages (threads under their parent) with `user`'s ephemerals, by time."""
    messages = demo.slack.messages.get(channel, [])
    replies: dict[str, list[SandboxMessage]] = {}
    for message in messages:
        if message.thread_ts:
            replies.setdefault(message.thread_ts, []).append(message)
    items: list[tuple[float, str]] = []
    for message in messages:
        if message.thread_ts:
            continue
        thread = replies.get(message.ts, [])
        rendered = _message_html(demo, message, reply=False)
        if thread:
            noun = "reply" if len(thread) == 1 else "replies"
            rendered += (
                f'<section class="thread" aria-label="Thread: {len(thread)} {noun}">'
                f'<p class="thread-count">{len(thread)} {noun}</p>'
                + "".join(_message_html(demo, r, reply=True) for r in thread)
                + "</section>"
            )
        items.append((float(message.ts), rendered))
    for entry in demo.slack.visible_ephemerals(user):
        if entry.channel == channel:
            items.append((float(entry.ts), _ephemeral_html(demo, entry.text, entry.ts)))
    if not items:
        return '<p class="empty">No messages yet. Make a payment fail on the right.</p>'
    return "".join(rendered for _ts, rendered in sorted(items, key=lambda item: item[0]))


def home_html(demo: SandboxDemo, user: str) -> str:
    view = demo.slack.homes.get(user)
    if view is None:
        return '<p class="empty">Loading App Home…</p>'
    return str(blocks_html(view.get("blocks", []), users=demo.user_names))


async def _case_statuses(runtime: Runtime, invoice_ids: list[str]) -> dict[str, Case]:
    async with runtime.db.sessions() as session:
        cases = (await session.scalars(select(Case).where(Case.invoice_id.in_(invoice_ids)))).all()
    return {case.invoice_id: case for case in cases}


async def billing_html(demo: SandboxDemo, runtime: Runtime) -> str:
    """Each customer's latest invoice with its Stripe status, dunbot case, and the controls."""
    rows = []
    for customer in demo.billing.customers():
        invoices = demo.billing.invoices(customer=customer["id"])
        if not invoices:
            continue
        invoice = max(invoices, key=lambda i: (i["created"], i["id"]))
        rows.append((customer, invoice))
    cases = await _case_statuses(runtime, [invoice["id"] for _c, invoice in rows])
    return (
        templates()
        .get_template("sandbox_billing.html")
        .render(
            rows=[
                {
                    "customer": customer,
                    "invoice": invoice,
                    "amount": format_amount(
                        invoice["amount_remaining"] or invoice["amount_due"], invoice["currency"]
                    ),
                    "case": cases.get(invoice["id"]),
                    "subscription": _subscription_text(demo.billing, invoice),
                    "advanced_days": demo.billing.advanced_by(invoice["id"]).days,
                    "can_fail": invoice["status"] == "open",
                    "can_pay": invoice["status"] in {"open", "uncollectible"},
                }
                for customer, invoice in rows
            ]
        )
    ) + playbook_bar_html(demo.billing, invoice_id=rows[0][1]["id"] if rows else None)


def _subscription_text(billing: SandboxBilling, invoice: dict[str, Any]) -> str | None:
    """`Pro · yearly` for an invoice of a subscription, None for a one-off invoice."""
    subscription_id = invoice.get("subscription")
    if not isinstance(subscription_id, str):
        return None
    return subscription_label(billing.subscription(subscription_id))


def outbox_html(demo: SandboxDemo) -> str:
    entries = [
        entry
        for entry in list_outbox(demo.outbox_dir)
        if entry.path.stat().st_mtime >= demo.started_at - 1
    ]
    return templates().get_template("sandbox_outbox.html").render(entries=entries)


async def panes(demo: SandboxDemo, runtime: Runtime, user: str) -> dict[str, Any]:
    modal = demo.slack.modals.get(user)
    return {
        "channels": {c: channel_html(demo, c, user) for c in demo.slack.channel_names},
        "home": home_html(demo, user),
        "billing": await billing_html(demo, runtime),
        "outbox": outbox_html(demo),
        "modal": (
            {"id": modal.id, "html": str(modal_html(modal.view, users=demo.user_names))}
            if modal
            else None
        ),
    }


# --- forwarding through dunbot's real endpoints -----------------------------------------------


async def _forward(app: FastAPI, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=_INTERNAL_BASE) as client:
        return await client.post(path, content=body, headers=headers)


async def _to_slack(app: FastAPI, demo: SandboxDemo, body: bytes, *, json_body: bool = False):
    headers = slack_headers(body, demo.slack_signing_secret)
    if json_body:
        headers["Content-Type"] = "application/json"
    return await _forward(app, "/slack/events", body, headers)


async def _to_stripe(app: FastAPI, demo: SandboxDemo, event: dict[str, Any]) -> httpx.Response:
    """Send a sandbox Stripe event to dunbot's webhook, signed as Stripe signs it."""
    return await send_to_webhook(app, secret=demo.stripe_webhook_secret, event=event)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Click(BaseModel):
    user: str
    channel: str
    ts: str
    action_id: str
    block_id: str


class Submit(BaseModel):
    user: str
    view_id: str
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


class CloseModal(BaseModel):
    user: str
    view_id: str


class Command(BaseModel):
    user: str
    channel: str
    text: str = Field(max_length=4000)


class HomeOpened(BaseModel):
    user: str


class BillingAction(BaseModel):
    invoice_id: str
    action: str


class AdvanceClock(BaseModel):
    invoice_id: str = Field(max_length=255)
    days: int = Field(default=ADVANCE_STEP.days, ge=1, le=31)


def _find_button(message: SandboxMessage, action_id: str, block_id: str) -> dict[str, Any] | None:
    for block in message.blocks:
        candidates = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if (
                element.get("type") == "button"
                and element.get("action_id") == action_id
                and str(block.get("block_id") or "") in {block_id, ""}
            ):
                return element
    return None


def _require_json(request: Request) -> None:
    """Only same-origin scripts can send JSON without a CORS preflight: no cross-site posts."""
    if "application/json" not in request.headers.get("content-type", ""):
        raise HTTPException(415, "send application/json")


def sandbox_router(demo: SandboxDemo) -> APIRouter:
    """The page, its state endpoint and the actions it sends through dunbot."""
    router = APIRouter()

    def base_url(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    @router.get("/sandbox", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        runtime: Runtime = request.app.state.runtime
        user = request.query_params.get("user") or demo.users[0].id
        demo.user(user)
        content = await panes(demo, runtime, user)
        rendered = (
            templates()
            .get_template("sandbox.html")
            .render(
                users=demo.users,
                user=user,
                channels=demo.slack.channel_names,
                panes={
                    **content,
                    "channels": {c: Markup(h) for c, h in content["channels"].items()},
                    "home": Markup(content["home"]),
                    "billing": Markup(content["billing"]),
                    "outbox": Markup(content["outbox"]),
                },
                company=request.app.state.runtime.settings.company_name,
            )
        )
        return HTMLResponse(rendered, headers=_SECURITY_HEADERS)

    @router.get("/sandbox/static/sandbox.js")
    async def script() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "sandbox.js",
            media_type="text/javascript",
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/sandbox/state")
    async def state(request: Request, user: str, known: str = "") -> JSONResponse:
        demo.user(user)
        content = await panes(demo, request.app.state.runtime, user)
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]
        if digest == known:
            return JSONResponse({"hash": digest, "unchanged": True})
        return JSONResponse({"hash": digest, **content}, headers={"Cache-Control": "no-store"})

    @router.post("/sandbox/api/click")
    async def click(action: Click, request: Request) -> JSONResponse:
        _require_json(request)
        demo.user(action.user)
        message = demo.slack.find(action.channel, action.ts)
        if message is None:
            raise HTTPException(404, "message not found")
        button = _find_button(message, action.action_id, action.block_id)
        if button is None:
            raise HTTPException(404, "this message has no such button any more")
        body = block_actions_body(
            user_id=action.user,
            message=message,
            button=button,
            block_id=action.block_id,
            trigger_id=demo.slack.new_trigger(action.user),
            channel_name=demo.slack.channel_names.get(action.channel, action.channel),
            response_url=f"{base_url(request)}/sandbox/slack/respond/{action.channel}/{action.user}",
        )
        response = await _to_slack(request.app, demo, body)
        return JSONResponse({"status": response.status_code})

    @router.post("/sandbox/api/submit")
    async def submit(form: Submit, request: Request) -> JSONResponse:
        _require_json(request)
        modal = demo.slack.modals.get(form.user)
        if modal is None or modal.id != form.view_id:
            raise HTTPException(409, "this modal is no longer open")
        body = view_submission_body(user_id=form.user, view=modal.view, values=form.values)
        response = await _to_slack(request.app, demo, body)
        answer = _json(response)
        if response.status_code == 200 and answer.get("response_action") == "errors":
            return JSONResponse({"status": 200, "errors": answer.get("errors") or {}})
        if response.status_code == 200:
            demo.slack.close_modal(form.user, form.view_id)
        return JSONResponse({"status": response.status_code, "errors": {}})

    @router.post("/sandbox/api/close")
    async def close(form: CloseModal, request: Request) -> JSONResponse:
        _require_json(request)
        demo.slack.close_modal(form.user, form.view_id)
        return JSONResponse({"ok": True})

    @router.post("/sandbox/api/command")
    async def command(form: Command, request: Request) -> JSONResponse:
        _require_json(request)
        demo.user(form.user)
        text = form.text.strip()
        if text.startswith(SLASH_COMMAND):
            text = text[len(SLASH_COMMAND) :].strip()
        channel = (
            form.channel
            if form.channel in demo.slack.channel_names
            else next(iter(demo.slack.channel_names))
        )
        body = slash_command_body(
            command=SLASH_COMMAND,
            text=text,
            user_id=form.user,
            channel_id=channel,
            channel_name=demo.slack.channel_names[channel],
            trigger_id=demo.slack.new_trigger(form.user),
            response_url=f"{base_url(request)}/sandbox/slack/respond/{channel}/{form.user}",
        )
        response = await _to_slack(request.app, demo, body)
        answer = _json(response).get("text") or response.text
        if response.status_code == 200 and answer:
            demo.slack.add_ephemeral(channel=channel, user=form.user, text=answer)
        return JSONResponse({"status": response.status_code, "text": answer})

    @router.post("/sandbox/api/home")
    async def home_opened(form: HomeOpened, request: Request) -> JSONResponse:
        _require_json(request)
        demo.user(form.user)
        now = time.time()
        event = {
            "token": "sandbox-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(now),
            "event": {
                "type": "app_home_opened",
                "user": form.user,
                "channel": f"D{form.user[1:]}",
                "tab": "home",
                "event_ts": f"{now:.6f}",
            },
        }
        response = await _to_slack(request.app, demo, json.dumps(event).encode(), json_body=True)
        return JSONResponse({"status": response.status_code})

    @router.post("/sandbox/api/billing")
    async def billing(form: BillingAction, request: Request) -> JSONResponse:
        _require_json(request)
        try:
            if form.action == "fail":
                event = demo.billing.fail_payment(form.invoice_id)
            elif form.action == "pay":
                event = demo.billing.pay(form.invoice_id)
            elif form.action in PLAYBOOK_EVENTS:
                customer = demo.billing.invoice(form.invoice_id)["customer"]
                event = fire_playbook_event(demo.billing, form.action, customer)
            else:
                raise HTTPException(400, "action must be fail, pay or a playbook event")
        except (SandboxError, NotFoundError) as error:
            return JSONResponse({"status": 409, "error": str(error)}, status_code=409)
        response = await _to_stripe(request.app, demo, event)
        return JSONResponse({"status": response.status_code, "event": event["type"]})

    @router.post("/sandbox/api/advance")
    async def advance(form: AdvanceClock, request: Request) -> JSONResponse:
        """Time passes for one invoice: its queued jobs come due earlier, Stripe's events of
        that window are sent (see bot/sandbox/time_travel.py)."""
        _require_json(request)
        runtime: Runtime = request.app.state.runtime
        try:
            result = await advance_invoice(
                runtime.db,
                demo.billing,
                invoice_id=form.invoice_id,
                by=timedelta(days=form.days),
            )
        except (SandboxError, NotFoundError) as error:
            return JSONResponse({"status": 409, "error": str(error)}, status_code=409)
        statuses = [(await _to_stripe(request.app, demo, e)).status_code for e in result.events]
        return JSONResponse(
            {
                "status": max(statuses, default=200),
                "text": result.summary(),
                "now_due": [job.kind for job in result.now_due],
                "still_waiting": [job.kind for job in result.still_waiting],
                "events": [str(event["type"]) for event in result.events],
            }
        )

    @router.post("/sandbox/slack/respond/{channel}/{user}")
    async def respond(channel: str, user: str, request: Request) -> JSONResponse:
        """A `response_url`: Slack shows the text to the user ephemerally."""
        data = _json(httpx.Response(200, content=await request.body()))
        if channel in demo.slack.channel_names and data.get("text"):
            demo.slack.add_ephemeral(channel=channel, user=user, text=str(data["text"]))
        return JSONResponse({"ok": True})

    return router
