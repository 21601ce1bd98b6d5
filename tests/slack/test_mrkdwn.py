from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.mrkdwn import (
    channel_mention,
    date_text,
    escape_inline,
    escape_mrkdwn,
    escape_truncated,
    link,
    user_mention,
    utc_text,
)


def test_control_characters_become_entities() -> None:
    assert escape_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"


def test_mentions_and_links_cannot_be_injected() -> None:
    escaped = escape_mrkdwn("<!channel> <!here|here> <@U123> <#C123> <https://evil.example|x>")
    assert "<" not in escaped
    assert ">" not in escaped


def test_bare_special_mentions_are_broken_up() -> None:
    escaped = escape_mrkdwn("@channel @Here @everyone hello@example.com")
    assert "@channel" not in escaped
    assert "@Here" not in escaped
    assert "@everyone" not in escaped
    assert "hello@example.com" in escaped


def test_formatting_characters_cannot_format() -> None:
    escaped = escape_mrkdwn("*boss* _italic_ ~gone~ `code`")
    assert not set("*_~`") & set(escaped)


def test_intraword_underscores_stay_so_emails_read_right() -> None:
    assert escape_mrkdwn("ana_pereira@example.com") == "ana_pereira@example.com"


def test_escape_inline_folds_newlines() -> None:
    assert escape_inline("Ana\n\n> quoted\tname") == "Ana &gt; quoted name"


def test_escape_truncated_never_splits_an_entity() -> None:
    result = escape_truncated("&" * 10, 12)
    assert result == "&amp;&amp;…"
    assert escape_truncated("short", 10) == "short"


def test_mention_helpers_refuse_non_ids() -> None:
    assert user_mention("U123ABC") == "<@U123ABC>"
    assert user_mention("W123ABC") == "<@W123ABC>"
    assert channel_mention("C123ABC") == "<#C123ABC>"
    for bad in ("!channel", "U1> <!channel", "", "u123"):
        with pytest.raises(ValueError):
            user_mention(bad)


def test_link_escapes_its_label_and_refuses_broken_urls() -> None:
    url = "https://dashboard.stripe.com/customers/cus_1?a=1&b=2"
    assert link(url, "<!channel>") == (
        "<https://dashboard.stripe.com/customers/cus_1?a=1&amp;b=2|&lt;!channel&gt;>"
    )
    for bad in ("javascript:alert(1)", "https://x.example/a|b", "https://x.example/<a>"):
        with pytest.raises(ValueError):
            link(bad, "x")


def test_dates() -> None:
    moment = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert utc_text(moment) == "2026-01-02 10:00 UTC"
    assert date_text(moment) == (
        "<!date^1767348000^{date_short_pretty} at {time}|2026-01-02 10:00 UTC>"
    )


@given(st.text(max_size=200))
def test_escaped_text_has_no_control_sequences(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert not re.search(r"@(channel|here|everyone)\b", escaped, re.IGNORECASE)
    # A formatting marker survives only between two letters/digits, where it can't open.
    for index, char in enumerate(escaped):
        if char in "*_~`":
            assert escaped[index - 1].isalnum()
            assert escaped[index + 1].isalnum()


@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_escape_truncated_respects_the_limit(text: str, limit: int) -> None:
    result = escape_truncated(text, limit)
    assert len(result) <= limit
    assert not re.search(r"&(?!amp;|lt;|gt;)", result)
