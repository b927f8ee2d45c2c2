"""The benchmarks: one function per metric measures one round for one client.

Each ``measure_*`` function returns a dict of plain numbers for that round;
``bench/run.py`` calls them round after round, alternating which client goes
first, and keeps every round's dict. Baselines (``import requests``,
``json.load``, a bare ``requests.Session``...) are measured by the same
function, in the same environment and next to the client, so each ratio
compares figures taken moments apart on the same machine.

What each measurement does, exactly, is in :mod:`_worker` (client side) and in
the docstrings below (the orchestrator's side).
"""

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _measure import clean_env, median, ordered, run_process, run_worker

__all__ = ["Context", "MEASUREMENTS", "Settings", "warm_up"]

API_KEY = "bench-key-0123456789"  # the canned server ignores it; LocalCivisAPI has its own
# timed around the import statement alone; the peak RSS is VmHWM (see _worker.peak_rss_kib)
IMPORT_CODE = ("import time; t0 = time.perf_counter(); import {module}; "
               "t1 = time.perf_counter(); "
               "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')]; "
               "print('BENCH-IMPORT', t1 - t0, hwm[0] if hwm else -1)")


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure (see :data:`FULL` and :data:`QUICK`)."""

    rounds: int
    import_repeats: int        # import processes per client per round
    block_seconds: float       # one calls/s block
    blocks: int                # calls/s blocks per client per round (A/B interleaved)
    thread_seconds: float      # one 1-thread or 4-thread run at 20 ms latency
    thread_blocks: int
    wrap_repeats: int
    futures: int               # concurrent run futures
    list_size: int = 50        # objects returned by jobs.list()
    page_size: int = 1000      # objects in the page that is wrapped
    page_limit: int = 50       # page size when iterating every page (the schema's maximum)
    total_jobs: int = 1000     # jobs in the local API: total_jobs / page_limit full pages
    latency: float = 0.020     # seconds, for 4 threads vs 1
    canned_pages: int = 20     # pages of list_size objects, iterated against a hand-written loop
    gc_pages: int = 20         # pages of page_size objects through PaginatedResponse (no network)


FULL = Settings(rounds=5, import_repeats=3, block_seconds=0.1, blocks=10, thread_seconds=0.3,
                thread_blocks=1, wrap_repeats=15, futures=1000)
QUICK = Settings(rounds=1, import_repeats=3, block_seconds=0.1, blocks=6, thread_seconds=0.25,
                 thread_blocks=1, wrap_repeats=9, futures=200)


@dataclass
class Context:
    """Everything a measurement needs: schema, clients, servers, scratch folders."""

    spec: str
    clients: list
    settings: Settings
    scratch: Path
    canned: object = None          # CannedAPIServer
    api: object = None             # LocalCivisAPI
    page_path: str = None

    @property
    def home(self):
        return self.scratch / "home"           # HOME of every subprocess (civis CLI's cache)

    @property
    def index_cache(self):
        return self.scratch / "cache-index"    # civis_dyn's cache for local_api_spec runs

    @property
    def live_cache(self):
        return self.scratch / "cache-live"     # civis_dyn's cache of the live schema

    def env(self, client, **extra):
        """A clean environment for ``client``'s subprocess (see :func:`_measure.clean_env`)."""
        settings = {"HOME": self.home}
        if client.name == "civis_dyn":
            settings["CIVIS_DYN_CACHE_DIR"] = self.index_cache
        settings.update(extra)
        return clean_env(**settings)

    def api_env(self, client):
        """Environment pointing ``client`` at the LocalCivisAPI, with its key."""
        extra = {"CIVIS_API_ENDPOINT": self.api.url, "CIVIS_API_KEY": self.api.api_key}
        if client.name == "civis_dyn":
            extra["CIVIS_DYN_CACHE_DIR"] = self.live_cache
        return self.env(client, **extra)

    def cli(self, client):
        """argv of the client's CLI (its console script, as pip installed it)."""
        script = Path(client.bin_dir) / ("civis" if client.name == "civis" else "civis-dyn")
        if script.exists():
            return [str(script)]
        module = "civis.cli.__main__" if client.name == "civis" else "civis_dyn.cli"
        return [client.python, "-c", f"import sys; from {module} import main; sys.exit(main())"]


