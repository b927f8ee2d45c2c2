"""Runs: CivisFuture, the shared poller, run_job, run_and_wait, follow_logs, cancel.

Unit tests use requests-mock (the mini schema's ``things`` runs, or the real
schema's jobs logs); integration tests run against an embedded LocalCivisAPI
over loopback HTTP. Waiting is always on events or future results with
deadlines, never on sleeps.
"""

import concurrent.futures as cf
import re
import threading
import time

import pytest

import civis_dyn
from civis_dyn import CivisFuture, CivisJobFailure, CivisRunTimeoutError
from civis_dyn._poller import SharedPoller, in_poller_thread, shared_poller
from civis_dyn._polling import Backoff
from civis_dyn.spec._runs import run_kinds

BASE = "https://api.example.test/"
RUN_URL = re.compile(r"https://api\.example\.test/things/(\d+)/runs/(\d+)$")
FAST = 0.01  # polling interval of the unit tests


def run_json(state, run_id=9, error=None):
    return {"id": run_id, "state": state, "error": error, "createdAt": "2026-01-01T00:00:00Z"}


def states(*names):
    return [{"json": run_json(name)} for name in names]


# -- backoff ---------------------------------------------------------------------
def test_default_backoff_is_geometric_from_one_second_capped_at_fifteen():
    backoff = Backoff()
    delays = [backoff.next() for _ in range(30)]
    assert delays[:3] == pytest.approx([1.0, 1.2, 1.44])
    assert max(delays) == 15.0 and delays[-1] == 15.0
    assert all(b >= a for a, b in zip(delays, delays[1:]))
    backoff.reset()
    assert backoff.next() == 1.0
    fixed = Backoff(0.5)
    assert [fixed.next() for _ in range(3)] == [0.5, 0.5, 0.5]


# -- CivisFuture on requests-mock -----------------------------------------------------
def test_success_gives_the_run_and_reports_every_state_change_in_order(mini_client, requests_mock):
    client = mini_client(retries=0)
    requests_mock.get(f"{BASE}things/5/runs/9", states("queued", "running", "running",
                                                        "succeeded"))
    seen = []
    future = CivisFuture(client.things.get_runs, (5, 9), polling_interval=FAST,
                         on_state_change=lambda run: seen.append(run.state))
    run = future.result(timeout=5)
    assert run.state == "succeeded" and run.id == 9
    assert seen == ["queued", "running", "succeeded"]
    assert future.succeeded() and not future.failed() and future.done()
    assert (future.job_id, future.run_id, future.state) == (5, 9, "succeeded")
    assert future.client is client and future.last_response is run
    assert future.job_url == "https://platform.example.test/spa/#/jobs/5"
    assert future.job_run_url == "https://platform.example.test/spa/#/jobs/5?runId=9"
    assert "finished" in repr(future) and "run_id=9" in repr(future)


def test_failure_raises_civis_job_failure_with_the_error_and_ids(mini_client, requests_mock):
    client = mini_client(retries=0)
    requests_mock.get(f"{BASE}things/5/runs/9",
                      [{"json": run_json("running")},
                       {"json": run_json("failed", error="Out of memory")}])
    future = CivisFuture(client.things.get_runs, (5, 9), polling_interval=FAST)
    with pytest.raises(CivisJobFailure) as info:
        future.result(timeout=5)
    error = info.value
    # error_message reads as civis-python's: the ids, then the run's message
    assert error.error_message == "(From job 5 / run 9) Out of memory"
    assert (error.job_id, error.run_id) == (5, 9)
    assert error.response.state == "failed"
    assert future.failed() and not future.succeeded() and future.exception() is error


def test_an_api_error_while_polling_fails_the_future(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", status_code=404,
                      json={"errorDescription": "The requested resource could not be found."})
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    with pytest.raises(civis_dyn.CivisAPIError, match="could not be found") as info:
        future.result(timeout=5)
    assert info.value.status_code == 404 and future.failed()


