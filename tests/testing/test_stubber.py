"""Stubber: canned responses for a real client, checked against the schema, with no HTTP."""

import datetime
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
import requests_mock
from scaffold.schemas import (BOOLEAN, ID, INTEGER, OBJECT, PAGING, STRING, TIME, array, body,
                              document, obj, op, param, ref)

import civis_dyn
from civis_dyn.testing import InvalidStubResponseError, Stubber, StubberError


def stub_schema():
    """A small schema exercising every kind of field the stubber checks."""
    run_id = param("run_id", "path", "integer")
    return document(
        {
            "/jobs/": {"get": op(array("Job"), *PAGING, param("hidden", kind="boolean"),
                                 param("state", kind="array", items=STRING))},
            "/jobs/{id}": {
                "get": op("Job", ID),
                "patch": op("Job", ID, body(obj(name=STRING, hidden=BOOLEAN, lastRun=ref("JobRun"),
                                                arguments=OBJECT, required=["name"]),
                                            required=None)),
            },
            "/jobs/{id}/cancel": {"post": op(None, ID, status=202, description="accepted")},
            "/jobs/{id}/runs": {
                "get": op(array("JobRun"), ID, *PAGING),
                "post": op("JobRun", ID, status=201),
            },
            "/jobs/{id}/runs/{run_id}": {
                "get": op("JobRun", ID, run_id),
                "delete": op(None, ID, run_id, status=204, description="deleted"),
            },
            "/jobs/{id}/runs/{run_id}/inputs": {"get": op(obj(count=INTEGER), ID, run_id)},
            "/credentials/types": {"get": op(obj(types=array(STRING)))},
            "/users/me": {"get": op("User")},
            "/users/{id}": {"get": op("User", ID)},
        },
        {
            "Job": obj(id=INTEGER, name=STRING, hidden=BOOLEAN,
                       score={"type": "number", "format": "float"}, createdAt=TIME,
                       tags=array(STRING), lastRun=ref("JobRun"), runs=array("JobRun"),
                       author=ref("User"), arguments=OBJECT,
                       counts={"type": "object", "additionalProperties": INTEGER},
                       provideAPIKey=BOOLEAN, required=["id", "name", "hidden"]),
            "JobRun": obj(id=INTEGER, state=STRING,
                          finishedAt={"type": "string", "format": "time"}),
            "User": obj(id=INTEGER, username=STRING),
        },
        version="1.0")


SCHEMA = stub_schema()  # one dict: the process-wide model cache keys dicts by identity


@pytest.fixture
def client():
    return civis_dyn.APIClient(api_key="unused", local_api_spec=SCHEMA)


@pytest.fixture
def no_http():
    """Fails the test's requests instead of sending them; yields the recorder."""
    with requests_mock.Mocker() as recorder:
        yield recorder
    assert recorder.call_count == 0


@pytest.fixture
def stubber(client, no_http):
    with Stubber(client) as active:
        yield active


# -- answers ------------------------------------------------------------------------

def test_a_canned_response_is_returned_through_the_client(client, stubber):
    stubber.add_response("jobs.get", {"id": 1, "name": "nightly", "last_run": {"state": "running"}},
                         expected_params={"id": 1})
    job = client.jobs.get(1)
    assert isinstance(job, civis_dyn.Response)
    assert job.name == "nightly" and job.last_run.state == "running"
    assert job.json(snake_case=False) == {"id": 1, "name": "nightly",
                                          "lastRun": {"state": "running"}}
    assert client.last_response is job
    assert job.headers["Content-Type"] == "application/json"
    stubber.assert_no_pending_responses()


def test_camel_case_keys_and_response_objects_are_accepted(client, stubber):
    stubber.add_response("jobs.get", {"id": 1, "lastRun": {"id": 2}, "provideAPIKey": True})
    stubber.add_response("jobs.get", civis_dyn.Response({"id": 3, "createdAt": "2024-01-01"}))
    stubber.add_response("jobs.get", {"id": 4, "provide_api_key": False})
    first, second, third = client.jobs.get(1), client.jobs.get(3), client.jobs.get(4)
    assert first.last_run.id == 2 and first.provide_api_key is True
    assert second.created_at == "2024-01-01"
    assert third.json(snake_case=False) == {"id": 4, "provideAPIKey": False}


