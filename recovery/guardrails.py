"""Checks every draft must pass before a person sees it: shape, links, data requests, card
numbers, amounts, markup and placeholders. Each failed rule yields a readable reason.
Requests for card details and credentials are recognised in en, fr, de, es, it, nl, pt, ja
(every language of the email frame, `prompts.SUPPORTED_LANGUAGES`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation

from babel.numbers import list_currencies

from recovery.money import to_major_units

MAX_SENTENCES = 3
BODY_MIN_CHARS = 20
BODY_MAX_CHARS = 600
SUBJECT_MAX_CHARS = 120
_I = re.IGNORECASE

# --- shape -------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?。！？…]+(?=[\s\"'»”’)\]]|$)")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\u0085\v\f]")


def normalise(text: str) -> str:
    """NFKC-fold look-alikes (full-width letters, NBSP) so patterns see plain text."""
    return unicodedata.normalize("NFKC", text)


def count_sentences(text: str) -> int:
    """Sentences in prose, counting a trailing fragment without a full stop too."""
    parts = _SENTENCE_END.split(text)
    return sum(1 for part in parts if any(char.isalnum() for char in part))


def _subject_shape(subject: str) -> list[str]:
    stripped = subject.strip()
    reasons = []
    if not stripped:
        reasons.append("subject is empty")
    if len(stripped) > SUBJECT_MAX_CHARS:
        reasons.append(f"subject is {len(stripped)} characters long (max {SUBJECT_MAX_CHARS})")
    if _LINE_BREAK.search(stripped):
        reasons.append("subject spans more than one line")
    return reasons


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _unstorable(label: str, text: str) -> list[str]:
    """Control characters (NUL first of all) and lone surrogates: never part of an email, and
    PostgreSQL cannot store a NUL at all."""
    if "\x00" in text:
        return [f"{label} contains a NUL character (U+0000); remove it and try again"]
    if match := _UNSTORABLE.search(text):
        code = f"U+{ord(match.group(0)):04X}"
        return [f"{label} contains a control or invalid character ({code}); remove it"]
    return []


def _body_shape(body: str) -> list[str]:
    stripped = body.strip()
    reasons = []
    if len(stripped) < BODY_MIN_CHARS:
        reasons.append(f"body is too short ({len(stripped)} characters, min {BODY_MIN_CHARS})")
    if len(stripped) > BODY_MAX_CHARS:
        reasons.append(f"body is too long ({len(stripped)} characters, max {BODY_MAX_CHARS})")
    sentences = count_sentences(normalise(stripped))
    if sentences > MAX_SENTENCES:
        reasons.append(f"body has {sentences} sentences (max {MAX_SENTENCES})")
    return reasons


# --- links -------------------------------------------------------------------------------

_LINK_PATTERNS = [
    re.compile(r"\b[a-z][a-z0-9+.\-]{1,20}://\S*", _I),
    re.compile(r"\bwww\d{0,3}\.\S*", _I),
    re.compile(r"\b(?:mailto|javascript|vbscript|tel|sms):\S+", _I),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b\S*"),
    # bare domains, incl. internationalised ones and e-mail addresses: evil.com/pay
    re.compile(
        r"(?<![\w.\-])(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,24}|xn--[\w\-]+)\b\S*"
    ),
]


# Ideographic full stops (。 and the half-width ｡, which NFKC folds into it) separate domain
# labels as a dot does (IDNA): `evil-pay。com`. Folded only before an ASCII letter or digit,
# so Japanese prose (。 then more Japanese) is not read as a domain.
_IDEOGRAPHIC_DOT = re.compile(r"(?<=\S)\u3002(?=[A-Za-z0-9])")


def find_links(text: str) -> list[str]:
    """Every URL, web address, bare domain or e-mail address in the text."""
    folded = _IDEOGRAPHIC_DOT.sub(".", normalise(text))
    spans: list[tuple[int, int]] = []
    for pattern in _LINK_PATTERNS:  # most specific first; skip matches inside earlier ones
        for match in pattern.finditer(folded):
            if not any(start <= match.start() < end for start, end in spans):
                spans.append(match.span())
    return [folded[start:end].rstrip(".,;:!?)\"'") for start, end in sorted(spans)]


def _links(text: str) -> list[str]:
    links = find_links(text)
    return [f"contains a link or web address ({_snippet(links[0])})"] if links else []


# --- requests for secrets ----------------------------------------------------------------

_SECRET_TERMS = [
    re.compile(pattern, _I)
    for pattern in (
        # English
        r"\bcard\s*(?:number|no\b|num\b|#)",
        r"(?<![a-z0-9])(?:cvv2?|cvc2?|csc|cvn)(?![a-z0-9])",  # ASCII edges: 'CVVを' too
        r"\bsecurity\s*(?:code|number|digits)",
        r"(?<![a-z0-9])pin(?![a-z0-9])",
        r"(?<![a-z0-9])pass(?:word|code|phrase)s?(?![a-z0-9])",
        r"\b(?:bank|banking)\s*(?:log\s*-?\s*in|credentials|user\s*name|username)",
        r"\bonline\s*banking\b",
        r"\blog\s*-?\s*in\s*(?:details|credentials|information)",
        r"\bone\s*-?\s*time\s*(?:code|pass\w*|pin)",
        r"\b(?:verification|confirmation|authentication|authori[sz]ation|sms|text|2fa|mfa|otp"
        r"|access|login|3-?d\s*secure)\s*codes?\b",
        r"(?<![a-z0-9])otp(?![a-z0-9])",
        r"\b(?:bank\s*)?account\s*number",
        r"\biban\b",
        r"\b(?:routing|sort)\s*(?:code|number)",
        r"\bsocial\s*security",
        r"\bdigits\s*(?:on|of)\s*(?:the\s*)?(?:back\s*of\s*)?(?:your\s*|the\s*)card",
        r"\bback\s*of\s*(?:your|the)\s*card",
        # French
        r"\bnum[ée]ro\s*(?:de\s*(?:la\s*|votre\s*)?)?carte",
        r"\bcryptogramme",
        r"\bcode\s*(?:de\s*)?s[ée]curit[ée]",
        r"\bcode\s*(?:pin|confidentiel|secret)",
        r"\bmots?\s*de\s*passe",
        r"\bidentifiants?\b",
        r"\bcode\s*(?:de\s*)?(?:v[ée]rification|confirmation|validation|authentification)",
        r"\bcode\s*(?:re[çc]u\s*par\s*)?sms",
        r"\bcode\s*[àa]\s*usage\s*unique",
        r"\bnum[ée]ro\s*de\s*compte",
        r"\bchiffres\s*(?:au\s*dos|de\s*(?:votre|la)\s*carte)",
        r"\bau\s*dos\s*de\s*(?:votre|la)\s*carte",
        # German (compounds: no word boundary needed)
        r"kartennummer",
        r"pr[üu]f(?:ziffer|nummer|code|zahl)",
        r"sicherheits(?:code|nummer|zahl)",
        r"geheimzahl",
        r"\bpin-?(?:nummer|code)",
        r"passwort",
        r"kennwort",
        r"zugangsdaten",
        r"anmeldedaten",
        r"online-?banking",
        r"(?:best[äa]tigungs|verifizierungs|authentifizierungs|einmal|sms-?)code",
        r"(?:push|sms|m|i)-?tan\b",
        r"kontonummer",
        r"bankleitzahl",
        r"r[üu]ckseite\s*(?:ihrer|der)\s*karte",
        # Spanish
        r"\bn[úu]mero\s*de\s*(?:(?:la|su|tu)\s*)?tarjeta",
        r"\bc[óo]digo\s*(?:de\s*)?(?:seguridad|pin|secreto)",
        r"\bcontrase[ñn]as?\b",
        r"\bclaves?\s*(?:de\s*acceso|de\s*seguridad|secretas?|bancarias?)",
        r"\bcredenciales\b",
        r"\bc[óo]digo\s*de\s*(?:verificaci[óo]n|confirmaci[óo]n|autenticaci[óo]n|acceso)",
        r"\bc[óo]digos?\s*(?:recibidos?\s*)?(?:por\s*)?sms",
        r"\bn[úu]mero\s*de\s*cuenta",
        r"\bd[íi]gitos\s*(?:al\s*dorso|del\s*reverso|de\s*(?:su|tu|la)\s*tarjeta)",
        r"\b(?:dorso|reverso)\s*de\s*(?:su|tu|la)\s*tarjeta",
        # Italian
        r"\bnumero\s*(?:della\s*|di\s*)?(?:(?:tua|sua)\s*)?carta",
        r"\bcodice\s*(?:di\s*)?(?:sicurezza|pin|segreto)",
        r"\bcredenziali\b",
        r"\bcodice\s*(?:di\s*)?(?:verifica|conferma|autenticazione|accesso)",
        r"\bcodici?\s*(?:ricevut[oi]\s*)?(?:via\s*|per\s*)?sms",
        r"\bnumero\s*(?:di\s*|del\s*)?conto",
        r"\bretro\s*della\s*(?:(?:tua|sua)\s*)?carta",
        r"\bcifre\s*(?:sul\s*retro|della\s*(?:(?:tua|sua)\s*)?carta)",
        # Dutch (compounds)
        r"kaartnummer",
        r"(?:beveiligings|verificatie|bevestigings|inlog|toegangs|sms-?|pin|eenmalige\s*)code",
        r"wachtwoord",
        r"inloggegevens",
        r"rekeningnummer",
        r"achterkant\s*van\s*(?:uw|je|de)\s*(?:bank)?kaart",
        # Portuguese
        r"\bn[úu]mero\s*d[oe]\s*(?:(?:seu|teu)\s*)?cart[ãa]o",
        r"\bc[óo]digo\s*(?:de\s*)?seguran[çc]a",
        r"\bsenhas?\b",
        r"\bpalavras?[\s-]*passe",
        r"\bcredenciais\b",
        r"\bdados\s*de\s*acesso",
        r"\bc[óo]digo\s*de\s*(?:verifica[çc][ãa]o|confirma[çc][ãa]o|autentica[çc][ãa]o|acesso)",
        r"\bn[úu]mero\s*d[ae]\s*conta",
        r"\bverso\s*d[oe]\s*(?:seu\s*)?cart[ãa]o",
        # Japanese (no word boundaries in the script)
        r"カード\s*番号",
        r"セキュリティ\s*コード",
        r"暗証\s*番号",
        r"パスワード",
        r"(?:確認|認証|承認|ワンタイム)\s*(?:コード|番号|パスワード)",
        r"ログイン\s*(?:情報|ID)",
        r"口座\s*番号",
        r"カード\s*の\s*裏",
    )
]
_TAN = re.compile(r"\bTANs?\b")  # case-sensitive: 'tan' is also a colour

_DETAIL_TERMS = re.compile(
    r"\b(?:credit\s*|debit\s*)?card\s*(?:details|info\w*|data)"
    r"|\b(?:payment|bank|billing)\s*(?:details|info\w*|data)"
    r"|\bexpir(?:y|ation)\s*date|\bfull\s*card"
    r"|\bcoordonn[ée]es\s*bancaires"
    r"|\b(?:donn[ée]es|informations|d[ée]tails)\s*(?:de\s*(?:votre\s*|la\s*)?)?(?:carte|paiement)"
    r"|\bdate\s*d\W?\s*expiration"
    r"|karten(?:daten|details|informationen|angaben)|bank(?:daten|verbindung|angaben)"
    r"|zahlungs(?:daten|informationen)|ablaufdatum|g[üu]ltigkeitsdatum"
    r"|\bdatos\s*(?:de\s*(?:(?:su|tu|la)\s*)?)?(?:tarjeta|pago)|\bdatos\s*bancarios"
    r"|\bfecha\s*de\s*(?:caducidad|vencimiento)"
    r"|\bdati\s*(?:della\s*|di\s*)?(?:(?:tua|sua)\s*)?(?:carta|pagamento)|\bdati\s*bancari"
    r"|\bcoordinate\s*bancarie|\bdata\s*di\s*scadenza"
    r"|(?:kaart|bank|betaal)gegevens|vervaldatum"
    r"|\bdados\s*(?:d[oe]\s*(?:(?:seu|teu)\s*)?)?(?:cart[ãa]o|pagamento)|\bdados\s*banc[áa]rios"
    r"|\bdata\s*de\s*validade"
    r"|カード\s*(?:情報|の\s*詳細)|(?:お)?支払い?\s*情報|銀行\s*情報|有効\s*期限",
    _I,
)
_REQUEST_VERBS = re.compile(
    r"\b(?:reply|respond|send|e-?mail|text|share|provide|give|tell|forward|submit|confirm"
    r"|verify|type|write|call\s+us)\b"
    r"|\b(?:r[ée]pond\w*|envo\w*|communiqu\w*|partag\w*|fourni\w*|indiqu\w*|transm\w*"
    r"|donn(?:er|ez)|confirm\w*)\b"
    r"|\b(?:senden|schicken|antwort\w*|teilen|mitteil\w*|angeben|[üu]bermitt\w*|nennen"
    r"|best[äa]tig\w*|geben\s+sie)\b"
    r"|\b(?:env[íi]\w*|resp[oó]nd\w*|comp[aá]rt\w*|facil[ií]t\w*|proporci[oó]n\w*|ind[íi]qu\w*"
    r"|d[íi]ganos|escr[íi]b\w*|m[aá]nd[aeiá]\w*)\b"
    r"|\b(?:invi\w*|rispond\w*|condivid\w*|fornisc\w*|fornir\w*|comunic\w*|indic\w*"
    r"|conferm\w*|scriv\w*)\b"
    r"|\b(?:stuur\w*|sturen|verstuur\w*|antwoord\w*|deel|delen|geef|geven|doorgeven|mail"
    r"|bevestig\w*|vermeld\w*)\b"
    r"|\b(?:compartilh\w*|partilh\w*|forne[çc]\w*|informe\w*|informar\w*)\b"
    r"|送って|送信|お送り|返信|教えて|(?:お知らせ|ご連絡|ご記入|ご入力)(?:ください|下さい)"
    r"|入力して|記入して|共有して",
    _I,
)
# Sentences for pairing a data term with a request verb: Japanese ends them with 。！？ and
# no space after, which the shape counter's pattern (made for prose with spaces) leaves joined.
_REQUEST_SENTENCE_END = re.compile(r"[.!?…]+(?=[\s\"'»”’)\]]|$)|[。！？]")
_SEND_YOUR_CARD = re.compile(
    r"\b(?:send|reply|e-?mail|text|share|provide|give|tell)\b[^.?!]{0,40}"
    r"\byour\s+(?:credit\s+|debit\s+)?card\b",
    _I,
)


def _secret_requests(text: str) -> list[str]:
    hits = [m.group(0) for p in _SECRET_TERMS if (m := p.search(text))]
    if m := _TAN.search(text):
        hits.append(m.group(0))
    if m := _SEND_YOUR_CARD.search(text):
        hits.append(m.group(0))
    for sentence in _REQUEST_SENTENCE_END.split(text):
        detail = _DETAIL_TERMS.search(sentence)
        if detail and _REQUEST_VERBS.search(sentence):
            hits.append(detail.group(0))
    if not hits:
        return []
    return [f"asks for or mentions sensitive payment or login data ({_snippet(hits[0])})"]


# --- card numbers ------------------------------------------------------------------------

# Digits with up to three separators of any kind between them (spaces, dashes, dots, slashes,
# mixed): `4242.4242/4242 - 4242` is still a card number. Letters end a run.
_DIGIT_RUN = re.compile(r"\d(?:[\W_]{0,3}\d)+")


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_numbers(text: str) -> list[str]:
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) > 19:
            return ["contains a long digit sequence that may hide a card number"]
        if len(digits) >= 13 and luhn_valid(digits):
            return ["contains a number that looks like a payment card number"]
    return []


# --- amounts -----------------------------------------------------------------------------

_SYMBOLS: dict[str, frozenset[str] | None] = {
    "US$": frozenset({"USD"}),
    "CA$": frozenset({"CAD"}),
    "C$": frozenset({"CAD"}),
    "A$": frozenset({"AUD"}),
    "AU$": frozenset({"AUD"}),
    "NZ$": frozenset({"NZD"}),
    "HK$": frozenset({"HKD"}),
    "S$": frozenset({"SGD"}),
    "R$": frozenset({"BRL"}),
    "MX$": frozenset({"MXN"}),
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
    "円": frozenset({"JPY"}),
    "元": frozenset({"CNY"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "₽": frozenset({"RUB"}),
    "₺": frozenset({"TRY"}),
    "₪": frozenset({"ILS"}),
    "₫": frozenset({"VND"}),
    "₱": frozenset({"PHP"}),
    "zł": frozenset({"PLN"}),
    "kr": frozenset({"SEK", "NOK", "DKK", "ISK"}),
    "Fr.": frozenset({"CHF"}),
}
_WORDS: dict[str, frozenset[str] | None] = {
    "dollars?": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD"}),
    "euros?": frozenset({"EUR"}),
    "pounds?": frozenset({"GBP"}),
    "pfund": frozenset({"GBP"}),
    "livres?": frozenset({"GBP"}),
    "yens?": frozenset({"JPY"}),
    "francs?": frozenset({"CHF"}),
    "franken": frozenset({"CHF"}),
    "cents?|centimes?": None,  # minor units of any currency
}
_CODES = frozenset(list_currencies())
_CURRENCY = (
    r"(?:"
    + "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
    + r"|\b(?:"
    + "|".join(sorted(_CODES))
    + r")\b|\b(?i:"
    + "|".join(_WORDS)
    + r"|usd|eur|gbp|jpy|chf|cad|aud)\b)"
)
_NUMBER = r"\d{1,3}(?:[ ,.'’]\d{3})+(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?P<cur1>{_CURRENCY}) ?-?(?P<num1>{_NUMBER})(?![\d])"
    rf"|(?<![\w.,])(?P<num2>{_NUMBER}) ?(?P<cur2>{_CURRENCY})"
)


def _number_readings(text: str) -> set[Decimal]:
    """Every value a written number may mean in en, fr or de notation."""
    compact = re.sub(r"[ '’]", "", text)
    separators = [char for char in compact if char in ".,"]
    readings: list[str] = []
    if not separators:
        readings = [compact]
    elif len(set(separators)) == 2:
        decimal_sep = compact[max(compact.rfind("."), compact.rfind(","))]
        group_sep = "," if decimal_sep == "." else "."
        readings = [compact.replace(group_sep, "").replace(decimal_sep, ".")]
    elif len(separators) > 1:
        readings = [compact.replace(separators[0], "")]
    else:
        sep = separators[0]
        readings = [compact.replace(sep, ".")]
        if len(compact) - compact.index(sep) - 1 == 3:
            readings.append(compact.replace(sep, ""))
    values = set()
    for reading in readings:
        try:
            values.add(Decimal(reading))
        except InvalidOperation:
            continue
    return values


def _currencies_of(token: str) -> frozenset[str] | None:
    if token in _SYMBOLS:
        return _SYMBOLS[token]
    if token in _CODES:
        return frozenset({token})
    for pattern, codes in _WORDS.items():
        if re.fullmatch(pattern, token, _I):
            return codes
    return frozenset({token.upper()})


def _foreign_amounts(text: str, *, amount_due: int, currency: str) -> list[str]:
    expected = to_major_units(amount_due, currency)
    code = currency.upper()
    for match in _AMOUNT.finditer(text):
        token = match.group("cur1") or match.group("cur2")
        number = match.group("num1") or match.group("num2")
        codes = _currencies_of(token)
        readings = _number_readings(number)
        if codes is None:  # cents: minor units of the invoice's currency
            matches = Decimal(amount_due) in readings
        else:
            matches = code in codes and expected in readings
        if not matches:
            return [f"mentions an amount that differs from the invoice ({_snippet(match[0])})"]
    return []


# --- markup and placeholders -------------------------------------------------------------

_MARKUP = [
    re.compile(r"<[^<>\n]{0,200}>"),
    re.compile(r"&(?:[a-z]{2,10}|#\d{1,6}|#x[0-9a-f]{1,6});", _I),
    re.compile(r"\*[^*\n]+\*|\*\*"),
    re.compile(r"(?<!\w)_[^_\n]+_(?!\w)"),
    re.compile(r"`"),
    re.compile(r"\[[^\]\n]*\]\([^)\n]*\)"),
    re.compile(r"(?<!\w)~[^~\n]+~(?!\w)"),
    re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE),
]
_PLACEHOLDERS = [
    re.compile(r"\{\{.*?\}\}|\{%.*?%\}"),
    re.compile(r"\{[^{}\n]{0,40}\}"),
    re.compile(r"\[[^\[\]\n]{1,40}\]"),
    re.compile(r"<[A-Z][A-Z _\-]{0,30}>"),
    re.compile(r"%(?:\([^)\n]{1,30}\))?[sdif]\b"),
    re.compile(r"\$\{[^}\n]{0,40}\}"),
    re.compile(r"\bX{3,}\b|\bTODO\b|\bTBD\b|\bINSERT\b"),
]


def _markup(text: str) -> list[str]:
    for pattern in _MARKUP:
        if match := pattern.search(text):
            return [f"contains HTML, Slack or Markdown markup ({_snippet(match.group(0))})"]
    return []


def _placeholders(text: str) -> list[str]:
    for pattern in _PLACEHOLDERS:
        if match := pattern.search(text):
            return [f"contains an unfilled placeholder ({_snippet(match.group(0))})"]
    return []


def _snippet(text: str, limit: int = 40) -> str:
    """A short, single-line quote of the offending text for the reviewer."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")


