"""``async for`` with ``prefetch=n``: pages fetched ahead, one request per page, errors in place.

Against LocalCivisAPI (real HTTP on 127.0.0.1 through aiohttp, and in process),
the Stubber, and a fetch function whose pages are released by the test (the
overlap shown by events, never by timing).
"""

import asyncio
import importlib.util

import pytest

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn._async_pages import AsyncPaginatedResponse
from civis_dyn.testing import LocalCivisAPI, Stubber

HAVE_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
FAST = RetryPolicy(max_attempts=1, backoff_base=0.0, backoff_max=0.0)
PROJECTS = 7  # 4 pages of 2


@pytest.fixture(scope="module")
def api():
    with LocalCivisAPI() as local:
        for i in range(PROJECTS):
            local.seed("/projects", {"name": f"prefetch {i}"})
        yield local


def _client(api, transport):
    settings = {"api_key": api.api_key, "base_url": api.url, "local_api_spec": api.spec,
                "retries": FAST}
    if transport == "in-process":
        settings["transport"] = api.transport()
    return civis_dyn.AsyncAPIClient(**settings)


TRANSPORTS = [pytest.param("http", marks=pytest.mark.skipif(not HAVE_AIOHTTP,
                                                            reason="aiohttp not installed")),
              "in-process"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("prefetch", [0, 1, 3])
def test_same_items_and_one_request_per_page(api, transport, prefetch):
    async def run():
        async with _client(api, transport) as client:
            before = api.count("GET", "/projects")
            pages = client.projects.list(iterator=True, limit=2, prefetch=prefetch)
            names = [p.name async for p in pages]
            return names, pages.pages_fetched, api.count("GET", "/projects") - before

    names, fetched, requests = asyncio.run(run())
    assert sorted(n for n in names if n.startswith("prefetch")) == \
        [f"prefetch {i}" for i in range(PROJECTS)]
    pages = -(-len(names) // 2)
    assert fetched == requests == pages  # never a page past the announced last one


def test_prefetch_is_checked_and_only_for_iterators(api):
    client = _client(api, "in-process")
    with pytest.raises(civis_dyn.ArgumentValueError, match="'prefetch' must be >= 0"):
        client.projects.list(iterator=True, prefetch=-1)
    with pytest.raises(civis_dyn.ArgumentTypeError, match="'prefetch' must be an int"):
        client.projects.list(iterator=True, prefetch="1")
    with pytest.raises(TypeError, match="prefetch"):
        asyncio.run(client.projects.list(prefetch=1))  # not an iterator: an unknown argument


class _Pages:
    """``fetch_page`` whose pages the test releases one by one; records what was asked."""

    def __init__(self, total=3, fail=None):
        self.total = total
        self.fail = fail
        self.asked = []
        self.release = {}
        self.asked_event = {}

    def gate(self, page):
        return self.release.setdefault(page, asyncio.Event())

    def was_asked(self, page):
        return self.asked_event.setdefault(page, asyncio.Event())

    async def __call__(self, page):
        self.asked.append(page)
        self.was_asked(page).set()
        await self.gate(page).wait()
        if page == self.fail:
            raise RuntimeError(f"page {page} failed")
        return ([{"id": page * 10 + i} for i in range(2)],
                {"X-Pagination-Total-Pages": str(self.total)})


def test_the_next_page_is_fetched_while_the_caller_holds_the_current_one():
    async def run(prefetch):
        fetch = _Pages()
        pages = AsyncPaginatedResponse(fetch, prefetch=prefetch)
        fetch.gate(1).set()
        first = await pages.__anext__()
        if prefetch:
            await asyncio.wait_for(fetch.was_asked(2).wait(), 5)  # asked before we need it
        else:
            for _ in range(5):
                await asyncio.sleep(0)  # let any stray task run: none must ask page 2
            assert fetch.asked == [1]
        for page in (2, 3):
            fetch.gate(page).set()
        rest = [item.id async for item in pages]
        return first.id, rest, fetch.asked

    assert asyncio.run(run(1)) == (10, [11, 20, 21, 30, 31], [1, 2, 3])
    assert asyncio.run(run(0)) == (10, [11, 20, 21, 30, 31], [1, 2, 3])


def test_a_failed_page_raises_where_the_iteration_reaches_it():
    async def run():
        fetch = _Pages(total=3, fail=2)
        for page in (1, 2, 3):
            fetch.gate(page).set()
        pages = AsyncPaginatedResponse(fetch, prefetch=2)
        got = []
        with pytest.raises(RuntimeError, match="page 2 failed"):
            async for item in pages:
                got.append(item.id)
        return got

    loop_errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: loop_errors.append(ctx))
        return await run()

    assert asyncio.run(main()) == [10, 11]  # every item before the failed page, then the error
    assert loop_errors == []  # the failure was raised, not logged as a lost task exception


def test_ending_early_cancels_the_pages_fetched_ahead():
    async def run():
        fetch = _Pages(total=5)
        fetch.gate(1).set()
        pages = AsyncPaginatedResponse(fetch, prefetch=2)
        await pages.__anext__()
        await asyncio.wait_for(fetch.was_asked(3).wait(), 5)
        ahead = list(pages._ahead.values())
        await pages.aclose()
        return all(task.cancelled() for task in ahead), fetch.asked

    cancelled, asked = asyncio.run(run())
    assert cancelled and asked == [1, 2, 3]  # never more than prefetch pages ahead


def test_with_the_stubber_the_error_of_a_prefetched_page_comes_after_the_page_before(
        mini_spec_path):
    client = civis_dyn.AsyncAPIClient("key", local_api_spec=str(mini_spec_path),
                                      base_url="https://api.example.test/", retries=FAST)
    spec = client.meta.spec
    resource, method = next((r, m) for r in spec.index for m in spec.index[r]
                            if spec.operation(r, m).paginated
                            and not [p for p in spec.operation(r, m).parameters if p.required])
    label = f"{resource}.{method}"
    with Stubber(client) as stubber:
        stubber.add_response(label, [{"id": 1}, {"id": 2}],
                             headers={"X-Pagination-Total-Pages": "2"})
        stubber.add_client_error(label, 503, "page 2 is down")

        async def run():
            got = []
            with pytest.raises(civis_dyn.CivisAPIError, match="page 2 is down"):
                async for item in getattr(getattr(client, resource), method)(iterator=True,
                                                                            prefetch=1):
                    got.append(item.id)
            return got

        assert asyncio.run(run()) == [1, 2]
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("prefetch", [0, 1])
def test_without_a_total_header_prefetch_1_asks_for_the_same_pages(prefetch):
    asked = []

    async def fetch(page):  # full pages of 2, then a short one; no total announced
        asked.append(page)
        items = [{"id": page * 10 + i} for i in range(2 if page < 3 else 1)]
        return items, {"X-Pagination-Per-Page": "2"}

    async def run():
        pages = AsyncPaginatedResponse(fetch, prefetch=prefetch)
        return [item.id async for item in pages]

    assert asyncio.run(run()) == [10, 11, 20, 21, 30]
    assert asked == [1, 2, 3]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_http_error_on_a_prefetched_page_raises_after_the_page_before(api, transport):
    """LocalCivisAPI answers page 2 with a 404 (not retried): page 1's items come first."""
    async def run():
        async with _client(api, transport) as client:
            api.faults.clear()
            api.faults.script("GET", "/projects", [None, 404])
            got = []
            with pytest.raises(civis_dyn.CivisAPIError) as info:
                async for project in client.projects.list(iterator=True, limit=2, prefetch=1):
                    got.append(project.id)
            return got, info.value.status_code

    try:
        got, status = asyncio.run(run())
    finally:
        api.faults.clear()
    assert len(got) == 2 and status == 404
