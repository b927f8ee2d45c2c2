"""The conveniences, lookups and run methods: one test, both clients (parametrized).

Each test takes ``caller`` (the blocking client, the async client over real HTTP
to LocalCivisAPI on 127.0.0.1, the async client in process) and runs a function
of the client through ``caller.run(fn)``: ``fn(client)`` for the blocking
client, ``await fn(client)`` for the async one. Both clients run the same steps
(civis_dyn._effects), so besides the results the requests sent are compared:
``caller.sent()`` lists the ``(method, path)`` of the requests of the last run.
"""

import asyncio
import concurrent.futures
import importlib.util
import inspect
import json
from collections import Counter

import pytest

import civis_dyn
from civis_dyn import RetryPolicy, conveniences
from civis_dyn.testing import LocalCivisAPI

HAVE_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
FAST = RetryPolicy(backoff_base=0.0, backoff_max=0.0)


@pytest.fixture(scope="module")
def api():
    with LocalCivisAPI(run_delays=(0.02, 0.05)) as local:
        yield local


class Caller:
    """Runs ``fn(client)`` on a fresh client of one kind; awaits it on the async client."""

    def __init__(self, api, kind):
        self.api = api
        self.kind = kind
        self._mark = 0

    def settings(self):
        settings = {"api_key": self.api.api_key, "base_url": self.api.url,
                    "local_api_spec": self.api.spec, "retries": FAST}
        if self.kind != "async-http":
            settings["transport"] = self.api.transport()
        return settings

    def run(self, fn):
        self._mark = len(self.api.requests)
        if self.kind == "sync":
            with civis_dyn.APIClient(**self.settings()) as client:
                return fn(client)

        async def go():
            async with civis_dyn.AsyncAPIClient(**self.settings()) as client:
                value = fn(client)
                assert inspect.isawaitable(value) or hasattr(value, "__aiter__"), value
                if hasattr(value, "__aiter__"):
                    return [item async for item in value]
                return await value

        return asyncio.run(go())

    def sent(self):
        return [(r.method, r.path) for r in self.api.requests[self._mark:]]


@pytest.fixture(params=[
    "sync",
    pytest.param("async-http", marks=pytest.mark.skipif(not HAVE_AIOHTTP,
                                                        reason="aiohttp not installed")),
    "async-inprocess"])
def caller(request, api):
    api.faults.clear()
    return Caller(api, request.param)


def _unique(api, caller, stem):
    return f"{stem} {caller.kind} {len(api.requests)}"


# -- conveniences ----------------------------------------------------------------
def test_find_by_name_and_get_id(caller, api):
    name = _unique(api, caller, "twin project")
    made = api.seed("/projects", {"name": name})
    assert caller.run(lambda c: c.projects.get_id(name)) == made["id"]
    assert caller.sent() == [("GET", "/projects")]
    found = caller.run(lambda c: conveniences.find_by_name(c.projects, name))
    assert found.id == made["id"] and found.name == name
    with pytest.raises(civis_dyn.NotFoundError, match="no projects object is named"):
        caller.run(lambda c: c.projects.find_by_name(name + " missing"))


def test_create_or_update_creates_then_updates(caller, api):
    name = _unique(api, caller, "twin upsert")
    created = caller.run(lambda c: c.projects.create_or_update(name, description="one"))
    assert caller.sent() == [("GET", "/projects"), ("POST", "/projects")]
    updated = caller.run(lambda c: c.projects.create_or_update(name, description="two"))
    assert updated.id == created.id and updated.description == "two"
    assert [m for m, _ in caller.sent()] == ["GET", "PUT"]  # projects have no patch


def test_export_then_import_a_definition(caller, api, tmp_path):
    name = _unique(api, caller, "twin export")
    made = api.seed("/projects", {"name": name, "description": "d"})
    path = caller.run(lambda c: c.projects.export_definition(made["id"], tmp_path))
    document = json.loads(path.read_text())
    assert document["resource"] == "projects" and document["definition"]["name"] == name
    result = caller.run(lambda c: c.projects.import_definition(path, name=name + " copy"))
    response, dropped = result
    assert response.name == name + " copy" and response.id != made["id"]
    assert any(d.field == "id" for d in dropped)
    assert caller.sent() == [("POST", "/projects")]


def test_housekeeping_counts_and_cancels_runs(caller, api):
    api.run_delays = (30, 30)  # the runs stay queued
    try:
        job = api.seed("/scripts/containers", {"name": _unique(api, caller, "twin runs"),
                                               "dockerImageName": "x"})["id"]
        with civis_dyn.APIClient(api.api_key, base_url=api.url, local_api_spec=api.spec,
                                 transport=api.transport()) as setup:
            for _ in range(2):
                setup.jobs.post_runs(job)
        counts = caller.run(lambda c: c.jobs.count_runs_by_state(job))
        assert isinstance(counts, Counter) and sum(counts.values()) == 2
        report = caller.run(lambda c: c.jobs.cancel_runs(job, created_before="2999-01-01"))
        assert report.ok and len(report.done) == 2
        assert Counter(m for m, _ in caller.sent()) == Counter({"GET": 1, "DELETE": 2})
        dry = caller.run(lambda c: c.jobs.cancel_runs(job, created_before="2999-01-01",
                                                      dry_run=True))
        assert dry.selected == []
    finally:
        api.run_delays = (0.02, 0.05)


