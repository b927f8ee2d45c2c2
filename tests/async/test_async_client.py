"""AsyncAPIClient: the same surface as APIClient, the async driver, transports and test doubles."""

import asyncio
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

import civis_dyn
from civis_dyn import HTTPRequest, HTTPResponse, RetryPolicy
from civis_dyn._async_driver import AsyncDriver, SyncTransportAdapter, as_async_transport
from civis_dyn._async_pages import AsyncPaginatedResponse
from civis_dyn._http import Headers
from civis_dyn._pipeline import RequestDefaults
from civis_dyn.testing import LocalCivisAPI, Stubber

HAVE_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
needs_aiohttp = pytest.mark.skipif(not HAVE_AIOHTTP, reason="aiohttp not installed "
                                   "(pip install civis-dyn[async])")
KEY = "test-key-123"
BASE = "https://api.example.test/"


@pytest.fixture
def clients(mini_spec_path):
    sync = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE)
    aio = civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE,
                                   transport=SyncTransportAdapter(_Never()))
    return sync, aio


class _Never:
    def send(self, request):
        raise AssertionError(f"unexpected request {request!r}")

    def close(self):
        pass


# -- the same surface ---------------------------------------------------------------
def test_same_resources_methods_signatures_and_docstrings(clients):
    sync, aio = clients
    assert set(dir(aio)) >= set(sync.meta.spec.resources())
    for resource in sync.meta.spec.resources():
        names = sorted(sync.meta.spec.index[resource])
        for name in names:
            s, a = getattr(getattr(sync, resource), name), getattr(getattr(aio, resource), name)
            assert inspect.signature(a) == inspect.signature(s), (resource, name)
            assert a.__doc__ == s.__doc__ and a.__name__ == s.__name__
            assert inspect.iscoroutinefunction(a), (resource, name)
            assert not inspect.iscoroutinefunction(s)


def test_resource_classes_are_made_once_from_the_same_factory(clients, mini_spec_path):
    sync, aio = clients
    other = civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE)
    resource = next(iter(sync.meta.spec.resources()))
    assert type(getattr(aio, resource)) is type(getattr(other, resource))
    assert type(getattr(aio, resource)) is not type(getattr(sync, resource))
    assert type(getattr(aio, resource)).__name__ == type(getattr(sync, resource)).__name__


def test_unknown_resource_is_an_attribute_error_on_both_clients(clients):
    for client in clients:
        with pytest.raises(AttributeError, match="no_such_resource"):
            client.no_such_resource


def test_resources_are_class_attributes_of_the_shared_per_schema_class(clients, mini_spec_path):
    from civis_dyn._async_client import AsyncResource
    from civis_dyn._client import _ResourceAttribute, client_class

    sync, aio = clients
    resource = next(iter(sync.meta.spec.resources()))
    # the same mechanism: client_class's subclass with a _ResourceAttribute per resource
    assert type(aio) is client_class(civis_dyn.AsyncAPIClient, aio.meta.spec)
    assert isinstance(vars(type(aio))[resource], _ResourceAttribute)
    assert isinstance(getattr(aio, resource), AsyncResource)
    assert not hasattr(civis_dyn.AsyncAPIClient, "__getattr__")  # safe for IPython completion
    assert resource in dir(type(aio))
    assert isinstance(aio, civis_dyn.AsyncAPIClient)
    # per-client assignment and deletion, as for APIClient
    other = civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE)
    replaced = object()
    setattr(aio, resource, replaced)
    assert getattr(aio, resource) is replaced
    assert getattr(other, resource) is not replaced
    delattr(aio, resource)
    assert isinstance(getattr(aio, resource), AsyncResource)


def test_async_with_closes_the_transport(mini_spec_path):
    closed = []

    class Transport:
        async def send(self, request):
            return HTTPResponse(200, Headers({}), b"{}")

        async def aclose(self):
            closed.append(True)

    async def run():
        async with civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path),
                                            base_url=BASE, transport=Transport()) as client:
            assert client.meta.transport.__class__ is Transport
        return closed

    assert asyncio.run(run()) == [True]


def test_not_picklable(clients):
    import pickle

    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(clients[1])


