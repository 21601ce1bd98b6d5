"""Block Kit and mrkdwn rendered as safe HTML for the sandbox page.

Everything from a message is untrusted: text is HTML-escaped before any markup is added,
links are kept only for http(s)/mailto URLs, and attribute values are escaped too.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

JsonObject = dict[str, Any]

# Slack shortcodes as symbols every system font has (no emoji font needed, no tofu boxes).
EMOJI = {
    "alarm_clock": "\u25f7",  # ◷
    "arrows_counterclockwise": "\u21bb",  # ↻
    "bell": "\u2691",  # ⚑
    "double_vertical_bar": "\u2016",  # ‖
    "envelope": "\u2709",  # ✉
    "hourglass_flowing_sand": "\u25d4",  # ◔
    "moneybag": "\u00a4",  # ¤
    "no_entry": "\u2298",  # ⊘
    "outbox_tray": "\u27a4",  # ➤
    "page_facing_up": "\u25a4",  # ▤
    "raising_hand": "\u261d",  # ☝
    "robot_face": "\u2699",  # ⚙
    "rotating_light": "\u26a0",  # ⚠
    "shield": "\u25c8",  # ◈
    "star": "\u2605",  # ★
    "warning": "\u26a0",  # ⚠
    "wastebasket": "\u232b",  # ⌫
    "white_check_mark": "\u2714",  # ✔
    "x": "\u2716",  # ✖
}

_ANGLE = re.compile(r"<([^<>\n]*)>")
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)[^\s\"'<>]+$", re.IGNORECASE)
_USER_ID = re.compile(r"^[UW][A-Z0-9_]+$")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_CODE = re.compile(r"`([^`\n]+)`")
# Rendered pieces are held as NUL<index>NUL while the rest of a line is processed; a NUL in
# the text itself is replaced first (as browsers do), so the text can never name a piece.
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_REPLACEMENT_CHARACTER = "\ufffd"


def _marker(char: str, tag: str) -> tuple[re.Pattern[str], str]:
    c = re.escape(char)
    pattern = re.compile(rf"(?<![\w{c}]){c}(?=\S)([^{c}\n]+?)(?<=\S){c}(?![\w{c}])")
    return pattern, rf"<{tag}>\1</{tag}>"


_FORMATS = [_marker("*", "strong"), _marker("_", "em"), _marker("~", "s")]


def _emoji(match: re.Match[str]) -> str:
    symbol = EMOJI.get(match.group(1))
    if symbol is None:
        return match.group(0)
    name = match.group(1).replace("_", " ")
    title = f":{match.group(1)}:"
    return f'<span class="emoji" role="img" aria-label="{name}" title="{title}">{symbol}</span>'


def _slack_unescape(text: str) -> str:
    """Slack's three entities back to characters (the HTML escaping comes after)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _escape_text(text: str) -> str:
    return html.escape(_slack_unescape(text), quote=True)


