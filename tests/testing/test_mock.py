"""create_client_mock: a unittest.mock client spec'd from the schema."""

import inspect
import sys
import time
import types
from unittest import mock

import pytest
from scaffold.schemas import BOOLEAN, ID, INTEGER, PAGING, STRING, array, body, document, obj, op

import civis_dyn
from civis_dyn import _resources
from civis_dyn.spec._source import bundled_spec_path
from civis_dyn.testing import create_client_mock


def small_schema():
    """Two resources: jobs (list, get, patch, paginated runs) and users (me, get)."""
    job = obj(id=INTEGER, name=STRING)
    return document({
        "/jobs/": {"get": op(array(job), *PAGING)},
        "/jobs/{id}": {
            "get": op(job, ID),
            "patch": op(job, ID, body(obj(name=STRING, hidden=BOOLEAN, required=["name"]),
                                      required=None)),
        },
        "/jobs/{id}/runs": {"get": op(array(job), ID, *PAGING)},
        "/users/me": {"get": op(job)},
        "/users/{id}": {"get": op(job, ID)},
    }, version="1.0")


@pytest.fixture
def client():
    return create_client_mock(small_schema())


# -- shape ------------------------------------------------------------------------

def test_resources_and_methods_exist_with_the_operations_signatures(client):
    assert str(inspect.signature(client.jobs.get)) == "(id: int)"
    assert str(inspect.signature(client.jobs.patch)) == "(id: int, name: str, *, hidden: bool = None)"
    assert str(inspect.signature(client.jobs.list_runs)) == (
        "(id: int, *, limit: int = None, page_num: int = None, iterator: bool = None)")
    assert str(inspect.signature(client.users.list_me)) == "()"


def test_dir_lists_resources_and_methods(client):
    assert {"jobs", "users"} <= set(dir(client))
    assert {"get", "list", "list_runs", "patch"} <= set(dir(client.jobs))
    assert {"get", "list_me"} <= set(dir(client.users))
    assert "list_me" not in dir(client.jobs)


def test_wrong_resource_name_raises_attribute_error(client):
    with pytest.raises(AttributeError) as info:
        client.jbos
    assert str(info.value) == "APIClient has no resource 'jbos'. Did you mean 'jobs'?"
    with pytest.raises(AttributeError) as info:
        client.nothing_like_it
    assert str(info.value) == "APIClient has no resource 'nothing_like_it'."


def test_wrong_method_name_raises_attribute_error(client):
    with pytest.raises(AttributeError) as info:
        client.jobs.gte
    assert str(info.value) == "'jobs' has no method 'gte'. Did you mean 'get'?"
    with pytest.raises(AttributeError):
        client.users.list_runs
    assert not hasattr(client.jobs, "post")


def test_setting_an_unknown_name_is_refused(client):
    with pytest.raises(AttributeError):
        client.jbos = mock.Mock()
    with pytest.raises(AttributeError):
        client.jobs.gte = mock.Mock()
    replacement = mock.Mock(return_value=3)
    client.jobs.get = replacement  # a known name may be replaced
    assert client.jobs.get(1) == 3


def test_the_mock_passes_for_a_client():
    client = create_client_mock(small_schema())
    assert isinstance(client, civis_dyn.APIClient)
    assert repr(client).startswith("<ClientMock name='client' spec_set='APIClient'")
    assert repr(client.jobs).startswith("<ResourceMock name='client.jobs' spec_set='Jobs'")
    assert repr(client.jobs.get).startswith("<MagicMock name='client.jobs.get' spec='function'")


def test_client_attributes_exist_and_are_settable(client):
    for name in ("base_url", "spec_info", "last_response"):
        assert hasattr(client, name)
    client.last_response = None
    assert client.last_response is None


# -- calls ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda c: c.jobs.get(), "jobs.get() missing required argument(s): 'id'"),
    (lambda c: c.jobs.get(None), "jobs.get() missing required argument(s): 'id'"),
    (lambda c: c.jobs.patch(1), "jobs.patch() missing required argument(s): 'name'"),
    (lambda c: c.jobs.get(1, 2),
     "jobs.get() takes 1 positional argument(s) but 2 were given "
     "(optional arguments are keyword-only)"),
    (lambda c: c.jobs.patch(1, "n", True),
     "jobs.patch() takes 2 positional argument(s) but 3 were given "
     "(optional arguments are keyword-only)"),
    (lambda c: c.jobs.get(idd=1), "jobs.get() got an unexpected keyword argument 'idd'. "
                                  "Did you mean 'id'?"),
    (lambda c: c.jobs.list_runs(1, limt=5), "jobs.list_runs() got an unexpected keyword "
                                            "argument 'limt'. Did you mean 'limit'?"),
    (lambda c: c.jobs.get(1, id=1), "jobs.get() got multiple values for argument 'id'"),
    (lambda c: c.jobs.list(iterator=True, extra=1),
     "jobs.list() got an unexpected keyword argument 'extra'."),
])
def test_a_call_with_wrong_arguments_raises_type_error_and_is_not_recorded(client, call, message):
    with pytest.raises(TypeError) as info:
        call(client)
    assert str(info.value) == message
    assert client.mock_calls == []


