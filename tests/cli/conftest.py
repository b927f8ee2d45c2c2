"""Fixtures for the ``civis-dyn`` tests: a small schema written for them, a clean environment.

The schema has a paginated list with an enum and a boolean, object and array
body parameters (one required), a bodiless delete, a deprecated alias
(``users list-me`` -> ``get-me``) and a few other resources, so a test can
see that only the invoked one is built.
"""

import json
import uuid

import pytest
from click.testing import CliRunner

BASE_URL = "https://api.test/"
API_KEY = "test-key-Zq81"


def _paginated(params):
    return params + [
        {"name": "limit", "in": "query", "type": "integer", "description": "Page size."},
        {"name": "page_num", "in": "query", "type": "integer", "description": "Page number."},
    ]


ID = {"name": "id", "in": "path", "required": True, "type": "integer",
      "description": "The ID of the object."}
RUN_ID = {"name": "run_id", "in": "path", "required": True, "type": "integer",
          "description": "The ID of the run."}


def _get(summary, schema, params=()):
    return {"summary": summary, "parameters": list(params),
            "responses": {"200": {"description": "success", "schema": schema}}}


def _array_of(name):
    return {"type": "array", "items": {"$ref": f"#/definitions/{name}"}}


def _ref(name):
    return {"$ref": f"#/definitions/{name}"}


def mini_schema():
    """A small Swagger 2.0 schema covering the shapes the CLI maps."""
    job_filters = [
        {"name": "state", "in": "query", "type": "string",
         "enum": ["queued", "running", "succeeded", "failed"], "description": "The job's state."},
        {"name": "hidden", "in": "query", "type": "boolean", "description": "Hidden items."},
        {"name": "author", "in": "query", "type": "string", "description": "Author IDs."},
    ]
    container_body = {
        "type": "object",
        "required": ["requiredResources", "dockerImageName"],
        "properties": {
            "requiredResources": {"type": "object", "description": "CPU and memory.",
                                  "properties": {"cpu": {"type": "integer"},
                                                 "memory": {"type": "integer"}}},
            "dockerImageName": {"type": "string", "description": "The image."},
            "name": {"type": "string", "description": "The name of the container."},
            "params": {"type": "array", "description": "Parameters the script accepts.",
                       "items": {"type": "object",
                                 "properties": {"name": {"type": "string"},
                                                "type": {"type": "string"}}}},
            "arguments": {"type": "object", "description": "Parameter values."},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags."},
            "hidden": {"type": "boolean", "description": "Hide it."},
        },
    }
    patch_body = {"type": "object", "properties": {
        "name": {"type": "string", "description": "The new name."},
        "params": container_body["properties"]["params"],
    }}
    return {
        "swagger": "2.0",
        "info": {"title": "Mini Civis API", "version": "1"},
        "paths": {
            "/jobs/": {"get": _get("List Jobs", _array_of("Job"), _paginated(job_filters))},
            "/jobs/{id}": {
                "get": _get("Show basic job info", _ref("Job"), [ID]),
                "delete": {"summary": "Delete a job", "parameters": [ID],
                           "responses": {"204": {"description": "success"}}},
            },
            "/jobs/{id}/runs": {"get": _get("List runs for the given job", _array_of("Run"),
                                            _paginated([ID]))},
            "/jobs/{id}/runs/{run_id}": {"get": _get("Check status of a job", _ref("Run"),
                                                     [ID, RUN_ID])},
            "/jobs/{id}/runs/{run_id}/logs": {"get": _get(
                "Get the logs for a run", _array_of("Log"),
                [ID, RUN_ID, {"name": "last_id", "in": "query", "type": "integer"}])},
            "/scripts/containers": {"post": {
                "summary": "Create a container",
                "parameters": [{"name": "body", "in": "body", "schema": container_body}],
                "responses": {"200": {"description": "success", "schema": _ref("Container")}}}},
            "/scripts/containers/{id}": {
                "get": _get("View a container", _ref("Container"), [ID]),
                "patch": {"summary": "Update a container",
                          "parameters": [ID, {"name": "body", "in": "body", "schema": patch_body}],
                          "responses": {"200": {"description": "success",
                                                "schema": _ref("Container")}}},
                "delete": {"summary": "Archive a container", "parameters": [ID],
                           "responses": {"204": {"description": "success"}}},
            },
            "/users/me": {"get": _get("Show info about the logged-in user", _ref("User"))},
            "/projects/": {"get": _get("List projects", _array_of("Job"))},
            "/workflows/": {"get": _get("List workflows", _array_of("Job"))},
        },
        "definitions": {
            "Job": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "state": {"type": "string"}, "lastRun": _ref("Run")}},
            "Run": {"type": "object", "properties": {
                "id": {"type": "integer"}, "state": {"type": "string"},
                "error": {"type": "string"}}},
            "Log": {"type": "object", "properties": {
                "id": {"type": "integer"}, "message": {"type": "string"},
                "createdAt": {"type": "string"}}},
            "Container": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "dockerImageName": {"type": "string"},
                "requiredResources": {"type": "object"},
                "params": {"type": "array", "items": {"type": "object"}}}},
            "User": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}}},
        },
    }


def write_schema(directory, nonce=None):
    """Write the mini schema to ``directory``; a nonce gives a schema no other test shares."""
    document = mini_schema()
    if nonce is not None:
        document["info"]["x-nonce"] = nonce
    path = directory / f"mini_spec_{nonce or 'shared'}.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path_factory):
    """No variable from the developer's shell leaks in; caches go to a temporary folder."""
    for name in ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT", "CIVIS_DYN_SPEC", "CIVIS_DYN_OUTPUT",
                 "_CIVIS_DYN_COMPLETE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def mini_spec_path(tmp_path_factory):
    """Path of the mini schema (shared by the tests of this session)."""
    return write_schema(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def fresh_spec_path(tmp_path):
    """Path of a mini schema no other test has loaded (its model starts unbuilt)."""
    return write_schema(tmp_path, nonce=uuid.uuid4().hex)


@pytest.fixture
def api_env(monkeypatch, mini_spec_path):
    """Environment pointing the CLI at the mocked API and the mini schema."""
    monkeypatch.setenv("CIVIS_API_KEY", API_KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", BASE_URL)
    monkeypatch.setenv("CIVIS_DYN_SPEC", str(mini_spec_path))
    return mini_spec_path


class CliResult:
    """What one ``civis-dyn`` run printed and how it ended."""

    def __init__(self, result):
        self.exit_code = result.exit_code
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.exception = result.exception

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return f"<exit {self.exit_code}: stdout={self.stdout!r} stderr={self.stderr!r}>"


@pytest.fixture
def run_cli():
    """``run_cli(*args, input=None)`` runs ``civis-dyn`` in-process and returns a CliResult."""
    from civis_dyn.cli import cli

    def run(*args, input=None):
        runner = CliRunner()
        result = runner.invoke(cli, [str(a) for a in args], input=input, prog_name="civis-dyn")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return CliResult(result)

    return run
