"""``civis-dyn stubs`` and ``civis-dyn spec diff`` on small schemas."""

import copy
import json
import sysconfig

from .conftest import API_KEY, BASE_URL, cli_schema


def _changed_schema():
    """The mini schema with one operation removed, one added, one deprecated, one changed."""
    doc = copy.deepcopy(cli_schema())
    del doc["paths"]["/workflows/"]
    doc["paths"]["/reports/"] = {"get": {"summary": "List reports", "parameters": [],
                                         "responses": {"200": {"description": "ok", "schema": {
                                             "type": "array", "items": {"type": "string"}}}}}}
    doc["paths"]["/projects/"]["get"]["deprecated"] = True
    jobs = doc["paths"]["/jobs/"]["get"]["parameters"]
    jobs[:] = [p for p in jobs if p["name"] != "author"]
    jobs.append({"name": "archived", "in": "query", "type": "string"})
    state = next(p for p in jobs if p["name"] == "state")
    state["enum"] = [*state["enum"], "cancelled"]
    doc["definitions"]["Run"]["properties"]["createdAt"] = {"type": "string", "format": "date-time"}
    return doc


def _write(path, document):
    path.write_text(json.dumps(document))
    return path


def test_stubs_default_to_typings_in_the_working_directory(run_cli, cli_spec_path, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("--spec", cli_spec_path, "stubs")
    assert result.exit_code == 0, result
    package = tmp_path / "typings" / "civis_dyn"
    assert result.stdout.strip() == str(package.relative_to(tmp_path))
    assert "stub files for schema" in result.stderr
    assert (package / "_api" / "jobs.pyi").is_file() and (package / "types.pyi").is_file()
    import hashlib

    assert (package / "schema.sha256").read_text().strip() == \
        hashlib.sha256(cli_spec_path.read_bytes()).hexdigest()


def test_stubs_out_writes_an_installable_stub_package(run_cli, cli_spec_path, tmp_path):
    result = run_cli("--spec", cli_spec_path, "stubs", "--out", tmp_path / "dist")
    assert result.exit_code == 0, result
    assert (tmp_path / "dist" / "civis_dyn-stubs" / "__init__.pyi").is_file()
    assert 'name="civis-dyn-stubs"' in (tmp_path / "dist" / "setup.py").read_text()
    result = run_cli("--spec", cli_spec_path, "stubs", "--out", tmp_path / "t", "--layout",
                     "typings")
    assert (tmp_path / "t" / "civis_dyn" / "_client.pyi").is_file()


def test_stubs_install_writes_into_site_packages(run_cli, cli_spec_path, tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    monkeypatch.setattr(sysconfig, "get_paths", lambda *a, **k: {"purelib": str(site)})
    result = run_cli("--spec", cli_spec_path, "stubs", "--install")
    assert result.exit_code == 0, result
    assert (site / "civis_dyn-stubs" / "py.typed").read_text() == "partial\n"
    assert not (site / "pyproject.toml").exists() and not (site / "setup.py").exists()


def test_stubs_options_are_exclusive(run_cli, cli_spec_path, tmp_path):
    result = run_cli("--spec", cli_spec_path, "stubs", "--out", tmp_path, "--install")
    assert result.exit_code == 2 and "either --out DIR or --install" in result.stderr


def test_spec_diff_of_two_files_as_text(run_cli, tmp_path):
    old = _write(tmp_path / "old.json", cli_schema())
    new = _write(tmp_path / "new.json", _changed_schema())
    result = run_cli("spec", "diff", old, new)
    assert result.exit_code == 0, result
    text = result.stdout
    assert "1 new, 1 removed, 1 newly deprecated, 3 changed operations" in text
    assert "  + reports.list  GET /reports/" in text
    assert "  - workflows.list  GET /workflows/" in text
    assert "  ! projects.list  List projects." in text
    assert "  ~ jobs.list  GET /jobs/" in text
    assert "      parameter added archived: query, optional, str" in text
    assert "      parameter removed author: query, optional, str" in text
    assert "      parameter values changed state: " in text and "'cancelled']" in text
    assert "  ~ jobs.list_runs  GET /jobs/{id}/runs\n      response field added createdAt: " \
           "str (date-time)" in text


def test_spec_diff_as_json_and_exit_code(run_cli, tmp_path):
    old = _write(tmp_path / "old.json", cli_schema())
    new = _write(tmp_path / "new.json", _changed_schema())
    result = run_cli("spec", "diff", old, new, "--json", "--exit-code")
    assert result.exit_code == 3
    diff = result.json()
    assert diff["identical"] is False
    assert [o["method"] for o in diff["added"]] == ["reports.list"]
    assert [o["method"] for o in diff["removed"]] == ["workflows.list"]
    assert [o["method"] for o in diff["deprecated"]] == ["projects.list"]
    assert [o["method"] for o in diff["changed"]] == ["jobs.get_runs", "jobs.list", "jobs.list_runs"]
    assert [(c["change"], c["name"]) for c in diff["changed"][1]["changes"]] == [
        ("parameter added", "archived"), ("parameter removed", "author"),
        ("parameter values changed", "state")]
    assert diff["changed"][2]["changes"] == [
        {"change": "response field added", "name": "createdAt", "detail": "str (date-time)"}]
    same = run_cli("spec", "diff", old, old, "--exit-code")
    assert same.exit_code == 0 and "No changes" in same.stdout


def test_spec_diff_defaults_to_cached_against_live_without_touching_the_cache(
        run_cli, monkeypatch, requests_mock):
    import civis_dyn

    monkeypatch.setenv("CIVIS_API_KEY", API_KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", BASE_URL)
    requests_mock.get(BASE_URL + "endpoints", json=cli_schema())
    civis_dyn.cache_api_spec()                                  # the cached schema: the old one
    requests_mock.get(BASE_URL + "endpoints", json=_changed_schema())   # the API moved on
    for _ in range(2):                                          # the cache still holds the old one
        result = run_cli("spec", "diff", "--json")
        assert result.exit_code == 0, result
        diff = result.json()
        assert (diff["old_source"], diff["new_source"]) == ("cached", "live")
        assert [o["method"] for o in diff["added"]] == ["reports.list"]
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_spec_diff_errors(run_cli, tmp_path):
    result = run_cli("spec", "diff")
    assert result.exit_code == 1 and "set CIVIS_API_KEY" in result.stderr
    result = run_cli("spec", "diff", tmp_path / "missing.json", "bundle")
    assert result.exit_code == 2 and "neither a schema file nor one of" in result.stderr
