"""Fixtures for the ``civis-dyn`` tests: a schema of the CLI's shapes, a clean environment.

The schema has a paginated list with an enum and a boolean, object and array
body parameters (one required), a bodiless delete, a deprecated alias
(``users list-me`` -> ``get-me``) and a few other resources, so a test can
see that only the invoked one is built.
"""

import json
import uuid

import pytest
from click.testing import CliRunner
from scaffold.schemas import INTEGER, OBJECT, STRING, array, body, document, obj, op, param, ref

BASE_URL = "https://api.test/"
API_KEY = "test-key-Zq81"


JOB_STATES = ["queued", "running", "succeeded", "failed"]


def _id(name, what):
    return param(name, "path", "integer", description=f"The ID of the {what}.")


def _get(summary, schema, *params):
    return op(schema, *params, summary=summary)


def cli_schema():
    """A small Swagger 2.0 schema covering the shapes the CLI maps (the shared builder's)."""
    job_id, run_id = _id("id", "object"), _id("run_id", "run")
    paging = [param("limit", kind="integer", description="Page size."),
              param("page_num", kind="integer", description="Page number.")]
    job_filters = [param("state", enum=JOB_STATES, description="The job's state."),
                   param("hidden", kind="boolean", description="Hidden items."),
                   param("author", description="Author IDs.")]
    params = {"type": "array", "description": "Parameters the script accepts.",
              "items": obj(name=STRING, type=STRING)}
    container_body = obj(
        requiredResources={**obj(cpu=INTEGER, memory=INTEGER), "description": "CPU and memory."},
        dockerImageName={"type": "string", "description": "The image."},
        name={"type": "string", "description": "The name of the container."},
        params=params,
        arguments={"type": "object", "description": "Parameter values."},
        tags={**array(STRING), "description": "Tags."},
        hidden={"type": "boolean", "description": "Hide it."},
        required=["requiredResources", "dockerImageName"])
    patch_body = obj(name={"type": "string", "description": "The new name."}, params=params)
    return document(
        {
            "/jobs/": {"get": _get("List Jobs", array("Job"), *job_filters, *paging)},
            "/jobs/{id}": {
                "get": _get("Show basic job info", ref("Job"), job_id),
                "delete": op(None, job_id, status=204, summary="Delete a job"),
            },
            "/jobs/{id}/runs": {"get": _get("List runs for the given job", array("Run"),
                                            job_id, *paging)},
            "/jobs/{id}/runs/{run_id}": {"get": _get("Check status of a job", ref("Run"),
                                                     job_id, run_id)},
            "/jobs/{id}/runs/{run_id}/logs": {"get": _get(
                "Get the logs for a run", array("Log"), job_id, run_id,
                param("last_id", kind="integer"))},
            "/scripts/containers": {"post": op("Container", body(container_body, required=None),
                                               summary="Create a container")},
            "/scripts/containers/{id}": {
                "get": _get("View a container", ref("Container"), job_id),
                "patch": op("Container", job_id, body(patch_body, required=None),
                            summary="Update a container"),
                "delete": op(None, job_id, status=204, summary="Archive a container"),
            },
            "/users/me": {"get": _get("Show info about the logged-in user", ref("User"))},
            "/projects/": {"get": _get("List projects", array("Job"))},
            "/workflows/": {"get": _get("List workflows", array("Job"))},
        },
        {
            "Job": obj(id=INTEGER, name=STRING, state=STRING, lastRun=ref("Run")),
            "Run": obj(id=INTEGER, state=STRING, error=STRING),
            "Log": obj(id=INTEGER, message=STRING, createdAt=STRING),
            "Container": obj(id=INTEGER, name=STRING, dockerImageName=STRING,
                             requiredResources=OBJECT, params=array(OBJECT)),
            "User": obj(id=INTEGER, name=STRING),
        },
        title="Mini Civis API")


def write_schema(directory, nonce=None):
    """Write the CLI schema to ``directory``; a nonce gives a schema no other test shares."""
    schema = cli_schema()
    if nonce is not None:
        schema["info"]["x-nonce"] = nonce
    path = directory / f"cli_spec_{nonce or 'shared'}.json"
    path.write_text(json.dumps(schema))
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path_factory):
    """No variable from the developer's shell leaks in; caches go to a temporary folder."""
    for name in ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT", "CIVIS_DYN_SPEC", "CIVIS_DYN_OUTPUT",
                 "_CIVIS_DYN_COMPLETE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def cli_spec_path(tmp_path_factory):
    """Path of the CLI schema (shared by the tests of this session)."""
    return write_schema(tmp_path_factory.mktemp("schema"))


@pytest.fixture
def fresh_spec_path(tmp_path):
    """Path of a CLI schema no other test has loaded (its model starts unbuilt)."""
    return write_schema(tmp_path, nonce=uuid.uuid4().hex)


@pytest.fixture
def api_env(monkeypatch, cli_spec_path):
    """Environment pointing the CLI at the mocked API and the CLI schema."""
    monkeypatch.setenv("CIVIS_API_KEY", API_KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", BASE_URL)
    monkeypatch.setenv("CIVIS_DYN_SPEC", str(cli_spec_path))
    return cli_spec_path


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
