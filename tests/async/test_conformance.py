"""The same behaviour from APIClient and AsyncAPIClient: one test, both clients.

Every test takes the ``caller`` fixture, parametrized over the blocking client,
the async client over real HTTP (aiohttp, to the LocalCivisAPI on 127.0.0.1)
and the async client over the in-process transport. ``caller.call(...)`` runs
one API call and returns its result (through ``asyncio.run`` for the async
client), ``caller.items(...)`` iterates a paginated call (``async for``).
No pytest plugin is needed.
"""

import asyncio
import importlib.util

import pytest

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn.testing import LocalCivisAPI

HAVE_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
FAST = RetryPolicy(backoff_base=0.0, backoff_max=0.0)


def _settings(api, *overrides):
    settings = {"api_key": api.api_key, "base_url": api.url, "local_api_spec": api.spec,
                "retries": FAST}
    for more in overrides:
        settings.update(more)
    return settings


class SyncCaller:
    """Runs calls on an :class:`civis_dyn.APIClient`."""

    kind = "sync"

    def __init__(self, api, **kwargs):
        self.api = api
        self.make = lambda **extra: civis_dyn.APIClient(**_settings(api, kwargs, extra))
        self.client = self.make()

    def call(self, resource, method, *args, client=None, **kwargs):
        return getattr(getattr(client or self.client, resource), method)(*args, **kwargs)

    def items(self, resource, method, *args, **kwargs):
        pages = self.call(resource, method, *args, iterator=True, **kwargs)
        return list(pages), pages.pages_fetched

    def close(self):
        self.client.close()


class AsyncCaller:
    """Runs calls on an :class:`civis_dyn.AsyncAPIClient`, each in ``asyncio.run``."""

    kind = "async"

    def __init__(self, api, in_process=False, **kwargs):
        self.api = api

        def make(**extra):
            if in_process:
                extra.setdefault("transport", api.transport())
            return civis_dyn.AsyncAPIClient(**_settings(api, kwargs, extra))

        self.make = make
        self.client = make()

    def call(self, resource, method, *args, client=None, **kwargs):
        client = client or self.client

        async def run():
            try:
                return await getattr(getattr(client, resource), method)(*args, **kwargs)
            finally:
                await client.aclose()  # the session belongs to this event loop

        return asyncio.run(run())

    def items(self, resource, method, *args, **kwargs):
        async def run():
            try:
                pages = getattr(getattr(self.client, resource), method)(*args, iterator=True,
                                                                       **kwargs)
                return [item async for item in pages], pages.pages_fetched
            finally:
                await self.client.aclose()

        return asyncio.run(run())

    def close(self):
        pass


CALLERS = [
    pytest.param("sync", id="sync"),
    pytest.param("async-http", id="async-http",
                 marks=pytest.mark.skipif(not HAVE_AIOHTTP, reason="aiohttp not installed "
                                          "(pip install civis-dyn[async])")),
    pytest.param("async-inprocess", id="async-inprocess"),
]


@pytest.fixture(scope="module")
def api():
    with LocalCivisAPI(faults=None) as local:
        local.faults.retry_after = 0
        yield local


@pytest.fixture(params=CALLERS)
def caller(request, api):
    api.faults.clear()
    kind = request.param
    made = (SyncCaller(api) if kind == "sync"
            else AsyncCaller(api, in_process=kind == "async-inprocess"))
    yield made
    made.close()


def test_post_then_get_round_trip(caller):
    made = caller.call("projects", "post", "conformance", description="both clients")
    got = caller.call("projects", "get", made.id)
    assert isinstance(got, civis_dyn.Response)
    assert (got.id, got.name, got.description) == (made.id, "conformance", "both clients")


