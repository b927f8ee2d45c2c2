"""``civis-dyn`` against a mocked API (requests-mock) and the mini schema of conftest.py."""

import json

import pytest

from civis_dyn._resources import synthesized_methods
from civis_dyn.spec._source import load_api_spec

from .conftest import API_KEY, BASE_URL

JOBS = [{"id": 1, "name": "first", "state": "succeeded", "lastRun": {"id": 11, "state": "succeeded"}},
        {"id": 2, "name": "second", "state": "failed", "lastRun": {"id": 21, "state": "failed"}}]
CONTAINER = {"id": 7, "name": "x", "dockerImageName": "img",
             "requiredResources": {"cpu": 256, "memory": 512}, "params": []}


def _sent_json(mocker):
    return json.loads(mocker.last_request.body)


# -- help and laziness ------------------------------------------------------
def test_root_help_lists_resources_and_own_commands(run_cli, api_env):
    result = run_cli("--help")
    assert result.exit_code == 0
    for name in ("jobs", "scripts", "users", "projects", "spec", "serve", "demo"):
        assert f"  {name} " in result.stdout
    assert "_CIVIS_DYN_COMPLETE=bash_source" in result.stdout


def test_jobs_list_help_builds_only_jobs(run_cli, fresh_spec_path):
    result = run_cli("--spec", fresh_spec_path, "jobs", "list", "--help")
    assert result.exit_code == 0, result
    assert "GET /jobs/" in result.stdout
    assert "--state [queued|running|succeeded|failed]" in result.stdout
    assert "--hidden / --no-hidden" in result.stdout
    assert "--all" in result.stdout

    spec = load_api_spec(str(fresh_spec_path))  # the process-wide model the CLI used
    assert {resource for resource, _ in spec._operations} == {"jobs"}
    assert set(spec._operations) == {("jobs", "list")}
    assert set(spec.__dict__.get("_resource_classes", {})) <= {"jobs"}
    assert synthesized_methods(spec) == 0


def test_root_help_builds_no_operation(run_cli, fresh_spec_path):
    assert run_cli("--spec", fresh_spec_path, "--help").exit_code == 0
    spec = load_api_spec(str(fresh_spec_path))
    assert spec._operations == {}
    assert spec.__dict__.get("_resource_classes", {}) == {}


def test_resource_help_lists_commands_without_building_other_resources(run_cli, fresh_spec_path):
    result = run_cli("--spec", fresh_spec_path, "jobs", "--help")
    assert result.exit_code == 0
    assert "list-runs" in result.stdout and "List runs for the given job" in result.stdout
    spec = load_api_spec(str(fresh_spec_path))
    assert {resource for resource, _ in spec._operations} == {"jobs"}


def test_command_help_documents_positional_arguments(run_cli, api_env):
    result = run_cli("scripts", "post-containers", "--help")
    assert result.exit_code == 0
    usage = " ".join(result.stdout.split("\n\n")[0].split())
    assert usage == "Usage: civis-dyn scripts post-containers [OPTIONS] REQUIRED_RESOURCES " \
                    "DOCKER_IMAGE_NAME"
    assert "Arguments:" in result.stdout
    assert "JSON object with fields: cpu, memory" in result.stdout
    assert "--params JSON|@FILE" in result.stdout
    assert "--hidden / --no-hidden" in result.stdout


def test_deprecated_alias_is_hidden_but_works(run_cli, api_env, requests_mock):
    listing = run_cli("users", "--help").stdout
    assert "get-me" in listing and "list-me" not in listing
    requests_mock.get(BASE_URL + "users/me", json={"id": 3, "name": "Me"})
    result = run_cli("users", "list-me")
    assert result.exit_code == 0
    assert result.json() == {"id": 3, "name": "Me"}
    assert "deprecated" in result.stderr