def test_result_timeout_carries_the_last_known_state(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("running"))
    requests_mock.delete(f"{BASE}things/5/runs/9", status_code=202)
    polled = threading.Event()
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST,
                         on_state_change=lambda run: polled.set())
    assert polled.wait(5)
    with pytest.raises(CivisRunTimeoutError) as info:
        future.result(timeout=0.05)
    error = info.value
    assert isinstance(error, TimeoutError) and isinstance(error, cf.TimeoutError)
    assert error.state == "running" and error.response.state == "running"
    assert (error.job_id, error.run_id, error.timeout) == (5, 9, 0.05)
    assert "last known state: 'running'" in str(error)
    with pytest.raises(CivisRunTimeoutError):
        future.exception(timeout=0.01)
    assert future.cancel()  # stop polling


def test_poll_on_creation_false_waits_for_the_first_interval(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("succeeded"))
    started = time.monotonic()
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=0.2,
                         poll_on_creation=False)
    future.result(timeout=5)
    assert time.monotonic() - started >= 0.2
    assert requests_mock.call_count == 1


def test_raw_clients_get_response_objects(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("succeeded"))
    future = CivisFuture(mini_client(retries=0, return_type="raw").things.get_runs, (5, 9),
                         polling_interval=FAST)
    assert isinstance(future.result(timeout=5), civis_dyn.Response)


def test_any_callable_can_be_the_poller():
    answers = iter(["queued", "succeeded"])
    future = CivisFuture(lambda job_id: {"id": job_id, "state": next(answers)}, (4,),
                         polling_interval=FAST)
    assert future.result(timeout=5).id == 4
    assert future.run_id is None and future.job_run_url is None
    assert future.job_url == "https://platform.civisanalytics.com/spa/#/jobs/4"  # no client
    assert future.cancel() is False  # already done
    with pytest.raises(NotImplementedError):
        future.outputs()