def test_archive_stale_dry_run(caller, api):
    report = caller.run(lambda c: c.projects.archive_stale(not_updated_since="1990-01-01",
                                                           dry_run=True))
    assert report.dry_run and report.selected == []


def test_argument_errors_are_the_same(caller):
    with pytest.raises(civis_dyn.ArgumentTypeError, match="'name' must be a non-empty str"):
        caller.run(lambda c: c.projects.get_id(""))
    with pytest.raises(civis_dyn.ArgumentValueError, match="'kind' must be a snake_case"):
        caller.run(lambda c: c.projects.find_by_name("x", kind="Not A Kind"))


def test_conveniences_are_offered_on_the_same_resources(api):
    sync = civis_dyn.APIClient(api.api_key, base_url=api.url, local_api_spec=api.spec,
                               transport=api.transport())
    aio = civis_dyn.AsyncAPIClient(api.api_key, base_url=api.url, local_api_spec=api.spec,
                                   transport=api.transport())
    twins = ("archive_stale", "cancel_runs", "count_runs_by_state", "create_or_update",
             "export_definition", "find_by_name", "get_id", "import_definition",
             "follow_logs", "run", "run_and_wait", "watch_run")
    for resource in ("jobs", "projects", "scripts", "workflows", "services"):
        s, a = dir(getattr(sync, resource)), dir(getattr(aio, resource))
        assert [n for n in twins if n in s] == [n for n in twins if n in a], resource


# -- lookups -----------------------------------------------------------------------
def test_lookups_resolve_names_once_per_client(caller, api):
    db = api.seed("/databases", {"name": _unique(api, caller, "twin db")})
    api.seed("/tables", {"name": "t", "schema": "s", "databaseId": db["id"]})

    def lookups(client):
        if isinstance(client, civis_dyn.AsyncAPIClient):
            async def go():
                return (await client.username, await client.username,
                        await client.get_database_id(db["name"]),
                        await client.get_database_id(db["id"]),
                        await client.get_table_id("s.t", db["name"]))
            return go()
        return (client.username, client.username, client.get_database_id(db["name"]),
                client.get_database_id(db["id"]), client.get_table_id("s.t", db["name"]))

    user, again, db_id, passed, table_id = caller.run(lookups)
    assert user == again and isinstance(user, str)
    assert db_id == passed == db["id"] and isinstance(table_id, int)
    # username once, the database's name once (get_table_id reuses it), the table once
    assert caller.sent() == [("GET", "/users/me"), ("GET", "/databases"), ("GET", "/tables")]


def test_lookup_errors_are_the_same(caller):
    with pytest.raises(civis_dyn.ArgumentValueError, match="Database nope-db not found"):
        caller.run(lambda c: c.get_database_id("nope-db"))


# -- runs ----------------------------------------------------------------------------
def _container(api, caller, stem):
    return api.seed("/scripts/containers", {"name": _unique(api, caller, stem),
                                            "dockerImageName": "x", "dockerCommand": "echo"})["id"]


def test_run_and_wait_gives_the_final_run(caller, api):
    job = _container(api, caller, "twin run ok")
    seen = []
    final = caller.run(lambda c: c.jobs.run_and_wait(job, polling_interval=0.01,
                                                     callback=lambda r: seen.append(r.state)))
    assert final.state == "succeeded" and seen[-1] == "succeeded"
    assert len(seen) == len(set(seen))


def test_run_then_await_the_future(caller, api):
    job = _container(api, caller, "twin future")

    def run(client):
        if isinstance(client, civis_dyn.AsyncAPIClient):
            async def go():
                future = await client.jobs.run(job, polling_interval=0.01)
                assert isinstance(future, civis_dyn.AsyncRunFuture)
                final = await future
                assert future.done() and future.result() is final and future.state == final.state
                return final
            return go()
        return client.jobs.run(job, polling_interval=0.01).result()

    assert caller.run(run).state == "succeeded"


def test_watch_run_of_a_run_already_started(caller, api):
    job = _container(api, caller, "twin watch")
    with civis_dyn.APIClient(api.api_key, base_url=api.url, local_api_spec=api.spec,
                             transport=api.transport()) as setup:
        run_id = setup.jobs.post_runs(job).id

    def watch(client):
        future = client.jobs.watch_run(job, run_id, polling_interval=0.01)
        if isinstance(client, civis_dyn.AsyncAPIClient):
            async def go():
                return await (await future)
            return go()
        return future.result()

    assert caller.run(watch).id == run_id


