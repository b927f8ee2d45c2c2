"""Conveniences: find by name, create-or-update, export/import of definitions, housekeeping.

Unit tests run on a small schema written for them, against ``requests-mock``;
integration tests run the same schema (and the real one, when present) on the
embedded local API over loopback HTTP, with an injected clock instead of sleeps.
"""
import datetime
import json
import pickle
import re
from collections import Counter

import pytest
from scaffold.schemas import BOOLEAN as BOOL
from scaffold.schemas import INTEGER as INT
from scaffold.schemas import STRING as STR
from scaffold.schemas import TIME, array, body, obj, param

import civis_dyn
from civis_dyn import conveniences

BASE = "https://api.conv.test"
PAGE_HEADERS = {"X-Pagination-Per-Page": "2"}


# -- a small schema: the shapes the conveniences rely on (the shared builder) ----
_obj, _arr, _body = obj, array, body


def _query(name, kind="string", description=""):
    return param(name, kind=kind, required=False, description=description)


def _path(name):
    return param(name, "path", "integer")


def _ok(schema=None, code="200"):
    response = {"description": "success"}
    if schema is not None:
        response["schema"] = schema
    return {code: response}


PAGING = [_query("limit", "integer", "Number of results to return. Maximum allowed is 1000."),
          _query("page_num", "integer", "Page number.")]