def test_null_is_accepted_anywhere_and_required_fields_may_be_left_out(client, stubber):
    stubber.add_response("jobs.get", {"id": None, "last_run": None, "runs": [None], "tags": None})
    job = client.jobs.get(1)
    assert job.id is None and job.last_run is None and job.runs == [None]


def test_free_form_objects_keep_their_keys_and_take_any_json(client, stubber):
    stubber.add_response("jobs.get", {"arguments": {"myArg": [1, {"x": None}], "TABLE": "t"},
                                      "counts": {"anyKey": 3}})
    job = client.jobs.get(1)
    assert job.arguments == {"myArg": [1, {"x": None}], "TABLE": "t"}
    assert job.json(snake_case=False)["counts"] == {"anyKey": 3}


def test_lists_201_and_status_and_headers(client, stubber):
    stubber.add_response("jobs.list_runs", [{"id": 1}, {"id": 2, "state": "failed"}])
    stubber.add_response("jobs.post_runs", {"id": 3, "state": "queued"})
    stubber.add_response("jobs.get", {"id": 1}, status_code=203,
                         headers={"X-RateLimit-Remaining": 99})
    runs = client.jobs.list_runs(1)
    assert isinstance(runs, civis_dyn.ListResponse) and [r.id for r in runs] == [1, 2]
    assert client.jobs.post_runs(1).state == "queued"
    job = client.jobs.get(1)
    assert job.calls_remaining == 99


def test_raw_return_type_gets_the_http_response(no_http):
    client = civis_dyn.APIClient(api_key="unused", local_api_spec=SCHEMA, return_type="raw")
    with Stubber(client) as stubber:
        stubber.add_response("jobs.post_runs", {"id": 3, "finished_at": "12:00"})
        response = client.jobs.post_runs(1)
    assert isinstance(response, civis_dyn.HTTPResponse)
    assert response.status_code == 201 and response.reason == "Created"
    assert response.json() == {"id": 3, "finishedAt": "12:00"}
    assert response.url == "https://api.civisanalytics.com/jobs/1/runs"


def test_no_content_and_undocumented_bodies(client, stubber):
    stubber.add_response("jobs.delete_runs", None)
    stubber.add_response("jobs.post_cancel", None)
    stubber.add_response("jobs.post_cancel", {"anything": ["goes", 1]})
    assert client.jobs.delete_runs(1, 2) == civis_dyn.Response({})
    assert client.jobs.post_cancel(1) == civis_dyn.Response({})
    assert client.jobs.post_cancel(1).json(snake_case=False) == {"anything": ["goes", 1]}


def test_an_array_the_schema_misdescribes_as_an_object(client, stubber):
    stubber.add_response("credentials.list_types", ["Custom", "Database"])
    assert client.credentials.list_types() == ["Custom", "Database"]
    with pytest.raises(InvalidStubResponseError) as info:
        stubber.add_response("credentials.list_types", 3)
    assert str(info.value) == "credentials.list_types response: must be a list, not int"


def test_works_for_a_client_without_an_api_key(monkeypatch, no_http):
    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    client = civis_dyn.APIClient(local_api_spec=SCHEMA)
    with Stubber(client) as stubber:
        stubber.add_response("users.get_me", {"id": 7, "username": "me"})
        assert client.users.get_me().username == "me"
    with pytest.raises(civis_dyn.MissingAPIKeyError):
        client.users.get_me()  # the real transport is back


# -- schema checks when a response is added ---------------------------------------------

