"""One measurement, run in a fresh subprocess by ``bench/run.py``, for either client.

Run as ``python _worker.py '<json task>'`` by the interpreter of the client being
measured: the project's Python for civis_dyn, ``bench/.anchor-venv`` for
civis-python. It imports only the standard library at the top, then the client
(``civis`` or ``civis_dyn``) and :mod:`requests` (the bare baseline, from the same
environment as the client); it never imports anything from the repository, so it
runs unchanged in the anchor's environment.

The result is printed as one line, ``BENCH-RESULT <json>``, last on stdout.

Tasks
-----
``json_load``      time ``json.load`` of the schema in a fresh process (the baseline).
``construct``      time ``APIClient(local_api_spec=...)`` in a fresh process; peak RSS.
``first_call``     new process to the first ``jobs.get(1)`` with no schema given.
``bare_first_call`` the same with a bare ``requests.get``.
``calls``          ``jobs.get(1)`` and ``jobs.list()`` calls/s against a bare
                   ``requests.Session``, every page of ``jobs.list(iterator=True)``
                   against a hand-written loop, interleaved; then 4 threads vs 1 at
                   20 ms latency.
``wrap``           decode + wrap a 1,000-object page against ``json.loads`` of it; with
                   ``pages``, iterate that many such pages through PaginatedResponse
                   against ``json.loads`` of each (civis_dyn only, no network).
``local``          pagination and run futures against the LocalCivisAPI.
``wrap_loop``      decode (``"wrap": false``) or decode + wrap a page ``count`` times after one
                   warm-up call, and nothing else: ``bench/instructions.py`` counts its
                   instructions under callgrind.
"""

import json
import resource
import statistics
import sys
import threading
import time

MARKER = "BENCH-RESULT "


def peak_rss_kib():
    """Peak resident set size of this process so far, in KiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: ``getrusage``'s
    ``ru_maxrss`` in a child process also counts the RSS its parent had when it
    forked (the kernel carries the old memory map's high-water mark over
    ``exec``), so a child of a big parent would report the parent's size.
    Elsewhere, ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes


def import_client(name):
    """Import and return the client package (``civis`` or ``civis_dyn``)."""
    if name == "civis":
        import civis
        return civis
    if name == "civis_dyn":
        import civis_dyn
        return civis_dyn
    raise ValueError(f"unknown client {name!r}")


def make_client(task):
    """An ``APIClient`` on the task's schema file and key (base URL from the environment)."""
    package = import_client(task["client"])
    return package.APIClient(api_key=task["key"], local_api_spec=task["spec"])


def timed_rate(call, seconds):
    """Call ``call()`` until ``seconds`` have passed; return calls per second."""
    clock = time.perf_counter
    count = 0
    start = clock()
    deadline = start + seconds
    now = start
    while now < deadline:
        call()
        count += 1
        now = clock()
    return count / (now - start)


def threaded_rate(call, threads, seconds):
    """Calls per second of ``threads`` threads calling ``call()`` for ``seconds``."""
    barrier = threading.Barrier(threads + 1)
    counts = [0] * threads
    errors = []
    stop_at = []

    def loop(slot):
        barrier.wait()
        deadline = stop_at[0]
        clock = time.perf_counter
        try:
            while clock() < deadline:
                call()
                counts[slot] += 1
        except Exception as exc:  # reported, never swallowed
            errors.append(repr(exc))

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    start = time.perf_counter()
    stop_at.append(start + seconds)
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"a calling thread failed: {errors[0]}")
    return sum(counts) / elapsed


def bare_session(key):
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


def bare_get(session, url):
    """What a hand-written call does: GET, raise on error, decode the JSON."""
    def call():
        response = session.get(url, timeout=30)
        response.raise_for_status()
        return response.json()
    return call