SCHEMA = {
    "swagger": "2.0",
    "info": {"title": "conveniences test", "version": "1"},
    "definitions": {
        "Author": _obj(id=INT, name=STR),
        "Project": _obj(id=INT, name=STR, description=STR, createdAt=TIME, updatedAt=TIME,
                        archived=BOOL, author={"$ref": "#/definitions/Author"}),
        "ProjectInput": {"type": "object", "required": ["name"],
                         "properties": {"name": STR, "description": STR}},
        "ParamIn": _obj(name=STR, label=STR, type=STR),
        "ParamOut": _obj(name=STR, label=STR, type=STR, value=STR),
        "ScheduleIn": _obj(scheduled=BOOL, scheduledDays=_arr(INT)),
        "ScheduleOut": _obj(scheduled=BOOL, scheduledDays=_arr(INT), nextRunAt=TIME),
        "Python3Script": _obj(id=INT, name=STR, source=STR, createdAt=TIME, updatedAt=TIME,
                              archived=BOOL, author={"$ref": "#/definitions/Author"},
                              params=_arr({"$ref": "#/definitions/ParamOut"}),
                              schedule={"$ref": "#/definitions/ScheduleOut"},
                              arguments={"type": "object"}),
        "Python3Input": {"type": "object", "required": ["name", "source"], "properties": {
            "name": STR, "source": STR, "params": _arr({"$ref": "#/definitions/ParamIn"}),
            "schedule": {"$ref": "#/definitions/ScheduleIn"}, "arguments": {"type": "object"},
            "hidden": BOOL, "timeZone": STR, "remoteKey": {"type": "string", "readOnly": True}}},
        "Run": _obj(id=INT, state=STR, createdAt=TIME),
        "Credential": _obj(id=INT, name=STR, type=STR, createdAt=TIME, updatedAt=TIME),
        "Gadget": _obj(id=INT, name=STR),
    },
    "paths": {
        "/projects/": {
            "get": {"summary": "List projects", "parameters": [
                _query("author"), _query("archived"), *PAGING],
                "responses": _ok(_arr({"$ref": "#/definitions/Project"}))},
            "post": {"summary": "Create a project",
                     "parameters": [_body({"$ref": "#/definitions/ProjectInput"})],
                     "responses": _ok({"$ref": "#/definitions/Project"})},
        },
        "/projects/{project_id}": {
            "get": {"summary": "Get a project", "parameters": [_path("project_id")],
                    "responses": _ok({"$ref": "#/definitions/Project"})},
            "put": {"summary": "Replace a project", "parameters": [
                _path("project_id"), _body({"$ref": "#/definitions/ProjectInput"})],
                "responses": _ok({"$ref": "#/definitions/Project"})},
        },
        "/projects/{id}/archive": {
            "put": {"summary": "Archive a project", "parameters": [
                _path("id"), _body({"type": "object", "required": ["status"],
                                    "properties": {"status": BOOL}})],
                "responses": _ok({"$ref": "#/definitions/Project"})},
        },
        "/credentials/": {
            "get": {"summary": "List credentials",
                    "parameters": [_query("name", description="Filter by name."), *PAGING],
                    "responses": _ok(_arr({"$ref": "#/definitions/Credential"}))},
            "post": {"summary": "Create a credential", "parameters": [_body(
                {"type": "object", "required": ["name", "type"],
                 "properties": {"name": STR, "type": STR}})],
                "responses": _ok({"$ref": "#/definitions/Credential"})},
        },
        "/credentials/{id}": {
            "get": {"summary": "Get a credential", "parameters": [_path("id")],
                    "responses": _ok({"$ref": "#/definitions/Credential"})},
            "patch": {"summary": "Update a credential", "parameters": [
                _path("id"), _body(_obj(name=STR, type=STR))],
                "responses": _ok({"$ref": "#/definitions/Credential"})},
        },
        "/jobs/": {
            "get": {"summary": "List jobs", "parameters": [_query("q"), *PAGING],
                    "responses": _ok(_arr(_obj(id=INT, name=STR)))},
        },
        "/jobs/{id}": {
            "get": {"summary": "Get a job", "parameters": [_path("id")],
                    "responses": _ok(_obj(id=INT, name=STR))},
        },
        "/jobs/{id}/runs": {
            "get": {"summary": "List runs", "parameters": [_path("id"), *PAGING],
                    "responses": _ok(_arr({"$ref": "#/definitions/Run"}))},
            "post": {"summary": "Start a run", "parameters": [_path("id")],
                     "responses": _ok({"$ref": "#/definitions/Run"}, "201")},
        },
        "/jobs/{id}/runs/{run_id}": {
            "delete": {"summary": "Cancel a run", "parameters": [_path("id"), _path("run_id")],
                       "responses": {"202": {"description": "cancelled"}}},
        },
        "/scripts/": {
            "get": {"summary": "List scripts", "parameters": [
                _query("type"), _query("archived"), *PAGING],
                "responses": _ok(_arr(_obj(id=INT, name=STR, updatedAt=TIME, archived=BOOL)))},
            "post": {"summary": "Create a script (of the default kind)",
                     "parameters": [_body(_obj(name=STR, sql=STR))],
                     "responses": _ok(_obj(id=INT, name=STR))},
        },
        "/scripts/{id}": {
            "get": {"summary": "Get a script of any kind", "parameters": [_path("id")],
                    "responses": _ok(_obj(id=INT, name=STR, type=STR))},
        },
        "/scripts/python3": {
            "post": {"summary": "Create a Python script",
                     "parameters": [_body({"$ref": "#/definitions/Python3Input"})],
                     "responses": _ok({"$ref": "#/definitions/Python3Script"})},
        },
        "/scripts/python3/{id}": {
            "get": {"summary": "Get a Python script", "parameters": [_path("id")],
                    "responses": _ok({"$ref": "#/definitions/Python3Script"})},
            "patch": {"summary": "Update a Python script", "parameters": [
                _path("id"), _body(_obj(name=STR, source=STR))],
                "responses": _ok({"$ref": "#/definitions/Python3Script"})},
        },
        "/scripts/python3/{id}/runs": {
            "get": {"summary": "List runs", "parameters": [_path("id"), *PAGING],
                    "responses": _ok(_arr({"$ref": "#/definitions/Run"}))},
            "post": {"summary": "Start a run", "parameters": [_path("id")],
                     "responses": _ok({"$ref": "#/definitions/Run"}, "201")},
        },
        "/scripts/python3/{id}/runs/{run_id}": {
            "get": {"summary": "Get a run", "parameters": [_path("id"), _path("run_id")],
                    "responses": _ok({"$ref": "#/definitions/Run"})},
            "delete": {"summary": "Cancel a run", "parameters": [_path("id"), _path("run_id")],
                       "responses": {"202": {"description": "cancelled"}}},
        },
        "/scripts/python3/{id}/archive": {
            "put": {"summary": "Archive a script", "parameters": [
                _path("id"), _body({"type": "object", "required": ["status"],
                                    "properties": {"status": BOOL}})],
                "responses": _ok({"$ref": "#/definitions/Python3Script"})},
        },
        "/workflows/": {
            "get": {"summary": "List workflows", "parameters": PAGING,
                    "responses": _ok(_arr(_obj(id=INT, name=STR)))},
            "post": {"summary": "Create a workflow", "parameters": [_body(_obj(name=STR))],
                     "responses": _ok(_obj(id=INT, name=STR))},
        },
        "/workflows/{id}/executions": {
            "get": {"summary": "List executions", "parameters": [_path("id"), *PAGING],
                    "responses": _ok(_arr({"$ref": "#/definitions/Run"}))},
            "post": {"summary": "Execute", "parameters": [_path("id")],
                     "responses": _ok({"$ref": "#/definitions/Run"}, "201")},
        },
        "/workflows/{id}/executions/{execution_id}/cancel": {
            "post": {"summary": "Cancel an execution",
                     "parameters": [_path("id"), _path("execution_id")],
                     "responses": _ok({"$ref": "#/definitions/Run"}, "202")},
        },
        "/tables/": {
            "get": {"summary": "List tables (not paginated)", "parameters": [],
                    "responses": _ok(_arr(_obj(id=INT, name=STR)))},
        },
        "/gadgets/": {
            "get": {"summary": "List gadgets", "parameters": [],
                    "responses": _ok(_arr({"$ref": "#/definitions/Gadget"}))},
        },
        "/gadgets/{id}/id": {
            "get": {"summary": "An API operation that happens to be named get_id",
                    "parameters": [_path("id")], "responses": _ok(_obj(value=STR))},
        },
    },
}


@pytest.fixture
def client():
    return civis_dyn.APIClient(api_key="conv-key", local_api_spec=SCHEMA, base_url=BASE + "/")


def _body_of(request):
    return json.loads(request.body) if request.body else None


def _project(id_, name, updated="2024-01-01T00:00:00.000Z", **more):
    return {"id": id_, "name": name, "updatedAt": updated, "createdAt": updated,
            "archived": False, **more}


def one_page(items):
    """A list response that is the last page (paginated lists read the header to stop)."""
    return {"json": items, "headers": {"X-Pagination-Total-Pages": "1"}}


def _writes(requests_mock):
    return [r for r in requests_mock.request_history if r.method != "GET"]