@pytest.mark.parametrize("method, body, message", [
    ("jobs.get", {"nmae": "x"}, "jobs.get response: unknown field 'nmae' (did you mean 'name'?)"),
    ("jobs.get", {"last_run": {"stae": "x"}},
     "jobs.get response: unknown field 'last_run.stae' (did you mean 'last_run.state'?)"),
    ("jobs.get", {"lastRun": {"sTate": "x"}},
     "jobs.get response: unknown field 'lastRun.sTate' (did you mean 'lastRun.state'?)"),
    ("jobs.get", {"provideApiKey": True},
     "jobs.get response: unknown field 'provideApiKey' (did you mean 'provideAPIKey'?)"),
    ("jobs.get", {"zzz": 1}, "jobs.get response: unknown field 'zzz'"),
    ("jobs.get", {"name": 1}, "jobs.get response: field 'name' must be a str, not int"),
    ("jobs.get", {"id": "1"}, "jobs.get response: field 'id' must be an int, not str"),
    ("jobs.get", {"id": True}, "jobs.get response: field 'id' must be an int, not bool"),
    ("jobs.get", {"id": 1.0}, "jobs.get response: field 'id' must be an int, not float"),
    ("jobs.get", {"hidden": "false"}, "jobs.get response: field 'hidden' must be a bool, not str"),
    ("jobs.get", {"score": "1.5"}, "jobs.get response: field 'score' must be a number, not str"),
    ("jobs.get", {"tags": "a,b"}, "jobs.get response: field 'tags' must be a list, not str"),
    ("jobs.get", {"tags": ["a", 2]}, "jobs.get response: field 'tags[1]' must be a str, not int"),
    ("jobs.get", {"runs": [{"id": 1}, {"id": "2"}]},
     "jobs.get response: field 'runs[1].id' must be an int, not str"),
    ("jobs.get", {"author": [1]}, "jobs.get response: field 'author' must be a dict, not list"),
    ("jobs.get", {"created_at": datetime.datetime(2024, 1, 1)},
     "jobs.get response: field 'created_at' must be a str, not datetime"),
    ("jobs.get", {"arguments": {"when": datetime.date(2024, 1, 1)}},
     "jobs.get response: field 'arguments.when' must be JSON (a dict, list, str, int, float, "
     "bool or None), not date"),
    ("jobs.get", {"counts": {"a": "1"}},
     "jobs.get response: field 'counts.a' must be an int, not str"),
    ("jobs.get", {"last_run": {}, "lastRun": {}},
     "jobs.get response: field 'lastRun' is given twice (as 'last_run' and 'lastRun')"),
    ("jobs.get", {1: "x"}, "jobs.get response: has a non-string key 1"),
    ("jobs.get", [{"id": 1}], "jobs.get response: must be a dict, not list"),
    ("jobs.get", None, "jobs.get response: must be a dict, not None"),
    ("jobs.list_runs", {"id": 1}, "jobs.list_runs response: must be a list, not dict"),
    ("jobs.list_runs", None, "jobs.list_runs response: must be a list, not None"),
    ("jobs.list_runs", [{"id": 1}, {"state": 2}],
     "jobs.list_runs response: field '[1].state' must be a str, not int"),
    ("jobs.delete_runs", {},
     "jobs.delete_runs response: the API answers 204 No Content: pass None, not dict"),
])
def test_a_response_that_does_not_fit_the_schema_is_refused_when_added(client, method, body,
                                                                       message):
    stubber = Stubber(client)
    with pytest.raises(InvalidStubResponseError) as info:
        stubber.add_response(method, body)
    assert str(info.value) == message
    assert isinstance(info.value, StubberError) and isinstance(info.value, AssertionError)
    assert stubber.pending == []


def test_the_real_schema_checks_responses(real_spec_path, no_http):
    client = civis_dyn.APIClient(api_key="unused", local_api_spec=real_spec_path)
    with Stubber(client) as stubber:
        with pytest.raises(InvalidStubResponseError) as info:
            stubber.add_response("jobs.get", {"id": 1, "nmae": "x"})
        assert str(info.value) == "jobs.get response: unknown field 'nmae' (did you mean 'name'?)"
        with pytest.raises(InvalidStubResponseError) as info:
            stubber.add_response("jobs.get", {"last_run": {"id": "7"}})
        assert str(info.value) == "jobs.get response: field 'last_run.id' must be an int, not str"
        stubber.add_response("jobs.get", {
            "id": 1, "name": "n", "state": "idle", "created_at": "2024-01-01T00:00:00Z",
            "last_run": {"id": 2, "state": "succeeded"}, "author": {"id": 3, "name": "a"},
            "runs": [], "hidden": False, "schedule": {"scheduled": False}},
            expected_params={"id": 1})
        assert client.jobs.get(1).last_run.state == "succeeded"
        stubber.assert_no_pending_responses()


# -- errors ---------------------------------------------------------------------------

