"""Block Kit primitives and Slack's limits, shared by every card family."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from bot.slack.ids import ModalCallback, ModalField
from bot.slack.metadata import ModalMetadata
from bot.slack.mrkdwn import truncate

Block = dict[str, Any]

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks).
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
CONFIRM_TEXT_MAX = 300
MODAL_TITLE_MAX = 24
INPUT_MAX = 3000
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
# Our own budgets, well inside Slack's limits.
FALLBACK_TEXT_MAX = 1000
NAME_MAX = 120
SUBJECT_MAX = 250
BODY_DISPLAY_MAX = 2500
NOTE_MAX = 1000


class Message(NamedTuple):
    """A message for chat.postMessage / chat.update: fallback `text` plus `blocks`."""

    text: str
    blocks: list[Block]


def mrkdwn_text(text: str) -> Block:
    """A mrkdwn text object; verbatim, so Slack does not auto-link bare URLs or #channels."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def plain_text(text: str) -> Block:
    """A plain_text object (emoji shortcodes rendered)."""
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, fields: Sequence[str] = (), block_id: str | None = None) -> Block:
    """A section with mrkdwn text and up to ten fields, each cut to Slack's limit."""
    block: Block = {"type": "section", "text": mrkdwn_text(truncate(text, SECTION_TEXT_MAX))}
    if fields:
        block["fields"] = [mrkdwn_text(truncate(f, FIELD_TEXT_MAX)) for f in fields[:10]]
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> Block:
    """A context block of the non-empty `texts` (at most Slack's ten elements)."""
    parts = [t for t in texts if t][:CONTEXT_ELEMENTS_MAX]
    return {
        "type": "context",
        "elements": [mrkdwn_text(truncate(t, FIELD_TEXT_MAX)) for t in parts],
    }


def header(text: str) -> Block:
    """A header block (plain text, 150 characters at most)."""
    return {"type": "header", "text": plain_text(truncate(text, HEADER_TEXT_MAX))}


def divider() -> Block:
    """A divider block."""
    return {"type": "divider"}


def button(
    label: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    """A button carrying `value` (typed metadata) under `action_id`."""
    element: Block = {
        "type": "button",
        "text": plain_text(label),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel") -> Block:
    """A confirmation dialog shown before a button's action is sent."""
    return {
        "title": plain_text(truncate(title, 100)),
        "text": plain_text(truncate(text, CONFIRM_TEXT_MAX)),
        "confirm": plain_text(truncate(yes, 30)),
        "deny": plain_text(truncate(no, 30)),
    }


def actions(block_id: str, *buttons: Block) -> Block:
    """An actions block holding `buttons`."""
    return {"type": "actions", "block_id": block_id, "elements": list(buttons)}


def text_input(
    field: ModalField,
    label: str,
    *,
    initial: str | None = None,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = INPUT_MAX,
    placeholder: str | None = None,
    hint: str | None = None,
) -> Block:
    """An input block with a plain_text_input element, ids from `field`."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": field.action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        # Inputs show plain text: never escape, just keep within the field's limit.
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain_text(truncate(placeholder, 150))
    block: Block = {
        "type": "input",
        "block_id": field.block_id,
        "label": plain_text(truncate(label, 2000)),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain_text(truncate(hint, 2000))
    return block


def modal(
    callback_id: ModalCallback,
    title: str,
    submit: str,
    blocks: list[Block],
    metadata: ModalMetadata,
) -> dict[str, Any]:
    """A modal view for views.open, carrying `metadata` as its private_metadata."""
    return {
        "type": "modal",
        "callback_id": str(callback_id),
        "title": plain_text(truncate(title, MODAL_TITLE_MAX)),
        "submit": plain_text(truncate(submit, MODAL_TITLE_MAX)),
        "close": plain_text("Cancel"),
        "private_metadata": metadata.dump(),
        "blocks": blocks[:VIEW_BLOCKS_MAX],
    }
