"""The draft benchmark runs offline with the template drafter and finds no problems."""

from __future__ import annotations

import pytest

from bench import drafts


async def test_bench_template_run_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert await drafts.main(["--provider", "template", "--scenarios", "30"]) == 0
    out = capsys.readouterr().out
    assert "template" in out and "100%" in out


def test_scenarios_cover_every_decline_and_stage() -> None:
    requests = drafts.scenarios()
    assert len(requests) >= 30
    assert {(r.decline_category, r.stage) for r in requests} >= {
        (c, s) for c in drafts.DeclineCategory for s in drafts.AttemptStage
    }
    assert {r.currency for r in requests} >= {"usd", "eur", "jpy"}