# -- exposure on resources ---------------------------------------------------------
def test_conveniences_are_offered_where_the_resource_has_the_methods(client):
    assert {"find_by_name", "get_id", "create_or_update", "export_definition",
            "import_definition", "archive_stale"} <= set(dir(client.projects))
    # jobs cannot be created through the API, so no create_or_update or import there
    assert "create_or_update" not in dir(client.jobs)
    assert "import_definition" not in dir(client.jobs)
    assert {"count_runs_by_state", "cancel_runs"} <= set(dir(client.jobs))
    # scripts reach their runs only through kinds: list_python3_runs matches list_*_runs
    assert {"count_runs_by_state", "cancel_runs", "archive_stale"} <= set(dir(client.scripts))
    assert {"count_runs_by_state", "cancel_runs"} <= set(dir(client.workflows))
    assert "cancel_runs" not in dir(client.projects)
    with pytest.raises(AttributeError, match="has no method 'cancel_runs'"):
        client.projects.cancel_runs


def test_api_method_names_win_over_conveniences(client, requests_mock):
    requests_mock.get(f"{BASE}/gadgets/3/id", json={"value": "from the API"})
    assert client.gadgets.get_id(3).value == "from the API"


def test_module_functions_take_the_resource_first(client, requests_mock):
    requests_mock.get(f"{BASE}/tables/", json=[{"id": 4, "name": "t"}])
    assert conveniences.get_id(client.tables, "t") == 4
    with pytest.raises(TypeError, match="takes a resource such as client.projects"):
        conveniences.get_id(client, "t")


# -- find by name --------------------------------------------------------------------
def test_find_uses_the_server_side_name_filter_and_matches_exactly(client, requests_mock):
    route = requests_mock.get(f"{BASE}/credentials/", **one_page([
        {"id": 1, "name": "warehouse-old"}, {"id": 2, "name": "warehouse"}]))
    found = client.credentials.find_by_name("warehouse")
    assert isinstance(found, civis_dyn.Response) and found.id == 2
    assert route.call_count == 1
    assert route.last_request.qs["name"] == ["warehouse"]


def test_find_uses_q_where_there_is_no_name_filter(client, requests_mock):
    route = requests_mock.get(f"{BASE}/jobs/", **one_page([{"id": 8, "name": "Nightly ETL"}]))
    assert client.jobs.get_id("Nightly ETL") == 8
    assert route.last_request.qs["q"] == ["nightly etl"]  # requests-mock lower-cases the query


def test_find_pages_through_the_list_without_a_filter(client, requests_mock):
    route = requests_mock.get(f"{BASE}/projects/", [
        {"json": [_project(1, "a"), _project(2, "b")], "headers": PAGE_HEADERS},
        {"json": [_project(3, "target")], "headers": PAGE_HEADERS},
    ])
    assert client.projects.get_id("target", author="7") == 3
    assert route.call_count == 2
    assert [r.qs["page_num"] for r in route.request_history] == [["1"], ["2"]]
    # the largest page the schema allows, and the caller's filter
    assert route.request_history[0].qs["limit"] == ["1000"]
    assert route.request_history[0].qs["author"] == ["7"]


def test_find_on_a_list_without_paging(client, requests_mock):
    requests_mock.get(f"{BASE}/tables/", json=[{"id": 4, "name": "t"}, {"id": 5, "name": "u"}])
    assert client.tables.find_by_name("u").id == 5


def test_not_found_lists_close_names_with_ids(client, requests_mock):
    requests_mock.get(f"{BASE}/tables/", json=[
        {"id": 4, "name": "Sales"}, {"id": 5, "name": "sales_2023"}, {"id": 6, "name": "zzz"}])
    with pytest.raises(civis_dyn.NotFoundError) as caught:
        client.tables.find_by_name("sales")
    error = caught.value
    assert isinstance(error, LookupError) and isinstance(error, civis_dyn.CivisDynError)
    assert "tables.find_by_name(): no tables object is named 'sales'" in str(error)
    assert "'Sales' (id 4)" in str(error) and "'sales_2023' (id 5)" in str(error)
    assert "zzz" not in str(error)
    assert error.candidates[0] == (4, "Sales")  # same name but for case comes first
    assert (error.resource, error.name) == ("tables", "sales")


def test_several_matches_raise_an_ambiguous_name_error_listing_them(client, requests_mock):
    requests_mock.get(f"{BASE}/projects/", **one_page([_project(1, "dup"), _project(9, "dup"),
                                                 _project(3, "other")]))
    with pytest.raises(civis_dyn.AmbiguousNameError) as caught:
        client.projects.get_id("dup")
    error = caught.value
    assert isinstance(error, LookupError)
    assert "2 projects objects are named 'dup' (ids 1, 9)" in str(error)
    assert error.candidates == [(1, "dup"), (9, "dup")]
    restored = pickle.loads(pickle.dumps(error))
    assert (type(restored), restored.candidates, str(restored)) == \
        (civis_dyn.AmbiguousNameError, error.candidates, str(error))


def test_find_with_a_kind_uses_the_resources_list_when_the_kind_has_none(client, requests_mock):
    route = requests_mock.get(f"{BASE}/scripts/", **one_page([{"id": 12, "name": "etl"}]))
    assert client.scripts.get_id("etl", kind="python3", type="python3") == 12
    assert route.last_request.qs["type"] == ["python3"]


@pytest.mark.parametrize("name", ["", None, 3])
def test_find_refuses_a_name_that_is_not_a_string(client, name):
    with pytest.raises(TypeError, match="projects.find_by_name\\(\\) argument 'name'"):
        client.projects.find_by_name(name)


def test_bad_kind_is_refused_naming_the_parameter(client):
    with pytest.raises(ValueError, match="projects.get_id\\(\\) argument 'kind'"):
        client.projects.get_id("x", kind="Python 3")


def test_unknown_filter_is_refused_by_the_list_method(client, requests_mock):
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        client.projects.find_by_name("x", colour="red")
    assert not requests_mock.request_history


