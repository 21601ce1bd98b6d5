"""Render the customer email around an approved draft body: greeting, body, amount due,
due date, the pay link (the only link, in text and HTML) and signature, all in one language
(en, fr, de, es, it, nl, pt, ja; English for any other), money and dates formatted by Babel."""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from recovery.domain import OutgoingEmail
from recovery.guardrails import find_links
from recovery.money import format_amount, normalise_locale

MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class Framing:
    """The fixed words around the body, per language."""

    greeting: str  # with {name}
    greeting_anonymous: str
    amount_due: str
    due_date: str
    pay_text: str
    pay_button: str
    thanks: str
    signature: str  # with {company}


FRAMINGS: dict[str, Framing] = {
    "en": Framing(
        greeting="Hi {name},",
        greeting_anonymous="Hello,",
        amount_due="Amount due: {amount}",
        due_date="Due date: {date}",
        pay_text="Pay securely here: {url}",
        pay_button="Pay your invoice",
        thanks="Thank you,",
        signature="The {company} team",
    ),
    "fr": Framing(
        greeting="Bonjour {name},",
        greeting_anonymous="Bonjour,",
        amount_due="Montant dû : {amount}",
        due_date="Date d'échéance : {date}",
        pay_text="Payer en toute sécurité : {url}",
        pay_button="Régler ma facture",
        thanks="Merci,",
        signature="L'équipe {company}",
    ),
    "de": Framing(
        greeting="Hallo {name},",
        greeting_anonymous="Guten Tag,",
        amount_due="Offener Betrag: {amount}",
        due_date="Fällig am: {date}",
        pay_text="Jetzt sicher bezahlen: {url}",
        pay_button="Rechnung bezahlen",
        thanks="Vielen Dank",
        signature="Ihr {company}-Team",
    ),
    "es": Framing(
        greeting="Hola, {name}:",
        greeting_anonymous="Hola:",
        amount_due="Importe pendiente: {amount}",
        due_date="Fecha de vencimiento: {date}",
        pay_text="Pague de forma segura aquí: {url}",
        pay_button="Pagar la factura",
        thanks="Gracias,",
        signature="El equipo de {company}",
    ),
    "it": Framing(
        greeting="Gentile {name},",
        greeting_anonymous="Buongiorno,",
        amount_due="Importo dovuto: {amount}",
        due_date="Data di scadenza: {date}",
        pay_text="Paghi in modo sicuro qui: {url}",
        pay_button="Paga la fattura",
        thanks="Grazie,",
        signature="Il team di {company}",
    ),
    "nl": Framing(
        greeting="Beste {name},",
        greeting_anonymous="Beste klant,",
        amount_due="Openstaand bedrag: {amount}",
        due_date="Vervaldatum: {date}",
        pay_text="Betaal veilig via: {url}",
        pay_button="Factuur betalen",
        thanks="Met vriendelijke groet,",
        signature="Het team van {company}",
    ),
    "pt": Framing(
        greeting="Olá {name},",
        greeting_anonymous="Olá,",
        amount_due="Valor em dívida: {amount}",
        due_date="Data de vencimento: {date}",
        pay_text="Pague em segurança aqui: {url}",
        pay_button="Pagar a fatura",
        thanks="Obrigado,",
        signature="A equipa {company}",
    ),
    "ja": Framing(
        greeting="{name} 様",
        greeting_anonymous="お客様各位",
        amount_due="ご請求額: {amount}",
        due_date="お支払い期限: {date}",
        pay_text="こちらから安全にお支払いいただけます: {url}",
        pay_button="請求書を支払う",
        thanks="今後ともよろしくお願いいたします。",
        signature="{company} チーム",
    ),
}


def babel_locale(locale: str | None) -> str:
    """A locale Babel knows ('fr-FR' → 'fr_FR'), else 'en'."""
    candidate = normalise_locale(locale)
    try:
        Locale.parse(candidate)
    except (UnknownLocaleError, ValueError, TypeError):
        return "en"
    return candidate


def email_locale(locale: str | None) -> str:
    """The locale the email is written in: the customer's when we translate its language
    ('fr_CA' stays 'fr_CA' for number and date formats), else 'en', so one email never mixes
    two languages."""
    candidate = babel_locale(locale)
    return candidate if candidate.split("_")[0].lower() in FRAMINGS else "en"