def _import_seconds(ctx, client, module):
    _, stdout, _ = run_process([client.python, "-c", IMPORT_CODE.format(module=module)],
                               env=ctx.env(client), cwd=ctx.scratch, what=f"import {module}")
    line = next(line for line in stdout.splitlines() if line.startswith("BENCH-IMPORT"))
    _, seconds, rss = line.split()
    return float(seconds), int(rss)


def warm_up(ctx, log):
    """Compile the ``.pyc`` files and fill the caches every later measurement expects.

    * imports both clients and their lazy parts with ``PYTHONDONTWRITEBYTECODE``
      unset, so the ``.pyc`` files exist before anything is timed;
    * civis_dyn: the schema index for ``local_api_spec`` runs, and the live schema
      downloaded once from the local API (``first_call`` then starts warm);
    * civis-python: its CLI's schema file (``~/.civis_api_spec.json`` in the
      scratch HOME), downloaded once from the local API.
    """
    for folder in (ctx.home, ctx.index_cache, ctx.live_cache):
        folder.mkdir(parents=True, exist_ok=True)
    for client in ctx.clients:
        modules = (["civis", "civis.cli.__main__", "civis.futures", "civis.utils"]
                   if client.name == "civis" else
                   ["civis_dyn", "civis_dyn.futures", "civis_dyn.cli", "civis_dyn._client"])
        run_process([client.python, "-c", "import " + ", ".join(modules)], env=ctx.env(client),
                    cwd=ctx.scratch, what=f"warm-up import of {client.label}")
        if client.name == "civis_dyn":
            run_worker(client, {"task": "construct", "spec": ctx.spec, "key": API_KEY},
                       env=ctx.env(client), cwd=ctx.scratch)
        run_worker(client, {"task": "first_call"}, env=ctx.api_env(client), cwd=ctx.scratch)
        run_process(ctx.cli(client) + ["jobs", "list", "--help"], env=ctx.api_env(client),
                    cwd=ctx.scratch, what=f"{client.label} CLI warm-up")
        log(f"  warmed up {client.label}")


# -- measurements: one round, one client ------------------------------------------
def measure_import(ctx, client, round_index):
    """``import requests`` and ``import <client>`` in fresh processes, alternately.

    Timed inside the process around the import statement alone (``perf_counter``),
    so interpreter start-up is not counted; ``.pyc`` files are warm.
    """
    pairs = (("requests", "requests"), ("client", client.name))
    times = {"requests": [], "client": []}
    rss = {"requests": [], "client": []}
    for repeat in range(ctx.settings.import_repeats):
        for label, module in ordered(pairs, round_index + repeat):
            seconds, peak = _import_seconds(ctx, client, module)
            times[label].append(seconds)
            rss[label].append(peak)
    return {"client_s": median(times["client"]), "requests_s": median(times["requests"]),
            "client_rss_kib": median(rss["client"]), "requests_rss_kib": median(rss["requests"])}


