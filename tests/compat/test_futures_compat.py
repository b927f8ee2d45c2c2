"""civis-python 2.10.1's futures and ``civis.utils`` run helpers, behaviour by behaviour.

Each test names, in its docstring, the civis-python behaviour it reproduces
(read from civis-python's ``civis/futures.py``, ``civis/polling.py`` and
``civis/utils/_jobs.py``). Unit tests use requests-mock on the bundled schema;
the log tests run against the local API over loopback HTTP.
"""

import re
import warnings
from unittest import mock

import pytest

import civis_dyn
from civis_dyn import CivisFuture, Response
from civis_dyn.spec._source import bundled_spec_path
from civis_dyn.testing import LocalCivisAPI, create_client_mock

BASE = "https://api.example.test/"
SLOW = 3600.0
FAST = 0.01


@pytest.fixture(scope="module")
def bundled():
    return str(bundled_spec_path())


@pytest.fixture
def client(bundled):
    return civis_dyn.APIClient(api_key="compat-key", base_url=BASE, local_api_spec=bundled,
                               retries=0)


def run_json(state, run_id=9, **more):
    return {"id": run_id, "state": state, "error": None, **more}


def page(items):
    return {"json": items, "headers": {"X-Pagination-Total-Pages": "1"}}


# -- CivisFuture arguments ------------------------------------------------------------
def test_max_retries_is_accepted_and_checked():
    """civis-python: CivisFuture(..., max_retries=n); negative, or without a run id: ValueError."""
    future = CivisFuture(lambda job, run: Response(run_json("succeeded")), (1, 2),
                         max_retries=3)
    assert future.max_retries == 3 and future.result(timeout=5).state == "succeeded"
    with pytest.raises(ValueError, match="max_retries"):
        CivisFuture(lambda job, run: None, (1, 2), max_retries=-1)
    with pytest.raises(ValueError, match="max_retries"):
        CivisFuture(lambda job: None, (1,), max_retries=3)


def test_max_retries_starts_new_runs_of_a_failed_job_until_one_succeeds(client, requests_mock):
    """civis-python: a failed run is retried with client.jobs.post_runs, up to max_retries times."""
    requests_mock.get(f"{BASE}jobs/5/runs/9", json=run_json("failed", 9))
    requests_mock.get(f"{BASE}jobs/5/runs/10", json=run_json("failed", 10))
    requests_mock.get(f"{BASE}jobs/5/runs/11", json=run_json("succeeded", 11))
    starts = requests_mock.post(f"{BASE}jobs/5/runs", [{"json": run_json("queued", 10)},
                                                       {"json": run_json("queued", 11)}])
    future = CivisFuture(client.jobs.get_runs, (5, 9), polling_interval=FAST, max_retries=3)
    assert future.result(timeout=5).id == 11
    assert starts.call_count == 2 and future.poller_args == (5, 11) and future.run_id == 11


def test_a_job_still_failing_after_max_retries_raises_its_failure(client, requests_mock):
    """civis-python: when every retry fails too, result() raises CivisJobFailure."""
    requests_mock.get(re.compile(rf"{BASE}jobs/5/runs/\d+$"), json=run_json("failed", 9))
    starts = requests_mock.post(f"{BASE}jobs/5/runs", json=run_json("queued", 12))
    future = CivisFuture(client.jobs.get_runs, (5, 9), polling_interval=FAST, max_retries=2)
    with pytest.raises(civis_dyn.CivisJobFailure):
        future.result(timeout=5)
    assert starts.call_count == 2


# -- URLs -----------------------------------------------------------------------------
def test_job_urls_point_at_the_platform_of_the_api_host(client, requests_mock):
    """civis-python: job_url is .../spa/#/jobs/{job_id}; job_run_url adds ?runId={run_id}."""
    requests_mock.get(f"{BASE}jobs/5/runs/9", json=run_json("running"))
    future = CivisFuture(client.jobs.get_runs, (5, 9), polling_interval=SLOW)
    assert future.job_url == "https://platform.example.test/spa/#/jobs/5"
    assert future.job_run_url == "https://platform.example.test/spa/#/jobs/5?runId=9"
    alone = CivisFuture(lambda job: Response(run_json("succeeded")), (5,))
    assert alone.job_url == "https://platform.civisanalytics.com/spa/#/jobs/5"  # no client
    assert alone.job_run_url is None  # civis-python: None without a run id


def test_job_urls_of_any_other_host_are_on_that_host(bundled):
    """civis-python builds job_url for every future; a local API gets pages on itself."""
    with LocalCivisAPI(spec=bundled, run_delays=(0.0, 0.01)) as api:
        client = api.client()
        job = client.scripts.post_containers(name="u", docker_image_name="i",
                                             required_resources={"cpu": 1, "memory": 1})
        future = civis_dyn.run_job(job.id, client=client, polling_interval=FAST)
        assert future.job_url == f"{api.url.rstrip('/')}/spa/#/jobs/{job.id}"
        assert future.job_run_url == f"{future.job_url}?runId={future.run_id}"
        future.result(timeout=10)


