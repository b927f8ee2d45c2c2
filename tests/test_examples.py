"""Every example runs against the embedded local API (no account needed)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = {
    "quickstart.py": "renamed to civis_dyn quickstart (renamed)",
    "pagination.py": "12 projects in 3 pages",
    "run_and_wait.py": "failed as expected:",
    "error_handling.py": "retried through 503 and 429: 3 requests",
    "async_jobs.py": "fetched 20 jobs concurrently",
}


def test_every_example_is_tested():
    assert {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT")}
    env["CIVIS_DYN_CACHE_DIR"] = str(tmp_path / "cache")
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                            env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert EXPECTED[name] in result.stdout