def _attr(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _date(token: str) -> str:
    """`!date^1700000000^{format}|fallback` → a <time> showing the fallback (UTC)."""
    spec, _, fallback = token.partition("|")
    parts = spec.split("^")
    try:
        moment = datetime.fromtimestamp(int(parts[1]), UTC)
    except (IndexError, ValueError):
        return _escape_text(fallback or spec)
    shown = fallback or moment.strftime("%Y-%m-%d %H:%M UTC")
    return f'<time datetime="{moment.isoformat()}">{_escape_text(shown)}</time>'


def _angle_token(token: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """One `<…>` control sequence of mrkdwn as HTML."""
    if token.startswith("@"):
        user_id, _, label = token[1:].partition("|")
        if _USER_ID.match(user_id):
            name = users.get(user_id) or label or user_id
            return (
                f'<span class="mention" data-user-id="{_attr(user_id)}" title="{_attr(user_id)}">'
                f"@{html.escape(name)}</span>"
            )
    if token.startswith("#"):
        channel_id, _, label = token[1:].partition("|")
        name = channels.get(channel_id) or label or channel_id
        return f'<span class="mention channel">#{html.escape(name)}</span>'
    if token.startswith("!date^"):
        return _date(token)
    if token.startswith("!"):
        special = token[1:].partition("|")[0].partition("^")[0]
        return f'<span class="mention">@{html.escape(special)}</span>'
    url, _, label = token.partition("|")
    url = _slack_unescape(url)
    if _SAFE_URL.match(url):
        text = _escape_text(label) if label else html.escape(url)
        return (
            f'<a href="{_attr(url)}" target="_blank" rel="noopener noreferrer nofollow">{text}</a>'
        )
    return _escape_text(label or token)


def mrkdwn_html(
    text: str,
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> Markup:
    """Slack mrkdwn → HTML: bold, italic, strike, code, links, mentions, quotes, emoji."""
    users, channels = users or {}, channels or {}
    text = text.replace("\x00", _REPLACEMENT_CHARACTER)
    out: list[str] = []
    quote: list[str] = []

    def flush_quote() -> None:
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote.clear()

    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">"):
            quote.append(_inline(line[1:], users, channels))
            continue
        flush_quote()
        out.append(_inline(line, users, channels))
        if index < len(lines) - 1:
            out.append("<br>")
    flush_quote()
    return Markup("".join(out))


def _inline(line: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    pieces: list[str] = []

    def hold(rendered: str) -> str:
        pieces.append(rendered)
        return f"\x00{len(pieces) - 1}\x00"

    held = _ANGLE.sub(lambda m: hold(_angle_token(m.group(1), users, channels)), line)
    escaped = _escape_text(held)
    escaped = _CODE.sub(lambda m: hold(f"<code>{m.group(1)}</code>"), escaped)
    for pattern, replacement in _FORMATS:
        escaped = pattern.sub(replacement, escaped)
    escaped = _EMOJI.sub(_emoji, escaped)
    while _PLACEHOLDER.search(escaped):
        escaped = _PLACEHOLDER.sub(lambda m: pieces[int(m.group(1))], escaped)
    return escaped


def text_html(obj: Mapping[str, Any] | None, **names: Mapping[str, str]) -> Markup:
    """A Block Kit text object (mrkdwn or plain_text) as HTML."""
    if not obj:
        return Markup("")
    raw = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(raw, **names)
    escaped = html.escape(raw)
    if obj.get("emoji", True):
        escaped = _EMOJI.sub(_emoji, escaped)
    return Markup(escaped.replace("\n", "<br>"))


def _plain(obj: Mapping[str, Any] | None) -> str:
    return str((obj or {}).get("text") or "")


ButtonAttrs = Callable[[JsonObject, str], str]


def button_html(button: JsonObject, block_id: str, extra_attrs: str = "") -> str:
    """A Block Kit button; a `confirm` object travels in data attributes for the dialog."""
    style = button.get("style")
    classes = "btn" + (f" btn-{style}" if style in {"primary", "danger"} else "")
    attrs = [
        f'class="{classes}"',
        'type="button"',
        f'data-action-id="{_attr(button.get("action_id", ""))}"',
        f'data-block-id="{_attr(block_id)}"',
    ]
    confirm = button.get("confirm")
    if isinstance(confirm, dict):
        attrs.append(
            'data-confirm="'
            + _attr(
                json.dumps(
                    {
                        "title": _plain(confirm.get("title")) or "Are you sure?",
                        "text": _plain(confirm.get("text")),
                        "confirm": _plain(confirm.get("confirm")) or "Yes",
                        "deny": _plain(confirm.get("deny")) or "Cancel",
                    }
                )
            )
            + '"'
        )
    url = button.get("url")
    if isinstance(url, str) and _SAFE_URL.match(url):
        return (
            f'<a class="{classes}" href="{_attr(url)}" target="_blank" '
            f'rel="noopener noreferrer">{text_html(button.get("text"))}</a>'
        )
    return f"<button {' '.join(attrs)} {extra_attrs}>{text_html(button.get('text'))}</button>"


def blocks_html(
    blocks: list[JsonObject],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
    interactive: bool = True,
) -> Markup:
    """Message or view blocks as HTML (inputs are rendered by `modal_html`)."""
    names = {"users": users or {}, "channels": channels or {}}
    out: list[str] = []
    for index, block in enumerate(blocks):
        if isinstance(block, str):
            block = json.loads(block)
        kind = block.get("type")
        block_id = str(block.get("block_id") or f"b{index}")
        if kind == "section":
            parts = [f'<div class="block section" data-block-id="{_attr(block_id)}">']
            if block.get("text"):
                parts.append(f'<div class="text">{text_html(block["text"], **names)}</div>')
            if block.get("fields"):
                parts.append('<div class="fields">')
                parts += [
                    f'<div class="field">{text_html(f, **names)}</div>' for f in block["fields"]
                ]
                parts.append("</div>")
            accessory = block.get("accessory")
            if interactive and isinstance(accessory, dict) and accessory.get("type") == "button":
                parts.append(f'<div class="accessory">{button_html(accessory, block_id)}</div>')
            parts.append("</div>")
            out.append("".join(parts))
        elif kind == "header":
            out.append(f'<h3 class="block header">{text_html(block.get("text"))}</h3>')
        elif kind == "divider":
            out.append('<hr class="block divider">')
        elif kind == "context":
            elements = [
                f"<span>{text_html(e, **names)}</span>"
                for e in block.get("elements", [])
                if isinstance(e, dict) and e.get("type") in {"mrkdwn", "plain_text"}
            ]
            out.append(f'<div class="block context">{"".join(elements)}</div>')
        elif kind == "actions":
            buttons = [
                button_html(e, block_id)
                for e in block.get("elements", [])
                if isinstance(e, dict) and e.get("type") == "button"
            ]
            if interactive and buttons:
                out.append(
                    f'<div class="block actions" role="group" aria-label="Actions">'
                    f"{''.join(buttons)}</div>"
                )
        elif kind == "input":
            continue
        else:
            out.append(f'<div class="block unknown">[{html.escape(str(kind))} block]</div>')
    return Markup("".join(out))


def modal_html(view: JsonObject, *, users: Mapping[str, str] | None = None) -> Markup:
    """An open modal as the inner HTML of the page's <dialog>: a form with labelled inputs."""
    view_id = _attr(view.get("id", ""))
    title = html.escape(_plain(view.get("title")))
    parts = [
        f'<form class="modal-form" data-view-id="{view_id}" method="dialog">',
        f'<h2 id="modal-title">{title}</h2>',
        '<p class="modal-error" role="alert" hidden></p>',
    ]
    for index, block in enumerate(view.get("blocks", [])):
        if block.get("type") != "input":
            parts.append(str(blocks_html([block], users=users, interactive=False)))
            continue
        element = block.get("element") or {}
        block_id = str(block.get("block_id") or f"b{index}")
        action_id = str(element.get("action_id") or "input")
        field_id = f"field-{index}"
        optional = bool(block.get("optional"))
        label = html.escape(_plain(block.get("label")))
        common = (
            f'id="{field_id}" data-block-id="{_attr(block_id)}" '
            f'data-action-id="{_attr(action_id)}" '
            f'aria-describedby="{field_id}-error {field_id}-hint"'
            + ("" if optional else " required")
            + (
                f' maxlength="{int(element["max_length"])}"'
                if isinstance(element.get("max_length"), int)
                else ""
            )
            + (
                f' placeholder="{_attr(_plain(element.get("placeholder")))}"'
                if element.get("placeholder")
                else ""
            )
        )
        initial = html.escape(str(element.get("initial_value") or ""))
        control = (
            f'<textarea {common} rows="6">{initial}</textarea>'
            if element.get("multiline")
            else f'<input type="text" {common} value="{initial}">'
        )
        hint = html.escape(_plain(block.get("hint")))
        parts.append(
            f'<div class="input-block" data-block-id="{_attr(block_id)}">'
            f'<label for="{field_id}">{label}'
            + (' <span class="optional">(optional)</span>' if optional else "")
            + f"</label>{control}"
            f'<p class="hint" id="{field_id}-hint">{hint}</p>'
            f'<p class="field-error" id="{field_id}-error" role="alert"></p></div>'
        )
    submit = html.escape(_plain(view.get("submit")) or "Submit")
    close = html.escape(_plain(view.get("close")) or "Cancel")
    parts.append(
        '<div class="modal-buttons">'
        f'<button type="button" class="btn modal-close">{close}</button>'
        f'<button type="submit" class="btn btn-primary">{submit}</button></div></form>'
    )
    return Markup("".join(parts))