def test_python_spelling_of_names_is_accepted(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1/runs", json=[])
    assert run_cli("jobs", "list_runs", "1").exit_code == 0


# -- calls ----------------------------------------------------------------
def test_get_prints_snake_case_json(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    result = run_cli("jobs", "get", "1")
    assert result.exit_code == 0, result
    assert result.json() == {"id": 1, "name": "first", "state": "succeeded",
                             "last_run": {"id": 11, "state": "succeeded"}}
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_raw_prints_wire_keys(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    assert run_cli("jobs", "get", "1", "--raw").json() == JOBS[0]


def test_list_sends_filters_and_flags(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=JOBS)
    result = run_cli("jobs", "list", "--state", "failed", "--no-hidden", "--limit", "5")
    assert result.exit_code == 0
    assert [job["id"] for job in result.json()] == [1, 2]
    assert requests_mock.last_request.qs == {"state": ["failed"], "hidden": ["false"],
                                             "limit": ["5"]}


def test_options_not_given_are_not_sent(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=[])
    run_cli("jobs", "list")
    assert requests_mock.last_request.qs == {}


def test_post_with_json_argument_and_options(run_cli, api_env, requests_mock):
    requests_mock.post(BASE_URL + "scripts/containers", json=CONTAINER)
    result = run_cli("scripts", "post-containers", '{"cpu": 256, "memory": 512}', "img",
                     "--name", "x", "--tags", '["a", "b"]', "--hidden")
    assert result.exit_code == 0, result
    assert result.json()["docker_image_name"] == "img"
    assert _sent_json(requests_mock) == {
        "requiredResources": {"cpu": 256, "memory": 512}, "dockerImageName": "img",
        "name": "x", "tags": ["a", "b"], "hidden": True}


def test_object_argument_from_json_and_yaml_files(run_cli, api_env, requests_mock, tmp_path):
    requests_mock.post(BASE_URL + "scripts/containers", json=CONTAINER)
    (tmp_path / "res.json").write_text('{"cpu": 100, "memory": 200}')
    (tmp_path / "params.yaml").write_text("- name: day\n  type: string\n- name: n\n  type: integer\n")
    result = run_cli("scripts", "post-containers", f"@{tmp_path / 'res.json'}", "img",
                     "--params", f"@{tmp_path / 'params.yaml'}")
    assert result.exit_code == 0, result
    assert _sent_json(requests_mock) == {
        "requiredResources": {"cpu": 100, "memory": 200}, "dockerImageName": "img",
        "params": [{"name": "day", "type": "string"}, {"name": "n", "type": "integer"}]}


def test_json_argument_from_stdin(run_cli, api_env, requests_mock):
    requests_mock.patch(BASE_URL + "scripts/containers/7", json=CONTAINER)
    result = run_cli("scripts", "patch-containers", "7", "--params", "@-",
                     input='[{"name": "a", "type": "string"}]')
    assert result.exit_code == 0, result
    assert _sent_json(requests_mock) == {"params": [{"name": "a", "type": "string"}]}


def test_patch(run_cli, api_env, requests_mock):
    requests_mock.patch(BASE_URL + "scripts/containers/7", json={**CONTAINER, "name": "renamed"})
    result = run_cli("scripts", "patch-containers", "7", "--name", "renamed")
    assert result.exit_code == 0
    assert result.json()["name"] == "renamed"
    assert requests_mock.last_request.method == "PATCH"
    assert _sent_json(requests_mock) == {"name": "renamed"}


def test_delete_prints_nothing_and_exits_0(run_cli, api_env, requests_mock):
    requests_mock.delete(BASE_URL + "jobs/1", status_code=204)
    result = run_cli("jobs", "delete", "1")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert requests_mock.last_request.method == "DELETE"


def test_all_follows_pagination(run_cli, api_env, requests_mock):
    pages = {"1": JOBS[:1], "2": JOBS[1:]}

    def page(request, context):
        context.headers["X-Pagination-Total-Pages"] = "2"
        return pages[request.qs["page_num"][0]]

    requests_mock.get(BASE_URL + "jobs/", json=page)
    result = run_cli("jobs", "list", "--all", "--limit", "1")
    assert result.exit_code == 0, result
    assert [job["id"] for job in result.json()] == [1, 2]
    assert [r.qs["page_num"] for r in requests_mock.request_history] == [["1"], ["2"]]
    assert all(r.qs["limit"] == ["1"] for r in requests_mock.request_history)


def test_all_streams_an_empty_list_as_json(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=[])
    assert run_cli("jobs", "list", "--all").json() == []


def test_all_only_on_paginated_commands(run_cli, api_env):
    result = run_cli("jobs", "get", "1", "--all")
    assert result.exit_code == 2
    assert "No such option" in result.stderr and "--all" in result.stderr


# -- output ---------------------------------------------------------------
def test_table_of_a_list_with_columns(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=JOBS)
    result = run_cli("jobs", "list", "--output", "table", "--columns", "id,name,last_run.state")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "ID  NAME    LAST_RUN.STATE",
        "1   first   succeeded",
        "2   second  failed",
    ]


def test_table_default_columns_are_the_scalar_fields(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=JOBS)
    header = run_cli("jobs", "list", "-o", "table").stdout.splitlines()[0]
    assert header.split() == ["ID", "NAME", "STATE"]


def test_table_of_one_object_is_field_value_pairs(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    lines = run_cli("jobs", "get", "1", "-o", "table").stdout.splitlines()
    assert lines[0].split() == ["FIELD", "VALUE"]
    assert lines[1].split() == ["id", "1"]
    assert lines[4].split() == ["last_run", '{"id":11,"state":"succeeded"}']


def test_columns_filter_json_and_yaml(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=JOBS)
    assert run_cli("jobs", "list", "--columns", "id,last_run.id").json() == [
        {"id": 1, "last_run.id": 11}, {"id": 2, "last_run.id": 21}]
    yaml_text = run_cli("jobs", "list", "-o", "yaml", "--columns", "id,name").stdout
    assert yaml_text == "- id: 1\n  name: first\n- id: 2\n  name: second\n"


def test_unknown_column_is_a_usage_error(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/", json=JOBS)
    result = run_cli("jobs", "list", "--columns", "id,nmae")
    assert result.exit_code == 2
    assert "no such field: nmae" in result.stderr and "name" in result.stderr


def test_output_default_from_environment(run_cli, api_env, requests_mock, monkeypatch):
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    monkeypatch.setenv("CIVIS_DYN_OUTPUT", "yaml")
    assert run_cli("jobs", "get", "1").stdout.startswith("id: 1\nname: first\n")


def test_output_is_json_when_stdout_is_not_a_terminal(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    assert run_cli("jobs", "get", "1").json()["id"] == 1  # CliRunner's stdout is no tty


# -- errors and exit codes ------------------------------------------------
def test_api_error_exits_1_with_the_api_message(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/99", status_code=404,
                      json={"error": "not_found", "errorDescription": "Job 99 was not found",
                            "code": 404})
    result = run_cli("jobs", "get", "99")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Job 99 was not found" in result.stderr and "404" in result.stderr


def test_refused_key_exits_1_and_never_prints_the_key(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", status_code=401,
                      json={"errorDescription": "Invalid API key"})
    result = run_cli("jobs", "get", "1")
    assert result.exit_code == 1
    assert "Invalid API key" in result.stderr
    assert API_KEY not in result.stdout + result.stderr


def test_missing_key_exits_1_with_a_clear_message(run_cli, api_env, monkeypatch):
    monkeypatch.delenv("CIVIS_API_KEY")
    result = run_cli("jobs", "get", "1")
    assert result.exit_code == 1
    assert "CIVIS_API_KEY" in result.stderr


def test_connection_error_exits_1(run_cli, api_env, monkeypatch):
    monkeypatch.setenv("CIVIS_API_ENDPOINT", "http://127.0.0.1:9/")  # discard port: refused
    result = run_cli("--retries", "0", "jobs", "get", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: GET /jobs/1: ConnectionError")


def test_retries_option_retries_a_failed_request(run_cli, api_env, requests_mock):
    requests_mock.get(BASE_URL + "jobs/1", [{"status_code": 503, "headers": {"Retry-After": "0"}},
                                            {"json": JOBS[0]}])
    result = run_cli("--retries", "1", "jobs", "get", "1")
    assert result.exit_code == 0, result
    assert requests_mock.call_count == 2
    requests_mock.reset_mock()
    requests_mock.get(BASE_URL + "jobs/1", [{"status_code": 503, "headers": {"Retry-After": "0"}},
                                            {"json": JOBS[0]}])
    failed = run_cli("--retries", "0", "jobs", "get", "1")
    assert failed.exit_code == 1 and "503" in failed.stderr
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("args, message", [
    (["jobs", "get", "abc"], "'abc' is not a valid integer"),
    (["jobs", "get"], "Usage: civis-dyn jobs get"),  # no arguments: help
    (["jobs", "list", "--state", "done"], "'done' is not one of"),
    (["jobs", "list", "--bogus"], "--bogus"),
    (["jobs", "lsit"], "No such command 'lsit' for jobs. Did you mean 'list'?"),
    (["jbos"], "No such command 'jbos'. Did you mean 'jobs'?"),
    (["scripts", "post-containers", "{cpu: 1}", "img"], "is not valid JSON"),
    (["scripts", "post-containers", "[1]", "img"], "must be a JSON object, not list"),
    (["scripts", "post-containers", "@/nonexistent/res.json", "img"], "cannot read"),
    (["scripts", "post-containers", '{"cpus": 1}', "img"], "unknown field 'cpus'"),
])
def test_usage_errors_exit_2(run_cli, api_env, requests_mock, args, message):
    result = run_cli(*args)
    assert result.exit_code == 2, result
    assert message in result.stdout + result.stderr
    assert not requests_mock.called


def test_bad_spec_path_is_a_usage_error(run_cli):
    result = run_cli("--spec", "/nonexistent/spec.json", "jobs", "list")
    assert result.exit_code == 2
    assert "/nonexistent/spec.json" in result.stderr


def test_malformed_schema_exits_1(run_cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = run_cli("--spec", path, "jobs", "list")
    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr


def test_yaml_output_without_pyyaml_is_a_clear_error(run_cli, api_env, requests_mock, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    requests_mock.get(BASE_URL + "jobs/1", json=JOBS[0])
    result = run_cli("jobs", "get", "1", "-o", "yaml")
    assert result.exit_code == 2
    assert "needs PyYAML" in result.stderr


def test_yaml_file_without_pyyaml_is_a_clear_error(run_cli, api_env, monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "yaml", None)
    (tmp_path / "p.yaml").write_text("- name: a\n")
    result = run_cli("scripts", "patch-containers", "7", "--params", f"@{tmp_path / 'p.yaml'}")
    assert result.exit_code == 2
    assert "needs PyYAML" in result.stderr


# -- spec commands --------------------------------------------------------
def test_spec_show_and_path(run_cli, api_env):
    shown = run_cli("spec", "show").json()
    assert shown["source"] == "file"
    assert shown["location"] == str(api_env)
    assert len(shown["sha256"]) == 64
    assert shown["resources"] == 5 and shown["operations"] == 13
    assert shown["base_url"] == BASE_URL
    assert API_KEY not in json.dumps(shown)
    path = run_cli("spec", "path")
    assert path.exit_code == 0 and path.stdout.strip() == str(api_env)


@pytest.fixture
def live_env(monkeypatch, cli_spec_path):
    """A key and an endpoint but no local schema: the CLI resolves it like APIClient()."""
    from civis_dyn.spec import _source

    if not hasattr(_source, "load_api_spec_with_info"):
        pytest.skip("live schema loading is not in this tree")
    _source.clear_memory_cache()
    monkeypatch.setenv("CIVIS_API_KEY", API_KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", BASE_URL)
    yield cli_spec_path.read_bytes()
    _source.clear_memory_cache()


def test_without_spec_the_live_schema_is_used_and_cached(run_cli, live_env, requests_mock):
    requests_mock.get(BASE_URL + "endpoints", content=live_env,
                      headers={"Content-Type": "application/json"})
    assert run_cli("jobs", "list", "--help").exit_code == 0
    shown = run_cli("spec", "show").json()
    assert requests_mock.call_count == 1  # downloaded once, then from the cache
    assert shown["source"] in ("memory", "disk-cache", "download")
    assert shown["resources"] == 5


def test_spec_refresh_downloads_and_saves(run_cli, live_env, requests_mock, tmp_path):
    requests_mock.get(BASE_URL + "endpoints", content=live_env,
                      headers={"Content-Type": "application/json"})
    saved = tmp_path / "schema.json"
    result = run_cli("spec", "refresh", "--save", saved)
    assert result.exit_code == 0, result
    assert result.json()["source"] == "download"
    assert result.json()["location"] == BASE_URL + "endpoints"
    assert saved.read_bytes() == live_env
    run_cli("spec", "refresh")
    assert requests_mock.call_count == 2  # refresh never answers from a cache
    assert all(r.headers["Authorization"] == f"Bearer {API_KEY}"
               for r in requests_mock.request_history)
    assert API_KEY not in result.stdout + result.stderr


def test_spec_refresh_fails_when_the_api_cannot_be_reached(run_cli, live_env, requests_mock):
    requests_mock.get(BASE_URL + "endpoints", status_code=500, json={"error": "boom"})
    result = run_cli("--retries", "0", "spec", "refresh")
    assert result.exit_code == 1
    assert "could not download the live schema" in result.stderr


def test_spec_refresh_needs_a_key(run_cli, live_env, monkeypatch):
    monkeypatch.delenv("CIVIS_API_KEY")
    result = run_cli("spec", "refresh")
    assert result.exit_code == 1
    assert "CIVIS_API_KEY" in result.stderr


def test_spec_refresh_refuses_a_local_schema_file(run_cli, api_env):
    result = run_cli("spec", "refresh")
    assert result.exit_code == 2
    assert "CIVIS_DYN_SPEC" in result.stderr


# -- completion -----------------------------------------------------------
@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"),
                                           ("zsh", "compdef"), ("fish", "complete --no-files")])
def test_completion_script_is_produced(run_cli, monkeypatch, shell, marker):
    from click.testing import CliRunner

    from civis_dyn.cli import cli

    result = CliRunner().invoke(cli, [], prog_name="civis-dyn",
                                env={"_CIVIS_DYN_COMPLETE": f"{shell}_source"},
                                complete_var="_CIVIS_DYN_COMPLETE")
    assert result.exit_code == 0
    assert marker in result.stdout
    assert "_CIVIS_DYN_COMPLETE" in result.stdout


def test_completion_of_resources_and_commands(run_cli, api_env, monkeypatch):
    from click.shell_completion import ShellComplete

    from civis_dyn.cli import cli

    complete = ShellComplete(cli, {}, "civis-dyn", "_CIVIS_DYN_COMPLETE")
    assert [c.value for c in complete.get_completions([], "jo")] == ["jobs"]
    assert {c.value for c in complete.get_completions(["jobs"], "list")} == {
        "list", "list-runs", "list-runs-logs"}
    assert "get-me" in {c.value for c in complete.get_completions(["users"], "")}
    assert "list-me" not in {c.value for c in complete.get_completions(["users"], "")}


def test_completion_of_an_unknown_resource_offers_nothing(run_cli, api_env):
    from click.shell_completion import ShellComplete

    from civis_dyn.cli import cli

    complete = ShellComplete(cli, {}, "civis-dyn", "_CIVIS_DYN_COMPLETE")
    assert complete.get_completions(["jbos"], "li") == []


def test_root_help_survives_a_broken_schema(run_cli, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = run_cli("--spec", path, "--help")
    assert result.exit_code == 0
    assert "spec   Where the schema came from" in result.stdout
    assert "the API schema could not be loaded" in result.stdout
