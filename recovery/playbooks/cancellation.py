"""The cancellation confirmation email: plan, date, what happens to access, an optional survey
link; in the customer's language (the dunning emails' eight), worded for who cancelled.

`customer.subscription.deleted` is sent for a cancellation by the customer (or the team) and
for one after failed payments; dunbot's own close-out marks the subscription it cancels
(`CLOSEOUT_METADATA_KEY`) so its confirmation can be left out or worded as non-payment.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date

from recovery.email_render import FRAMINGS, email_locale, greeting_name, safe_pay_url

CLOSEOUT_METADATA_KEY = "dunbot_closeout"
NON_PAYMENT_REASONS = frozenset({"payment_failed", "payment_disputed"})


@dataclass(frozen=True, slots=True)
class CancellationTexts:
    subject: str  # with {company}
    by_customer: str  # with {plan}, {date}
    non_payment: str  # with {plan}, {date}
    access: str  # with {date}
    survey: str  # with {url}
    your_subscription: str  # the plan's name when it has none


TEXTS: dict[str, CancellationTexts] = {
    "en": CancellationTexts(
        subject="Your {company} subscription has been cancelled",
        by_customer="As you asked, your subscription {plan} was cancelled on {date}.",
        non_payment="Your subscription {plan} was cancelled on {date} because its payment "
        "could not be collected.",
        access="Your access ended on {date}. You can subscribe again at any time.",
        survey="Would you tell us why you left? It takes a minute: {url}",
        your_subscription="",
    ),
    "fr": CancellationTexts(
        subject="Votre abonnement {company} a été résilié",
        by_customer="Comme vous l'avez demandé, votre abonnement {plan} a été résilié le {date}.",
        non_payment="Votre abonnement {plan} a été résilié le {date} car son paiement n'a pas "
        "pu être encaissé.",
        access="Votre accès a pris fin le {date}. Vous pouvez vous réabonner à tout moment.",
        survey="Pourriez-vous nous dire pourquoi vous partez ? Cela prend une minute : {url}",
        your_subscription="",
    ),
    "de": CancellationTexts(
        subject="Ihr {company}-Abonnement wurde gekündigt",
        by_customer="Wie gewünscht wurde Ihr Abonnement {plan} am {date} gekündigt.",
        non_payment="Ihr Abonnement {plan} wurde am {date} gekündigt, da die Zahlung nicht "
        "eingezogen werden konnte.",
        access="Ihr Zugang endete am {date}. Sie können jederzeit erneut abonnieren.",
        survey="Verraten Sie uns, warum Sie gehen? Es dauert eine Minute: {url}",
        your_subscription="",
    ),
    "es": CancellationTexts(
        subject="Su suscripción a {company} ha sido cancelada",
        by_customer="Tal como solicitó, su suscripción {plan} se canceló el {date}.",
        non_payment="Su suscripción {plan} se canceló el {date} porque no se pudo cobrar el pago.",
        access="Su acceso terminó el {date}. Puede volver a suscribirse cuando quiera.",
        survey="¿Nos cuenta por qué se va? Solo lleva un minuto: {url}",
        your_subscription="",
    ),
    "it": CancellationTexts(
        subject="Il suo abbonamento {company} è stato annullato",
        by_customer="Come richiesto, il suo abbonamento {plan} è stato annullato il {date}.",
        non_payment="Il suo abbonamento {plan} è stato annullato il {date} perché non è stato "
        "possibile riscuotere il pagamento.",
        access="Il suo accesso è terminato il {date}. Può abbonarsi di nuovo in qualsiasi momento.",
        survey="Ci direbbe perché ci lascia? Richiede un minuto: {url}",
        your_subscription="",
    ),
    "nl": CancellationTexts(
        subject="Uw {company}-abonnement is opgezegd",
        by_customer="Zoals gevraagd is uw abonnement {plan} op {date} opgezegd.",
        non_payment="Uw abonnement {plan} is op {date} beëindigd omdat de betaling niet kon "
        "worden geïnd.",
        access="Uw toegang is op {date} beëindigd. U kunt op elk moment opnieuw abonneren.",
        survey="Wilt u ons vertellen waarom u vertrekt? Het kost een minuut: {url}",
        your_subscription="",
    ),
    "pt": CancellationTexts(
        subject="A sua subscrição {company} foi cancelada",
        by_customer="Conforme pedido, a sua subscrição {plan} foi cancelada em {date}.",
        non_payment="A sua subscrição {plan} foi cancelada em {date} porque não foi possível "
        "cobrar o pagamento.",
        access="O seu acesso terminou em {date}. Pode voltar a subscrever a qualquer momento.",
        survey="Pode dizer-nos porque saiu? Leva um minuto: {url}",
        your_subscription="",
    ),
    "ja": CancellationTexts(
        subject="{company} のご契約の解約が完了しました",
        by_customer="ご依頼により、ご契約 {plan} を {date} に解約いたしました。",
        non_payment="お支払いを確認できなかったため、ご契約 {plan} は {date} に解約されました。",
        access="ご利用は {date} に終了しました。いつでも再度ご契約いただけます。",
        survey="解約の理由をお聞かせいただけますか（1分ほどで終わります）: {url}",
        your_subscription="",
    ),
}


@dataclass(frozen=True, slots=True)
class CancellationEmail:
    to: str
    subject: str
    text: str
    html: str
    language: str
    non_payment: bool


def cancelled_by_dunbot(subscription: Mapping[str, Any]) -> bool:
    """dunbot's close-out cancelled it (it marks the subscription's metadata)."""
    metadata = subscription.get("metadata")
    return isinstance(metadata, Mapping) and bool(metadata.get(CLOSEOUT_METADATA_KEY))


def for_non_payment(subscription: Mapping[str, Any]) -> bool:
    details = subscription.get("cancellation_details")
    reason = details.get("reason") if isinstance(details, Mapping) else None
    return cancelled_by_dunbot(subscription) or reason in NON_PAYMENT_REASONS


def plan_name(subscription: Mapping[str, Any]) -> str | None:
    """The first item's price nickname (or lookup key, or expanded product name)."""
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    if not isinstance(data, list) or not data or not isinstance(data[0], Mapping):
        return None
    price = data[0].get("price")
    if not isinstance(price, Mapping):
        return None
    product = price.get("product")
    for candidate in (
        price.get("nickname"),
        price.get("lookup_key"),
        product.get("name") if isinstance(product, Mapping) else None,
    ):
        if isinstance(candidate, str) and candidate.strip():
            return " ".join(candidate.split())[:80]
    return None