def one_line(text: str) -> str:
    """Collapse whitespace and drop control/format characters (no header injection)."""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(kept.split())


def greeting_name(name: str | None) -> str | None:
    """The customer's name fit for a greeting, or None when it is missing or looks odd."""
    if not name:
        return None
    cleaned = one_line(unicodedata.normalize("NFKC", name))
    too_long = len(cleaned) > MAX_NAME_CHARS or len(cleaned.split()) > MAX_NAME_WORDS
    if not cleaned or too_long or any(c.isdigit() for c in cleaned) or find_links(cleaned):
        return None
    return cleaned


def safe_pay_url(url: str | None) -> str | None:
    """The pay link when it is a plain https:// URL, else None (treated as missing: a payment
    page over http, or any other scheme, is no link to send a customer to)."""
    if not url or any(c.isspace() for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        return None
    return url


def _plain_spaces(text: str) -> str:
    """Babel's no-break spaces as plain spaces, so '49,00 €' reads and searches as written."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def render_email(
    *,
    body: str,
    subject: str,
    customer_name: str | None,
    amount_due: int,
    currency: str,
    due_date: datetime | None,
    pay_url: str | None,
    locale: str,
    company_name: str,
    from_addr: str,
    to_addr: str,
    reply_to: str | None,
    message_id: str,
) -> OutgoingEmail:
    """Build the text and HTML email; the body is kept unchanged and the pay link is the only
    link."""
    fmt_locale = email_locale(locale)
    words = FRAMINGS[fmt_locale.split("_")[0].lower()]
    name = greeting_name(customer_name)
    company = one_line(company_name)
    greeting = words.greeting.format(name=name) if name else words.greeting_anonymous
    amount = _plain_spaces(format_amount(amount_due, currency, fmt_locale))
    date = (
        _plain_spaces(format_date(due_date, format="long", locale=fmt_locale)) if due_date else None
    )
    url = safe_pay_url(pay_url)
    signature = words.signature.format(company=company)

    facts = [words.amount_due.format(amount=amount)]
    if date:
        facts.append(words.due_date.format(date=date))
    text_parts = [greeting, body.strip(), "\n".join(facts)]
    if url:
        text_parts.append(words.pay_text.format(url=url))
    text_parts.append(f"{words.thanks}\n{signature}")
    text_body = "\n\n".join(text_parts) + "\n"

    html_body = _html(
        lang=fmt_locale.split("_")[0],
        greeting=greeting,
        body=body.strip(),
        facts=[(words.amount_due, amount), *([(words.due_date, date)] if date else [])],
        url=url,
        button=words.pay_button,
        thanks=words.thanks,
        signature=signature,
    )
    return OutgoingEmail(
        message_id=message_id,
        from_addr=from_addr,
        to_addr=to_addr,
        reply_to=reply_to,
        subject=one_line(subject),
        text_body=text_body,
        html_body=html_body,
    )


def _html(
    *,
    lang: str,
    greeting: str,
    body: str,
    facts: list[tuple[str, str]],
    url: str | None,
    button: str,
    thanks: str,
    signature: str,
) -> str:
    """The HTML alternative: every interpolated value escaped, inline styles, one link."""
    esc = html.escape
    paragraphs = "<br>\n".join(esc(line) for line in body.splitlines() if line.strip())
    fact_lines = "<br>\n".join(
        esc(template.split("{")[0])
        + f'<strong style="white-space:nowrap">{esc(value)}</strong>'
        + esc(template.split("}")[-1])
        for template, value in facts
    )
    link = (
        f'<p><a href="{esc(url, quote=True)}" style="display:inline-block;padding:10px 18px;'
        f'background:#1a56db;color:#ffffff;text-decoration:none;border-radius:4px">'
        f"{esc(button)}</a></p>\n"
        if url
        else ""
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang, quote=True)}">\n'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;'
        'line-height:1.5;color:#1f2937">\n'
        f"<p>{esc(greeting)}</p>\n"
        f"<p>{paragraphs}</p>\n"
        f"<p>{fact_lines}</p>\n"
        f"{link}"
        f"<p>{esc(thanks)}<br>\n{esc(signature)}</p>\n"
        "</body>\n</html>\n"
    )
