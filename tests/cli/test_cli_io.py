"""``civis-dyn files upload/download`` and ``civis-dyn sql`` against the local API."""
import pytest

from civis_dyn.testing import LocalCivisAPI


@pytest.fixture
def cli_env(monkeypatch):
    with LocalCivisAPI(run_delays=(0.0, 0.0)) as api:
        monkeypatch.setenv("CIVIS_API_ENDPOINT", api.url)
        monkeypatch.setenv("CIVIS_API_KEY", api.api_key)
        yield api


def test_files_upload_then_download(run_cli, cli_env, tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(b"\x00bytes\r\n")
    up = run_cli("files", "upload", src, "--name", "named.bin")
    assert up.exit_code == 0, up.stderr
    file_id = int(up.stdout.strip())
    assert cli_env.client().files.get(file_id).name == "named.bin"
    out = tmp_path / "out.bin"
    down = run_cli("files", "download", file_id, out)
    assert down.exit_code == 0, down.stderr
    assert out.read_bytes() == b"\x00bytes\r\n"


def test_files_errors_exit_1_with_a_message(run_cli, cli_env, tmp_path):
    missing = run_cli("files", "upload", tmp_path / "nope.csv")
    assert missing.exit_code == 1 and "no such file" in missing.stderr
    empty = cli_env.client().files.post("empty").id
    gone = run_cli("files", "download", empty, tmp_path / "x")
    assert gone.exit_code == 1 and f"Unable to locate file {empty}" in gone.stderr


def test_sql_prints_csv_when_piped(run_cli, cli_env):
    result = run_cli("sql", "select 1 as a, 'x,y' as b", "--database", "local")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'a,b\n1,"x,y"\n'
    as_json = run_cli("sql", "select 1 as a", "-d", "1", "-o", "json")
    assert as_json.exit_code == 0 and '"a": "1"' in as_json.stdout


def test_sql_errors(run_cli, cli_env):
    bad_db = run_cli("sql", "select 1", "--database", "nope")
    assert bad_db.exit_code == 2 and "databases: 'local'" in bad_db.stderr
    failed = run_cli("sql", "select * from missing", "--database", "local")
    assert failed.exit_code == 1 and "no such table: missing" in failed.stderr