def test_pagination_one_request_per_page(caller, api):
    tag = f"page-{caller.kind}-{id(caller)}"
    for i in range(7):
        caller.call("projects", "post", f"{tag} {i}", description="x")
    before = api.count("GET", "/projects")
    items, pages = caller.items("projects", "list", limit=3)
    assert len([p for p in items if p.name.startswith(tag)]) == 7
    assert pages == api.count("GET", "/projects") - before
    assert pages == -(-len(items) // 3)


def test_retries_a_503_on_get(caller, api):
    job = api.seed("/scripts/containers", {"name": "retried", "dockerImageName": "x"})
    api.faults.script("GET", f"/jobs/{job['id']}", [503, 503, None])
    before = api.count("GET", f"/jobs/{job['id']}")
    assert caller.call("jobs", "get", job["id"]).name == "retried"
    assert api.count("GET", f"/jobs/{job['id']}") - before == 3


def test_post_is_not_retried_after_a_502(caller, api):
    api.faults.script("POST", "/projects", [502])
    before = api.created("/projects")
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        caller.call("projects", "post", "never twice", description="x")
    assert info.value.status_code == 502
    assert api.created("/projects") == before


def test_gives_up_after_max_attempts(caller, api):
    job = api.seed("/scripts/containers", {"name": "down", "dockerImageName": "x"})
    api.faults.script("GET", f"/jobs/{job['id']}", [503] * 3)
    client = caller.make(retries=FAST.replace(max_attempts=2))
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        caller.call("jobs", "get", job["id"], client=client)
    assert info.value.status_code == 503


def test_not_found_maps_to_the_same_error(caller):
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        caller.call("jobs", "get", 987654)
    assert info.value.status_code == 404
    assert "/jobs/987654" in str(info.value)


def test_bad_key_is_a_key_error_that_never_shows_the_key(caller):
    client = caller.make(api_key="wrong-key-abcdef")
    with pytest.raises(civis_dyn.CivisAPIKeyError) as info:
        caller.call("projects", "list", client=client)
    assert "wrong-key-abcdef" not in repr(info.value) + str(info.value)


def test_argument_errors_are_the_same(caller):
    with pytest.raises(civis_dyn.ArgumentTypeError, match=r"jobs\.get\(\) got an unexpected "
                                                          r"keyword argument 'idd'"):
        caller.call("jobs", "get", 1, idd=2)
    with pytest.raises(civis_dyn.ArgumentTypeError, match=r"jobs\.get\(\) argument 'id'"):
        caller.call("jobs", "get", "one")


def test_no_key_refuses_before_sending(caller, api, monkeypatch):
    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    if caller.kind == "async" and getattr(caller.client.meta.transport, "networked", True) is False:
        pytest.skip("an in-process transport needs no key (networked = False), as for APIClient")
    before = len(api.requests)
    client = caller.make(api_key="")
    with pytest.raises(civis_dyn.MissingAPIKeyError):
        caller.call("projects", "list", client=client)
    assert len(api.requests) == before


def test_plain_http_to_another_host_is_refused(caller):
    if caller.kind == "async" and getattr(caller.client.meta.transport, "networked", True) is False:
        pytest.skip("an in-process transport sends nothing over a network")
    client = caller.make(base_url="http://api.example.test/")
    with pytest.raises(civis_dyn.InsecureTransportError):
        caller.call("projects", "list", client=client)


def test_raw_return_type_gives_the_http_response(caller):
    made = caller.call("projects", "post", "raw one", description="x")
    client = caller.make(return_type="raw")
    raw = caller.call("projects", "get", made.id, client=client)
    assert isinstance(raw, civis_dyn.HTTPResponse)
    assert raw.status_code == 200 and raw.json()["name"] == "raw one"


def test_connection_refused_is_a_connection_error(caller):
    if caller.kind == "async" and getattr(caller.client.meta.transport, "networked", True) is False:
        pytest.skip("an in-process transport has no connection to refuse")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    client = caller.make(base_url=f"http://127.0.0.1:{port}/")
    with pytest.raises(civis_dyn.CivisConnectionError) as info:
        caller.call("projects", "list", client=client)
    assert info.value.reason == "refused"


def test_both_transports_encode_a_query_alike():
    """The blocking and the asyncio transport send the same URL for the same params."""
    from civis_dyn._http import encode_query

    params = {"a": None, "b": True, "c": [1, 2], "d": "x y"}
    assert encode_query(params) == "b=True&c=1&c=2&d=x+y"
    import civis_dyn._async_transport as async_transport
    import civis_dyn._transport as sync_transport

    assert async_transport.encode_query is sync_transport.encode_query is encode_query


def _networked_only(caller):
    if caller.kind == "async" and getattr(caller.client.meta.transport, "networked", True) is False:
        pytest.skip("an in-process transport has no socket to time out or redirect over")


def test_a_silent_server_is_a_read_timeout(caller, api):
    _networked_only(caller)
    from civis_dyn.testing import Fault

    job = api.seed("/scripts/containers", {"name": "slow", "dockerImageName": "x"})
    api.faults.script("GET", f"/jobs/{job['id']}", [Fault("slow", delay=1.0)])
    client = caller.make(timeout=(2.0, 0.1), retries=FAST.replace(max_attempts=1))
    with pytest.raises(civis_dyn.CivisTimeoutError) as info:
        caller.call("jobs", "get", job["id"], client=client)
    assert info.value.reason == "timeout" and info.value.__cause__ is None


def test_same_origin_get_redirects_are_followed_and_others_refused(caller, api):
    _networked_only(caller)
    from civis_dyn.testing import Fault

    job = api.seed("/scripts/containers", {"name": "moved", "dockerImageName": "x"})
    here = f"{api.url}jobs/{job['id']}"
    api.faults.script("GET", "/jobs/987001", [Fault("answer", 302, body=b"",
                                                    headers={"Location": here})])
    assert caller.call("jobs", "get", 987001).name == "moved"
    api.faults.script("GET", "/jobs/987002", [Fault("answer", 302, body=b"", headers={
        "Location": "https://elsewhere.example.test/jobs/1"})])
    with pytest.raises(civis_dyn.RedirectError):
        caller.call("jobs", "get", 987002)


def test_the_calls_deadline_stops_the_retries(caller, api):
    """max_elapsed: no retry starts past the call's deadline (the same on both clients)."""
    _networked_only(caller)
    import time

    from civis_dyn.testing import Fault

    job = api.seed("/scripts/containers", {"name": "flaky", "dockerImageName": "x"})
    path = f"/jobs/{job['id']}"
    api.faults.script("GET", path, [Fault("slow", delay=0.5)] * 20)
    client = caller.make(retries=FAST.replace(max_attempts=20, max_elapsed=0.25),
                         timeout=(2.0, 0.1))
    started = time.monotonic()
    with pytest.raises(civis_dyn.CivisTimeoutError):
        caller.call("jobs", "get", job["id"], client=client)
    elapsed = time.monotonic() - started
    attempts = 20 - api.faults.pending("GET", path)  # each attempt took one scripted fault
    api.faults.clear()
    # the pipeline gives each attempt at most what is left of the deadline, so the call
    # ends soon after 0.25 s, having made far fewer than the 20 attempts allowed
    assert 1 <= attempts < 20 and elapsed < 1.5