def test_a_client_error_raises_civis_api_error(client, stubber):
    stubber.add_client_error("jobs.get", status_code=404,
                             message="The requested resource could not be found.",
                             expected_params={"id": 5})
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client.jobs.get(5)
    error = info.value
    assert type(error) is civis_dyn.CivisAPIError
    assert error.status_code == 404
    assert error.error_message == "The requested resource could not be found."
    assert str(error) == "(404) The requested resource could not be found. (GET /jobs/5)"
    assert error.response.json()["errorDescription"] == error.error_message
    stubber.assert_no_pending_responses()


def test_client_error_defaults_and_401(client, stubber):
    stubber.add_client_error("jobs.get")
    stubber.add_client_error("users.get_me", status_code=401, message="Invalid token")
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client.jobs.get(1)
    assert (info.value.status_code, info.value.error_message) == (400, "Bad Request")
    with pytest.raises(civis_dyn.CivisAPIKeyError) as info:
        client.users.get_me()
    assert str(info.value) == "(401) Invalid token (GET /users/me)"


@pytest.mark.parametrize("status", [200, 399, 600, "404"])
def test_client_error_status_must_be_an_error(client, status):
    with pytest.raises(ValueError) as info:
        Stubber(client).add_client_error("jobs.get", status_code=status)
    assert str(info.value) == (f"Stubber: status_code of a client error must be 400-599, "
                               f"got {status!r}")


def test_response_status_must_not_be_an_error(client):
    with pytest.raises(ValueError) as info:
        Stubber(client).add_response("jobs.get", {}, status_code=404)
    assert str(info.value) == ("Stubber: status_code of a response must be 200-399, got 404; "
                               "use add_client_error() for errors")


# -- expected parameters ----------------------------------------------------------------

def test_expected_params_match_in_python_names_and_types(client, stubber):
    stubber.add_response("jobs.list", [], expected_params={
        "limit": 5, "hidden": False, "state": ["running", "queued"]})
    stubber.add_response("jobs.patch", {"id": 1}, expected_params={
        "id": 1, "name": "n", "last_run": {"state": "x"}, "arguments": {"myArg": 1}})
    stubber.add_response("jobs.get_runs", {"id": 2}, expected_params={"id": "1", "run_id": 2})
    stubber.add_response("jobs.list", [], expected_params={"limit": None})
    client.jobs.list(limit="5", hidden=False, state=("running", "queued"))
    client.jobs.patch(1, name="n", last_run={"state": "x"}, arguments={"myArg": 1})
    client.jobs.get_runs(1, 2)
    client.jobs.list()
    stubber.assert_no_pending_responses()


def test_any_matches_every_value(client, stubber):
    stubber.add_response("jobs.patch", {"id": 1}, expected_params={
        "id": 1, "name": mock.ANY, "hidden": mock.ANY})
    client.jobs.patch(1, name="whatever", hidden=True)
    stubber.add_response("jobs.patch", {"id": 1}, expected_params={
        "id": 1, "name": mock.ANY, "hidden": mock.ANY})
    with pytest.raises(StubberError) as info:
        client.jobs.patch(1, name="whatever")
    assert str(info.value) == ("Stubber: jobs.patch called with unexpected parameters: "
                               "hidden not given (expected <ANY>)")


def test_wrong_parameters_fail_naming_each_difference(client, stubber):
    stubber.add_response("jobs.list", [], expected_params={"limit": 5, "hidden": True})
    with pytest.raises(StubberError) as info:
        client.jobs.list(limit=6, state=["running"])
    assert str(info.value) == (
        "Stubber: jobs.list called with unexpected parameters: limit=6 (expected 5); "
        "hidden not given (expected True); state=['running'] (not expected)")
    assert stubber.pending == ["jobs.list"]  # not consumed: the right call still gets it
    assert client.jobs.list(limit=5, hidden=True) == []


def test_wrong_path_and_body_parameters_fail(client, stubber):
    stubber.add_response("jobs.patch", {"id": 1},
                         expected_params={"id": 1, "name": "n", "last_run": {"state": "x"}})
    with pytest.raises(StubberError) as info:
        client.jobs.patch(2, name="n", last_run={"state": "y"})
    assert str(info.value) == (
        "Stubber: jobs.patch called with unexpected parameters: id=2 (expected 1); "
        "last_run={'state': 'y'} (expected {'state': 'x'})")


