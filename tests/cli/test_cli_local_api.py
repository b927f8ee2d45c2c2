"""``civis-dyn`` over real HTTP against the embedded local API, built from the real schema."""

import json
import os
import signal
import subprocess
import sys

import pytest

from civis_dyn.testing import LocalCivisAPI

RESOURCES = '{"cpu": 256, "memory": 512}'


@pytest.fixture(scope="module")
def local_api(real_spec_path):
    with LocalCivisAPI(spec=str(real_spec_path), run_delays=(0.05, 0.1)) as api:
        yield api


@pytest.fixture
def cli_env(monkeypatch, local_api, real_spec_path):
    monkeypatch.setenv("CIVIS_API_ENDPOINT", local_api.url)
    monkeypatch.setenv("CIVIS_API_KEY", local_api.api_key)
    monkeypatch.setenv("CIVIS_DYN_SPEC", str(real_spec_path))
    return local_api


def _create(run_cli, name, *extra):
    result = run_cli("scripts", "post-containers", RESOURCES, "--name", name,
                     "--docker-image-name", "img", *extra)
    assert result.exit_code == 0, result
    return result.json()


def test_post_get_patch_delete(run_cli, cli_env):
    created = _create(run_cli, "crud", "--params", '[{"name": "day", "type": "string"}]')
    script_id = created["id"]
    assert created["required_resources"]["cpu"] == 256
    assert created["params"][0]["name"] == "day"

    got = run_cli("scripts", "get-containers", script_id)
    assert got.exit_code == 0 and got.json()["name"] == "crud"

    patched = run_cli("scripts", "patch-containers", script_id, "--name", "renamed",
                      "--columns", "id,name")
    assert patched.json() == {"id": script_id, "name": "renamed"}
    assert run_cli("scripts", "get-containers", script_id).json()["name"] == "renamed"

    deleted = run_cli("scripts", "delete-containers", script_id)
    assert deleted.exit_code == 0 and deleted.stdout == ""
    assert "deprecated" in deleted.stderr
    gone = run_cli("scripts", "get-containers", script_id)
    assert gone.exit_code == 1
    assert "not found" in gone.stderr


def test_list_all_pages_and_table(run_cli, cli_env):
    names = {f"page-{i}" for i in range(3)}
    for name in sorted(names):
        _create(run_cli, name)
    before = cli_env.count(method="GET", path="/scripts")
    listed = run_cli("scripts", "list", "--all", "--limit", "1", "--columns", "id,name")
    assert listed.exit_code == 0, listed
    seen = [row["name"] for row in listed.json()]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))
    assert cli_env.count(method="GET", path="/scripts") - before == len(seen)  # a page each

    table = run_cli("scripts", "list", "--all", "-o", "table", "--columns", "id,name")
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME"]
    assert names <= {line.split()[1] for line in lines[1:]}


def test_json_file_argument(run_cli, cli_env, tmp_path):
    (tmp_path / "resources.json").write_text(RESOURCES)
    (tmp_path / "schedule.yaml").write_text("scheduled: true\nscheduled_days: [1, 3]\n")
    result = run_cli("scripts", "post-containers", f"@{tmp_path / 'resources.json'}",
                     "--docker-image-name", "img", "--schedule", f"@{tmp_path / 'schedule.yaml'}")
    assert result.exit_code == 0, result
    assert result.json()["schedule"]["scheduled_days"] == [1, 3]


def test_api_error_and_refused_key(run_cli, cli_env, monkeypatch):
    missing = run_cli("scripts", "get-containers", 999999)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: (404)")
    monkeypatch.setenv("CIVIS_API_KEY", "wrong-key-8Hq")
    refused = run_cli("users", "get-me")
    assert refused.exit_code == 1
    assert "(401)" in refused.stderr
    assert "wrong-key-8Hq" not in refused.stdout + refused.stderr
    assert cli_env.api_key not in refused.stdout + refused.stderr


def test_run_and_wait_succeeds(run_cli, cli_env):
    pytest.importorskip("civis_dyn.futures")
    script_id = _create(run_cli, "runner")["id"]
    result = run_cli("scripts", "run-and-wait", script_id, "--kind", "containers",
                     "--polling-interval", "0.02")
    assert result.exit_code == 0, result
    assert result.json()["state"] == "succeeded"
    assert "succeeded" in result.stderr  # the state changes, reported on stderr