def test_results_are_responses_even_for_a_raw_client(requests_mock):
    raw = civis_dyn.APIClient(api_key="k", local_api_spec=SCHEMA, base_url=BASE + "/",
                              return_type="raw")
    requests_mock.get(f"{BASE}/tables/", json=[{"id": 4, "name": "t"}])
    requests_mock.post(f"{BASE}/credentials/", json={"id": 5, "name": "c", "type": "x"})
    requests_mock.get(f"{BASE}/credentials/", **one_page([]))
    assert raw.tables.find_by_name("t").id == 4
    assert raw.credentials.create_or_update("c", type="x").id == 5


# -- create or update ------------------------------------------------------------------
def test_create_or_update_posts_when_the_name_is_new(client, requests_mock):
    requests_mock.get(f"{BASE}/credentials/", **one_page([{"id": 1, "name": "other"}]))
    post = requests_mock.post(f"{BASE}/credentials/", json={"id": 2, "name": "new", "type": "x"})
    result = client.credentials.create_or_update("new", type="x")
    assert result.id == 2
    assert _body_of(post.last_request) == {"name": "new", "type": "x"}
    assert [r.method for r in _writes(requests_mock)] == ["POST"]


def test_create_or_update_patches_the_existing_object(client, requests_mock):
    requests_mock.get(f"{BASE}/credentials/", **one_page([{"id": 7, "name": "db"}]))
    patch = requests_mock.patch(f"{BASE}/credentials/7", json={"id": 7, "name": "db",
                                                               "type": "postgres"})
    assert client.credentials.create_or_update("db", type="postgres").type == "postgres"
    assert _body_of(patch.last_request) == {"type": "postgres"}
    assert [r.method for r in _writes(requests_mock)] == ["PATCH"]


def test_create_or_update_puts_where_there_is_no_patch(client, requests_mock):
    requests_mock.get(f"{BASE}/projects/", **one_page([_project(4, "Q3")]))
    put = requests_mock.put(f"{BASE}/projects/4", json=_project(4, "Q3", description="d"))
    client.projects.create_or_update("Q3", description="d")
    assert _body_of(put.last_request) == {"name": "Q3", "description": "d"}


def test_create_or_update_changes_nothing_when_the_name_is_ambiguous(client, requests_mock):
    requests_mock.get(f"{BASE}/projects/", **one_page([_project(1, "Q3"), _project(2, "Q3")]))
    with pytest.raises(civis_dyn.AmbiguousNameError):
        client.projects.create_or_update("Q3", description="d")
    assert _writes(requests_mock) == []


def test_create_or_update_with_a_kind_and_find_filters(client, requests_mock):
    listing = requests_mock.get(f"{BASE}/scripts/", **one_page([{"id": 5, "name": "etl"}]))
    patch = requests_mock.patch(f"{BASE}/scripts/python3/5", json={"id": 5, "name": "etl"})
    client.scripts.create_or_update("etl", kind="python3", find_filters={"type": "python3"},
                                    source="print(2)")
    assert listing.last_request.qs["type"] == ["python3"]
    assert _body_of(patch.last_request) == {"source": "print(2)"}


def test_create_or_update_without_a_create_method_for_the_kind(client):
    with pytest.raises(ValueError, match="no method 'post_sql' to create objects; kinds that "
                                         "have one: 'python3'"):
        client.scripts.create_or_update("x", kind="sql")


# -- export / import ----------------------------------------------------------------------
SCRIPT_WIRE = {
    "id": 42, "name": "ETL", "source": "print(1)", "createdAt": "2024-01-01T00:00:00.000Z",
    "updatedAt": "2024-01-02T00:00:00.000Z", "archived": False,
    "author": {"id": 1, "name": "Ann"},
    "params": [{"name": "day", "label": "Day", "type": "string", "value": "mon"},
               {"name": "n", "label": "N", "type": "integer", "value": None}],
    "schedule": {"scheduled": True, "scheduledDays": [1, 3], "nextRunAt": "2024-02-01T00:00:00Z"},
    "arguments": {"MY_VAR": 1, "someKey": "kept as is"},
}


def test_export_writes_the_definition_with_snake_case_keys(client, requests_mock, tmp_path):
    requests_mock.get(f"{BASE}/scripts/python3/42", json=SCRIPT_WIRE)
    target = client.scripts.export_definition(42, tmp_path / "etl.json", kind="python3")
    assert target == tmp_path / "etl.json"
    document = json.loads(target.read_text())
    assert {k: document[k] for k in ("format", "resource", "kind", "id", "case")} == {
        "format": "civis_dyn.definition/1", "resource": "scripts", "kind": "python3",
        "id": 42, "case": "snake"}
    datetime.datetime.fromisoformat(document["exported_at"])
    definition = document["definition"]
    assert definition["created_at"] == "2024-01-01T00:00:00.000Z"
    assert definition["schedule"]["scheduled_days"] == [1, 3]
    assert definition["arguments"] == {"MY_VAR": 1, "someKey": "kept as is"}  # user keys kept
    assert [p.name for p in tmp_path.iterdir()] == ["etl.json"]  # no temporary file left


def test_export_in_wire_case_into_a_directory(client, requests_mock, tmp_path):
    requests_mock.get(f"{BASE}/scripts/python3/42", json=SCRIPT_WIRE)
    target = client.scripts.export_definition(42, tmp_path, kind="python3", wire_case=True)
    assert target == tmp_path / "scripts-python3-42.json"
    document = json.loads(target.read_text())
    assert document["case"] == "wire"
    assert document["definition"] == SCRIPT_WIRE