def bare_pages(session, url, limit):
    """What a hand-written loop over every page does: ``page_num`` until the last page."""
    def iterate():
        ids = []
        page = 1
        while True:
            response = session.get(url, params={"limit": limit, "page_num": page}, timeout=30)
            response.raise_for_status()
            items = response.json()
            for item in items:
                ids.append(item["id"])
            total = response.headers.get("X-Pagination-Total-Pages")
            if not items or (total is not None and page >= int(total)):
                return ids
            page += 1
    return iterate


# -- tasks ----------------------------------------------------------------------
def task_json_load(task):
    with open(task["spec"], "rb") as f:
        start = time.perf_counter()
        json.load(f)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "rss_kib": peak_rss_kib()}


def task_construct(task):
    start = time.perf_counter()
    package = import_client(task["client"])
    imported = time.perf_counter() - start
    start = time.perf_counter()
    client = package.APIClient(api_key=task["key"], local_api_spec=task["spec"])
    seconds = time.perf_counter() - start
    rss = peak_rss_kib()
    start = time.perf_counter()
    client.jobs.get  # civis_dyn builds the resource and the method here
    lookup = time.perf_counter() - start
    return {"seconds": seconds, "import_seconds": imported, "rss_kib": rss,
            "lookup_seconds": lookup}


def task_first_call(task):
    package = import_client(task["client"])
    client = package.APIClient()  # key and endpoint from the environment; no schema given
    job = client.jobs.get(1)
    done_at = time.monotonic()
    if job["id"] != 1:
        raise RuntimeError(f"jobs.get(1) returned id {job['id']}")
    return {"done_at": done_at, "rss_kib": peak_rss_kib()}


def task_bare_first_call(task):
    import requests

    response = requests.get(task["url"] + "jobs/1",
                            headers={"Authorization": f"Bearer {task['key']}"}, timeout=30)
    response.raise_for_status()
    job = response.json()
    done_at = time.monotonic()
    if job["id"] != 1:
        raise RuntimeError(f"GET /jobs/1 returned id {job['id']}")
    return {"done_at": done_at}


def task_calls(task):
    import requests

    client = make_client(task)
    url = task["url"]
    session = bare_session(task["key"])
    block, blocks = task["block_seconds"], task["blocks"]
    list_size = task["list_size"]

    def client_get():
        return client.jobs.get(1)

    def client_list():
        return client.jobs.list()

    def client_pages():
        return [item.id for item in client.jobs.list(iterator=True, limit=list_size)]

    bare_job, bare_list = bare_get(session, url + "jobs/1"), bare_get(session, url + "jobs")
    bare_all = bare_pages(session, url + "jobs", list_size)
    # correctness before speed
    if client_get()["id"] != 1 or bare_job()["id"] != 1:
        raise RuntimeError("jobs.get(1) did not return job 1")
    if len(client_list()) != list_size or len(bare_list()) != list_size:
        raise RuntimeError(f"jobs.list() did not return {list_size} objects")
    every_id = list(range(1, task["pages"] * list_size + 1))
    if client_pages() != every_id or bare_all() != every_id:
        raise RuntimeError(f"iterating the pages did not give the {len(every_id)} jobs in order")
    result = {"requests_version": requests.__version__}
    for name, bare, ours in (("get", bare_job, client_get), ("list", bare_list, client_list),
                             ("pages", bare_all, client_pages)):
        timed_rate(bare, block / 4)  # warm the connection pools and the code paths
        timed_rate(ours, block / 4)
        bare_rates, client_rates = [], []
        for index in range(blocks):  # A/B interleaved, alternating which goes first
            pair = ((bare_rates, bare), (client_rates, ours))
            for rates, call in (pair if index % 2 == 0 else pair[::-1]):
                rates.append(timed_rate(call, block))
        ratios = [ours / bare for ours, bare in zip(client_rates, bare_rates)]
        result[name] = {"bare": bare_rates, "client": client_rates,
                        "bare_median": statistics.median(bare_rates),
                        "client_median": statistics.median(client_rates),
                        "ratio_median": statistics.median(ratios)}

    # 16 threads at 0 ms latency: the client's own CPU cost under contention
    seconds = task["thread_seconds"]
    result["threads_16"] = {"client": threaded_rate(client_get, 16, seconds),
                            "bare": threaded_rate(bare_job, 16, seconds)}
    # 4 threads vs 1 against a server that answers after 20 ms
    latency = task["latency"]
    set_latency = session.post(url + "_bench/latency", data=str(latency), timeout=30)
    set_latency.raise_for_status()
    try:
        seconds, rounds = task["thread_seconds"], task["thread_blocks"]
        threads = {"client_1": [], "client_4": [], "bare_1": [], "bare_4": []}
        for index in range(rounds):
            order = [("client", client_get), ("bare", bare_job)]
            for label, call in (order if index % 2 == 0 else order[::-1]):
                threads[f"{label}_1"].append(threaded_rate(call, 1, seconds))
                threads[f"{label}_4"].append(threaded_rate(call, 4, seconds))
    finally:
        session.post(url + "_bench/latency", data="0", timeout=30).raise_for_status()
    result["threads"] = {name: statistics.median(rates) for name, rates in threads.items()}
    result["threads_raw"] = threads
    return result