# -- polling on creation ----------------------------------------------------------------
def test_poll_on_creation_polls_once_while_the_future_is_made():
    """civis-python: poll_on_creation=True (the default) polls at once; False waits an interval."""
    poller = mock.Mock(return_value=Response(run_json("succeeded")))
    future = CivisFuture(poller, (1, 2))
    assert poller.call_count == 1 and future.done()
    later = mock.Mock(return_value=Response(run_json("succeeded")))
    CivisFuture(later, (1, 2), poll_on_creation=False, polling_interval=SLOW)
    assert later.call_count == 0


def test_run_job_waits_one_interval_before_its_first_poll(client, requests_mock):
    """civis-python: run_job makes its future with poll_on_creation=False."""
    requests_mock.post(f"{BASE}jobs/5/runs", json=run_json("queued", 9))
    poll = requests_mock.get(f"{BASE}jobs/5/runs/9", json=run_json("succeeded"))
    future = civis_dyn.run_job(5, client=client, polling_interval=SLOW)
    assert (future.job_id, future.run_id) == (5, 9)
    assert poll.call_count == 0 and future.poll_on_creation is False and not future.done()


# -- cancel -------------------------------------------------------------------------------
def test_cancel_deletes_the_run_through_client_jobs():
    """civis-python: cancel() calls client.jobs.delete_runs(job_id, run_id) and returns True."""
    mock_client = create_client_mock()
    mock_client.jobs.delete_runs.return_value = Response({"state": "cancelled"})
    future = CivisFuture(lambda job, run: Response({"state": "running"}), (1, 2),
                         client=mock_client, polling_interval=SLOW)
    assert future.cancel() is True and future.cancelled()
    mock_client.jobs.delete_runs.assert_called_once_with(1, 2)
    assert future.cancel() is True  # already cancelled: nothing sent again
    mock_client.jobs.delete_runs.assert_called_once_with(1, 2)


def test_cancel_returns_false_without_a_warning_when_the_delete_gets_404(client, requests_mock):
    """civis-python: a DELETE answered 404 (the run most likely ended): False, without a warning."""
    requests_mock.get(f"{BASE}jobs/5/runs/9", json=run_json("running"))
    requests_mock.delete(f"{BASE}jobs/5/runs/9", status_code=404,
                         json={"errorDescription": "The requested resource could not be found."})
    future = CivisFuture(client.jobs.get_runs, (5, 9), polling_interval=SLOW)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert future.cancel() is False
    assert not future.cancelled()


def test_cancel_warns_and_returns_false_on_any_other_error(client, requests_mock):
    """civis-python: another API error warns "Unexpected error when attempting to cancel"; False."""
    requests_mock.get(f"{BASE}jobs/5/runs/9", json=run_json("running"))
    requests_mock.delete(f"{BASE}jobs/5/runs/9", status_code=500,
                         json={"errorDescription": "Something went wrong."})
    future = CivisFuture(client.jobs.get_runs, (5, 9), polling_interval=SLOW)
    with pytest.warns(UserWarning, match="Unexpected error when attempting to cancel"):
        assert future.cancel() is False


# -- ContainerFuture -----------------------------------------------------------------------
def test_container_future_is_deprecated_and_polls_the_container_run(client, requests_mock):
    """civis-python: ContainerFuture(job_id, run_id, max_n_retries=0, ...) warns FutureWarning."""
    requests_mock.get(f"{BASE}scripts/containers/3/runs/4", json=run_json("succeeded", 4))
    with pytest.warns(FutureWarning, match="ContainerFuture is deprecated"):
        future = civis_dyn.futures.ContainerFuture(3, 4, client=client, polling_interval=FAST)
    assert isinstance(future, CivisFuture) and civis_dyn.ContainerFuture is type(future)
    assert future.result(timeout=5).state == "succeeded"
    assert future.poller.__name__ == "get_containers_runs"


def test_container_future_cancels_with_scripts_post_cancel(client, requests_mock):
    """civis-python: ContainerFuture.cancel() sends scripts.post_cancel(job_id); 404: False."""
    requests_mock.get(f"{BASE}scripts/containers/3/runs/4", json=run_json("running", 4))
    cancel = requests_mock.post(f"{BASE}scripts/3/cancel", json={"id": 3, "state": "cancelled"})
    with pytest.warns(FutureWarning):
        future = civis_dyn.futures.ContainerFuture(3, 4, client=client, polling_interval=SLOW)
    assert future.cancel() is True and cancel.call_count == 1
    requests_mock.post(f"{BASE}scripts/6/cancel", status_code=404, json={})
    requests_mock.get(f"{BASE}scripts/containers/6/runs/4", json=run_json("running", 4))
    with pytest.warns(FutureWarning):
        other = civis_dyn.futures.ContainerFuture(6, 4, client=client, polling_interval=SLOW)
    assert other.cancel() is False