def customer_locale(customer: Mapping[str, Any]) -> str | None:
    locales = customer.get("preferred_locales")
    if isinstance(locales, list) and locales and isinstance(locales[0], str):
        return locales[0]
    return None


def render_cancellation(
    subscription: Mapping[str, Any],
    customer: Mapping[str, Any],
    *,
    company: str,
    survey_url: str | None,
) -> CancellationEmail | None:
    """The email, or None when the customer has no email address."""
    to = customer.get("email")
    if not isinstance(to, str) or "@" not in to:
        return None
    locale = email_locale(customer_locale(customer))
    language = locale.split("_")[0].lower()
    texts, framing = TEXTS[language], FRAMINGS[language]
    stamp = subscription.get("ended_at") or subscription.get("canceled_at")
    moment = (
        datetime.fromtimestamp(int(stamp), tz=UTC)
        if isinstance(stamp, int) and not isinstance(stamp, bool)
        else datetime.now(UTC)
    )
    date = format_date(moment.date(), format="long", locale=locale)
    name = plan_name(subscription)
    plan = f"“{name}”" if name else texts.your_subscription
    non_payment = for_non_payment(subscription)
    first = (texts.non_payment if non_payment else texts.by_customer).format(plan=plan, date=date)
    first = " ".join(first.split())
    who = greeting_name(customer.get("name") if isinstance(customer.get("name"), str) else None)
    greeting = framing.greeting.format(name=who) if who else framing.greeting_anonymous
    paragraphs = [greeting, first, texts.access.format(date=date)]
    survey = safe_pay_url(survey_url)
    if survey:
        paragraphs.append(texts.survey.format(url=survey))
    paragraphs.append(f"{framing.thanks}\n{framing.signature.format(company=company)}")
    text = "\n\n".join(paragraphs)
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return CancellationEmail(
        to=to,
        subject=texts.subject.format(company=company),
        text=text,
        html=f"<!doctype html><html><body>{body}</body></html>",
        language=language,
        non_payment=non_payment,
    )
