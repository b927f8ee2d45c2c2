"""The run model: one RunKind per resource and kind of run, derived from the schema."""

import gc
import weakref

import pytest

import civis_dyn
from civis_dyn.spec._runs import (
    CANCELLED,
    CIVIS_PYTHON_JOBS,
    FAILED,
    RUN_COLLECTIONS,
    SUCCEEDED,
    jobs_run_kind,
    offers_runs,
    run_kinds,
)


def spec_of(path):
    return civis_dyn.APIClient(api_key="k", base_url="https://api.example.test/",
                               local_api_spec=str(path)).meta.spec


@pytest.fixture(scope="module")
def real(real_spec_path):
    return spec_of(real_spec_path)


@pytest.fixture
def mini(mini_spec_path):
    return spec_of(mini_spec_path)


def test_a_plain_run_collection_gives_every_endpoint(mini):
    things = run_kinds(mini, "things")
    assert list(things) == [None]
    kind = things[None]
    assert (kind.resource, kind.kind, kind.collection) == ("things", None, "runs")
    assert kind.start == ("things", "post_runs") and kind.get == ("things", "get_runs")
    assert kind.cancel == ("things", "delete_runs") and kind.list == ("things", "list_runs")
    assert kind.start.resource == "things" and kind.start.method == "post_runs"
    assert kind.owner_path == "/things/{id}" and kind.run_id_param == "run_id"
    assert kind.logs is None and kind.outputs is None
    assert kind.has("start", "get") and not kind.has("logs")
    assert run_kinds(mini, "users") == {} and run_kinds(mini, "no_such_resource") == {}


def test_states_are_facts_of_the_collection():
    runs, deployments = RUN_COLLECTIONS["runs"], RUN_COLLECTIONS["deployments"]
    assert [runs.outcome(s) for s in ("succeeded", "success", "failed", "error", "cancelled",
                                       "running", "queued", None)] == [
        SUCCEEDED, SUCCEEDED, FAILED, FAILED, CANCELLED, None, None, None]
    assert runs.outcome("SUCCEEDED") == SUCCEEDED
    assert deployments.outcome("running") == SUCCEEDED  # a deployment is done when up
    assert deployments.outcome("terminated") == CANCELLED and deployments.cancel_removes
    assert runs.ends_as == "succeeded" and deployments.ends_as == "running"
    assert set(RUN_COLLECTIONS) == {"runs", "builds", "executions", "deployments"}


def test_kinds_are_named_from_the_method_names(real):
    scripts = run_kinds(real, "scripts")
    assert {"sql", "python3", "containers", "r", "javascript", "custom", "dbt"} <= set(scripts)
    python3 = scripts["python3"]
    assert python3.start == ("scripts", "post_python3_runs")
    assert python3.logs == ("scripts", "list_python3_runs_logs")
    assert python3.outputs == ("scripts", "list_python3_runs_outputs")
    assert python3.owner_path == "/scripts/python3/{id}"
    assert set(run_kinds(real, "enhancements")) >= {"cass_ncoa", "geocode"}


def test_executions_are_cancelled_by_post_and_deployments_have_their_own_ids(real):
    workflows = run_kinds(real, "workflows")[None]
    assert workflows.collection == "executions" and workflows.run_id_param == "execution_id"
    assert workflows.cancel == ("workflows", "post_executions_cancel")
    services = run_kinds(real, "services")[None]
    assert services.collection == "deployments" and services.run_id_param == "deployment_id"
    assert services.cancel == ("services", "delete_deployments")
    assert services.states.outcome("sleeping") == SUCCEEDED


def test_builds_can_be_watched_but_not_started_and_listings_alone_are_not_runs(real):
    models = run_kinds(real, "models")[None]
    assert models.start is None and models.has("get", "cancel", "logs")
    assert run_kinds(real, "clusters") == {}  # /clusters/kubernetes/{id}/deployments: GET only


def test_a_start_without_a_get_of_its_own_is_read_through_jobs(real):
    imports = run_kinds(real, "imports")[None]
    assert imports.start == ("imports", "post_runs") and imports.list == ("imports", "list_runs")
    assert imports.get == ("jobs", "get_runs") and imports.cancel == ("jobs", "delete_runs")
    assert imports.logs == ("imports", "list_runs_logs")  # its own
    assert imports.outputs == ("jobs", "list_runs_outputs")
    assert jobs_run_kind(real) is run_kinds(real, "jobs")[None]


def test_without_a_schema_the_model_is_civis_pythons_jobs(mini):
    assert jobs_run_kind(None) is CIVIS_PYTHON_JOBS
    assert jobs_run_kind(mini) is CIVIS_PYTHON_JOBS  # the mini schema has no jobs
    assert CIVIS_PYTHON_JOBS.get == ("jobs", "get_runs")
    assert CIVIS_PYTHON_JOBS.cancel == ("jobs", "delete_runs")


def test_the_model_is_cached_per_spec_without_keeping_it_alive(mini_spec_path):
    spec = civis_dyn.spec._model.ApiSpec.from_bytes(mini_spec_path.read_bytes())
    first = run_kinds(spec, "things")
    assert run_kinds(spec, "things") is first
    assert not any("run" in key for key in vars(spec))  # not stored in the spec itself
    ref = weakref.ref(spec)
    del spec, first
    gc.collect()
    assert ref() is None


def test_offers_runs_decides_which_resources_get_run_methods(real, real_spec_path):
    startable = offers_runs("start", "get")
    assert startable(real, "jobs") and startable(real, "imports")
    assert not startable(real, "models") and not startable(real, "users")
    assert offers_runs("get", "logs")(real, "models")
    client = civis_dyn.APIClient(api_key="k", base_url="https://api.example.test/",
                                 local_api_spec=str(real_spec_path))
    assert {"run", "run_and_wait", "watch_run", "follow_logs"} <= set(dir(client.jobs))
    assert "run" not in dir(client.models) and "watch_run" in dir(client.models)
    assert "cancel_runs" in dir(client.workflows) and "cancel_runs" not in dir(client.users)
