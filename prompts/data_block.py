"""Untrusted text for prompts: JSON with every delimiter look-alike neutralised."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping

MAX_FIELD_CHARS = 200
MAX_METADATA_ITEMS = 20

# JSON escapes that keep the data decodable but make tag and template look-alikes inert.
_NEUTRALISE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "{": "\\u007b",
    "}": "\\u007d",
    "`": "\\u0060",
}


def clean_text(value: str, *, limit: int = MAX_FIELD_CHARS) -> str:
    """Drop control and format characters (incl. bidi overrides), fold whitespace, truncate."""
    kept = []
    for char in unicodedata.normalize("NFKC", value):
        category = unicodedata.category(char)
        if category.startswith("Z") or char in "\t\r\n":
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(char)
    return " ".join("".join(kept).split())[:limit]


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _neutralise_string(match: re.Match[str]) -> str:
    return "".join(_NEUTRALISE.get(char, char) for char in match.group(0))


def safe_json(data: object) -> str:
    """Serialise to JSON whose strings hold no literal `<`, `>`, `&`, braces or backticks."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    return _JSON_STRING.sub(_neutralise_string, text)


def customer_data(
    *,
    name: str | None,
    email: str | None,
    company: str | None,
    metadata: Mapping[str, str],
) -> str:
    """The customer's fields as neutralised JSON, ready to sit inside a delimited block."""
    items = sorted(metadata.items())[:MAX_METADATA_ITEMS]
    data: dict[str, object] = {
        "name": clean_text(name) if name else None,
        "email": clean_text(email) if email else None,
        "company": clean_text(company) if company else None,
        "metadata": {clean_text(k, limit=40): clean_text(v) for k, v in items},
    }
    return safe_json(data)


def quoted_text(value: str, *, limit: int = 1200) -> str:
    """A free-text value (previous draft, reviewer note) as neutralised JSON string."""
    return safe_json(clean_text(value, limit=limit))
