"""The deterministic template drafter's Spanish texts."""

from __future__ import annotations

from prompts.texts.model import LocaleTexts

_PAGE = "en la página segura que encontrará más abajo"

TEXTS = LocaleTexts(
    subjects={
        "first": "Su pago a {company} no se ha podido completar",
        "follow_up": "Recordatorio: su pago a {company} sigue pendiente",
        "final": "Último aviso: su factura de {company} sigue sin pagar",
    },
    openings={
        "first": "Intentamos cobrar el último pago de su suscripción, pero no se pudo completar.",
        "follow_up": (
            "Hemos vuelto a intentar el pago, pero lamentablemente tampoco se ha podido completar."
        ),
        "final": (
            "Este es nuestro último recordatorio sobre su factura pendiente, y no queremos que"
            " su servicio se interrumpa."
        ),
    },
    reasons={
        "insufficient_funds": (
            "Su banco rechazó el cargo esta vez, así que puede pagar cuando le venga bien o"
            f" elegir otro método de pago {_PAGE}."
        ),
        "expired_card": (
            "Parece que la tarjeta registrada ha caducado, y puede añadir un nuevo método de"
            f" pago {_PAGE}."
        ),
        "authentication_required": (
            f"Su banco pidió confirmar el pago, algo que puede hacer en un minuto {_PAGE}."
        ),
        "incorrect_details": (
            "Algunos datos de pago registrados no coinciden con los de su banco, así que le"
            f" rogamos que revise su método de pago {_PAGE}."
        ),
        "card_not_supported": (
            "Su tarjeta no parece admitir este tipo de pago, por lo que otro método de pago"
            f" {_PAGE} podría funcionar mejor."
        ),
        "processing_error": (
            "Se trató de un problema técnico temporal que no depende de usted, y puede completar"
            f" el pago {_PAGE}."
        ),
        "generic_decline": (
            "Su banco rechazó el pago sin indicarnos el motivo, así que puede consultarlo con"
            f" su banco o usar otro método de pago {_PAGE}."
        ),
        "unknown": f"No sabemos con certeza qué ha fallado, pero puede completar el pago {_PAGE}.",
    },
    retry="Además, volveremos a intentar el cobro automáticamente dentro de unos días.",
    no_retry="Si tiene alguna pregunta, responda a este correo y le ayudaremos con gusto.",
    final=(
        "Le rogamos que abone la factura pronto para mantener activa su suscripción, y puede"
        " responder a este correo si necesita ayuda."
    ),
)
