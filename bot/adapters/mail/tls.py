"""SMTP_TLS modes: the values accepted in settings and the submission port of each."""

from __future__ import annotations

from typing import Literal

TlsMode = Literal["starttls", "tls", "none"]
TLS_MODES: tuple[TlsMode, ...] = ("starttls", "tls", "none")

_TLS_ALIASES: dict[str, TlsMode] = {
    "starttls": "starttls",
    "true": "starttls",
    "1": "starttls",
    "yes": "starttls",
    "tls": "tls",
    "ssl": "tls",
    "implicit": "tls",
    "none": "none",
    "false": "none",
    "0": "none",
    "no": "none",
    "off": "none",
}


def parse_tls_mode(value: str | bool) -> TlsMode:
    """SMTP_TLS as configured (`true`/`starttls`, `tls`, `false`/`none`) → a TlsMode."""
    if isinstance(value, bool):
        return "starttls" if value else "none"
    mode = _TLS_ALIASES.get(value.strip().lower())
    if mode is None:
        raise ValueError(f"SMTP_TLS must be one of {', '.join(TLS_MODES)} or false, not {value!r}")
    return mode


def default_port(tls_mode: TlsMode) -> int:
    """Submission ports: 465 for implicit TLS, 587 for STARTTLS, 25 for plain SMTP."""
    return {"tls": 465, "starttls": 587, "none": 25}[tls_mode]
