"""The deterministic template drafter's Italian texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "nella pagina sicura qui sotto"

TEXTS = LocaleTexts(
    subjects={
        "first": "Il suo pagamento a {company} non è andato a buon fine",
        "follow_up": "Promemoria: il suo pagamento a {company} è ancora in sospeso",
        "final": "Ultimo avviso: la sua fattura di {company} risulta ancora non pagata",
    },
    openings={
        "first": (
            "Abbiamo provato ad addebitare l'ultimo pagamento del suo abbonamento, ma non è"
            " andato a buon fine."
        ),
        "follow_up": (
            "Abbiamo tentato di nuovo il pagamento, ma purtroppo non è ancora andato a buon fine."
        ),
        "final": (
            "Questo è il nostro ultimo promemoria per la fattura non pagata, e ci dispiacerebbe"
            " che il suo servizio venisse interrotto."
        ),
    },
    reasons={
        "insufficient_funds": (
            "La sua banca ha rifiutato l'addebito questa volta, quindi può pagare quando le è"
            f" più comodo oppure scegliere un altro metodo di pagamento {_PAGE}."
        ),
        "expired_card": (
            "Sembra che la carta registrata sia scaduta, e può aggiungere un nuovo metodo di"
            f" pagamento {_PAGE}."
        ),
        "authentication_required": (
            "La sua banca ha chiesto di confermare il pagamento, cosa che può fare in un minuto"
            f" {_PAGE}."
        ),
        "incorrect_details": (
            "Alcuni dati di pagamento registrati non corrispondono a quelli della sua banca,"
            f" quindi la preghiamo di controllare il metodo di pagamento {_PAGE}."
        ),
        "card_not_supported": (
            "La sua carta non sembra supportare questo tipo di pagamento, quindi un altro metodo"
            f" di pagamento {_PAGE} potrebbe funzionare meglio."
        ),
        "processing_error": (
            "Si è trattato di un problema tecnico temporaneo che non dipende da lei, e può"
            f" completare il pagamento {_PAGE}."
        ),
        "generic_decline": (
            "La sua banca ha rifiutato il pagamento senza indicarci il motivo, quindi può"
            f" chiedere alla banca oppure usare un altro metodo di pagamento {_PAGE}."
        ),
        "unknown": (
            f"Non sappiamo con certezza cosa sia successo, ma può completare il pagamento {_PAGE}."
        ),
    },
    retry="Riproveremo inoltre l'addebito automaticamente tra qualche giorno.",
    no_retry="Per qualsiasi domanda basta rispondere a questa e-mail, saremo lieti di aiutarla.",
    final=(
        "La preghiamo di saldare presto la fattura per mantenere attivo l'abbonamento, e può"
        " rispondere a questa e-mail se ha bisogno di aiuto."
    ),
)
