"""Runs under faults (issue 17, items 11 and 12), against the local API on 127.0.0.1.

Runs of the local API follow an injected clock, so a test decides exactly when
a run ends on the server; faults come from the shipped :class:`Faults`.
"""

import concurrent.futures as cf

import pytest

import civis_dyn
from civis_dyn import CivisFuture
from civis_dyn.testing import LocalCivisAPI

SLOW = 3600.0  # a polling interval that never comes within a test
FAST = 0.01


@pytest.fixture
def api(mini_spec_path, clock):
    with LocalCivisAPI(spec=str(mini_spec_path), run_delays=(1.0, 1.0), clock=clock) as server:
        yield server


@pytest.fixture
def client(api):
    return api.client(retries=0)


def started_run(client):
    thing = client.things.post("runner", 1)
    return thing.id, client.things.post_runs(thing.id).id


# -- item 11: cancel reports what the server did ---------------------------------------
def test_cancel_of_a_run_that_already_succeeded_on_the_server_is_not_a_cancellation(
        api, client, clock, tally):
    job_id, run_id = started_run(client)
    future = CivisFuture(client.things.get_runs, (job_id, run_id), polling_interval=SLOW)
    assert future.state == "queued" and not future.done()
    clock.advance(5)  # the run ends on the server; the future has not polled since
    assert client.things.get_runs(job_id, run_id).state == "succeeded"
    assert future.cancel() is False
    assert not future.cancelled() and future.succeeded()
    assert future.result(timeout=5).state == "succeeded"
    assert client.things.get_runs(job_id, run_id).state == "succeeded"
    tally.fault()


def test_cancel_of_a_run_that_already_failed_reports_the_failure(api, client, clock, tally):
    thing = client.things.post("fail", 1)  # the local API fails runs of objects named "fail"
    run_id = client.things.post_runs(thing.id).id
    future = CivisFuture(client.things.get_runs, (thing.id, run_id), polling_interval=SLOW)
    clock.advance(5)
    assert future.cancel() is False
    with pytest.raises(civis_dyn.CivisJobFailure):
        future.result(timeout=5)
    tally.fault()


def test_cancel_of_a_running_run_cancels_it_on_the_server(api, client, clock, tally):
    job_id, run_id = started_run(client)
    future = CivisFuture(client.things.get_runs, (job_id, run_id), polling_interval=SLOW)
    clock.advance(1.5)
    assert future.cancel() is True and future.cancelled()
    assert client.things.get_runs(job_id, run_id).state == "cancelled"
    clock.advance(5)
    assert client.things.get_runs(job_id, run_id).state == "cancelled"
    tally.fault()


def test_an_empty_cancel_answer_is_checked_against_the_run(mini_client, requests_mock, tally):
    """The real API answers DELETE with 202 and no body: the run's state decides."""
    base = "https://api.example.test/things/5/runs/9"
    requests_mock.get(base, [{"json": {"id": 9, "state": "running"}},
                             {"json": {"id": 9, "state": "succeeded"}}])
    requests_mock.delete(base, status_code=202)
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=SLOW)
    assert future.cancel() is False
    assert future.result(timeout=5).state == "succeeded"
    tally.fault()


def test_many_racing_cancels_each_report_what_the_server_did(api, client, clock, tally):
    runs = [started_run(client) for _ in range(20)]
    futures = [CivisFuture(client.things.get_runs, r, polling_interval=SLOW) for r in runs]
    clock.advance(1.5)  # every run is running
    for future in futures[::2]:
        assert future.cancel() is True
    clock.advance(5)    # the others end
    for future in futures[1::2]:
        assert future.cancel() is False
    done, not_done = cf.wait(futures, timeout=5)
    assert not not_done
    for future, (job_id, run_id) in zip(futures, runs):
        server = client.things.get_runs(job_id, run_id).state
        assert future.cancelled() == (server == "cancelled"), (future, server)
        assert future.succeeded() == (server == "succeeded"), (future, server)
    tally.fault(len(futures))


# -- item 12: one bad body while polling is retried, a few in a row are not ----------
@pytest.mark.parametrize("fault", ["truncate", "html", 503])
def test_one_bad_answer_while_polling_is_polled_again(api, client, clock, tally, fault):
    job_id, run_id = started_run(client)
    clock.advance(5)
    api.faults.script("GET", f"/things/{job_id}/runs/{run_id}", [fault])
    future = CivisFuture(client.things.get_runs, (job_id, run_id), polling_interval=FAST)
    assert future.result(timeout=5).state == "succeeded"
    assert api.count(method="GET", path=f"/things/{job_id}/runs/{run_id}") == 2
    tally.fault()


def test_bad_bodies_in_a_row_fail_the_future_after_a_bounded_number_of_polls(api, client,
                                                                            clock, tally):
    from civis_dyn._polling import FAULTS_IN_A_ROW

    job_id, run_id = started_run(client)
    clock.advance(5)
    api.faults.script("GET", f"/things/{job_id}/runs/{run_id}", ["truncate"] * 10)
    future = CivisFuture(client.things.get_runs, (job_id, run_id), polling_interval=FAST)
    with pytest.raises(civis_dyn.InvalidResponseError):
        future.result(timeout=5)
    assert api.count(method="GET", path=f"/things/{job_id}/runs/{run_id}") == FAULTS_IN_A_ROW + 1
    tally.fault()


def test_run_and_wait_polls_again_after_a_truncated_body(api, client, clock, tally):
    thing = client.things.post("runner", 1)
    api.faults.script("GET", "/things/{id}/runs/{run_id}", ["truncate"])
    clock.advance(0)
    seen = []

    def advance(run):
        seen.append(run.state)
        clock.advance(5)

    final = client.things.run_and_wait(thing.id, polling_interval=FAST, callback=advance)
    assert final.state == "succeeded" and seen == ["queued", "succeeded"]
    tally.fault()
