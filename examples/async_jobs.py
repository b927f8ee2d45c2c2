"""Async: many calls at once from one thread with ``AsyncAPIClient``, pages, runs and lookups."""
import asyncio
import importlib.util
import os

import civis_dyn


async def main(client, local):
    if local is not None:  # give the local API some jobs to read
        for i in range(20):
            local.seed("/scripts/containers", {"name": f"async example {i}",
                                               "dockerImageName": "civisanalytics/datascience-python"})
    # pages: one request each; prefetch=1 fetches the next page while this one is used
    ids = [job.id async for job in client.jobs.list(iterator=True, limit=10, prefetch=1)]
    jobs = await asyncio.gather(*(client.jobs.get(job_id) for job_id in ids))  # concurrently
    print(f"fetched {len(jobs)} jobs concurrently; first: {jobs[0].name}")
    print(f"signed in as {await client.username}")  # civis-python's helpers are awaited
    if local is None:
        return  # the runs below would start real jobs on your account
    job_id = await client.jobs.get_id("async example 0")  # the conveniences too
    future = await client.jobs.run(job_id, polling_interval=0.05)  # an AsyncRunFuture
    final = await future
    print(f"run {final.id} of job {job_id}: {final.state}")
    async for entry in client.jobs.follow_logs(job_id, final.id, polling_interval=0.05):
        print(f"  log: {entry.message}")
        break


async def run():
    if os.environ.get("CIVIS_API_KEY"):  # your account
        async with civis_dyn.AsyncAPIClient() as client:
            await main(client, None)
        return
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.05, 0.1)) as local:
        # over HTTP with aiohttp (pip install civis-dyn[async]), else in process
        transport = None if importlib.util.find_spec("aiohttp") else local.transport()
        async with civis_dyn.AsyncAPIClient(local.api_key, base_url=local.url,
                                            local_api_spec=local.spec,
                                            transport=transport) as client:
            await main(client, local)


asyncio.run(run())