def test_a_failed_export_leaves_an_existing_file_untouched(client, requests_mock, tmp_path):
    target = tmp_path / "etl.json"
    target.write_text("previous export")
    requests_mock.get(f"{BASE}/scripts/python3/42", status_code=404,
                      json={"errorDescription": "Not found"})
    with pytest.raises(civis_dyn.CivisAPIError):
        client.scripts.export_definition(42, target, kind="python3")
    assert target.read_text() == "previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["etl.json"]


def test_export_replaces_the_file_by_renaming(client, requests_mock, tmp_path, monkeypatch):
    requests_mock.get(f"{BASE}/scripts/python3/42", json=SCRIPT_WIRE)
    target = tmp_path / "etl.json"
    target.write_text("previous export")
    renames = []
    from civis_dyn import _files

    real_replace = _files.os.replace

    def replace(source, destination):
        renames.append((str(source), str(destination)))
        assert target.read_text() == "previous export"  # the old file is whole until the rename
        return real_replace(source, destination)

    monkeypatch.setattr(_files.os, "replace", replace)
    client.scripts.export_definition(42, target, kind="python3")
    assert len(renames) == 1 and renames[0][1] == str(target)
    assert json.loads(target.read_text())["id"] == 42


def _exported(tmp_path, definition=None, **meta):
    document = {"format": "civis_dyn.definition/1", "resource": "scripts", "kind": "python3",
                "id": 42, "case": "snake", "exported_at": "2024-01-03T00:00:00+00:00",
                "definition": definition if definition is not None else _snake(SCRIPT_WIRE),
                **meta}
    path = tmp_path / "etl.json"
    path.write_text(json.dumps(document))
    return path


def _snake(wire):
    return civis_dyn.Response(wire).json()


def test_import_sends_only_what_post_accepts_and_reports_the_rest(client, requests_mock,
                                                                 tmp_path):
    definition = {**_snake(SCRIPT_WIRE), "colour": "red", "time_zone": None,
                  "remote_key": "abc"}
    definition["schedule"]["bogus"] = 1
    path = _exported(tmp_path, definition)
    post = requests_mock.post(f"{BASE}/scripts/python3", json={**SCRIPT_WIRE, "id": 43})
    response, dropped = client.scripts.import_definition(path, name="ETL copy")
    assert response.id == 43
    assert _body_of(post.last_request) == {
        "name": "ETL copy", "source": "print(1)",
        "params": [{"name": "day", "label": "Day", "type": "string"},
                   {"name": "n", "label": "N", "type": "integer"}],
        "schedule": {"scheduled": True, "scheduledDays": [1, 3]},
        "arguments": {"MY_VAR": 1, "someKey": "kept as is"},
    }
    by_field = {d.field: d for d in dropped}
    assert set(by_field) == {"id", "created_at", "updated_at", "archived", "author",
                             "params[].value", "schedule.next_run_at", "schedule.bogus",
                             "colour", "time_zone", "remote_key"}
    assert by_field["id"].category == "read_only"
    assert by_field["id"].reason == ("read-only: scripts.get_python3() returns it but "
                                     "scripts.post_python3() does not accept it")
    assert by_field["params[].value"].category == "read_only"  # reported once for the list
    assert by_field["schedule.next_run_at"].category == "read_only"
    assert by_field["schedule.bogus"].category == "unknown"
    assert by_field["colour"].category == "unknown"
    assert by_field["time_zone"].category == "null"
    assert by_field["remote_key"].reason == "read-only: the schema marks it readOnly"
    assert all(isinstance(d, conveniences.DroppedField) for d in dropped)


def test_import_dry_run_posts_nothing(client, requests_mock, tmp_path):
    result = client.scripts.import_definition(_exported(tmp_path), dry_run=True)
    assert result.response is None
    assert result.fields["name"] == "ETL" and "id" not in result.fields
    assert any(d.field == "id" for d in result.dropped)
    assert requests_mock.request_history == []
    assert "dry run" in repr(result)


def test_import_reads_a_plain_json_object_in_wire_case(client, requests_mock, tmp_path):
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"name": "n", "type": "t", "createdAt": "2024-01-01"}))
    post = requests_mock.post(f"{BASE}/credentials/", json={"id": 3, "name": "n", "type": "t"})
    response, dropped = client.credentials.import_definition(path)
    assert _body_of(post.last_request) == {"name": "n", "type": "t"}
    assert [(d.field, d.category) for d in dropped] == [("createdAt", "read_only")]


def test_import_overrides_must_be_fields_post_accepts(client, requests_mock, tmp_path):
    path = _exported(tmp_path)
    with pytest.raises(TypeError, match="scripts.import_definition\\(\\) got an unexpected "
                                        "keyword argument 'nmae'.*Did you mean 'name'"):
        client.scripts.import_definition(path, nmae="x")
    result = client.scripts.import_definition(path, dry_run=True, schedule=None, hidden=True)
    assert "schedule" not in result.fields and result.fields["hidden"] is True
    assert requests_mock.request_history == []


def test_import_refuses_a_definition_of_another_resource_or_kind(client, tmp_path):
    path = _exported(tmp_path)
    with pytest.raises(ValueError, match="holds a 'scripts' definition; import it with "
                                         "client.scripts.import_definition"):
        client.projects.import_definition(path)
    with pytest.raises(ValueError, match="holds a 'python3' definition, not 'sql'"):
        client.scripts.import_definition(path, kind="sql")


def test_import_refuses_files_that_are_not_json_objects(client, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object, not list"):
        client.projects.import_definition(bad)
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="is not valid JSON"):
        client.projects.import_definition(bad)


