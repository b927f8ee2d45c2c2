"""Three civis-python-style automation scripts run unchanged with ``import civis_dyn as civis``.

Each script (in ``scripts/``) is what a civis-python user writes: ``civis.APIClient()`` with
the key and endpoint from the environment. They run in a fresh interpreter against a
LocalCivisAPI over loopback HTTP.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civis_dyn.testing import LocalCivisAPI

SCRIPTS = Path(__file__).resolve().parent / "scripts"


@pytest.fixture(scope="module")
def local_api(real_spec_path):
    with LocalCivisAPI(spec=str(real_spec_path), run_delays=(0.02, 0.05)) as api:
        yield api


def run_script(name, api, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIS_")}
    env.update(CIVIS_API_KEY=api.api_key, CIVIS_API_ENDPOINT=api.url,
               CIVIS_DYN_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", str(SCRIPTS / name)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_create_run_wait_logs_outputs(local_api, tmp_path):
    """civis-python: scripts.post_containers, post_containers_runs, CivisFuture, logs, utils.run_job."""
    lines = run_script("run_a_job.py", local_api, tmp_path)
    assert lines[0].endswith(": succeeded")
    assert lines[1].startswith("log lines: ") and lines[1].endswith("Run succeeded")
    assert lines[2] == "outputs: 0; second run: succeeded"


def test_page_and_filter_jobs(local_api, tmp_path):
    """civis-python: ``jobs.list(iterator=True)``, ``find`` with a function, ``find_one`` by name."""
    lines = run_script("page_and_filter_jobs.py", local_api, tmp_path)
    total = int(lines[0].split()[1].rstrip(";"))
    assert total >= 8 and "; reports: 7;" in lines[0]
    assert lines[1] == f"first page: 3 of {total}"
    assert lines[2] == "archived: 0"  # archived=True keeps only jobs whose archived is True


def test_find_or_create_a_project_and_share_it(local_api, tmp_path):
    """civis-python: ``find_one(projects.list(iterator=True), name=...)``, post, put_shares_users."""
    lines = run_script("share_a_project.py", local_api, tmp_path)
    created, found = lines[0], lines[1]
    assert created.startswith("created project ") and found == created.replace("created", "found")
    assert lines[2].startswith("shared with ") and "writers [" in lines[2]
