"""Async: many calls at once from one thread with ``AsyncAPIClient``, and ``async for`` pages."""
import asyncio
import importlib.util
import os

import civis_dyn


async def main(client, local):
    if local is not None:  # give the local API some jobs to read
        for i in range(20):
            local.seed("/scripts/containers", {"name": f"async example {i}",
                                               "dockerImageName": "civisanalytics/datascience-python"})
    ids = [job.id async for job in client.jobs.list(iterator=True, limit=10)]
    jobs = await asyncio.gather(*(client.jobs.get(job_id) for job_id in ids))  # concurrently
    print(f"fetched {len(jobs)} jobs concurrently; first: {jobs[0].name}")


async def run():
    if os.environ.get("CIVIS_API_KEY"):  # your account
        async with civis_dyn.AsyncAPIClient() as client:
            await main(client, None)
        return
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI() as local:
        # over HTTP with aiohttp (pip install civis-dyn[async]), else in process
        transport = None if importlib.util.find_spec("aiohttp") else local.transport()
        async with civis_dyn.AsyncAPIClient(local.api_key, base_url=local.url,
                                            local_api_spec=local.spec,
                                            transport=transport) as client:
            await main(client, local)


asyncio.run(run())
