"""POST /twilio/sms: replies to dunbot's texts, as Twilio delivers them.

Verified with the SDK's `RequestValidator` against PUBLIC_URL + path (403 when the
X-Twilio-Signature is missing or wrong), bounded before it is read (413). STOP and the other
standard opt-out words record the opt-out (no SMS goes to that number until START); any
other reply is queued to be posted in the case's Slack thread. Stores and acks; nothing
external is called here.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select

from bot.runtime import Runtime
from recovery import audit
from recovery.notify import NotifyCall, enqueue_notify
from recovery.sms import OPT_IN_WORDS, OPT_OUT_WORDS, e164, keyword
from storage.models import Case, OutboxSms, SmsOptOut

router = APIRouter()

MAX_BODY_BYTES = 16 * 1024  # Twilio's inbound form is well under 2 KiB
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_REPLY_CHARS = 500


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None as soon as it exceeds MAX_BODY_BYTES (never read whole)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/twilio/sms")
async def inbound_sms(request: Request) -> Response:
    """Verify, record an opt-out/opt-in or queue the reply for Slack, answer empty TwiML."""
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.twilio_auth_token is None or not settings.public_url:
        return Response("SMS is not configured", status_code=404)
    body = await _bounded_body(request)
    if body is None:
        return Response("request body too large", status_code=413)
    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += f"?{request.url.query}"
    from twilio.request_validator import RequestValidator  # the SDK only when SMS is on

    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not validator.validate(url, params, signature):
        return Response("bad signature", status_code=403)
    phone = e164(params.get("From"), country=None)
    if phone is not None:
        await _record_reply(runtime, phone=phone, text=params.get("Body", ""))
    return Response(EMPTY_TWIML, media_type="application/xml")


async def _record_reply(runtime: Runtime, *, phone: str, text: str) -> None:
    """STOP/START change the opt-out; anything else goes to the case's Slack thread."""
    word = keyword(text)
    async with runtime.db.transaction() as session:
        if word in OPT_OUT_WORDS:
            if await session.get(SmsOptOut, phone) is None:
                session.add(SmsOptOut(phone=phone, keyword=word))
            await audit.record(session, actor="customer:sms", action="sms_opted_out", word=word)
            return
        if word in OPT_IN_WORDS:
            await session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))
            await audit.record(session, actor="customer:sms", action="sms_opted_in", word=word)
            return
        case_id = await session.scalar(
            select(OutboxSms.case_id)
            .where(OutboxSms.to_phone == phone)
            .order_by(OutboxSms.id.desc())
            .limit(1)
        )
        if case_id is None:
            return
        case = await session.get(Case, case_id)
        reply = " ".join(text.split())[:MAX_REPLY_CHARS]
        await audit.record(
            session,
            actor="customer:sms",
            action="sms_reply",
            case_id=case_id,
            customer_id=case.customer_id if case else None,
        )
        await enqueue_notify(
            session, NotifyCall.ESCALATE, case_id=case_id, note=f"SMS reply from {phone}: {reply}"
        )