# -- callbacks ------------------------------------------------------------------------
def test_an_exception_in_a_done_callback_is_surfaced_by_result(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", states("running", "succeeded"))
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    calls = []

    def broken(fut):
        calls.append("broken")
        raise ValueError("callback bug")

    def inner_result(fut):  # a callback may read the result without deadlocking
        calls.append(fut.result().state)

    future.add_done_callback(broken)
    future.add_done_callback(inner_result)
    with pytest.raises(ValueError, match="callback bug"):
        future.result(timeout=5)
    assert calls == ["broken", "succeeded"]  # later callbacks still ran
    assert isinstance(future.exception(), ValueError)
    assert [type(e) for e in future.callback_errors] == [ValueError]
    assert future.succeeded()  # the run itself succeeded
    assert future.last_response.state == "succeeded"


def test_a_callback_added_after_completion_runs_at_once_and_is_surfaced(mini_client,
                                                                       requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("succeeded"))
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    assert future.result(timeout=5).state == "succeeded"
    ran_in = []

    def late(fut):
        ran_in.append(threading.current_thread())
        raise KeyError("late")

    future.add_done_callback(late)  # never raises here
    assert ran_in == [threading.current_thread()]
    with pytest.raises(KeyError):
        future.result()


def test_a_failed_run_takes_precedence_over_callback_errors(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("failed", error="bad"))
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    future.add_done_callback(lambda fut: 1 / 0)
    with pytest.raises(CivisJobFailure):
        future.result(timeout=5)
    assert isinstance(future.callback_errors[0], ZeroDivisionError)


def test_an_exception_in_on_state_change_is_surfaced_and_polling_goes_on(mini_client,
                                                                        requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", states("queued", "running", "succeeded"))
    seen = []

    def hook(run):
        seen.append(run.state)
        if run.state == "queued":
            raise RuntimeError("display broke")

    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST,
                         on_state_change=hook)
    with pytest.raises(RuntimeError, match="display broke"):
        future.result(timeout=5)
    assert seen == ["queued", "running", "succeeded"]


def test_callbacks_run_in_a_poller_thread_and_cannot_block_it(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", states("running", "succeeded"))
    requests_mock.get(f"{BASE}things/6/runs/1", json=run_json("running", run_id=1))
    requests_mock.delete(f"{BASE}things/6/runs/1", status_code=202)
    other = CivisFuture(mini_client(retries=0).things.get_runs, (6, 1), polling_interval=FAST)
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    observed = {}

    def waits_for_other(fut):
        observed["poller_thread"] = in_poller_thread()
        other.result()  # would stall the poller: refused

    future.add_done_callback(waits_for_other)
    with pytest.raises(RuntimeError, match="stall the poller"):
        future.result(timeout=5)
    assert observed == {"poller_thread": True}
    assert other.cancel()


# -- cancel, wait, as_completed -----------------------------------------------------
def test_cancel_deletes_the_run_and_cancels_the_future(mini_client, requests_mock):
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("running"))
    delete = requests_mock.delete(f"{BASE}things/5/runs/9", status_code=202)
    future = CivisFuture(mini_client(retries=0).things.get_runs, (5, 9), polling_interval=FAST)
    done_callback = threading.Event()
    future.add_done_callback(lambda fut: done_callback.set())
    waiter = threading.Thread(target=cf.wait, args=([future],), daemon=True)
    waiter.start()
    assert future.cancel() is True
    assert delete.call_count == 1
    assert future.cancelled() and future.done() and done_callback.is_set()
    waiter.join(5)
    assert not waiter.is_alive()  # wait() saw the cancellation
    with pytest.raises(cf.CancelledError):
        future.result()
    with pytest.raises(cf.CancelledError):
        future.exception()
    assert future.cancel() is True and delete.call_count == 1  # idempotent


def test_cancel_returns_false_when_done_or_refused(mini_client, requests_mock):
    client = mini_client(retries=0)
    requests_mock.get(f"{BASE}things/5/runs/9", json=run_json("succeeded"))
    done = CivisFuture(client.things.get_runs, (5, 9), polling_interval=FAST)
    done.result(timeout=5)
    assert done.cancel() is False and not done.cancelled()

    requests_mock.get(f"{BASE}things/6/runs/1", json=run_json("running", run_id=1))
    requests_mock.delete(f"{BASE}things/6/runs/1", status_code=403,
                         json={"errorDescription": "forbidden"})
    refused = CivisFuture(client.things.get_runs, (6, 1), polling_interval=FAST)
    with pytest.warns(UserWarning, match="Unexpected error when attempting to cancel job 6 run 1"
                      ) as caught:
        assert refused.cancel() is False and not refused.done()
    assert caught[0].filename == __file__   # the warning points at the caller of cancel()
    requests_mock.get(f"{BASE}things/6/runs/1", json=run_json("cancelled", run_id=1))
    with pytest.raises(cf.CancelledError):  # cancelled by someone else: the future follows
        refused.result(timeout=5)


def test_wait_and_as_completed_work_with_civis_futures(mini_client, requests_mock):
    client = mini_client(retries=0)

    def answer(request, context):
        job_id = int(RUN_URL.match(request.url).group(1))
        return run_json({1: "succeeded", 2: "failed", 3: "running"}[job_id])

    requests_mock.get(RUN_URL, json=answer)
    futures = {job: CivisFuture(client.things.get_runs, (job, 1), polling_interval=FAST)
               for job in (1, 2, 3)}
    done, not_done = cf.wait(futures.values(), timeout=5, return_when=cf.FIRST_EXCEPTION)
    assert futures[2] in done and futures[3] in not_done
    finished = list(cf.as_completed([futures[1], futures[2]], timeout=5))
    assert set(finished) == {futures[1], futures[2]}
    assert futures[1].succeeded() and futures[2].failed()
    with pytest.raises(cf.TimeoutError):
        list(cf.as_completed([futures[3]], timeout=0.05))
    requests_mock.delete(f"{BASE}things/3/runs/1", status_code=202)
    assert futures[3].cancel()
    done, not_done = cf.wait(futures.values(), timeout=5)
    assert not not_done


# -- argument checks ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, message", [
    ({"poller": 3}, TypeError, "argument 'poller' must be callable"),
    ({"poller_args": 5}, TypeError, "argument 'poller_args' must be a tuple"),
    ({"polling_interval": 0}, ValueError, "'polling_interval' must be > 0"),
    ({"polling_interval": "1"}, TypeError, "'polling_interval' must be a number"),
    ({"on_state_change": "print"}, TypeError, "'on_state_change' must be callable"),
])
def test_civis_future_checks_its_arguments(kwargs, error, message):
    arguments = {"poller": lambda: None, "poller_args": (), **kwargs}
    with pytest.raises(error, match=message):
        CivisFuture(**arguments)