def test_container_future_retries_with_max_n_retries(client, requests_mock):
    """civis-python: ContainerFuture(max_n_retries=n) starts the job again when a run fails."""
    requests_mock.get(f"{BASE}scripts/containers/3/runs/4", json=run_json("failed", 4))
    requests_mock.get(f"{BASE}scripts/containers/3/runs/5", json=run_json("succeeded", 5))
    requests_mock.post(f"{BASE}scripts/containers/3/runs", json=run_json("queued", 5))
    with pytest.warns(FutureWarning):
        future = civis_dyn.futures.ContainerFuture(3, 4, max_n_retries=1, client=client,
                                                   polling_interval=FAST)
    assert future.result(timeout=5).id == 5


# -- civis.utils: run_template ------------------------------------------------------------
@pytest.fixture
def template_run(requests_mock):
    made = requests_mock.post(f"{BASE}scripts/custom", json={"id": 7, "name": "from template"})
    requests_mock.post(f"{BASE}scripts/custom/7/runs", json=run_json("queued", 8))
    requests_mock.get(f"{BASE}scripts/custom/7/runs/8", json=run_json("succeeded", 8))
    requests_mock.get(f"{BASE}scripts/custom/7/runs/8/outputs", **page([
        {"name": "report.csv", "objectType": "File", "objectId": 31},
        {"name": "summary", "objectType": "JSONValue", "objectId": 32, "value": {"rows": 3}}]))
    return made


def test_run_template_returns_the_output_files_by_default(client, template_run):
    """civis-python: run_template(id, arguments) returns {output name: file id} ("files")."""
    files = civis_dyn.run_template(5, {"x": 1}, client=client)
    assert files == {"report.csv": 31, "summary": 32}
    assert template_run.last_request.json() == {"fromTemplateId": 5, "arguments": {"x": 1}}


def test_run_template_returns_the_json_value_or_the_future(client, template_run):
    """civis-python: return_as="JSONValue" gives the JSON output, "future" the CivisFuture."""
    assert civis_dyn.run_template(5, {}, client=client, return_as="JSONValue") == {"rows": 3}
    future = civis_dyn.run_template(5, {}, client=client, return_as="future")
    assert isinstance(future, CivisFuture) and (future.job_id, future.run_id) == (7, 8)


def test_run_template_json_value_argument_is_deprecated_and_checked(client, template_run):
    """civis-python: JSONValue= warns FutureWarning; one contradicting return_as is a ValueError."""
    with pytest.warns(FutureWarning, match="JSONValue"):
        assert civis_dyn.run_template(5, {}, JSONValue=True, client=client,
                                      return_as="JSONValue") == {"rows": 3}
    with pytest.raises(ValueError, match="JSONValue"):
        civis_dyn.run_template(5, {}, JSONValue=True, client=client)
    with pytest.raises(ValueError, match="return_as"):
        civis_dyn.run_template(5, {}, client=client, return_as="csv")


# -- civis.utils: job_logs, and follow_logs ---------------------------------------------------
@pytest.fixture(scope="module")
def local(bundled):
    with LocalCivisAPI(spec=bundled, run_delays=(0.01, 0.05)) as api:
        yield api


def finished_job_with_two_runs(client):
    job = client.scripts.post_containers(name="logs", docker_image_name="i",
                                         required_resources={"cpu": 1, "memory": 1})
    first = civis_dyn.run_job(job.id, client=client, polling_interval=FAST).result(timeout=10)
    second = civis_dyn.run_job(job.id, client=client, polling_interval=FAST).result(timeout=10)
    return job.id, first.id, second.id


def test_job_logs_reads_the_latest_run_by_default_as_dicts(local):
    """civis-python: job_logs(job_id) yields log dicts (snake_case keys) of the most recent run."""
    client = local.client()
    job_id, first, latest = finished_job_with_two_runs(client)
    entries = list(civis_dyn.job_logs(job_id, client=client))
    assert entries and all(type(e) is dict for e in entries)
    assert {"id", "created_at", "message", "level"} <= set(entries[0])
    assert entries[-1]["message"] == "Run succeeded"
    assert [e["id"] for e in entries] == [e.id for e in
                                          client.jobs.list_runs_logs(job_id, latest)]
    older = list(civis_dyn.job_logs(job_id, first, client=client))
    assert [e["id"] for e in older] == [e.id for e in client.jobs.list_runs_logs(job_id, first)]


def test_follow_logs_defaults_to_the_latest_run_too(local):
    """civis-python's job_logs picks the latest run when run_id is None; so does follow_logs."""
    client = local.client()
    job_id, _, latest = finished_job_with_two_runs(client)
    messages = [e.message for e in civis_dyn.follow_logs(job_id, client=client,
                                                         polling_interval=FAST)]
    assert messages == [e.message for e in client.jobs.list_runs_logs(job_id, latest)]
    assert [e.message for e in client.jobs.follow_logs(job_id, polling_interval=FAST)] == messages


def test_the_run_helpers_live_where_civis_python_scripts_import_them():
    """civis-python: civis.utils.run_job, run_template, job_logs; civis.futures.ContainerFuture."""
    for name in ("run_job", "run_template", "job_logs", "ContainerFuture", "CivisFuture"):
        assert getattr(civis_dyn, name) is getattr(civis_dyn.futures, name)
        assert name in civis_dyn.__all__
