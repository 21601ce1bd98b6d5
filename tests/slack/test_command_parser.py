from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.command_parser import (
    HELP_TEXT,
    SUBCOMMANDS,
    Command,
    CommandError,
    Help,
    ListCases,
    Pause,
    Ref,
    RefKind,
    Resume,
    Status,
    parse_command,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CUS = Ref(RefKind.CUSTOMER_ID, "cus_Abc123")


def parse(text: str) -> object:
    return parse_command(text, now=NOW)


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "help pause"])
def test_help(text: str) -> None:
    assert parse(text) == Help()


def test_list() -> None:
    assert parse("list") == ListCases()
    with pytest.raises(CommandError, match="takes no arguments"):
        parse("list everything")


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("pause cus_Abc123", None),
        ("pause cus_Abc123 for 30d", NOW + timedelta(days=30)),
        ("pause cus_Abc123 30d", NOW + timedelta(days=30)),
        ("pause cus_Abc123 2w", NOW + timedelta(weeks=2)),
        ("pause cus_Abc123 12h", NOW + timedelta(hours=12)),
        ("pause cus_Abc123 FOR 12H", NOW + timedelta(hours=12)),
        ("pause cus_Abc123 until 2026-12-31", datetime(2026, 12, 31, 23, 59, 59, 999999, UTC)),
        ("pause cus_Abc123 until 2026-03-01", datetime(2026, 3, 1, 23, 59, 59, 999999, UTC)),
    ],
)
def test_pause_durations_and_until(text: str, until: datetime | None) -> None:
    assert parse(text) == Pause(customer=CUS, until=until)


def test_pause_with_reason() -> None:
    assert parse("pause cus_Abc123 for 30d  negotiating a new contract") == Pause(
        customer=CUS,
        until=NOW + timedelta(days=30),
        reason="negotiating a new contract",
    )
    assert parse("pause cus_Abc123 customer on holiday") == Pause(
        customer=CUS, reason="customer on holiday"
    )


@pytest.mark.parametrize(
    ("word", "email"),
    [
        ("ana@example.com", "ana@example.com"),
        ("Ana.Pereira+billing@Example.co.uk", "ana.pereira+billing@example.co.uk"),
        ("<mailto:ana@example.com|ana@example.com>", "ana@example.com"),
    ],
)
def test_emails(word: str, email: str) -> None:
    assert parse(f"resume {word}") == Resume(customer=Ref(RefKind.EMAIL, email))


def test_status_accepts_invoices_but_pause_and_resume_do_not() -> None:
    assert parse("status in_1Abc") == Status(target=Ref(RefKind.INVOICE_ID, "in_1Abc"))
    assert parse("status cus_Abc123") == Status(target=CUS)
    for text in ("pause in_1Abc", "resume in_1Abc"):
        with pytest.raises(CommandError, match="not invoices"):
            parse(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pause", "needs a customer"),
        ("resume", "needs a customer"),
        ("status", "needs a customer"),
        ("resume cus_1 cus_2", "takes one argument"),
        ("pause bob", "is not a `cus_…` id or an email"),
        ("pause ana@", "is not a `cus_…` id or an email"),
        ("status 42", "is not a `cus_…` id, an email or an `in_…` id"),
        ("pause cus_1 for", "needs a duration"),
        ("pause cus_1 for ever", "is not a duration"),
        ("pause cus_1 for 0d", "longer than zero"),
        ("pause cus_1 400d", "too long"),
        ("pause cus_1 until", "needs a date"),
        ("pause cus_1 until tomorrow", "is not a date"),
        ("pause cus_1 until 2026-02-30", "is not a date"),
        ("pause cus_1 until 2026-02-28", "in the past"),
        ("pause cus_1 until 2030-01-01", "too far ahead"),
        ("pause cus_1 " + "x" * 600, "keep it under"),
    ],
)
def test_errors_say_what_was_wrong_and_show_the_usage(text: str, problem: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert problem in caught.value.problem
    assert caught.value.usage.startswith("Usage:")
    assert "/dunning" in str(caught.value)


def test_unknown_subcommand_lists_the_subcommands() -> None:
    with pytest.raises(CommandError) as caught:
        parse("frobnicate cus_1")
    message = str(caught.value)
    assert "Unknown subcommand `frobnicate`" in message
    for name in SUBCOMMANDS:
        assert name in message
    assert caught.value.usage == HELP_TEXT


def test_echoed_input_cannot_ping() -> None:
    with pytest.raises(CommandError) as caught:
        parse("<!channel> please")
    assert "<!channel>" not in str(caught.value)
    with pytest.raises(CommandError) as caught:
        parse("status <@U123>")
    assert "<@U123>" not in str(caught.value)


def test_help_text_is_safe_mrkdwn() -> None:
    assert "<cus_" not in HELP_TEXT
    assert "&lt;cus_…|email&gt;" in HELP_TEXT


def test_until_today_is_fine_until_the_day_ends() -> None:
    late = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    assert isinstance(parse_command("pause cus_1 until 2026-03-01", now=late), Pause)
    with pytest.raises(CommandError, match="in the past"):
        parse_command("pause cus_1 until 2026-03-01", now=datetime(2026, 3, 2, tzinfo=UTC))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_command("list", now=datetime(2026, 1, 1))


_WORDS = st.sampled_from(
    [
        *SUBCOMMANDS,
        "for",
        "until",
        "cus_1",
        "in_1",
        "a@b.co",
        "30d",
        "2w",
        "0h",
        "2026-12-31",
        "9999-99-99",
        "<mailto:x@y.z|x>",
        "<!channel>",
        "*",
        "`",
        "-1d",
        "1e5d",
    ]
)


@given(st.text(max_size=200))
def test_garbage_only_ever_raises_command_error(text: str) -> None:
    try:
        parse(text)
    except CommandError:
        pass


@given(st.lists(_WORDS | st.text(max_size=12), max_size=8))
def test_plausible_word_salad_only_ever_raises_command_error(words: list[str]) -> None:
    try:
        result = parse(" ".join(words))
    except CommandError as error:
        assert error.usage
    else:
        assert isinstance(result, Command)
        if isinstance(result, Pause) and result.until is not None:
            assert NOW < result.until <= NOW + timedelta(days=367)