@pytest.mark.parametrize("expected, error, message", [
    ({"idd": 1}, StubberError, "Stubber: jobs.get has no parameter 'idd'. Did you mean 'id'?"),
    ({}, StubberError, "Stubber: expected_params for jobs.get lack the required parameter(s): 'id'"),
    ({"id": [1]}, StubberError,
     "Stubber: expected_params for jobs.get: argument 'id' must be an int, not list"),
    ([1], TypeError, "Stubber: expected_params must be a dict, not list"),
])
def test_unusable_expected_params_are_refused_when_added(client, expected, error, message):
    with pytest.raises(error) as info:
        Stubber(client).add_response("jobs.get", {}, expected_params=expected)
    assert str(info.value) == message


def test_iterator_cannot_be_expected(client):
    with pytest.raises(StubberError) as info:
        Stubber(client).add_response("jobs.list_runs", [],
                                     expected_params={"id": 1, "iterator": True})
    assert str(info.value) == (
        "Stubber: expected_params for jobs.list_runs cannot include 'iterator': with "
        "iterator=True each page is a call of its own; expect 'page_num' instead")


# -- order -----------------------------------------------------------------------------------

def test_a_call_out_of_order_fails(client, stubber):
    stubber.add_response("jobs.get", {"id": 1})
    stubber.add_response("jobs.list_runs", [])
    with pytest.raises(StubberError) as info:
        client.jobs.list_runs(1)
    assert str(info.value) == "Stubber: expected a call to jobs.get, got jobs.list_runs"
    assert stubber.pending == ["jobs.get", "jobs.list_runs"]


def test_an_unexpected_call_fails(client, stubber):
    with pytest.raises(StubberError) as info:
        client.jobs.get(1)
    assert str(info.value) == "Stubber: unexpected call to jobs.get: no responses are queued"
    stubber.add_response("jobs.get", {})
    with pytest.raises(StubberError) as info:
        client.meta.request("GET", "/nothing/here")
    assert str(info.value) == "Stubber: expected a call to jobs.get, got GET /nothing/here"


def test_literal_path_segments_win_over_parameters(client, stubber):
    stubber.add_response("users.get", {"id": 1})
    with pytest.raises(StubberError) as info:
        client.users.get_me()
    assert str(info.value) == "Stubber: expected a call to users.get, got users.get_me"
    client.users.get(1)


