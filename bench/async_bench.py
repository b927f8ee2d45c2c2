"""100 concurrent ``jobs.get`` at 20 ms server latency: AsyncAPIClient vs the blocking client.

Usage::

    python bench/async_bench.py                 # 100 calls, 20 ms latency, best of 5
    python bench/async_bench.py --calls 50 --latency 0.01 --transports aiohttp --repeat 3

Starts bench/_servers.py's asyncio canned server on 127.0.0.1 **in a child
process** (so its CPU time does not share the client's interpreter: with both
in one process the server's work per request capped the concurrent rate), or,
with ``--local-api``, the embedded LocalCivisAPI in this process. The server
answers ``GET /jobs/1`` with fixed bytes after ``--latency`` seconds. Then,
``--repeat`` times, for the same ``jobs.get`` call:

* async, sequential: ``await`` one call after the other (one thread);
* async, concurrent: ``asyncio.gather`` of every call (one thread);
* sync, sequential: the blocking :class:`civis_dyn.APIClient`;
* sync, 16 threads: the blocking client from a 16-thread pool;

for each async transport measured (aiohttp, and httpx2 and httpx when
installed; their transport here exists for this comparison only). Also measured: the
client's CPU time per call (this process's :func:`time.process_time` over the
concurrent run: the server is elsewhere) and the memory per request in flight
(tracemalloc's peak during a concurrent run, divided by the number of calls).

What bounds the ratio: with latency ``L``, a sequential call takes ``s = L +
c_seq`` (the client's CPU plus timer and wake-up granularity) and ``n``
concurrent calls take ``L`` plus the CPU that cannot hide under the wait: the
``n`` sends (``n c / 2`` or so) overlap it, the ``n`` answers arriving from
``L`` on are processed one after the other. So the concurrent rate is at most
``1 / c`` (``n c`` of CPU in all), the ratio ``n s / (concurrent time)``, and
its ceiling with a free client ``n s / L`` (about 104x for n = 100 at 20 ms).
The report prints that arithmetic from the measured figures.
Figures are printed (best and range over the repeats), never asserted.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import civis_dyn
from civis_dyn import HTTPResponse
from civis_dyn._http import Headers
from civis_dyn.testing import LocalCivisAPI

BENCH = Path(__file__).resolve().parent


class HttpxTransport:
    """An AsyncTransport over ``httpx.AsyncClient`` or its fork ``httpx2`` (same API; for the
    comparison only)."""

    def __init__(self, pool_size=100, module="httpx"):
        import importlib

        self._httpx = httpx = importlib.import_module(module)
        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=pool_size),
                                         follow_redirects=False, trust_env=False)

    async def send(self, request):
        from civis_dyn._http import encode_query

        httpx = self._httpx

        connect, read = request.timeout
        query = encode_query(request.params)
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
    return HttpxTransport(pool_size=max(calls, 1), module=name)


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
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(client.jobs.get(job_id) for _ in range(calls)))
        concurrent = time.perf_counter() - started
        cpu = time.process_time() - cpu
        assert all(r.id == job_id for r in results)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        await asyncio.gather(*(client.jobs.get(job_id) for _ in range(calls)))
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return sequential, concurrent, cpu / calls, peak / calls


def _sync_run(api, job_id, calls, threads, sequential=True):
    client = civis_dyn.APIClient(api_key=api.api_key, base_url=api.url, local_api_spec=api.spec)
    with client:
        client.jobs.get(job_id)
        seq = None
        if sequential:
            started = time.perf_counter()
            for _ in range(calls):
                client.jobs.get(job_id)
            seq = time.perf_counter() - started
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: client.jobs.get(job_id), range(threads)))  # warm the pool
            started, cpu = time.perf_counter(), time.process_time()
            list(pool.map(lambda _: client.jobs.get(job_id), range(calls)))
            threaded = time.perf_counter() - started
            cpu = time.process_time() - cpu
    return seq, threaded, cpu / calls


def serve(latency):
    """``--serve``: run the canned server until stdin closes (the bench's child process)."""
    import json

    sys.path.insert(0, str(BENCH))
    from _servers import CannedAPIServer

    body = json.dumps({"id": 1, "name": "bench", "type": "JobTypes::ContainerDocker",
                       "state": "idle"}).encode()
    server = CannedAPIServer({("GET", "/jobs/1"): (body, {})}, latency=latency).start()
    print(server.url, flush=True)
    sys.stdin.read()
    server.stop()


class _CannedAPI:
    """The canned server answering ``GET /jobs/1``, in a child process (see :func:`serve`)."""

    job_id = 1

    def __init__(self, latency):
        from civis_dyn.testing._local_api import _load_spec

        self.api_key = "bench-key"
        self.spec = _load_spec(None)[0]
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(latency)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self._process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.close()
            raise RuntimeError("the canned server's process did not start")

    def close(self):
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck child
            self._process.kill()
            self._process.wait()


def measure(calls=100, latency=0.02, threads=16, transports=("aiohttp", "httpx2", "httpx"),
            local_api=False, repeat=1):
    """Run every measurement ``repeat`` times; return ``{label: [value per run]}``.

    Values are seconds, seconds of CPU per call, or bytes per request in flight.
    The server is the canned server in a child process (its per-request work
    never competes with the client's), or with ``local_api`` the embedded
    LocalCivisAPI (a threading server in this process, sharing its GIL).
    """
    if not local_api:
        api = _CannedAPI(latency)
        try:
            return _measure(api, api.job_id, calls, threads, transports, repeat)
        finally:
            api.close()
    with LocalCivisAPI() as api:
        job_id = api.seed("/scripts/containers", {"name": "bench", "dockerImageName": "x"})["id"]
        api.faults.latency = latency
        return _measure(api, job_id, calls, threads, transports, repeat)


def _measure(api, job_id, calls, threads, transports, repeat):
    figures = {}

    def add(label, value):
        figures.setdefault(label, []).append(value)

    for run in range(repeat):  # interleaved, so a busy moment of the machine hits every row
        for name in transports:
            try:
                seq, conc, cpu, per_request = asyncio.run(_async_run(api, name, job_id, calls))
            except ImportError:
                continue
            add(f"async {name} sequential", seq)
            add(f"async {name} concurrent", conc)
            add(f"async {name} ratio", seq / conc)
            add(f"async {name} CPU per call", cpu)
            add(f"async {name} bytes per request in flight", per_request)
        # the blocking client's sequential run takes calls x latency: twice at most
        seq, threaded, cpu = _sync_run(api, job_id, calls, threads, sequential=run < 2)
        if seq is not None:
            add("sync sequential", seq)
        add(f"sync {threads} threads", threaded)
        add(f"sync {threads} threads CPU per call", cpu)
    return figures


def report(figures, calls, threads, latency=0.02):
    """The figures as printed lines: best (and range) of each, rates, ratios and the bound."""
    lines = []
    for label, values in figures.items():
        values = values if isinstance(values, list) else [values]
        best, worst = min(values), max(values)
        if label.endswith("ratio"):
            best, worst = max(values), min(values)
            median = statistics.median(values)
            lines.append(f"{label:45s} {best:8.1f}x best, median {median:.1f}x, "
                         f"range {worst:.1f}-{best:.1f}x")
        elif label.endswith("in flight"):
            lines.append(f"{label:45s} {best / 1024:8.1f} KiB")
        elif label.endswith("CPU per call"):
            lines.append(f"{label:45s} {best * 1e6:8.0f} us  (range {best * 1e6:.0f}-"
                         f"{worst * 1e6:.0f} us)")
        else:
            lines.append(f"{label:45s} {best * 1000:8.1f} ms  ({calls / best:7.1f} calls/s; "
                         f"range {best * 1000:.1f}-{worst * 1000:.1f} ms)")
    for label, values in figures.items():
        if label.endswith(" CPU per call") and label.startswith("async"):
            name = label.split()[1]
            cpu = statistics.median(values)
            seq = min(figures[f"async {name} sequential"]) / calls
            conc = min(figures[f"async {name} concurrent"])
            sync = min(figures[f"sync {threads} threads"])
            ms = 1000
            lines.append(
                f"async {name}: sequential {seq * ms:.2f} ms/call = {latency * ms:.0f} ms latency "
                f"+ {(seq - latency) * ms:.2f} ms; concurrent {conc * ms:.1f} ms = "
                f"{latency * ms:.0f} ms + {(conc - latency) * ms:.1f} ms; client CPU "
                f"{cpu * 1e6:.0f} us/call x {calls} = {calls * cpu * ms:.1f} ms in all (rate "
                f"<= 1/cpu = {1 / cpu:.0f} calls/s), the sends under the wait; ratio {calls} x "
                f"{seq * ms:.2f} / {conc * ms:.1f} = {calls * seq / conc:.1f}x; ceiling with no "
                f"client CPU {calls} x {seq * ms:.2f} / {latency * ms:.0f} = "
                f"{calls * seq / latency:.0f}x" if latency else
                f"async {name}: client CPU {cpu * 1e6:.0f} us/call (rate <= {1 / cpu:.0f} calls/s)")
            lines.append(f"async {name} vs sync {threads} threads: {sync / conc:.1f}x faster")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--transports", nargs="+", default=["aiohttp", "httpx2", "httpx"])
    parser.add_argument("--local-api", action="store_true",
                        help="serve from the embedded LocalCivisAPI instead of the canned server")
    parser.add_argument("--serve", type=float, metavar="LATENCY", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        return serve(args.serve)
    figures = measure(args.calls, args.latency, args.threads, tuple(args.transports),
                      args.local_api, args.repeat)
    print(f"{args.calls} x jobs.get at {args.latency * 1000:.0f} ms server latency, "
          f"best of {args.repeat}")
    for line in report(figures, args.calls, args.threads, args.latency):
        print(line)


if __name__ == "__main__":
    main()