def measure_construct(ctx, client, round_index):
    """``json.load`` of the schema, then ``APIClient(local_api_spec=path)``, each in a fresh process.

    civis_dyn is measured twice: cold (an empty ``CIVIS_DYN_CACHE_DIR``: the schema
    is parsed and its index written) and warm (the index read from the cache).
    civis-python has no such cache: one measurement.
    """
    task = {"spec": ctx.spec, "key": API_KEY}
    loaded, _, _ = run_worker(client, {**task, "task": "json_load"}, env=ctx.env(client),
                              cwd=ctx.scratch)
    result = {"json_load_s": loaded["seconds"], "json_load_rss_kib": loaded["rss_kib"]}
    if client.name == "civis":
        built, _, _ = run_worker(client, {**task, "task": "construct"}, env=ctx.env(client),
                                 cwd=ctx.scratch)
        result.update(warm_s=built["seconds"], cold_s=built["seconds"],
                      warm_rss_kib=built["rss_kib"], cold_rss_kib=built["rss_kib"],
                      lookup_s=built["lookup_seconds"], warm_import_s=built["import_seconds"],
                      cold_import_s=built["import_seconds"])
        return result
    cold_dir = Path(tempfile.mkdtemp(prefix="cold-cache-", dir=ctx.scratch))
    try:
        runs = {"cold": ctx.env(client, CIVIS_DYN_CACHE_DIR=cold_dir), "warm": ctx.env(client)}
        for label in ordered(runs, round_index):
            built, _, _ = run_worker(client, {**task, "task": "construct"}, env=runs[label],
                                     cwd=ctx.scratch)
            result[f"{label}_s"] = built["seconds"]
            result[f"{label}_import_s"] = built["import_seconds"]
            result[f"{label}_rss_kib"] = built["rss_kib"]
            if label == "warm":
                result["lookup_s"] = built["lookup_seconds"]
    finally:
        shutil.rmtree(cold_dir, ignore_errors=True)
    return result


def measure_first_call(ctx, client, round_index):
    """New process to the first ``jobs.get(1)`` returning, with no schema given.

    From just before the process is spawned to just after the call returns
    (``time.monotonic`` on both sides). The key and endpoint come from
    ``CIVIS_API_KEY``/``CIVIS_API_ENDPOINT`` (the LocalCivisAPI on the real
    schema); civis_dyn's disk cache is warm. ``GET /endpoints`` requests are
    counted on the server. The baseline is a bare ``requests.get`` in a new process.
    """
    env = ctx.api_env(client)
    result = {}
    for label in ordered(("bare", "client"), round_index):
        task = ({"task": "bare_first_call", "url": ctx.api.url, "key": ctx.api.api_key}
                if label == "bare" else {"task": "first_call"})
        before = ctx.api.count(path="/endpoints")
        done, _, started_at = run_worker(client, task, env=env, cwd=ctx.scratch)
        result[f"{label}_s"] = done["done_at"] - started_at
        if label == "client":
            result["endpoints_requests"] = ctx.api.count(path="/endpoints") - before
            result["rss_kib"] = done["rss_kib"]
    return result


def measure_cli(ctx, client, round_index):
    """``<cli> jobs list --help``: the whole process's wall time, schema cache warm.

    civis-python's ``civis`` keeps the schema in ``~/.civis_api_spec.json`` (HOME
    is a scratch folder, filled during the warm-up); ``civis-dyn`` uses its disk
    cache of the live schema. Both point at the LocalCivisAPI.
    The baseline is the same interpreter doing nothing (``python -c pass``).
    """
    env = ctx.api_env(client)
    result = {}
    for label in ordered(("bare", "cli"), round_index):
        if label == "bare":
            result["python_s"], _, _ = run_process([client.python, "-c", "pass"], env=env,
                                                   cwd=ctx.scratch, what="python -c pass")
            continue
        before = ctx.api.count(path="/endpoints")
        wall, stdout, _ = run_process(ctx.cli(client) + ["jobs", "list", "--help"], env=env,
                                      cwd=ctx.scratch, what=f"{client.label} jobs list --help")
        if "Usage" not in stdout:
            raise RuntimeError(f"{client.label} jobs list --help printed no usage")
        result.update(seconds=wall, endpoints_requests=ctx.api.count(path="/endpoints") - before)
    return result