# -- the shared poller ------------------------------------------------------------------
class Task:
    """A fake pollable: records its polls, optionally blocks, finishes after n polls."""

    def __init__(self, name, log, polls=1, block=None, delay=0.0):
        self.name, self.log, self.left, self.block, self.delay = name, log, polls, block, delay
        self.done = threading.Event()

    def poll_once(self):
        self.log.append(self.name)
        if self.block is not None:
            assert self.block.wait(5)
        self.left -= 1
        if self.left:
            return self.delay
        self.done.set()
        return None


def test_the_poller_runs_tasks_in_due_order_sequentially():
    poller = SharedPoller(workers=0, name="test-poller-seq")
    log = []
    gate = threading.Event()
    first = Task("first", log, block=gate)
    poller.schedule(first)
    tasks = [Task(name, log) for name in ("c", "a", "b")]
    for task, delay in zip(tasks, (0.06, 0.02, 0.04)):
        poller.schedule(task, delay)
    gate.set()
    assert all(t.done.wait(5) for t in tasks)
    assert log == ["first", "a", "b", "c"]
    assert len(poller.threads) == 1 and poller.threads[0].daemon


def test_a_slow_poll_blocks_neither_scheduling_nor_the_other_tasks():
    poller = SharedPoller(workers=2, name="test-poller-slow")
    log = []
    gate = threading.Event()
    slow = Task("slow", log, block=gate)
    poller.schedule(slow)
    fast = Task("fast", log, polls=3, delay=0.01)
    poller.schedule(fast, 0.01)  # returns although a poll is in flight
    assert fast.done.wait(5) and not slow.done.is_set()
    gate.set()
    assert slow.done.wait(5)
    assert log.count("fast") == 3 and len(poller.threads) <= 3


def test_a_task_that_raises_does_not_kill_the_poller(caplog):
    poller = SharedPoller(workers=1, name="test-poller-raise")

    class Broken:
        def poll_once(self):
            raise RuntimeError("boom")

    poller.schedule(Broken())
    after = Task("after", [])
    poller.schedule(after, 0.01)
    assert after.done.wait(5)
    assert "boom" in caplog.text


def test_many_tasks_cost_a_bounded_number_of_threads():
    poller = SharedPoller(workers=3, name="test-poller-many")
    tasks = [Task(str(i), [], polls=3, delay=0.001) for i in range(300)]
    for task in tasks:
        poller.schedule(task)
    assert all(t.done.wait(5) for t in tasks)
    assert len(poller.threads) <= 4 and poller.polls == 900 and poller.pending == 0


def test_the_poller_rejects_a_bad_worker_count():
    with pytest.raises(ValueError, match="'workers' must be an int >= 0"):
        SharedPoller(workers=-1)


# -- what the real schema lets us run -----------------------------------------------
@pytest.fixture(scope="module")
def real_client(real_spec_path):
    return civis_dyn.APIClient(api_key="test-key", base_url=BASE, local_api_spec=real_spec_path)


def test_runnable_kinds_are_derived_from_the_schema(real_client):
    spec = real_client.meta.spec
    scripts = run_kinds(spec, "scripts")
    assert {"sql", "python3", "containers", "r", "javascript", "custom"} <= set(scripts)
    assert scripts["python3"].cancel == ("scripts", "delete_python3_runs")
    assert scripts["python3"].logs == ("scripts", "list_python3_runs_logs")
    workflows = run_kinds(spec, "workflows")[None]
    assert (workflows.start, workflows.get, workflows.cancel) == (
        ("workflows", "post_executions"), ("workflows", "get_executions"),
        ("workflows", "post_executions_cancel"))
    services = run_kinds(spec, "services")[None]
    assert services.cancel == ("services", "delete_deployments")
    assert services.states.outcome("running") == "succeeded"  # a deployment is done when up
    assert run_kinds(spec, "models")[None].start is None  # builds: watch only
    assert run_kinds(spec, "users") == {}
    for resource in ("jobs", "imports", "exports", "enhancements", "queries", "media"):
        assert run_kinds(spec, resource), resource