def task_wrap(task):
    with open(task["page"], "rb") as f:
        raw = f.read()
    wrap = _wrapper(task["client"], raw)

    def decode():
        return json.loads(raw)

    def wrap_and_read():
        page = wrap()
        for item in page:
            item.name
        return page

    page = wrap()
    if len(page) != task["size"] or page[0].name != json.loads(raw)[0]["name"]:
        raise RuntimeError("the wrapped page does not match the JSON")
    timings = {"decode": [], "wrap": [], "wrap_read": []}
    calls = {"decode": decode, "wrap": wrap, "wrap_read": wrap_and_read}
    clock = time.perf_counter
    for index in range(task["repeats"]):
        names = list(timings) if index % 2 == 0 else list(timings)[::-1]
        for name in names:
            call = calls[name]
            start = clock()
            call()
            timings[name].append(clock() - start)
    result = {name + "_seconds": statistics.median(values) for name, values in timings.items()}
    result["memory_ratio"] = _memory_ratio(task["client"], raw, task.get("memory_objects", 100_000))
    if task["client"] == "civis_dyn" and task.get("pages"):
        result.update(_paged_seconds(raw, task["pages"], max(3, task["repeats"] // 3)))
    return result


def task_wrap_loop(task):
    with open(task["page"], "rb") as f:
        raw = f.read()
    call = _wrapper(task["client"], raw) if task["wrap"] else (lambda: json.loads(raw))
    for _ in range(task["count"] + 1):
        call()
    return {"count": task["count"]}


def _paged_seconds(raw, pages, repeats):
    """Iterating ``pages`` pages like ``raw`` through civis_dyn's PaginatedResponse vs dicts.

    No network: each page is ``json.loads`` of bytes made beforehand (new ids per page),
    so the figure is the pagination, wrapping and garbage-collection cost alone, with
    ``.id`` read from every object (``["id"]`` from every dict).
    """
    from civis_dyn import PaginatedResponse

    items = json.loads(raw)
    bodies = [json.dumps([dict(item, id=number * len(items) + index)
                          for index, item in enumerate(items)]).encode()
              for number in range(pages)]
    headers = {"X-Pagination-Total-Pages": str(pages)}

    def fetch_page(number):
        return json.loads(bodies[number - 1]), headers

    def paged():
        return sum(item.id for item in PaginatedResponse(fetch_page))

    def dicts():
        return sum(item["id"] for number in range(1, pages + 1) for item in fetch_page(number)[0])

    if paged() != dicts():
        raise RuntimeError("PaginatedResponse did not give every item of every page")
    timings = {"paged": [], "dicts": []}
    calls = {"paged": paged, "dicts": dicts}
    for index in range(repeats):
        for name in (("paged", "dicts") if index % 2 == 0 else ("dicts", "paged")):
            start = time.process_time()
            calls[name]()
            timings[name].append(time.process_time() - start)
    return {"pages_seconds": statistics.median(timings["paged"]),
            "pages_dicts_seconds": statistics.median(timings["dicts"])}


def _wrapper(client, raw):
    """``wrap()``: what the client does with the JSON array ``raw`` (bytes) of an answer."""
    import requests

    response = requests.models.Response()
    response.status_code = 200
    response._content = raw
    response.headers["Content-Type"] = "application/json"
    if client == "civis":
        from civis.response import convert_response_data_type

        def wrap():
            return convert_response_data_type(response, return_type="snake")
    else:
        from civis_dyn import HTTPRequest, HTTPResponse
        from civis_dyn._pipeline import decode_json
        from civis_dyn._response import wrap_json

        request = HTTPRequest("GET", "https://bench.invalid/jobs", "/jobs")
        answer = HTTPResponse(200, response.headers, raw)

        def wrap():  # what ClientMeta.invoke does with a JSON array
            return wrap_json(decode_json(request, answer), answer.headers)
    return wrap


def _memory_ratio(client, raw, objects):
    """Memory held by ``objects`` wrapped objects after reading ``.name`` of each, vs dicts."""
    import gc
    import tracemalloc

    page = json.loads(raw)
    copies = max(1, objects // max(1, len(page)))
    big = b"[" + b",".join([raw.strip()[1:-1]] * copies) + b"]"
    wrap = _wrapper(client, big)
    held = []
    for make in (lambda: json.loads(big), wrap):
        gc.collect()
        tracemalloc.start()
        value = make()
        if make is wrap:
            for item in value:
                item.name
        held.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        del value
    return held[1] / held[0]


class _ThreadCounter:
    """Counts threads started and the most alive at once (wraps ``Thread.start``)."""

    def __init__(self):
        self.started = 0
        self.most_alive = threading.active_count()
        self._original = threading.Thread.start

    def __enter__(self):
        counter = self
        original = self._original

        def start(thread):
            counter.started += 1
            original(thread)

        threading.Thread.start = start
        return self

    def sample(self):
        self.most_alive = max(self.most_alive, threading.active_count())

    def __exit__(self, *exc):
        threading.Thread.start = self._original


def task_local(task):
    import concurrent.futures

    package = import_client(task["client"])
    client = make_client(task)
    result = {}

    # pagination: iterate every page of /jobs
    items = list(client.jobs.list(iterator=True, limit=task["page_limit"]))
    result["items"] = len(items)
    ids = sorted(item["id"] for item in items)
    if ids != list(range(1, task["total_jobs"] + 1)):
        raise RuntimeError(f"pagination returned {len(ids)} jobs, expected {task['total_jobs']}")

    # futures: start a run of each job, wait for all of them
    if task["futures"]:
        if task["client"] == "civis":
            from civis.utils import run_job
        else:
            run_job = package.run_job
        alive_before = threading.active_count()
        with _ThreadCounter() as threads:
            start = time.perf_counter()
            futures = []
            for job_id in range(1, task["futures"] + 1):
                futures.append(run_job(job_id, client=client))
                if job_id % 50 == 0:
                    threads.sample()
            started = time.perf_counter() - start
            pending = set(futures)
            while pending:
                threads.sample()
                _, pending = concurrent.futures.wait(pending, timeout=0.01)
            wall = time.perf_counter() - start
        states = sorted({future.result().state for future in futures})
        if states != ["succeeded"]:
            raise RuntimeError(f"runs ended {states}, expected all succeeded")
        result["futures"] = {"count": len(futures), "wall_seconds": wall,
                             "start_seconds": started, "threads_started": threads.started,
                             "most_threads_alive": threads.most_alive - alive_before}
    return result


TASKS = {
    "bare_first_call": task_bare_first_call,
    "calls": task_calls,
    "construct": task_construct,
    "first_call": task_first_call,
    "json_load": task_json_load,
    "local": task_local,
    "wrap": task_wrap,
    "wrap_loop": task_wrap_loop,
}


def main(argv):
    task = json.loads(argv[1])
    result = TASKS[task["task"]](task)
    sys.stdout.write(MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
