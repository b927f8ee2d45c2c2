"""100 concurrent ``jobs.get`` at 20 ms server latency: AsyncAPIClient vs the blocking client.

Usage::

    python bench/async_bench.py                 # 100 calls, 20 ms latency
    python bench/async_bench.py --calls 50 --latency 0.01 --transports aiohttp

Starts bench/_servers.py's asyncio canned server on 127.0.0.1 (or, with
``--local-api``, the embedded LocalCivisAPI) answering after ``--latency``
seconds, then times, for the same ``jobs.get`` call:

* async, sequential: ``await`` one call after the other (one thread);
* async, concurrent: ``asyncio.gather`` of every call (one thread);
* sync, sequential: the blocking :class:`civis_dyn.APIClient`;
* sync, 16 threads: the blocking client from a 16-thread pool;

for each async transport measured (aiohttp, and httpx when installed; the
httpx transport here exists for this comparison only), and the memory per
request in flight (tracemalloc's peak during the concurrent run, divided by
the number of calls). Ratios are printed, never asserted.
"""

import argparse
import asyncio
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import civis_dyn
from civis_dyn import HTTPResponse
from civis_dyn._http import Headers
from civis_dyn.testing import LocalCivisAPI


class HttpxTransport:
    """An AsyncTransport over httpx.AsyncClient (for the comparison only)."""

    def __init__(self, pool_size=100):
        import httpx

        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=pool_size),
                                         follow_redirects=False, trust_env=False)

    async def send(self, request):
        import httpx

        from civis_dyn._async_transport import query_string

        connect, read = request.timeout
        query = query_string(request.params)
        url = f"{request.url}?{query}" if query else request.url
        try:
            response = await self._client.request(
                request.method, url, content=request.body, headers=dict(request.headers),
                timeout=httpx.Timeout(read, connect=connect))
        except httpx.HTTPError as exc:
            raise civis_dyn.CivisConnectionError(f"{type(exc).__name__}: {exc}",
                                                 reason="reset", sent=True) from None
        return HTTPResponse(response.status_code, Headers(response.headers.items()),
                            response.content, str(response.url), response.reason_phrase)

    async def aclose(self):
        await self._client.aclose()


def _transport(name, calls):
    if name == "aiohttp":
        from civis_dyn._async_transport import AiohttpTransport

        return AiohttpTransport(pool_size=max(calls, 1))
    return HttpxTransport(pool_size=max(calls, 1))


def _async_client(api, transport):
    return civis_dyn.AsyncAPIClient(api_key=api.api_key, base_url=api.url,
                                    local_api_spec=api.spec, transport=transport)


async def _async_run(api, name, job_id, calls):
    async with _async_client(api, _transport(name, calls)) as client:
        await client.jobs.get(job_id)  # warm: connection, resource class
        started = time.perf_counter()
        for _ in range(calls):
            await client.jobs.get(job_id)
        sequential = time.perf_counter() - started
        await asyncio.gather(*(client.jobs.get(job_id) for _ in range(calls)))  # open the pool
        started = time.perf_counter()
        results = await asyncio.gather(*(client.jobs.get(job_id) for _ in range(calls)))
        concurrent = time.perf_counter() - started
        assert all(r.id == job_id for r in results)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await asyncio.gather(*(client.jobs.get(job_id) for _ in range(calls)))
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return sequential, concurrent, peak / calls


def _sync_run(api, job_id, calls, threads):
    client = civis_dyn.APIClient(api_key=api.api_key, base_url=api.url, local_api_spec=api.spec)
    with client:
        client.jobs.get(job_id)
        started = time.perf_counter()
        for _ in range(calls):
            client.jobs.get(job_id)
        sequential = time.perf_counter() - started
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: client.jobs.get(job_id), range(threads)))  # warm the pool
            started = time.perf_counter()
            list(pool.map(lambda _: client.jobs.get(job_id), range(calls)))
            threaded = time.perf_counter() - started
    return sequential, threaded


class _CannedAPI:
    """bench/_servers.py's asyncio CannedAPIServer answering ``GET /jobs/1`` (cheap per request)."""

    job_id = 1

    def __init__(self, latency):
        import json
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _servers import CannedAPIServer

        from civis_dyn.testing._local_api import _load_spec

        body = json.dumps({"id": 1, "name": "bench", "type": "JobTypes::ContainerDocker",
                           "state": "idle"}).encode()
        self.api_key = "bench-key"
        self.spec = _load_spec(None)[0]
        self._server = CannedAPIServer({("GET", "/jobs/1"): (body, {})}, latency=latency).start()
        self.url = self._server.url

    def close(self):
        self._server.stop()


def measure(calls=100, latency=0.02, threads=16, transports=("aiohttp", "httpx"),
            local_api=False):
    """Run every measurement; return ``{label: seconds or bytes}``.

    The server is the asyncio canned server of ``bench/_servers.py`` (its
    per-request work is tiny, so the figures are the client's), or with
    ``local_api`` the embedded LocalCivisAPI (a threading server whose
    per-request work shares this process's GIL and caps the concurrent rate).
    """
    figures = {}
    if not local_api:
        api = _CannedAPI(latency)
        try:
            return _measure(api, api.job_id, calls, threads, transports, figures)
        finally:
            api.close()
    with LocalCivisAPI() as api:
        job_id = api.seed("/scripts/containers", {"name": "bench", "dockerImageName": "x"})["id"]
        api.faults.latency = latency
        return _measure(api, job_id, calls, threads, transports, figures)


def _measure(api, job_id, calls, threads, transports, figures):
    if True:
        for name in transports:
            try:
                seq, conc, per_request = asyncio.run(_async_run(api, name, job_id, calls))
            except ImportError:
                continue
            figures[f"async {name} sequential"] = seq
            figures[f"async {name} concurrent"] = conc
            figures[f"async {name} bytes per request in flight"] = per_request
        seq, threaded = _sync_run(api, job_id, calls, threads)
        figures["sync sequential"] = seq
        figures[f"sync {threads} threads"] = threaded
    return figures


def report(figures, calls, threads):
    """The figures as printed lines, with the rates and ratios."""
    lines = []
    for label, value in figures.items():
        if label.endswith("in flight"):
            lines.append(f"{label:45s} {value / 1024:8.1f} KiB")
        else:
            lines.append(f"{label:45s} {value * 1000:8.1f} ms  ({calls / value:7.1f} calls/s)")
    for label in figures:
        if label.endswith("concurrent"):
            name = label.split()[1]
            seq = figures[f"async {name} sequential"]
            lines.append(f"async {name}: concurrent / sequential rate: "
                         f"{seq / figures[label]:.1f}x; vs sync {threads} threads: "
                         f"{figures[f'sync {threads} threads'] / figures[label]:.1f}x")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--transports", nargs="+", default=["aiohttp", "httpx"])
    parser.add_argument("--local-api", action="store_true",
                        help="serve from the embedded LocalCivisAPI instead of the canned server")
    args = parser.parse_args(argv)
    figures = measure(args.calls, args.latency, args.threads, tuple(args.transports),
                      args.local_api)
    print(f"{args.calls} x jobs.get at {args.latency * 1000:.0f} ms server latency")
    for line in report(figures, args.calls, args.threads):
        print(line)


if __name__ == "__main__":
    main()