# -- housekeeping: runs -----------------------------------------------------------------------
RUNS = [
    {"id": 1, "state": "succeeded", "createdAt": "2024-01-01T00:00:00.000Z"},
    {"id": 2, "state": "running", "createdAt": "2024-01-02T00:00:00.000Z"},
    {"id": 3, "state": "queued", "createdAt": "2024-01-03T00:00:00.000Z"},
    {"id": 4, "state": "failed", "createdAt": "2024-01-04T00:00:00.000Z"},
    {"id": 5, "state": "queued", "createdAt": "2024-03-01T00:00:00.000Z"},
]


def test_count_runs_by_state_pages_through_every_run(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", [
        {"json": RUNS[:2], "headers": PAGE_HEADERS}, {"json": RUNS[2:4], "headers": PAGE_HEADERS},
        {"json": RUNS[4:], "headers": PAGE_HEADERS}])
    counts = client.jobs.count_runs_by_state(9)
    assert counts == Counter({"queued": 2, "succeeded": 1, "running": 1, "failed": 1})
    assert counts["cancelled"] == 0 and sum(counts.values()) == 5


def test_count_runs_created_before_a_date(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", **one_page(RUNS))
    counts = client.jobs.count_runs_by_state(9, created_before=datetime.date(2024, 1, 3))
    assert counts == Counter({"succeeded": 1, "running": 1})


def test_cancel_runs_dry_run_only_reports(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", **one_page(RUNS))
    report = client.jobs.cancel_runs(9, created_before="2024-02-01", dry_run=True)
    assert [r["id"] for r in report.selected] == [2, 3]
    assert report.selected[0] == {"id": 2, "state": "running",
                                  "created_at": "2024-01-02T00:00:00.000Z"}
    assert report.dry_run and report.done == [] and report.ok
    assert str(report) == "dry run: would cancel 2 of jobs 9 runs: 2, 3"
    assert _writes(requests_mock) == []


def test_cancel_runs_cancels_the_old_active_runs_only(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", **one_page(RUNS))
    cancel = requests_mock.delete(requests_mock_any_run(9), status_code=202)
    report = client.jobs.cancel_runs(9, created_before=datetime.datetime(2024, 2, 1))
    assert [r.path for r in cancel.request_history] == ["/jobs/9/runs/2", "/jobs/9/runs/3"]
    assert report.done == [2, 3] and report.ok
    assert report.as_dict()["done"] == [2, 3]


def requests_mock_any_run(job_id):
    return re.compile(rf"{BASE}/jobs/{job_id}/runs/\d+$")


def test_cancel_runs_goes_on_past_a_refusal_and_reports_it(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", **one_page(RUNS))
    requests_mock.delete(f"{BASE}/jobs/9/runs/2", status_code=409,
                         json={"errorDescription": "Run already finished"})
    requests_mock.delete(f"{BASE}/jobs/9/runs/3", status_code=202)
    report = client.jobs.cancel_runs(9, created_before="2024-02-01T00:00:00Z")
    assert report.done == [3]
    assert not report.ok and "Run already finished" in report.failed[2]
    assert "failed: 2: (409) Run already finished" in str(report)


def test_cancel_runs_stops_on_a_refused_key(client, requests_mock):
    requests_mock.get(f"{BASE}/jobs/9/runs", **one_page(RUNS))
    requests_mock.delete(requests_mock_any_run(9), status_code=401,
                         json={"errorDescription": "Invalid key"})
    with pytest.raises(civis_dyn.CivisAPIKeyError):
        client.jobs.cancel_runs(9, created_before="2024-02-01")


def test_cancel_runs_of_a_kind_and_of_workflow_executions(client, requests_mock):
    requests_mock.get(f"{BASE}/scripts/python3/5/runs", **one_page(RUNS))
    script_cancel = requests_mock.delete(f"{BASE}/scripts/python3/5/runs/3", status_code=202)
    report = client.scripts.cancel_runs(5, kind="python3", created_before="2024-02-01",
                                        states=("queued",))
    assert report.done == [3] and script_cancel.called_once
    requests_mock.get(f"{BASE}/workflows/6/executions", **one_page(RUNS))
    execution_cancel = requests_mock.post(re.compile(rf"{BASE}/workflows/6/executions/\d+/cancel"),
                                          json={})
    report = client.workflows.cancel_runs(6, created_before="2025-01-01", states="queued")
    assert [r["id"] for r in report.selected] == [3, 5]
    assert [r.path for r in execution_cancel.request_history] == [
        "/workflows/6/executions/3/cancel", "/workflows/6/executions/5/cancel"]
    assert report.done == [3, 5] and report.failed == {}


def test_cancel_runs_checks_its_arguments_before_any_request(client, requests_mock):
    with pytest.raises(TypeError, match="jobs.cancel_runs\\(\\) argument 'created_before' must "
                                        "be a datetime"):
        client.jobs.cancel_runs(9, created_before=20240101)
    with pytest.raises(ValueError, match="argument 'created_before' must be an ISO 8601"):
        client.jobs.cancel_runs(9, created_before="last tuesday")
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument"):
        client.jobs.cancel_runs(9)
    with pytest.raises(ValueError, match="no method 'list_runs' to list runs; kinds that have "
                                         "one: 'python3'"):
        client.scripts.cancel_runs(5, created_before="2024-01-01")
    assert requests_mock.request_history == []


# -- housekeeping: archive ----------------------------------------------------------------------
STALE = [_project(1, "old", "2022-05-01T00:00:00.000Z"),
         _project(2, "fresh", "2024-05-01T00:00:00.000Z"),
         _project(3, "older", "2021-01-01T00:00:00.000Z")]


def test_archive_stale_dry_run_only_reports(client, requests_mock):
    listing = requests_mock.get(f"{BASE}/projects/", **one_page(STALE))
    report = client.projects.archive_stale(not_updated_since="2023-01-01", dry_run=True)
    assert [(s["id"], s["name"]) for s in report.selected] == [(1, "old"), (3, "older")]
    assert report.selected[0]["updated_at"] == "2022-05-01T00:00:00.000Z"
    assert listing.last_request.qs["archived"] == ["false"]
    assert _writes(requests_mock) == [] and report.done == []


def test_archive_stale_archives_each_stale_object(client, requests_mock):
    requests_mock.get(f"{BASE}/projects/", **one_page(STALE))
    archive_1 = requests_mock.put(f"{BASE}/projects/1/archive", json=_project(1, "old"))
    archive_3 = requests_mock.put(f"{BASE}/projects/3/archive", status_code=403,
                                  json={"errorDescription": "Forbidden"})
    since = datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    report = client.projects.archive_stale(not_updated_since=since, author="5")
    assert _body_of(archive_1.last_request) == {"status": True}
    assert archive_3.called_once
    assert report.done == [1] and list(report.failed) == [3]
    assert "archive: 1 of 2 selected of projects" in str(report)


def test_archive_stale_of_a_kind(client, requests_mock):
    requests_mock.get(f"{BASE}/scripts/", **one_page([
        {"id": 7, "name": "s", "updatedAt": "2020-01-01T00:00:00Z", "archived": False}]))
    archive = requests_mock.put(f"{BASE}/scripts/python3/7/archive", json={"id": 7})
    report = client.scripts.archive_stale(not_updated_since="2021-01-01", kind="python3",
                                          type="python3")
    assert report.done == [7] and archive.called_once


# -- integration: the embedded local API over loopback HTTP ----------------------------------------
@pytest.fixture
def local(clock):
    from civis_dyn.testing import LocalCivisAPI

    # runs stay queued for a day, then run for a day: the clock decides
    with LocalCivisAPI(spec=SCHEMA, clock=clock, run_delays=(86400.0, 86400.0)) as api:
        api.fake_clock = clock
        yield api


def test_local_find_by_name_create_or_update_and_errors(local):
    client = local.client()
    created = client.credentials.create_or_update("warehouse", type="postgres")
    assert client.credentials.get_id("warehouse") == created.id
    updated = client.credentials.create_or_update("warehouse", type="redshift")
    assert updated.id == created.id and client.credentials.get(created.id).type == "redshift"
    assert local.count(method="POST", path="/credentials") == 1
    assert local.count(method="PATCH") == 1
    client.projects.post(name="Q3")
    client.projects.post(name="Q3")
    client.projects.post(name="q3 draft")
    with pytest.raises(civis_dyn.AmbiguousNameError) as ambiguous:
        client.projects.find_by_name("Q3")
    assert sorted(i for i, _ in ambiguous.value.candidates) == [1, 2]
    with pytest.raises(civis_dyn.NotFoundError) as missing:
        client.projects.find_by_name("q3")
    assert {n for _, n in missing.value.candidates} >= {"Q3"}


def test_local_export_import_round_trip(local, tmp_path):
    client = local.client()
    original = client.scripts.post_python3(
        name="ETL", source="print(1)",
        params=[{"name": "day", "label": "Day", "type": "string"}],
        schedule={"scheduled": True, "scheduled_days": [1, 3]},
        arguments={"MY_VAR": "x"})
    path = client.scripts.export_definition(original.id, tmp_path / "etl.json", kind="python3")
    response, dropped = client.scripts.import_definition(path, name="ETL copy")
    copy = client.scripts.get_python3(response.id)
    assert copy.id != original.id and copy.name == "ETL copy"
    for field in ("source", "params", "schedule", "arguments"):
        assert copy[field] == original[field], field
    dropped_fields = {d.field for d in dropped}
    assert {"id", "created_at", "author"} <= dropped_fields
    assert local.count(method="POST", path="/scripts/python3") == 2
    # the wire-case export imports the same way
    wire = client.scripts.export_definition(copy.id, tmp_path, kind="python3", wire_case=True)
    again = client.scripts.import_definition(wire, name="third")
    assert client.scripts.get_python3(again.response.id).source == "print(1)"
    assert {d.field for d in again.dropped} >= {"id", "createdAt"}


def test_local_runs_count_and_cancel_with_dry_run(local):
    client = local.client()
    script = client.scripts.post_python3(name="job", source="pass")
    old = [client.scripts.post_python3_runs(script.id) for _ in range(2)]
    local.fake_clock.now += 3600
    cutoff = datetime.datetime.fromisoformat(old[-1].created_at) + datetime.timedelta(minutes=30)
    new = client.scripts.post_python3_runs(script.id)
    assert client.scripts.count_runs_by_state(script.id, kind="python3") == {"queued": 3}
    report = client.scripts.cancel_runs(script.id, kind="python3", created_before=cutoff,
                                        dry_run=True)
    assert sorted(r["id"] for r in report.selected) == sorted(r.id for r in old)
    assert local.count(method="DELETE") == 0
    report = client.scripts.cancel_runs(script.id, kind="python3", created_before=cutoff)
    assert sorted(report.done) == sorted(r.id for r in old) and report.ok
    assert local.count(method="DELETE") == 2
    counts = client.scripts.count_runs_by_state(script.id, kind="python3")
    assert counts == {"cancelled": 2, "queued": 1}
    assert client.scripts.count_runs_by_state(script.id, kind="python3",
                                              created_before=cutoff) == {"cancelled": 2}
    assert client.scripts.get_python3_runs(script.id, new.id).state == "queued"


def test_local_workflow_executions_are_runs(local):
    client = local.client()
    workflow = client.workflows.post(name="w")
    execution = client.workflows.post_executions(workflow.id)
    local.fake_clock.now += 90000  # past the queued day: running
    assert client.workflows.count_runs_by_state(workflow.id) == {"running": 1}
    report = client.workflows.cancel_runs(workflow.id, created_before="2999-01-01")
    assert report.done == [execution.id]
    assert client.workflows.count_runs_by_state(workflow.id) == {"cancelled": 1}


def test_local_archive_stale_with_dry_run(local):
    client = local.client()
    old = client.projects.post(name="old")
    local.fake_clock.now += 30 * 86400
    fresh = client.projects.post(name="fresh")
    since = datetime.datetime.fromisoformat(fresh.updated_at) - datetime.timedelta(days=1)
    report = client.projects.archive_stale(not_updated_since=since, dry_run=True)
    assert [s["id"] for s in report.selected] == [old.id]
    assert local.count(method="PUT") == 0
    report = client.projects.archive_stale(not_updated_since=since)
    assert report.done == [old.id]
    assert [p.id for p in client.projects.list()] == [fresh.id]
    assert client.projects.get(old.id).archived is True
    # archived objects are not selected again
    assert client.projects.archive_stale(not_updated_since=since).selected == []


def test_local_real_schema_import_filters_nested_fields(real_spec_path, tmp_path):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=real_spec_path) as api:
        client = api.client()
        made = client.imports.post(name="sync", sync_type="Dbsync", is_outbound=False,
                                   source={"remote_host_id": 1, "credential_id": 2},
                                   destination={"remote_host_id": 3, "credential_id": 4})
        path = client.imports.export_definition(made.id, tmp_path)
        assert path.name == f"imports-{made.id}.json"
        response, dropped = client.imports.import_definition(path, name="sync copy")
        by_field = {d.field: d.category for d in dropped}
        # the API returns source.name and destination.name, but post does not take them
        assert by_field["source.name"] == "read_only"
        assert by_field["destination.name"] == "read_only"
        copy = client.imports.get(response.id)
        assert (copy.source.remote_host_id, copy.destination.credential_id) == (1, 4)
        assert client.imports.get_id("sync copy") == response.id


@pytest.mark.parametrize("states", [(), [1], 5])
def test_cancel_runs_refuses_bad_states(client, requests_mock, states):
    with pytest.raises(TypeError, match="jobs.cancel_runs\\(\\) argument 'states'"):
        client.jobs.cancel_runs(9, created_before="2024-01-01", states=states)
    assert requests_mock.request_history == []


# -- the command line: <resource> find / export / import -------------------------------------
@pytest.fixture
def cli_run(local, tmp_path, monkeypatch):
    """``cli_run(*args)`` runs ``civis-dyn`` in-process against the local API."""
    from click.testing import CliRunner

    from civis_dyn.cli import cli

    spec_path = tmp_path / "schema.json"
    spec_path.write_text(json.dumps(SCHEMA))
    env = {"CIVIS_API_ENDPOINT": local.url, "CIVIS_API_KEY": local.api_key,
           "CIVIS_DYN_SPEC": str(spec_path), "CIVIS_DYN_OUTPUT": "json"}

    def run(*args):
        return CliRunner().invoke(cli, [str(a) for a in args], env=env, prog_name="civis-dyn")

    return run


def test_cli_find_prints_the_object_or_lists_candidates(local, cli_run):
    client = local.client()
    made = client.projects.post(name="Q3")
    found = cli_run("projects", "find", "Q3", "--id-only")
    assert (found.exit_code, found.stdout.strip()) == (0, str(made.id))
    shown = cli_run("projects", "find", "Q3", "--columns", "id,name")
    assert json.loads(shown.stdout) == {"id": made.id, "name": "Q3"}
    client.projects.post(name="Q3")
    ambiguous = cli_run("projects", "find", "Q3")
    assert ambiguous.exit_code == 1
    assert "2 projects objects are named 'Q3'" in ambiguous.stderr
    missing = cli_run("projects", "find", "q3", "--filter", "archived=all")
    assert missing.exit_code == 1 and "Close names: 'Q3'" in missing.stderr
    assert "find" in cli_run("projects", "--help").stdout
    assert local.api_key not in ambiguous.stderr + missing.stderr


def test_cli_export_then_import_with_dry_run(local, cli_run, tmp_path):
    client = local.client()
    made = client.scripts.post_python3(name="ETL", source="print(1)")
    exported = cli_run("scripts", "export", made.id, tmp_path, "--kind", "python3")
    assert exported.exit_code == 0, exported.output
    path = tmp_path / f"scripts-python3-{made.id}.json"
    assert exported.stdout.strip() == str(path)
    dry = cli_run("scripts", "import", path, "--set", "name=copy", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["name"] == "copy"
    assert "dropped id: read-only" in dry.stderr
    assert local.count(method="POST", path="/scripts/python3") == 1  # the dry run created nothing
    done = cli_run("scripts", "import", path, "--set", "name=copy")
    assert done.exit_code == 0, done.output
    copy = json.loads(done.stdout)
    assert copy["name"] == "copy" and copy["source"] == "print(1)" and copy["id"] != made.id
    refused = cli_run("scripts", "import", path, "--set", "nmae=copy")
    assert refused.exit_code == 2 and "Did you mean 'name'" in refused.stderr
