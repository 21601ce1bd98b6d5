"""Requests for card details and credentials in es, it, nl, pt and ja (en, fr, de are in
test_guardrails.py): examples, a property over phrasings, and harmless wording that passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prompts import SUPPORTED_LANGUAGES
from recovery.guardrails import check_draft


def sensitive(body: str) -> bool:
    reasons = check_draft("Pago", body, amount_due=4900, currency="eur")
    return any("sensitive" in reason for reason in reasons)


REQUESTS = {
    "es": [
        "Envíenos el número de tarjeta para completar el pago.",
        "Indíquenos el código de seguridad que aparece al dorso de su tarjeta.",
        "Responda con su contraseña para reactivar la cuenta.",
        "Por favor, facilítenos los datos de su tarjeta para finalizar el cobro.",
        "Compártanos el código de verificación recibido por SMS.",
        "Díganos su PIN y nosotros haremos el resto.",
    ],
    "it": [
        "Inviaci il numero di carta per completare il pagamento.",
        "Rispondi con il codice di sicurezza sul retro della tua carta.",
        "Comunicaci la tua password per riattivare l'abbonamento.",
        "Per favore forniscici i dati della carta per chiudere la pratica.",
        "Indicaci il codice di verifica ricevuto via SMS.",
        "Mandaci il CVV stampato sulla carta.",
    ],
    "nl": [
        "Stuur ons uw kaartnummer zodat we de betaling kunnen afronden.",
        "Geef de beveiligingscode op de achterkant van uw kaart door.",
        "Antwoord met uw wachtwoord om het abonnement te activeren.",
        "Stuur ons uw betaalgegevens per mail terug.",
        "Deel de verificatiecode die u per sms hebt ontvangen.",
        "Vermeld uw pincode in uw antwoord.",
    ],
    "pt": [
        "Envie-nos o número do cartão para concluirmos o pagamento.",
        "Indique o código de segurança no verso do seu cartão.",
        "Responda com a sua senha para reativar a subscrição.",
        "Por favor, forneça os dados do cartão para finalizar a cobrança.",
        "Partilhe o código de verificação que recebeu por SMS.",
        "Informe a sua palavra-passe para continuarmos.",
    ],
    "ja": [
        "カード番号を返信でお送りください。",
        "カードの裏にあるセキュリティコードを教えてください。",
        "パスワードを入力して返信してください。",
        "カード情報をメールでお送りください。",
        "SMSで届いた確認コードを教えてください。",
        "CVVを送ってください。",
        "暗証番号をお知らせください。",
    ],
}


@pytest.mark.parametrize(
    "body", [body for bodies in REQUESTS.values() for body in bodies]
)  # fmt: skip
def test_requests_for_secrets_are_rejected_in_every_frame_language(body: str) -> None:
    assert sensitive(body), body


def test_every_frame_language_has_examples() -> None:
    assert set(SUPPORTED_LANGUAGES) - {"en", "fr", "de"} <= set(REQUESTS)


SECRETS = {
    "es": ["número de tarjeta", "código de seguridad", "contraseña", "CVV", "PIN"],
    "it": ["numero di carta", "codice di sicurezza", "password", "CVC", "PIN"],
    "nl": ["kaartnummer", "beveiligingscode", "wachtwoord", "CVV", "pincode"],
    "pt": ["número do cartão", "código de segurança", "senha", "CVC", "PIN"],
    "ja": ["カード番号", "セキュリティコード", "暗証番号", "パスワード", "CVV", "PIN"],
}
FRAMES = {
    "es": ("Por favor, {} ahora.", "Necesitamos su {} hoy."),
    "it": ("Per favore, il {} adesso.", "Ci serve il tuo {} oggi."),
    "nl": ("Graag uw {} nu.", "Wij hebben uw {} vandaag nodig."),
    "pt": ("Por favor, o seu {} agora.", "Precisamos da sua {} hoje."),
    "ja": ("{}をお願いします。", "今日中に{}が必要です。"),
}

CASINGS: list[Callable[[str], str]] = [str, str.upper, str.capitalize]


@given(data=st.data(), language=st.sampled_from(sorted(SECRETS)))
def test_any_secret_word_in_any_sentence_is_caught(data: st.DataObject, language: str) -> None:
    term = data.draw(st.sampled_from(SECRETS[language]))
    frame = data.draw(st.sampled_from(FRAMES[language]))
    casing = data.draw(st.sampled_from(CASINGS))
    assert sensitive(frame.format(casing(term)))


@pytest.mark.parametrize(
    "body",
    [
        "Su tarjeta ha caducado; puede añadir una nueva en la página segura de abajo.",
        "Puede actualizar su método de pago en la página segura cuando le convenga.",
        "La tua carta è scaduta: puoi aggiornarla nella pagina sicura qui sotto.",
        "Uw kaart is verlopen; u kunt een nieuwe toevoegen op de beveiligde pagina hieronder.",
        "O seu cartão expirou; pode atualizar o método de pagamento na página segura abaixo.",
        "カードの有効期限が切れました。下の安全なページで更新できます。",
        "Spinning classes and the pinnacle of service are words, not secrets.",
    ],
)
def test_harmless_payment_wording_passes(body: str) -> None:
    assert check_draft("Pago", body, amount_due=4900, currency="eur") == [], body
