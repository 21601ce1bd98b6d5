"""The deterministic template drafter's Portuguese texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "na página segura abaixo"

TEXTS = LocaleTexts(
    subjects={
        "first": "O seu pagamento à {company} não foi concluído",
        "follow_up": "Lembrete: o seu pagamento à {company} continua pendente",
        "final": "Último aviso: a sua fatura da {company} continua por pagar",
    },
    openings={
        "first": (
            "Tentámos cobrar o último pagamento da sua assinatura, mas não foi possível concluí-lo."
        ),
        "follow_up": (
            "Tentámos novamente o seu pagamento, mas infelizmente ainda não foi possível"
            " concluí-lo."
        ),
        "final": (
            "Este é o nosso último lembrete sobre a sua fatura em aberto, e não queremos que o"
            " seu serviço seja interrompido."
        ),
    },
    reasons={
        "insufficient_funds": (
            "O seu banco recusou a cobrança desta vez, por isso pode pagar quando lhe for"
            f" conveniente ou escolher outro método de pagamento {_PAGE}."
        ),
        "expired_card": (
            "Parece que o cartão registado expirou, e pode adicionar um novo método de"
            f" pagamento {_PAGE}."
        ),
        "authentication_required": (
            f"O seu banco pediu a confirmação do pagamento, o que pode fazer num minuto {_PAGE}."
        ),
        "incorrect_details": (
            "Alguns dados de pagamento registados não coincidem com os do seu banco, por isso"
            f" pedimos que reveja o seu método de pagamento {_PAGE}."
        ),
        "card_not_supported": (
            "O seu cartão não parece aceitar este tipo de pagamento, por isso outro método de"
            f" pagamento {_PAGE} poderá funcionar melhor."
        ),
        "processing_error": (
            "Tratou-se de um problema técnico temporário que não dependeu de si, e pode concluir"
            f" o pagamento {_PAGE}."
        ),
        "generic_decline": (
            "O seu banco recusou o pagamento sem nos indicar o motivo, por isso pode falar com"
            f" o seu banco ou usar outro método de pagamento {_PAGE}."
        ),
        "unknown": (
            f"Não sabemos ao certo o que correu mal, mas pode concluir o pagamento {_PAGE}."
        ),
    },
    retry="Também voltaremos a tentar a cobrança automaticamente dentro de alguns dias.",
    no_retry=(
        "Se tiver alguma dúvida, basta responder a este e-mail e teremos todo o gosto em ajudar."
    ),
    final=(
        "Pedimos que pague a fatura em breve para manter a sua assinatura ativa, e pode"
        " responder a este e-mail se precisar de ajuda."
    ),
)