def test_run_and_wait_failure_exits_1(run_cli, cli_env):
    pytest.importorskip("civis_dyn.futures")
    script_id = _create(run_cli, "will-fail")["id"]
    result = run_cli("scripts", "run-and-wait", script_id, "--kind", "containers", "-q",
                     "--polling-interval", "0.02")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "failed" in result.stderr and "Simulated failure" in result.stderr


def test_run_and_wait_needs_a_kind_where_there_are_several(run_cli, cli_env):
    pytest.importorskip("civis_dyn.futures")
    result = run_cli("scripts", "run-and-wait", "1")
    assert result.exit_code == 2
    assert "--kind" in result.stderr


def test_follow_log_prints_the_log_until_the_run_ends(run_cli, cli_env):
    pytest.importorskip("civis_dyn.futures")
    script_id = _create(run_cli, "logged")["id"]
    run = run_cli("scripts", "post-containers-runs", script_id).json()
    result = run_cli("jobs", "follow-log", script_id, run["id"], "--polling-interval", "0.02")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == "Run queued" and lines[-1] == "Run succeeded"

    latest = run_cli("jobs", "follow-log", script_id, "--timestamps")  # its latest run
    assert latest.exit_code == 0
    assert latest.stdout.splitlines()[-1].endswith(" Run succeeded")


def test_follow_log_of_a_failed_run_exits_1(run_cli, cli_env):
    pytest.importorskip("civis_dyn.futures")
    script_id = _create(run_cli, "fail-logged")["id"]
    run = run_cli("scripts", "post-containers-runs", script_id).json()
    result = run_cli("jobs", "follow-log", script_id, run["id"], "--polling-interval", "0.02")
    assert result.exit_code == 1
    assert "Run failed" in result.stdout
    assert f"job {script_id} run {run['id']} failed" in result.stderr


def test_demo_tours_the_client_in_under_10_seconds(real_spec_path):
    from civis_dyn.cli._demo import run_demo

    lines = []
    summary = run_demo(spec=str(real_spec_path), echo=lines.append)
    assert summary["seconds"] < 10
    assert summary["resources"] > 30 and summary["methods"] > 900
    assert summary["run_state"] == "succeeded"
    assert summary["log_lines"] >= 2
    assert summary["listed"] == ["demo-2", "demo"] or sorted(summary["listed"]) == ["demo", "demo-2"]
    assert summary["shared_with"]
    assert summary["errors"] == ["CivisAPIError", "ArgumentTypeError", "ArgumentTypeError"]
    text = "\n".join(lines)
    assert "Parameters" in text  # help() output
    assert "Tour done" in text


def test_demo_command(run_cli, real_spec_path):
    result = run_cli("--spec", real_spec_path, "demo")
    assert result.exit_code == 0, result
    assert "8. Clear errors" in result.stdout and "Tour done" in result.stdout


def test_laziness_in_a_fresh_process_with_the_real_schema(real_spec_path, tmp_path):
    script = (
        "import json, sys\n"
        "from civis_dyn.cli import main\n"
        "from civis_dyn.spec._source import load_api_spec\n"
        "try:\n"
        "    main(['--spec', sys.argv[1], 'jobs', 'list', '--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "spec = load_api_spec(sys.argv[1])\n"
        "print(json.dumps(sorted({r for r, _ in spec._operations})))\n"
    )
    env = {**os.environ, "CIVIS_DYN_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script, str(real_spec_path)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "GET /jobs/" in done.stdout
    assert json.loads(done.stdout.splitlines()[-1]) == ["jobs"]


def test_serve_answers_the_client_and_stops_on_sigterm(real_spec_path, tmp_path):
    import civis_dyn

    key = "serve-key-3kd"
    env = {**os.environ, "CIVIS_DYN_CACHE_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from civis_dyn.cli import main; main()", "serve",
         "--port", "0", "--spec", str(real_spec_path), "--key", key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = process.stdout.readline()  # blocks until the server is up
        assert first.startswith("Local Civis API serving at http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        client = civis_dyn.APIClient(api_key=key, base_url=url, local_api_spec=str(real_spec_path))
        assert client.users.get_me().id
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert key not in first + out + err
    assert "Stopped." in err