def test_run_methods_appear_only_where_runs_exist(real_client):
    for resource in ("jobs", "scripts", "workflows", "services", "imports"):
        assert {"run", "run_and_wait", "watch_run"} <= set(dir(getattr(real_client, resource)))
    assert "follow_logs" in dir(real_client.jobs)
    assert "run" not in dir(real_client.users)
    with pytest.raises(AttributeError):
        real_client.users.run_and_wait  # noqa: B018
    models = set(dir(real_client.models))  # builds can be watched, not started
    assert {"watch_run", "follow_logs"} <= models and "run_and_wait" not in models


def test_platform_urls_follow_civis_python_for_jobs_and_the_api_path_otherwise(real_client,
                                                                            requests_mock):
    requests_mock.get(f"{BASE}workflows/5/executions/7", json=run_json("succeeded", 7))
    execution = real_client.workflows.watch_run(5, 7, polling_interval=FAST)
    assert execution.result(timeout=5).id == 7
    assert execution.job_url == "https://platform.example.test/spa/#/workflows/5"
    assert execution.job_run_url is None
    requests_mock.get(f"{BASE}scripts/python3/3/runs/4", json=run_json("succeeded", 4))
    script = real_client.scripts.watch_run(3, 4, kind="python3", polling_interval=FAST)
    script.result(timeout=5)
    assert script.job_run_url == "https://platform.example.test/spa/#/jobs/3?runId=4"


@pytest.mark.parametrize("call, error, message", [
    (lambda c: c.scripts.run(3), TypeError,
     r"scripts\.run\(\) needs kind=: 'scripts' runs several kinds: .*'python3'"),
    (lambda c: c.scripts.run(3, kind="cobol"), ValueError,
     r"scripts\.run\(\) argument 'kind' must be one of .*'sql'; got 'cobol'"),
    (lambda c: c.jobs.run_and_wait("x"), TypeError, r"jobs\.run_and_wait\(\) argument 'id'"),
    (lambda c: c.jobs.run_and_wait(3, timeout=-1), ValueError, "'timeout' must be >= 0"),
    (lambda c: c.jobs.run_and_wait(3, callback=5), TypeError, "'callback' must be callable"),
    (lambda c: c.jobs.watch_run(3, None), TypeError, r"jobs\.watch_run\(\) argument 'run_id'"),
    (lambda c: c.scripts.follow_logs(3, 4), TypeError, r"scripts\.follow_logs\(\) needs kind="),
    (lambda c: civis_dyn.run_job(1.5, client=c), TypeError, r"run_job\(\) argument 'job_id'"),
    (lambda c: civis_dyn.follow_logs(1, 2, client=c, polling_interval=-1), ValueError,
     r"follow_logs\(\) argument 'polling_interval'"),
])
def test_helpers_check_arguments_before_sending(real_client, requests_mock, call, error, message):
    with pytest.raises(error, match=message):
        call(real_client)
    assert requests_mock.call_count == 0


def test_follow_logs_yields_each_line_once_even_if_the_server_repeats_them(real_client,
                                                                          requests_mock):
    logs_url = f"{BASE}jobs/5/runs/9/logs"
    lines = [{"id": i, "message": f"line {i}", "level": "info", "createdAt": "x"}
             for i in (2, 1, 3)]  # unordered, and later answers repeat the old lines
    requests_mock.get(logs_url, [{"json": lines[:2]}, {"json": lines}])
    requests_mock.get(f"{BASE}jobs/5/runs/9", states("running", "succeeded"))
    got = list(civis_dyn.follow_logs(5, 9, client=real_client, polling_interval=FAST))
    assert [e.message for e in got] == ["line 1", "line 2", "line 3"]
    queries = [r.qs for r in requests_mock.request_history if r.path.endswith("/logs")]
    assert queries == [{}, {"last_id": ["2"]}]


