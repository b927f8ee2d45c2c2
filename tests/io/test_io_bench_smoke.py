"""Smoke test of ``bench/io_transfer.py`` on a tiny file (no timing is asserted)."""
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "io_transfer.py"


def test_io_bench_round_trips_bytes():
    done = subprocess.run([sys.executable, str(SCRIPT), "--mb", "2"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert rows and rows[0]["client"] == "civis_dyn"
    assert all(r["bytes_ok"] for r in rows)
