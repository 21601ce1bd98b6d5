"""`dunbot demo` as a newcomer runs it: a fresh SQLite file and outbox, /sandbox and /healthz up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.serve import bound_socket

pytestmark = pytest.mark.slow


def test_demo_command_serves_the_sandbox_on_a_fresh_database(tmp_path: Path) -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DUNBOT_CONFIG"}}
    env["DUNBOT_CONFIG"] = str(tmp_path / "absent.toml")
    (tmp_path / "dunbot-demo.db").write_bytes(b"left over from an earlier run")
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "earlier-run@dunbot.eml").write_bytes(b"Subject: from an earlier run\r\n\r\nold")
    (outbox / "notes.txt").write_text("not dunbot's: kept")
    dunbot = Path(sys.executable).with_name("dunbot")
    process = subprocess.Popen(
        [str(dunbot), "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "dunbot demo did not answer /healthz in 30 s"
            time.sleep(0.2)
        page = httpx.get(f"http://127.0.0.1:{port}/sandbox", timeout=5)
        assert page.status_code == 200 and "Stripe (sandbox)" in page.text
        assert [p.name for p in outbox.iterdir()] == ["notes.txt"]  # earlier .eml files gone
        fail = httpx.post(
            f"http://127.0.0.1:{port}/sandbox/api/billing",
            json={"invoice_id": "in_sbxDemoStdEn001", "action": "fail"},
            timeout=5,
        )
        assert fail.json() == {"status": 200, "event": "invoice.payment_failed"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/sandbox" in output
    assert (tmp_path / "dunbot-demo.db").stat().st_size > 1000  # recreated and migrated