_CONTENT_CHECKS: list[Callable[[str], list[str]]] = [
    _links,
    _secret_requests,
    _card_numbers,
    _markup,
    _placeholders,
]


def _without(text: str, terms: Sequence[str]) -> str:
    for term in terms:
        if term.strip():
            text = re.sub(re.escape(normalise(term.strip())), "Company", text, flags=re.IGNORECASE)
    return text


def _labelled(label: str, reasons: list[str]) -> Iterator[str]:
    return (f"{label} {reason}" for reason in reasons)


def check_draft(
    subject: str,
    body: str,
    *,
    amount_due: int,
    currency: str,
    allowed_terms: Sequence[str] = (),
) -> list[str]:
    """Return every reason the draft may not be shown to a customer; empty means it passes.

    `allowed_terms` (e.g. the sender's own company name 'Acme.io') are ignored by the
    content checks, so a trusted name that looks like a domain is not a violation."""
    reasons = _unstorable("subject", subject) + _unstorable("body", body)
    reasons += _subject_shape(subject) + _body_shape(body)
    for label, text in (("subject", subject), ("body", body)):
        folded = _without(normalise(text), allowed_terms)
        for check in _CONTENT_CHECKS:
            reasons.extend(_labelled(label, check(folded)))
        reasons.extend(
            _labelled(label, _foreign_amounts(folded, amount_due=amount_due, currency=currency))
        )
    return list(dict.fromkeys(reasons))
