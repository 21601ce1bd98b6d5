"""Message templates in rules: `{customer.id}` placeholders over the same fields as conditions.

A tiny formatter, not Jinja: a template can only name fields, never call code. Field values
are customer data and pass through `escape_value`; the template's own text through
`escape_text` (the Slack adapter passes its mrkdwn escapers, so neither can mention
@channel or forge a link). Money fields render as money (`$1,500.00`). `{{` and `}}` are
literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from recovery.money import format_amount
from recovery.playbooks.facts import Facts, Missing
from recovery.playbooks.fields import FieldError, FieldInfo, resolve_field

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
PLACEHOLDER_UNSET = "—"

Escape = Callable[[str], str]


class TemplateError(ValueError):
    """A template with a placeholder that is not a field; the message names it."""


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template: its text and the fields it names (with how to show each)."""

    text: str
    fields: tuple[FieldInfo, ...]


def _identity(text: str) -> str:
    return text


def placeholders(text: str) -> list[str]:
    """The field paths a template names, in order; raises TemplateError on a stray brace."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise TemplateError(f"a lone '{token}' in the text: write {token}{token} for a brace")
        name = match.group(1).strip()
        if not name:
            raise TemplateError("an empty {} in the text: name a field, e.g. {customer.id}")
        names.append(name)
    return names


def compile_template(text: str, *, kinds: list[str]) -> Template:
    """Check every placeholder against the rule's event objects."""
    infos: list[FieldInfo] = []
    for name in placeholders(text):
        try:
            found = [resolve_field(name, kind) for kind in kinds]
        except FieldError as error:
            raise TemplateError(f"{{{name}}}: {error}") from None
        infos.append(found[0] if found else FieldInfo(path=name, kind="event"))
    return Template(text=text, fields=tuple(infos))


def render(
    template: Template,
    facts: Facts,
    *,
    escape_value: Escape = _identity,
    escape_text: Escape = _identity,
) -> str:
    """Fill the placeholders from `facts`, escaping values and text separately."""
    by_path = {info.path: info for info in template.fields}
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(template.text):
        out.append(escape_text(template.text[last : match.start()]))
        last = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            out.append(escape_text(token[0]))
            continue
        name = (match.group(1) or "").strip()
        out.append(escape_value(show(facts, by_path.get(name) or FieldInfo(name, "event"))))
    out.append(escape_text(template.text[last:]))
    return "".join(out)


def show(facts: Facts, info: FieldInfo) -> str:
    """A field's value as a person reads it (money formatted, unset as a dash)."""
    value = facts.lookup(info.path)
    if isinstance(value, Missing) or value is None:
        return PLACEHOLDER_UNSET
    if info.money and isinstance(value, int):
        currency = facts.lookup(info.currency_path or "currency")
        if isinstance(currency, str):
            return format_amount(value, currency)
    if info.by_currency and isinstance(value, Mapping):
        return ", ".join(format_amount(int(v), c) for c, v in sorted(value.items())) or "0"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return PLACEHOLDER_UNSET
    return str(value)


def render_params(
    params: Mapping[str, Any], templates: Mapping[str, Template], facts: Facts, **escapes: Escape
) -> dict[str, Any]:
    """Parameters of an action with its templates filled in."""
    rendered = dict(params)
    for name, template in templates.items():
        rendered[name] = render(template, facts, **escapes)
    return rendered