# -- the async driver: the pipeline's decisions, awaited ---------------------------
class _Scripted:
    """An async transport answering from a list (an exception is raised)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.sent = []

    async def send(self, request):
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aclose(self):
        pass


def _driver(answers, **policy):
    sleeps = []

    async def sleep(seconds):
        sleeps.append(seconds)

    defaults = RequestDefaults(base_url=BASE, headers={"Authorization": "Bearer k"})
    transport = _Scripted(answers)
    driver = AsyncDriver(transport, defaults, RetryPolicy(sleep=sleep, **policy))
    return driver, transport, sleeps


def test_driver_retries_with_retry_after_and_awaits_the_injected_sleep():
    driver, transport, sleeps = _driver([
        HTTPResponse(503, Headers({"Retry-After": "2"})), HTTPResponse(200, Headers({}), b"[]")])
    response = asyncio.run(driver.request("GET", "/jobs"))
    assert response.status == 200 and len(transport.sent) == 2
    assert len(sleeps) == 1 and sleeps[0] >= 2


def test_driver_follows_same_origin_get_redirects_and_refuses_others():
    driver, transport, _ = _driver([
        HTTPResponse(302, Headers({"Location": "/other"})), HTTPResponse(200, Headers({}), b"1")])
    asyncio.run(driver.request("GET", "/jobs"))
    assert transport.sent[1].url == BASE + "other"
    driver, _, _ = _driver([HTTPResponse(302, Headers({"Location": "https://evil.test/x"}))])
    with pytest.raises(civis_dyn.RedirectError, match="another origin"):
        asyncio.run(driver.request("GET", "/jobs"))


def test_driver_never_repeats_a_sent_post():
    error = civis_dyn.CivisConnectionError("reset", reason="reset", sent=True)
    driver, transport, _ = _driver([error, HTTPResponse(200)])
    with pytest.raises(civis_dyn.CivisConnectionError, match="POST /jobs"):
        asyncio.run(driver.request("POST", "/jobs", json_body={}))
    assert len(transport.sent) == 1


def test_driver_deadline_shrinks_the_timeouts():
    driver, transport, _ = _driver([HTTPResponse(200)], max_elapsed=1.0)
    asyncio.run(driver.request("GET", "/jobs"))
    assert sum(transport.sent[0].timeout) <= 1.0


def test_driver_maps_error_statuses():
    driver, _, _ = _driver([HTTPResponse(401, Headers({}), b'{"errorDescription":"no"}')])
    with pytest.raises(civis_dyn.CivisAPIKeyError, match="no"):
        asyncio.run(driver.request("GET", "/jobs"))


def test_blocking_transports_are_adapted():
    adapted = as_async_transport(_Never())
    assert isinstance(adapted, SyncTransportAdapter)
    scripted = _Scripted([])
    assert as_async_transport(scripted) is scripted
    with pytest.raises(civis_dyn.ArgumentTypeError, match="transport must be"):
        as_async_transport(object())


# -- pagination --------------------------------------------------------------------
def test_async_pages_stop_on_the_total_and_refuse_plain_iteration():
    calls = []

    async def fetch(page):
        calls.append(page)
        return [{"id": page}], {"X-Pagination-Total-Pages": "3"}

    async def run():
        pages = AsyncPaginatedResponse(fetch)
        assert await pages is pages  # awaiting gives the iterator itself
        return [item.id async for item in pages], pages.pages_fetched

    assert asyncio.run(run()) == ([1, 2, 3], 3)
    assert calls == [1, 2, 3]
    with pytest.raises(TypeError, match="async for"):
        iter(AsyncPaginatedResponse(fetch))


# -- test doubles ------------------------------------------------------------------
def test_stubber_works_with_the_async_client(mini_spec_path):
    client = civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE)
    resource, method = _a_get_by_id(client)
    with Stubber(client) as stubber:
        stubber.add_response(f"{resource}.{method}", {"id": 7}, expected_params={"id": 7})
        result = asyncio.run(getattr(getattr(client, resource), method)(7))
        stubber.assert_no_pending_responses()
    assert result.id == 7
    assert not isinstance(client.meta.transport, SyncTransportAdapter) or (
        client.meta.transport.transport is not stubber.transport)


def _a_get_by_id(client):
    spec = client.meta.spec
    for op in (spec.operation(r, m) for r in spec.index for m in spec.index[r]):
        if (op.verb == "get" and [p.name for p in op.parameters if p.required] == ["id"]
                and not op.paginated and not op.alias_of and not op.deprecation):
            return op.resource, op.name
    pytest.skip("the mini schema has no GET by id")


def test_local_api_in_process_and_over_http():
    with LocalCivisAPI() as api:
        async def run(transport):
            async with civis_dyn.AsyncAPIClient(api.api_key, base_url=api.url,
                                                local_api_spec=api.spec,
                                                transport=transport) as client:
                made = await client.projects.post("p", description="d")
                got = await asyncio.gather(*(client.projects.get(made.id) for _ in range(10)))
                return {g.name for g in got}

        assert asyncio.run(run(api.transport())) == {"p"}
        if HAVE_AIOHTTP:
            assert asyncio.run(run(None)) == {"p"}


@needs_aiohttp
def test_aiohttp_transport_timeout_and_body_limit():
    from civis_dyn._async_transport import AiohttpTransport

    with LocalCivisAPI() as api:
        api.faults.latency = 0.5
        request = HTTPRequest("GET", api.url + "projects", "/projects",
                              {"Authorization": f"Bearer {api.api_key}"}, None, None, (1.0, 0.05))

        async def slow():
            async with AiohttpTransport() as transport:
                await transport.send(request)

        with pytest.raises(civis_dyn.CivisTimeoutError) as info:
            asyncio.run(slow())
        assert info.value.reason == "timeout" and info.value.__cause__ is None
        api.faults.latency = 0
        api.seed("/projects", {"name": "x" * 500})
        small = HTTPRequest("GET", api.url + "projects", "/projects",
                            {"Authorization": f"Bearer {api.api_key}"}, {"limit": 5}, None,
                            (1.0, 5.0), max_bytes=100)

        async def big():
            async with AiohttpTransport() as transport:
                await transport.send(small)

        with pytest.raises(civis_dyn.InvalidResponseError):
            asyncio.run(big())


def test_schema_download_at_construction_and_in_a_thread():
    with LocalCivisAPI() as api:
        client = civis_dyn.AsyncAPIClient(api.api_key, base_url=api.url,
                                          force_refresh_api_spec=True)
        assert client.spec_info.source == "download"
        made = asyncio.run(civis_dyn.AsyncAPIClient.create(api.api_key, base_url=api.url,
                                                           transport=api.transport()))
        assert made.meta.spec.index == client.meta.spec.index


# -- the example and the bench -----------------------------------------------------
def test_bench_runs_small(tmp_path):
    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        import async_bench
    finally:
        sys.path.remove(str(bench))
    figures = async_bench.measure(calls=5, latency=0.0, threads=2,
                                  transports=("aiohttp",) if HAVE_AIOHTTP else (), repeat=2)
    assert len(figures["sync sequential"]) == 2 and min(figures["sync 2 threads"]) > 0
    if HAVE_AIOHTTP:
        assert min(figures["async aiohttp concurrent"]) > 0
        assert min(figures["async aiohttp CPU per call"]) > 0
    lines = async_bench.report(figures, 5, 2, 0.0)
    assert any("calls/s" in line for line in lines)
    assert any("client CPU" in line for line in lines) or not HAVE_AIOHTTP


def test_aiohttp_is_imported_on_use_only(mini_spec_path):
    import subprocess

    code = ("import sys, civis_dyn\n"
            f"c = civis_dyn.AsyncAPIClient('k', local_api_spec={str(mini_spec_path)!r}, "
            "base_url='https://api.example.test/')\n"
            "dir(c); print('aiohttp' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_create_client_mock_for_the_async_client(mini_spec_path):
    from civis_dyn.testing import create_client_mock

    client = create_client_mock(str(mini_spec_path), asynchronous=True)
    assert isinstance(client, civis_dyn.AsyncAPIClient)
    spec = civis_dyn.AsyncAPIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE)
    resource, method = _a_get_by_id(spec)
    mocked = getattr(getattr(client, resource), method)
    mocked.return_value = civis_dyn.Response({"id": 3})
    assert asyncio.run(mocked(3)).id == 3
    mocked.assert_awaited_once_with(3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        mocked(3, nope=1)
    sync = create_client_mock(str(mini_spec_path))
    from unittest import mock

    assert isinstance(mocked, mock.AsyncMock)
    assert not isinstance(getattr(getattr(sync, resource), method), mock.AsyncMock)
    # the client's own coroutines and civis-python's helpers are awaited on the async mock
    client.get_database_id.return_value = 5
    assert asyncio.run(client.get_database_id("db")) == 5
    asyncio.run(client.aclose())
    client.aclose.assert_awaited_once_with()
    assert not isinstance(sync.get_database_id, mock.AsyncMock)
    # the run methods and conveniences are awaited too; follow_logs is an async iterator
    aio_jobs, sync_jobs = create_client_mock(asynchronous=True).jobs, create_client_mock().jobs
    for name in ("run", "run_and_wait", "watch_run", "cancel_runs", "get_id"):
        assert isinstance(getattr(aio_jobs, name), mock.AsyncMock), name
        assert not isinstance(getattr(sync_jobs, name), mock.AsyncMock), name
    assert not isinstance(aio_jobs.follow_logs, mock.AsyncMock)
    aio_jobs.run_and_wait.return_value = civis_dyn.Response({"state": "succeeded"})
    assert asyncio.run(aio_jobs.run_and_wait(1)).state == "succeeded"
    with pytest.raises(TypeError):
        aio_jobs.run_and_wait()  # the signature is checked: 'id' is required
