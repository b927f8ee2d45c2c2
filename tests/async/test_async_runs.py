"""``await client.<resource>.run_and_wait(...)`` and ``async for ... follow_logs(...)`` on LocalCivisAPI."""

import asyncio
import concurrent.futures
import importlib.util

import pytest

import civis_dyn
from civis_dyn.testing import LocalCivisAPI


@pytest.fixture(scope="module")
def api():
    with LocalCivisAPI(run_delays=(0.02, 0.05)) as local:
        yield local


def _client(api, over_http=False):
    transport = None if over_http else api.transport()  # None: aiohttp to 127.0.0.1
    return civis_dyn.AsyncAPIClient(api.api_key, base_url=api.url, local_api_spec=api.spec,
                                    transport=transport)


HTTP = [False, pytest.param(True, id="http", marks=pytest.mark.skipif(
    importlib.util.find_spec("aiohttp") is None, reason="aiohttp not installed"))]


def _container(api, name):
    return api.seed("/scripts/containers", {"name": name, "dockerImageName": "x",
                                            "dockerCommand": "echo"})["id"]


def test_run_and_wait_succeeds_and_reports_state_changes(api):
    job_id = _container(api, "async ok")
    seen = []

    async def run():
        async with _client(api) as client:
            assert "run_and_wait" in dir(client.jobs)
            return await client.jobs.run_and_wait(job_id, polling_interval=0.01,
                                                  callback=lambda r: seen.append(r.state))

    final = asyncio.run(run())
    assert final.state == "succeeded"
    assert seen[-1] == "succeeded" and len(seen) == len(set(seen))


def test_run_and_wait_failure_raises_job_failure(api):
    job_id = _container(api, "async fail")

    async def run():
        async with _client(api) as client:
            await client.jobs.run_and_wait(job_id, polling_interval=0.01)

    with pytest.raises(civis_dyn.CivisJobFailure) as info:
        asyncio.run(run())
    assert info.value.job_id == job_id


def test_run_and_wait_timeout(api):
    job_id = _container(api, "async slow")
    api.run_delays = (5, 5)
    try:
        async def run():
            async with _client(api) as client:
                await client.jobs.run_and_wait(job_id, polling_interval=0.01, timeout=0.05)

        with pytest.raises(civis_dyn.CivisRunTimeoutError):
            asyncio.run(run())
    finally:
        api.run_delays = (0.02, 0.05)


@pytest.mark.parametrize("over_http", HTTP)
def test_cancelling_the_task_cancels_the_run_when_asked(api, over_http):
    api.run_delays = (5, 5)
    try:
        for cancel_on_cancel, expected in ((True, 1), (False, 0)):
            job_id = _container(api, f"async cancel {cancel_on_cancel}")

            async def run():
                async with _client(api, over_http) as client:
                    polled = asyncio.Event()
                    task = asyncio.ensure_future(client.jobs.run_and_wait(
                        job_id, polling_interval=0.01, cancel_on_cancel=cancel_on_cancel,
                        callback=lambda run: polled.set()))
                    await polled.wait()  # the run started and was read once
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task

            before = api.count("DELETE")
            asyncio.run(run())
            assert api.count("DELETE") - before == expected
    finally:
        api.run_delays = (0.02, 0.05)


def test_follow_logs_is_an_async_iterator(api):
    job_id = _container(api, "async logs")

    async def run():
        async with _client(api) as client:
            final = await client.jobs.run_and_wait(job_id, polling_interval=0.01)
            return final, [e async for e in client.jobs.follow_logs(job_id, final.id,
                                                                  polling_interval=0.01)]

    final, entries = asyncio.run(run())
    ids = [e.id for e in entries]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize("over_http", HTTP)
def test_cancelling_a_task_awaiting_a_run_future(api, over_http):
    """A run() future: cancel_on_cancel cancels the run; without it the future polls on."""
    api.run_delays = (5, 5)
    try:
        for cancel_on_cancel in (True, False):
            job_id = _container(api, f"async future cancel {cancel_on_cancel}")

            async def run():
                async with _client(api, over_http) as client:
                    polled = asyncio.Event()
                    future = await client.jobs.run(job_id, polling_interval=0.01,
                                                   cancel_on_cancel=cancel_on_cancel,
                                                   on_state_change=lambda run: polled.set())
                    waiter = asyncio.ensure_future(future)
                    await polled.wait()
                    waiter.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await waiter
                    if cancel_on_cancel:
                        with pytest.raises(concurrent.futures.CancelledError):
                            await future  # the run was cancelled on the server
                        return True
                    polls = api.count("GET")

                    async def polled_again():
                        while api.count("GET") == polls:
                            await asyncio.sleep(0.01)

                    await asyncio.wait_for(polled_again(), 10)  # still polled
                    assert not future.done()
                    return await future.cancel()  # tidy up: the one DELETE of this case

            before = api.count("DELETE")
            assert asyncio.run(run())
            assert api.count("DELETE") - before == 1
    finally:
        api.run_delays = (0.02, 0.05)


def test_run_and_wait_cancel_stops_polling_without_cancel_on_cancel(api):
    api.run_delays = (5, 5)
    try:
        job_id = _container(api, "async stop polling")

        async def run():
            async with _client(api) as client:
                polled = asyncio.Event()
                task = asyncio.ensure_future(client.jobs.run_and_wait(
                    job_id, polling_interval=0.01, callback=lambda run: polled.set()))
                await polled.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                gets = api.count("GET")
                await asyncio.sleep(0.05)  # would be several polls if it went on
                return api.count("GET") - gets

        assert asyncio.run(run()) == 0
    finally:
        api.run_delays = (0.02, 0.05)


def test_a_failed_run_future_raises_the_job_failure_with_its_logs(api):
    job_id = _container(api, "async future fail")

    async def run():
        async with _client(api) as client:
            future = await client.jobs.run(job_id, polling_interval=0.01)
            with pytest.raises(civis_dyn.CivisJobFailure) as info:
                await future
            return info.value, future.exception()

    failure, exception = asyncio.run(run())
    assert failure is exception and failure.job_id == job_id