# -- integration: the embedded local API -------------------------------------------
@pytest.fixture(scope="module")
def local_api(real_spec_path):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=real_spec_path, run_delays=(0.02, 0.08)) as api:
        yield api


@pytest.fixture
def api(local_api):
    """The module's local API with its default timings restored after each test."""
    yield local_api
    local_api.run_delays = (0.02, 0.08)


@pytest.fixture
def client(api):
    return api.client()


def make_job(client, name="job"):
    return client.scripts.post_containers(name=name, docker_image_name="img",
                                          required_resources={"cpu": 10, "memory": 10}).id


def test_run_job_succeeds_against_the_local_api(client):
    job_id = make_job(client)
    future = civis_dyn.run_job(job_id, client=client, polling_interval=FAST)
    run = future.result(timeout=10)
    assert run.state == "succeeded" and future.succeeded()
    assert future.job_id == job_id and future.run_id == run.id
    assert future.job_url == f"{client.meta.config.base_url.rstrip('/')}/spa/#/jobs/{job_id}"
    assert client.jobs.get_runs(job_id, run.id).state == "succeeded"


def test_failure_carries_the_error_message_and_the_last_log_lines(client):
    job_id = make_job(client, name="will fail")
    future = client.jobs.run(job_id, polling_interval=FAST)
    with pytest.raises(CivisJobFailure) as info:
        future.result(timeout=10)
    error = info.value
    assert "fail" in error.error_message and error.job_id == job_id
    assert error.run_id == future.run_id
    assert error.log_lines[0] == "Run queued"
    assert error.log_lines[-1] == f"Run failed: {error._original_err_msg}"
    assert error.error_message in str(error) and "Last log lines" in str(error)


def test_cancel_cancels_the_run_on_the_server(api, client):
    api.run_delays = (0.0, 60.0)
    job_id = make_job(client)
    running = threading.Event()
    future = client.jobs.run(job_id, polling_interval=FAST,
                             on_state_change=lambda run: running.set())
    assert running.wait(5)
    assert future.cancel() is True and future.cancelled()
    assert client.jobs.get_runs(job_id, future.run_id).state == "cancelled"
    assert api.count(method="DELETE", path=f"/jobs/{job_id}/runs/{future.run_id}") == 1


def test_run_and_wait_times_out_with_the_last_state_and_the_run_goes_on(api, client):
    api.run_delays = (0.0, 60.0)
    job_id = make_job(client)
    seen = []
    started = time.monotonic()
    with pytest.raises(CivisRunTimeoutError) as info:
        client.jobs.run_and_wait(job_id, timeout=0.3, polling_interval=0.05,
                                 callback=lambda run: seen.append(run.state))
    assert 0.3 <= time.monotonic() - started < 5
    error = info.value
    assert error.state == "running" and seen == ["running"]
    assert client.jobs.get_runs(job_id, error.run_id).state == "running"
    client.jobs.delete_runs(job_id, error.run_id)


def test_run_and_wait_returns_the_final_run_and_calls_back_on_each_state(client):
    job_id = make_job(client)
    seen = []
    run = client.scripts.run_and_wait(job_id, kind="containers", polling_interval=FAST,
                                      callback=lambda r: seen.append(r.state))
    assert run.state == "succeeded" and seen[-1] == "succeeded"
    assert len(seen) == len(set(seen))  # only changes are reported
    with pytest.raises(ZeroDivisionError):  # the callback's errors propagate
        client.jobs.run_and_wait(job_id, polling_interval=FAST, callback=lambda r: 1 / 0)
    with pytest.raises(CivisJobFailure, match="fail"):
        client.jobs.run_and_wait(make_job(client, "fail me"), polling_interval=FAST)


def test_a_done_callback_exception_surfaces_against_the_local_api(client):
    future = client.jobs.run(make_job(client), polling_interval=FAST)
    future.add_done_callback(lambda fut: {}["missing"])
    with pytest.raises(KeyError, match="missing"):
        future.result(timeout=10)
    assert future.last_response.state == "succeeded"