def measure_calls(ctx, client, round_index):
    """Calls/s of ``jobs.get(1)`` and ``jobs.list()`` vs a bare Session; 4 threads vs 1.

    Against the canned server (see :mod:`_servers`), in one process per client:
    the client is built once from the schema file, then blocks of calls alternate
    with blocks of the same requests on a bare ``requests.Session`` (GET,
    ``raise_for_status``, ``.json()``). Every page of ``jobs.list(iterator=True)``
    (20 of 50 objects, ``.id`` read from each) alternates the same way with a
    hand-written loop that follows ``page_num`` and ``X-Pagination-Total-Pages``.
    Then, with 20 ms of server latency, one thread then four threads share the client.
    """
    s = ctx.settings
    task = {"task": "calls", "spec": ctx.spec, "key": API_KEY, "url": ctx.canned.url,
            "block_seconds": s.block_seconds, "blocks": s.blocks, "list_size": s.list_size,
            "pages": s.canned_pages,
            "latency": s.latency, "thread_seconds": s.thread_seconds,
            "thread_blocks": s.thread_blocks}
    done, _, _ = run_worker(client, task, env=ctx.env(client, CIVIS_API_ENDPOINT=ctx.canned.url),
                            cwd=ctx.scratch)
    threads = done["threads"]
    return {"get_bare": done["get"]["bare_median"], "get_client": done["get"]["client_median"],
            "get_ratio": done["get"]["ratio_median"],
            "list_bare": done["list"]["bare_median"],
            "list_client": done["list"]["client_median"],
            "list_ratio": done["list"]["ratio_median"],
            "pages_bare": done["pages"]["bare_median"],
            "pages_client": done["pages"]["client_median"],
            "pages_ratio": done["pages"]["ratio_median"],
            "client_16_threads": done["threads_16"]["client"],
            "bare_16_threads": done["threads_16"]["bare"],
            "client_1_thread": threads["client_1"], "client_4_threads": threads["client_4"],
            "bare_1_thread": threads["bare_1"], "bare_4_threads": threads["bare_4"]}


def measure_wrap(ctx, client, round_index):
    """Decoding and wrapping a 1,000-object page vs ``json.loads`` of it (in-process).

    Then (civis_dyn) 20 such pages through ``PaginatedResponse`` against ``json.loads``
    of each, CPU time, no network: what pagination adds, garbage collection included.
    """
    task = {"task": "wrap", "page": ctx.page_path, "size": ctx.settings.page_size,
            "repeats": ctx.settings.wrap_repeats, "pages": ctx.settings.gc_pages}
    done, _, _ = run_worker(client, task, env=ctx.env(client), cwd=ctx.scratch)
    return done


def measure_local(ctx, client, round_index):
    """Iterate every page of ``/jobs``, then run futures, against the LocalCivisAPI.

    Pagination: ``jobs.list(iterator=True, limit=50)`` over 1,000 jobs (20 full
    pages); the server counts the ``GET /jobs`` requests. Futures: ``run_job`` on
    each of N jobs (runs take 0.2 s: 0.05 s queued, 0.15 s running), with each
    client's default polling, then wait for all; threads started are counted
    by wrapping ``threading.Thread.start`` in the worker.
    """
    s = ctx.settings
    task = {"task": "local", "spec": ctx.spec, "key": ctx.api.api_key,
            "page_limit": s.page_limit, "total_jobs": s.total_jobs, "futures": s.futures}
    before = ctx.api.count(method="GET", path="/jobs")
    done, _, _ = run_worker(client, task, env=ctx.env(client, CIVIS_API_ENDPOINT=ctx.api.url),
                            cwd=ctx.scratch)
    result = {"page_requests": ctx.api.count(method="GET", path="/jobs") - before,
              "items": done["items"]}
    futures = done.get("futures")
    if futures:
        result.update(futures_count=futures["count"], futures_wall_s=futures["wall_seconds"],
                      futures_threads_started=futures["threads_started"],
                      futures_most_threads_alive=futures["most_threads_alive"])
    return result


#: (name, function) in the order they run within a round
MEASUREMENTS = (
    ("import", measure_import),
    ("construct", measure_construct),
    ("first_call", measure_first_call),
    ("cli", measure_cli),
    ("calls", measure_calls),
    ("wrap", measure_wrap),
    ("local", measure_local),
)