def test_a_deprecated_alias_answers_for_its_preferred_name(client, stubber):
    stubber.add_response("jobs.get_runs_inputs", {"count": 2}, expected_params={"id": 1, "run_id": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert client.jobs.list_runs_inputs(1, 2).count == 2


def test_assert_no_pending_responses(client, stubber):
    stubber.assert_no_pending_responses()
    stubber.add_response("jobs.get", {"id": 1})
    stubber.add_client_error("users.get_me", 403)
    assert stubber.pending == ["jobs.get", "users.get_me"]
    with pytest.raises(StubberError) as info:
        stubber.assert_no_pending_responses()
    assert str(info.value) == "Stubber: 2 queued response(s) not used: jobs.get, users.get_me"
    client.jobs.get(1)
    with pytest.raises(civis_dyn.CivisAPIError):
        client.users.get_me()
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("method, error, message", [
    ("jbos.get", StubberError, "Stubber: the API has no resource 'jbos'. Did you mean 'jobs'?"),
    ("jobs.gte", StubberError,
     "Stubber: the API has no method 'jobs.gte'. Did you mean 'jobs.get'?"),
    ("jobs", StubberError,
     "Stubber: method must look like 'resource.method' (e.g. 'jobs.get'), got 'jobs'"),
    (None, TypeError,
     "Stubber: method must be a 'resource.method' string such as 'jobs.get', not NoneType"),
])
def test_an_unknown_method_is_refused(client, method, error, message):
    with pytest.raises(error) as info:
        Stubber(client).add_response(method, {})
    assert str(info.value) == message


# -- pagination --------------------------------------------------------------------------------

def test_iterator_pages_are_calls_that_stop_after_a_short_page(client, stubber):
    stubber.add_response("jobs.list_runs", [{"id": 1}, {"id": 2}],
                         expected_params={"id": 1, "limit": 2, "page_num": 1})
    stubber.add_response("jobs.list_runs", [{"id": 3}],
                         expected_params={"id": 1, "limit": 2, "page_num": 2})
    runs = client.jobs.list_runs(1, limit=2, iterator=True)
    assert isinstance(runs, civis_dyn.PaginatedResponse)
    assert [run.id for run in runs] == [1, 2, 3]
    assert runs.headers["X-Pagination-Current-Page"] == "2"
    stubber.assert_no_pending_responses()


def test_iterator_stops_at_the_total_pages_header_or_an_empty_page(client, stubber):
    stubber.add_response("jobs.list_runs", [{"id": 1}],
                         headers={"X-Pagination-Total-Pages": "1"})
    assert [run.id for run in client.jobs.list_runs(1, iterator=True)] == [1]
    stubber.add_response("jobs.list_runs", [{"id": 1}])
    stubber.add_response("jobs.list_runs", [], expected_params={"id": 1, "page_num": 2})
    assert [run.id for run in client.jobs.list_runs(1, iterator=True)] == [1]
    stubber.assert_no_pending_responses()


# -- activation ---------------------------------------------------------------------------------

def test_the_transport_is_swapped_and_restored_even_on_error(client, no_http):
    original, policy = client.meta.transport, client.meta.retry_policy
    with pytest.raises(RuntimeError):
        with Stubber(client) as stubber:
            assert client.meta.transport is stubber.transport
            assert client.meta.retry_policy.max_attempts == 1
            assert repr(stubber) == "<Stubber active=True pending=0>"
            raise RuntimeError("boom")
    assert client.meta.transport is original and client.meta.retry_policy is policy
    assert repr(stubber) == "<Stubber active=False pending=0>"


def test_activate_and_deactivate(client, no_http):
    stubber = Stubber(client)
    original = client.meta.transport
    stubber.activate()
    with pytest.raises(StubberError) as info:
        stubber.activate()
    assert str(info.value) == "Stubber: already active"
    stubber.deactivate()
    stubber.deactivate()  # harmless
    assert client.meta.transport is original


def test_another_client_plugs_the_stub_in_with_transport(client, no_http):
    stubber = Stubber(client)
    other = civis_dyn.APIClient(api_key="unused", local_api_spec=SCHEMA, return_type="raw",
                                transport=stubber.transport,
                                retries=civis_dyn.RetryPolicy(backoff_base=0))
    stubber.add_client_error("jobs.get", status_code=503, expected_params={"id": 4})
    stubber.add_response("jobs.get", {"id": 4, "name": "n"}, expected_params={"id": 4})
    response = other.jobs.get(4)  # the other client's policy retries the queued 503
    assert isinstance(response, civis_dyn.HTTPResponse) and response.json()["id"] == 4
    stubber.assert_no_pending_responses()
    assert client.meta.transport is not stubber.transport  # the first client was not touched


def test_only_clients_can_be_stubbed():
    from civis_dyn.testing import create_client_mock

    with pytest.raises(TypeError) as info:
        Stubber(create_client_mock(SCHEMA))
    assert str(info.value) == "Stubber needs a civis_dyn.APIClient, not ClientMock"


def test_concurrent_calls_each_take_one_response(client, stubber):
    for i in range(40):
        stubber.add_response("jobs.get", {"id": i})
    barrier = threading.Barrier(4)

    def call(index):
        if index < 4:  # the first four calls start together, one per thread
            barrier.wait(timeout=5)
        return client.jobs.get(1).id

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(call, range(40)))
    assert sorted(ids) == list(range(40))
    stubber.assert_no_pending_responses()


def test_a_stubbed_local_api_client_sends_nothing_until_the_stubber_exits(real_spec_path):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=real_spec_path) as api:
        client = api.client()
        with Stubber(client) as stubber:
            stubber.add_response("users.get_me", {"id": 42, "username": "stub"})
            assert client.users.get_me().username == "stub"
        assert api.count() == 0
        assert client.users.get_me().username != "stub"  # served by the local API
        assert api.count(method="GET", path="/users/me") == 1