def test_200_futures_complete_with_one_polling_thread(client):
    job_ids = [make_job(client, f"many {i}") for i in range(200)]

    def ours():
        return [t for t in threading.enumerate() if t.name.startswith("civis_dyn-poller")]

    def not_server():
        return [t for t in threading.enumerate() if "process_request" not in t.name]

    shared_poller()  # exists before counting
    before = len(not_server())
    futures = [client.jobs.run(job_id) for job_id in job_ids]  # default backoff from 1 s
    done, not_done = cf.wait(futures, timeout=15)
    assert not not_done and all(f.succeeded() for f in futures)
    schedulers = [t for t in ours() if t.name == "civis_dyn-poller"]
    assert len(schedulers) == 1
    workers = shared_poller()._max_workers
    assert len(ours()) <= 1 + workers
    assert len(not_server()) - before <= 1 + workers  # not one per future


def test_follow_logs_yields_every_line_once_in_order(api, client):
    api.run_delays = (0.05, 0.3)
    job_id = make_job(client)
    run_id = client.jobs.post_runs(job_id).id
    entries = list(civis_dyn.follow_logs(job_id, run_id, client=client, polling_interval=0.02))
    ids = [e.id for e in entries]
    assert ids == sorted(set(ids)) and ids
    assert [e.message for e in entries] == ["Run queued", "Run started", "Working...",
                                            "Run succeeded"]
    assert [e.id for e in client.jobs.list_runs_logs(job_id, run_id)] == ids
    assert client.jobs.get_runs(job_id, run_id).state == "succeeded"
    used_last_id = [r for r in api.requests if r.path.endswith(f"/runs/{run_id}/logs")
                    and "last_id" in r.query]
    assert used_last_id


def test_resource_follow_logs_and_watch_run_use_the_kind_endpoints(client):
    job_id = make_job(client)
    run_id = client.scripts.post_containers_runs(job_id).id
    future = client.scripts.watch_run(job_id, run_id, kind="containers", polling_interval=FAST)
    messages = [e.message for e in client.scripts.follow_logs(job_id, run_id, kind="containers",
                                                               polling_interval=FAST)]
    assert messages[-1] == "Run succeeded"
    assert future.result(timeout=10).state == "succeeded"
    assert future.poller.__name__ == "get_containers_runs"


def test_outputs_lists_the_run_outputs(client):
    job_id = make_job(client)
    future = client.scripts.run(job_id, kind="containers", polling_interval=FAST)
    future.result(timeout=10)
    client.scripts.post_containers_runs_outputs(job_id, future.run_id, object_type="File",
                                                object_id=77)
    outputs = future.outputs()
    assert [(o.object_type, o.object_id) for o in outputs] == [("File", 77)]


def test_workflow_executions_and_service_deployments(api, client):
    workflow = client.workflows.post(name="flow", definition="version: 2")
    run = client.workflows.run_and_wait(workflow.id, polling_interval=FAST)
    assert run.state == "succeeded"

    api.run_delays = (0.0, 60.0)
    execution = client.workflows.run(workflow.id, polling_interval=FAST)
    assert execution.cancel()
    assert client.workflows.get_executions(workflow.id, execution.run_id).state == "cancelled"

    service = client.services.post(name="svc")
    api.run_delays = (0.02, 0.05)
    deployment = client.services.run_and_wait(service.id, polling_interval=FAST)
    assert deployment.state == "running"  # up: done
    future = client.services.watch_run(service.id, deployment.deployment_id,
                                       polling_interval=FAST)
    assert future.result(timeout=10).state == "running"


def test_wait_and_as_completed_against_the_local_api(api, client):
    good = [client.jobs.run(make_job(client), polling_interval=FAST) for _ in range(3)]
    bad = client.jobs.run(make_job(client, "fail"), polling_interval=FAST)
    finished = list(cf.as_completed(good + [bad], timeout=10))
    assert set(finished) == set(good + [bad])
    done, not_done = cf.wait(good + [bad], timeout=10, return_when=cf.ALL_COMPLETED)
    assert not not_done and bad.failed() and all(f.succeeded() for f in good)