def test_cancelling_the_future_cancels_the_run_on_the_server(caller, api):
    api.run_delays = (30, 30)
    try:
        job = _container(api, caller, "twin cancel")

        def cancel(client):
            if isinstance(client, civis_dyn.AsyncAPIClient):
                async def go():
                    future = await client.jobs.run(job, polling_interval=0.01)
                    assert await future.cancel() is True
                    with pytest.raises(concurrent.futures.CancelledError):
                        await future
                    return await future.cancel()  # already cancelled: True again
                return go()
            future = client.jobs.run(job, polling_interval=0.01)
            assert future.cancel() is True
            return future.cancel()

        assert caller.run(cancel) is True
        assert ("DELETE" in [m for m, _ in caller.sent()])
    finally:
        api.run_delays = (0.02, 0.05)


def test_follow_logs_yields_each_entry_once(caller, api):
    job = _container(api, caller, "twin logs")
    final = caller.run(lambda c: c.jobs.run_and_wait(job, polling_interval=0.01))
    entries = caller.run(lambda c: c.jobs.follow_logs(job, final.id, polling_interval=0.01))
    ids = [e.id for e in entries]
    assert ids == sorted(set(ids))
    latest = caller.run(lambda c: c.jobs.follow_logs(job, polling_interval=0.01))
    assert [e.id for e in latest] == ids


# -- civis-python's module functions, given either client ----------------------------
def test_module_run_functions_take_either_client(caller, api):
    from civis_dyn import futures

    job = _container(api, caller, "twin module")

    def run(client):
        if isinstance(client, civis_dyn.AsyncAPIClient):
            async def go():
                future = await futures.run_job(job, client, polling_interval=0.01)
                final = await future
                latest = await futures.latest_run_id(job, client)
                logs = [e async for e in futures.job_logs(job, client=client)]
                followed = [e async for e in futures.follow_logs(job, client=client,
                                                                 polling_interval=0.01)]
                return final, latest, logs, followed, future.job_run_url
            return go()
        future = futures.run_job(job, client, polling_interval=0.01)
        final = future.result()
        return (final, futures.latest_run_id(job, client),
                list(futures.job_logs(job, client=client)),
                list(futures.follow_logs(job, client=client, polling_interval=0.01)),
                future.job_run_url)

    final, latest, logs, followed, url = caller.run(run)
    assert final.state == "succeeded" and latest == final.id
    assert logs and all(isinstance(e, dict) for e in logs)
    assert [e["id"] for e in logs] == [e.id for e in followed]
    assert url.endswith(f"/spa/#/jobs/{job}?runId={final.id}")


def test_run_outputs_through_the_future(caller, api):
    job = _container(api, caller, "twin outputs")

    def outputs(client):
        if isinstance(client, civis_dyn.AsyncAPIClient):
            async def go():
                return await (await client.jobs.run(job, polling_interval=0.01)).outputs()
            return go()
        return client.jobs.run(job, polling_interval=0.01).outputs()

    assert isinstance(caller.run(outputs), list)
    assert [p for m, p in caller.sent() if p.endswith("/outputs")] != []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_run_template_with_either_client(kind, requests_mock):
    """The async client's run_template posts, starts, waits and reads outputs as the sync one."""
    from civis_dyn.spec._source import bundled_spec_path

    base = "https://api.example.test/"
    requests_mock.post(f"{base}scripts/custom", json={"id": 7, "name": "from template"})
    requests_mock.post(f"{base}scripts/custom/7/runs", json={"id": 8, "state": "queued"})
    requests_mock.get(f"{base}scripts/custom/7/runs/8", json={"id": 8, "state": "succeeded"})
    requests_mock.get(f"{base}scripts/custom/7/runs/8/outputs", json=[
        {"name": "report.csv", "objectType": "File", "objectId": 31},
        {"name": "summary", "objectType": "JSONValue", "objectId": 32, "value": {"rows": 3}}],
        headers={"X-Pagination-Total-Pages": "1"})
    settings = {"api_key": "k", "base_url": base, "local_api_spec": str(bundled_spec_path()),
                "retries": 0}
    if kind == "sync":
        client = civis_dyn.APIClient(**settings)
        files = civis_dyn.run_template(5, {"x": 1}, client=client)
        value = civis_dyn.run_template(5, {}, client=client, return_as="JSONValue")
    else:
        from civis_dyn import HTTPTransport

        async def go():  # requests-mock answers the (adapted) blocking transport
            client = civis_dyn.AsyncAPIClient(transport=HTTPTransport(), **settings)
            future = await civis_dyn.run_template(5, {}, client=client, return_as="future")
            assert isinstance(future, civis_dyn.AsyncRunFuture) and future.run_id == 8
            await future
            return (await civis_dyn.run_template(5, {"x": 1}, client=client),
                    await civis_dyn.run_template(5, {}, client=client, return_as="JSONValue"))

        files, value = asyncio.run(go())
    assert files == {"report.csv": 31, "summary": 32} and value == {"rows": 3}
