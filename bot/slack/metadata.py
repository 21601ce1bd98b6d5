"""Typed metadata carried by Slack: a button's `value` and a modal's `private_metadata`.

Slack hands these strings back verbatim on every click or submission, so they carry what the
handler needs to act without guessing: which card, and which version of it the person saw
(for compare-and-set: a click on an outdated card is refused, not applied).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

BUTTON_VALUE_MAX = 2000
"""Slack's limit for a button `value`."""
PRIVATE_METADATA_MAX = 3000
"""Slack's limit for a view's `private_metadata`."""
ROW_ID_MAX = 2**31 - 1
"""The largest id or version our Integer columns hold (PostgreSQL `integer`)."""


class MetadataError(ValueError):
    """A metadata string from Slack is missing, malformed, or not what this handler expects."""


class CardKind(StrEnum):
    """What a card (and so a `CardRef.id`) refers to."""

    DRAFT = "draft"
    VIP_TASK = "vip_task"
    DEAD_JOB = "dead_job"  # id: the alert of one death (its job_died job); version: 0
    BATCH = "batch"  # id: a review batch; version: the batch version the message listed

    @property
    def message_kind(self) -> str:
        """`SlackMessage.card_kind` of the message that shows a card of this kind."""
        return _MESSAGE_KINDS[self]


_MESSAGE_KINDS = {
    CardKind.DRAFT: "approval",
    CardKind.VIP_TASK: "vip_task",
    CardKind.DEAD_JOB: "dead_job",
    CardKind.BATCH: "review_batch",
}


class _Metadata(BaseModel):
    """Compact, strict JSON; unknown keys rejected so a foreign value never parses by accident."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_chars: ClassVar[int] = BUTTON_VALUE_MAX

    def dump(self) -> str:
        """Serialise for Slack; raises MetadataError if it would exceed Slack's size limit."""
        raw = self.model_dump_json(exclude_none=True)
        if len(raw) > self.max_chars:
            raise MetadataError(
                f"{type(self).__name__} is {len(raw)} chars, over Slack's limit of {self.max_chars}"
            )
        return raw

    @classmethod
    def parse(cls, raw: str | bytes | None) -> Self:
        """Parse a string Slack gave back; raise MetadataError with a readable reason."""
        name = cls.__name__
        if raw is None or (isinstance(raw, str | bytes) and not raw.strip()):
            raise MetadataError(f"{name}: no metadata (empty value)")
        if not isinstance(raw, str | bytes):
            raise MetadataError(f"{name}: expected a string, got {type(raw).__name__}")
        try:
            return cls.model_validate_json(raw, strict=True)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
                for err in exc.errors(include_url=False)
            )
            preview = raw[:80] if isinstance(raw, str) else raw[:80].decode("utf-8", "replace")
            raise MetadataError(f"{name}: invalid metadata {preview!r}: {problems}") from None


class CardRef(_Metadata):
    """Which card a button belongs to, and the version the clicking person saw."""

    kind: CardKind
    id: int = Field(ge=1, le=ROW_ID_MAX)
    version: int = Field(ge=0, le=ROW_ID_MAX)

    def expect(self, kind: CardKind) -> Self:
        """Return self if it refers to `kind`, else raise MetadataError (button wired wrongly)."""
        if self.kind is not kind:
            raise MetadataError(f"CardRef: expected a {kind.value} card, got {self.kind.value}")
        return self


class MessageRef(_Metadata):
    """Where a card is posted, so a modal submission can update it with chat.update."""

    channel: str = Field(min_length=1, max_length=64)
    ts: str = Field(min_length=1, max_length=32, pattern=r"^\d+\.\d+$")


class ModalMetadata(_Metadata):
    """`private_metadata` of every modal: the card it was opened from, and where that card is."""

    max_chars: ClassVar[int] = PRIVATE_METADATA_MAX

    card: CardRef
    message: MessageRef | None = None
    page: int | None = Field(default=None, ge=0, le=ROW_ID_MAX)  # a paged modal's page


class ReviewPageRef(_Metadata):
    """A page of a batch's Review one by one modal (its Previous / Next buttons)."""

    batch: int = Field(ge=1, le=ROW_ID_MAX)
    page: int = Field(ge=0, le=ROW_ID_MAX)