def test_argument_values_are_not_type_checked(client):
    """Values are often mocks themselves in tests: only the signature is checked."""
    job = client.jobs.patch(1, name="x")
    client.jobs.get(job.id)
    client.jobs.get.assert_called_once_with(job.id)


def test_return_value_and_side_effect_are_set_per_method(client):
    client.jobs.get.return_value = civis_dyn.Response({"id": 1, "lastRun": {"state": "running"}})
    client.users.list_me.side_effect = civis_dyn.CivisAPIError(401, "Invalid token")
    assert client.jobs.get(1).last_run.state == "running"
    assert isinstance(client.jobs.list_runs(1), mock.MagicMock)  # others keep the default
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client.users.list_me()
    assert info.value.status_code == 401


def test_call_assertions_match_positional_and_keyword_forms(client):
    client.jobs.get(1)
    client.jobs.get.assert_called_once_with(1)
    client.jobs.get.assert_called_once_with(id=1)
    with pytest.raises(AssertionError):
        client.jobs.get.assert_called_once_with(2)
    client.jobs.list_runs(1, limit=5)
    client.jobs.list_runs.assert_called_once_with(id=1, limit=5)
    client.users.get.assert_not_called()
    assert client.mock_calls == [mock.call.jobs.get(1), mock.call.jobs.list_runs(1, limit=5)]
    client.assert_has_calls([mock.call.jobs.get(id=1)])
    client.reset_mock()
    assert client.jobs.get.call_count == 0
    with pytest.raises(TypeError):
        client.jobs.get()  # still spec'd after a reset


def test_extension_methods_are_mocked_with_their_signature(monkeypatch, client):
    module = types.ModuleType("civis_dyn_mock_test_extension")

    def run_and_wait(resource, id, *, timeout=None):
        raise AssertionError("the mock never calls the real extension")

    module.run_and_wait = run_and_wait
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(_resources._EXTENSIONS, "run_and_wait", _resources.Extension(
        "run_and_wait", f"{module.__name__}:run_and_wait", [("list_runs",)]))
    jobs = create_client_mock(small_schema()).jobs
    assert "run_and_wait" in dir(jobs)
    assert str(inspect.signature(jobs.run_and_wait)) == "(id, *, timeout=None)"
    jobs.run_and_wait.return_value = "done"
    assert jobs.run_and_wait(1, timeout=5) == "done"
    with pytest.raises(TypeError) as info:
        jobs.run_and_wait()
    assert str(info.value) == "jobs.run_and_wait(): missing a required argument: 'id'"
    users = create_client_mock(small_schema()).users  # has no list_runs: no extension
    with pytest.raises(AttributeError):
        users.run_and_wait


# -- building --------------------------------------------------------------------------

def test_nothing_is_synthesized_up_front(client):
    assert client._mock_children == {}
    client.jobs.get
    assert set(client._mock_children) == {"jobs"}
    assert set(client.jobs._mock_children) == {"get"}


def test_a_malformed_schema_raises_spec_error():
    with pytest.raises(civis_dyn.SpecError):
        create_client_mock({"swagger": "2.0"})
    with pytest.raises(civis_dyn.SpecError) as info:
        create_client_mock("/nonexistent/civis_api_spec.json")
    assert "cannot read the schema at /nonexistent/civis_api_spec.json" in str(info.value)


def test_every_real_resource_and_method_is_mocked_with_its_signature(real_spec_path):
    client = create_client_mock(real_spec_path)
    spec = client._civis_spec
    mock_names = set(dir(mock.NonCallableMagicMock)) | set(dir(mock.MagicMock))
    count = 0
    for resource in spec.resources():
        assert resource not in mock_names  # else the Mock attribute would hide it
        methods = getattr(client, resource)
        assert set(spec.methods(resource)) <= set(dir(methods))
        for name in spec.methods(resource):
            assert name not in mock_names
            method = getattr(methods, name)
            assert inspect.signature(method) == spec.operation(resource, name).signature
            count += 1
    assert count == sum(len(spec.methods(r)) for r in spec.resources()) > 900


def _build_seconds(spec):
    create_client_mock(spec)  # the first build of a process loads the schema
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        create_client_mock(spec)
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_building_from_the_real_schema_takes_well_under_a_tenth_of_a_second(real_spec_path):
    assert _build_seconds(real_spec_path) < 0.1


def test_default_is_the_bundled_schema():
    if not bundled_spec_path().is_file():
        pytest.skip("the bundled schema schemas/civis_api_spec.json is not built yet")
    client = create_client_mock()
    assert client._civis_spec.info.source == "bundle"
    assert "jobs" in dir(client)
    assert "get" in dir(client.jobs)
    assert _build_seconds(None) < 0.1
