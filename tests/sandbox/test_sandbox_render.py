"""mrkdwn and Block Kit rendering for the sandbox page: formatting kept, untrusted text inert."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.render import blocks_html, modal_html, mrkdwn_html
from bot.slack.mrkdwn import escape_mrkdwn, link


def test_formatting_links_mentions_and_entities() -> None:
    html = str(
        mrkdwn_html(
            "*Bold* _it_ ~no~ `in_123` "
            + link("https://invoice.stripe.com/i/x?a=1&b=2", "Pay")
            + " <@UFIN> a &lt;b&gt; &amp; c",
            users={"UFIN": "Fran"},
        )
    )
    assert "<strong>Bold</strong>" in html and "<em>it</em>" in html and "<s>no</s>" in html
    assert "<code>in_123</code>" in html
    assert 'href="https://invoice.stripe.com/i/x?a=1&amp;b=2"' in html and ">Pay</a>" in html
    assert 'data-user-id="UFIN"' in html and "@Fran" in html
    assert "a &lt;b&gt; &amp; c" in html


def test_customer_text_cannot_inject_markup_or_links() -> None:
    hostile = '<img src=x onerror=alert(1)> <script>x</script> "q" <javascript:alert(1)|click>'
    html = str(mrkdwn_html(escape_mrkdwn(hostile)))
    assert "<img" not in html and "<script" not in html and "<a " not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # even raw (unescaped) mrkdwn: only http(s)/mailto become links
    raw = str(mrkdwn_html("<javascript:alert(1)|click> <https://ok.example|ok>"))
    assert 'href="javascript' not in raw
    assert raw.count("<a ") == 1 and 'href="https://ok.example"' in raw


def test_blocks_buttons_carry_confirm_and_modal_inputs_are_labelled() -> None:
    confirm = {
        "title": {"type": "plain_text", "text": "Send?"},
        "text": {"type": "plain_text", "text": "<b>now</b>"},
        "confirm": {"type": "plain_text", "text": "Yes"},
        "deny": {"type": "plain_text", "text": "No"},
    }
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": ":rotating_light: Urgent"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "_note_"}]},
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {
                    "type": "button",
                    "action_id": "a.approve",
                    "value": "v",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "confirm": confirm,
                }
            ],
        },
    ]
    html = str(blocks_html(blocks))
    assert "⚠</span> Urgent" in html and "<em>note</em>" in html
    assert 'data-action-id="a.approve"' in html and 'data-block-id="acts"' in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html and "<b>" not in html
    modal = str(
        modal_html(
            {
                "id": "V1",
                "type": "modal",
                "title": {"type": "plain_text", "text": "Reject draft"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "reason",
                        "label": {"type": "plain_text", "text": "Reason"},
                        "element": {
                            "type": "plain_text_input",
                            "action_id": "reason.input",
                            "multiline": True,
                            "initial_value": "</textarea><b>",
                        },
                    }
                ],
            }
        )
    )
    assert '<label for="field-0">Reason' in modal and 'id="field-0"' in modal
    assert "&lt;/textarea&gt;&lt;b&gt;" in modal


def test_a_nul_in_text_cannot_name_a_rendered_piece() -> None:
    """A reason like NUL 5 NUL made every render of the channel fail (IndexError) until restart;
    NUL 0 NUL copied another piece (here the mention) into the text."""
    html = str(mrkdwn_html("<@UFIN> rejected: \x005\x00 and \x000\x00", users={"UFIN": "Fran"}))
    assert html.count("@Fran") == 1
    assert "rejected: \ufffd5\ufffd and \ufffd0\ufffd" in html and "\x00" not in html


_MRKDWN_BITS = st.sampled_from(["\x00", "0", "1", "9", "<@U1>", "`", "*", "_", "<", ">", "\n", "a"])


@given(st.lists(_MRKDWN_BITS | st.text(max_size=5), max_size=30).map("".join))
def test_any_text_renders_without_nul_or_error(text: str) -> None:
    html = str(mrkdwn_html(text, users={"U1": "One"}))
    assert "\x00" not in html
    assert html.count('data-user-id="U1"') <= text.count("<@U1>")
