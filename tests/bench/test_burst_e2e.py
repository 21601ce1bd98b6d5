"""The end-to-end burst bench: a small run of real processes, and its measuring helpers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import burst
from bench.burst_e2e import in_flight
from bench.e2e_fakes import APPROVALS, ReviewTracker


def _call(method: str, *, blocks: list[object], at: float, channel: str = APPROVALS) -> object:
    return SimpleNamespace(
        method=method,
        status=200,
        response={"ok": True},
        args={"channel": channel, "blocks": blocks, "text": ""},
        at=at,
    )


BUTTONS = {"type": "actions", "elements": []}


def test_a_draft_is_reviewable_from_the_first_message_with_buttons_naming_it() -> None:
    tracker = ReviewTracker()
    listing = {"type": "section", "text": {"type": "mrkdwn", "text": "BENCH-000001 BENCH-000002"}}
    calls = [
        _call("chat.postMessage", blocks=[listing], at=1.0),  # a digest: no buttons
        _call("chat.postMessage", blocks=[listing, BUTTONS], at=2.0, channel="COTHER"),
        _call("chat.postMessage", blocks=[listing, BUTTONS], at=3.0),  # a batch message
    ]
    assert tracker.update(calls) == {"BENCH-000001": 3.0, "BENCH-000002": 3.0}
    calls.append(_call("chat.update", blocks=[listing, BUTTONS], at=9.0))
    assert tracker.update(calls) == {"BENCH-000001": 3.0, "BENCH-000002": 3.0}


def test_calls_in_flight_most_and_time_weighted_average() -> None:
    assert in_flight([(0.0, 1.0), (0.5, 1.5), (2.0, 3.0)]) == (2, pytest.approx(1.0))
    assert in_flight([]) == (0, 0.0)


@pytest.mark.slow
def test_twenty_failures_end_to_end_every_draft_becomes_reviewable(tmp_path: Path) -> None:
    results = tmp_path / "burst_e2e.json"
    code = burst.main(
        [
            *("--mode", "e2e", "--failures", "20", "--workers", "1", "--postgres", ""),
            *("--llm-latency", "0.2", "--slack-pace", "0.25", "--timeout", "120"),
            *("--results", str(results)),
        ]
    )
    [result] = json.loads(results.read_text())["results"]
    assert code == 0
    assert result["webhooks_not_200"] == 0
    assert result["drafts_expected"] == 19  # one of the 20 is VIP (a task, no draft)
    assert result["drafts_not_reviewable"] == 0
    assert result["drafts_by_source"] == {"ai": 19}
    assert result["llm_calls"] == 19
    assert result["all_processed_s"] is not None
    assert result["last_reviewable_s"] >= result["first_reviewable_s"] > 0


def test_a_batch_message_makes_the_drafts_of_its_version_reviewable() -> None:
    from bench.burst_e2e import reviewable_times

    tracker = ReviewTracker()
    approve = {"type": "button", "value": '{"kind":"batch","id":7,"version":2}'}
    tracker.update(
        [_call("chat.update", blocks=[{"type": "actions", "elements": [approve]}], at=5.0)]
    )
    assert tracker.batch_versions == {"7:2": 5.0}
    members = [(7, 1, "BENCH-000001"), (7, 2, "BENCH-000002"), (7, 3, "BENCH-000003")]
    times = reviewable_times({"BENCH-000001": 4.0}, tracker.batch_versions, members)
    assert times == {"BENCH-000001": 4.0, "BENCH-000002": 5.0}  # version 3 not shown yet
