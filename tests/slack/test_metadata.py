from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.metadata import (
    BUTTON_VALUE_MAX,
    ROW_ID_MAX,
    CardKind,
    CardRef,
    MessageRef,
    MetadataError,
    ModalMetadata,
)


def test_card_ref_round_trip() -> None:
    ref = CardRef(kind=CardKind.DRAFT, id=11, version=3)
    raw = ref.dump()
    assert len(raw) < 100
    assert CardRef.parse(raw) == ref
    assert CardRef.parse(raw.encode()) == ref
    assert CardRef.parse(raw).kind is CardKind.DRAFT


def test_modal_metadata_round_trip_with_and_without_message() -> None:
    card = CardRef(kind=CardKind.VIP_TASK, id=5, version=0)
    full = ModalMetadata(card=card, message=MessageRef(channel="C123", ts="1700000001.000001"))
    bare = ModalMetadata(card=card)
    assert ModalMetadata.parse(full.dump()) == full
    assert ModalMetadata.parse(bare.dump()) == bare
    assert "message" not in bare.dump()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("   ", "empty"),
        ("click_me_123", "Invalid JSON"),
        ("[1, 2]", "object"),
        ('{"kind": "draft", "id": 1}', "version"),
        ('{"kind": "invoice", "id": 1, "version": 1}', "kind"),
        ('{"kind": "draft", "id": 0, "version": 1}', "id"),
        ('{"kind": "draft", "id": "1", "version": 1}', "id"),
        ('{"kind": "draft", "id": true, "version": 1}', "id"),
        ('{"kind": "draft", "id": 1, "version": -1}', "version"),
        ('{"kind": "draft", "id": 1, "version": 1, "admin": true}', "admin"),
    ],
)
def test_garbage_is_rejected_with_a_clear_error(raw: str | None, reason: str) -> None:
    with pytest.raises(MetadataError, match=reason) as caught:
        CardRef.parse(raw)
    assert str(caught.value).startswith("CardRef:")


def test_a_card_ref_is_not_modal_metadata() -> None:
    raw = CardRef(kind=CardKind.DRAFT, id=1, version=1).dump()
    with pytest.raises(MetadataError, match="ModalMetadata"):
        ModalMetadata.parse(raw)


def test_expect_kind() -> None:
    ref = CardRef(kind=CardKind.VIP_TASK, id=1, version=1)
    assert ref.expect(CardKind.VIP_TASK) is ref
    with pytest.raises(MetadataError, match="expected a draft card"):
        ref.expect(CardKind.DRAFT)


def test_message_ref_checks_the_ts_shape() -> None:
    with pytest.raises(MetadataError, match="ts"):
        MessageRef.parse('{"channel": "C1", "ts": "yesterday"}')


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_parse_never_raises_anything_but_metadata_error(raw: str) -> None:
    for model in (CardRef, ModalMetadata):
        try:
            model.parse(raw)
        except MetadataError:
            pass


@given(
    st.sampled_from(CardKind),
    st.integers(min_value=1, max_value=ROW_ID_MAX),
    st.integers(min_value=0, max_value=ROW_ID_MAX),
)
def test_round_trip_property(kind: CardKind, ident: int, version: int) -> None:
    ref = CardRef(kind=kind, id=ident, version=version)
    raw = ref.dump()
    assert len(raw) <= BUTTON_VALUE_MAX
    assert CardRef.parse(raw) == ref


@pytest.mark.parametrize("field", ["id", "version"])
def test_ids_beyond_an_integer_column_are_refused(field: str) -> None:
    raw = CardRef(kind=CardKind.DRAFT, id=1, version=1).model_dump(mode="json")
    raw[field] = ROW_ID_MAX + 1
    with pytest.raises(MetadataError):
        CardRef.parse(json.dumps(raw))
