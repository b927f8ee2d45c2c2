"""Smoke test of the benchmark machinery in ``bench/`` (no timing is asserted).

``python bench/run.py`` runs for minutes and is never part of the suite; this
runs small pieces of it in-process so that the bench code cannot silently rot:
the table and results writer on synthetic rounds, the canned server, and the
``calls`` and ``wrap`` measurements for civis_dyn alone on tiny sizes.
"""

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def bench():
    """The bench modules, imported from ``bench/`` (which is not a package)."""
    sys.path.insert(0, str(BENCH))
    try:
        names = ("_measure", "_report", "_servers", "_worker", "_metrics", "_anchor")
        yield {name.lstrip("_"): importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(BENCH))


def _round(**values):
    return values


def synthetic_raw():
    """One round of every measurement, for both clients, with plausible figures."""
    dyn = {
        "import": _round(client_s=0.030, requests_s=0.060, client_rss_kib=20000,
                         requests_rss_kib=28000),
        "construct": _round(json_load_s=0.040, warm_s=0.010, cold_s=0.080,
                            warm_import_s=0.030, cold_import_s=0.030,
                            warm_rss_kib=34000, cold_rss_kib=43000, lookup_s=0.001),
        "first_call": _round(bare_s=0.1, client_s=0.15, endpoints_requests=0, rss_kib=30000),
        "cli": _round(python_s=0.03, seconds=0.1, endpoints_requests=0),
        "calls": _round(get_bare=1000, get_client=1600, get_ratio=1.6, list_bare=800,
                        list_client=600, list_ratio=0.75, pages_bare=40, pages_client=50,
                        pages_ratio=1.25, client_1_thread=45,
                        client_4_threads=170, bare_1_thread=46, bare_4_threads=178),
        "wrap": _round(decode_seconds=0.002, wrap_seconds=0.003, wrap_read_seconds=0.006,
                       pages_seconds=0.09, pages_dicts_seconds=0.06),
        "local": _round(page_requests=20, items=1000, futures_count=10, futures_wall_s=1.2,
                        futures_threads_started=9, futures_most_threads_alive=9),
    }
    civis = {
        "import": _round(client_s=0.090, requests_s=0.060, client_rss_kib=30000,
                         requests_rss_kib=28000),
        "construct": _round(json_load_s=0.040, warm_s=0.7, cold_s=0.7, warm_import_s=0.09,
                            cold_import_s=0.09, warm_rss_kib=62000, cold_rss_kib=62000,
                            lookup_s=0.0),
        "first_call": _round(bare_s=0.1, client_s=0.9, endpoints_requests=1, rss_kib=60000),
        "cli": _round(python_s=0.03, seconds=0.5, endpoints_requests=0),
        "calls": _round(get_bare=1000, get_client=450, get_ratio=0.45, list_bare=800,
                        list_client=120, list_ratio=0.15, pages_bare=40, pages_client=10,
                        pages_ratio=0.25, client_1_thread=45,
                        client_4_threads=45, bare_1_thread=46, bare_4_threads=178),
        "wrap": _round(decode_seconds=0.002, wrap_seconds=0.05, wrap_read_seconds=0.05),
        "local": _round(page_requests=21, items=1000, futures_count=10, futures_wall_s=1.5,
                        futures_threads_started=10, futures_most_threads_alive=10),
    }
    return {name: {"civis_dyn": [dyn[name]], "civis": [civis[name]]} for name in dyn}


def test_rows_judge_targets_and_format(bench):
    report, metrics = bench["report"], bench["metrics"]
    settings = metrics.Settings(rounds=1, import_repeats=1, block_seconds=0.01, blocks=1,
                                thread_seconds=0.01, thread_blocks=1, wrap_repeats=1,
                                futures=10)
    rows = report.build_rows(synthetic_raw(), settings, anchor_missing=False, max_threads=9)
    by_metric = {row.metric: row for row in rows}
    assert by_metric["import time over a bare interpreter"].met is True
    assert by_metric["jobs.list() (50 objects) calls/s vs bare"].met is False  # 0.75 < 0.8
    assert by_metric["jobs.get(1) calls/s vs bare requests.Session"].met is True
    assert by_metric["requests to iterate N = 20 full pages"].met is True
    assert by_metric["peak RSS after construction"].met is False  # 33.2 MiB > 30 MiB
    assert by_metric["CLI `jobs list --help` process time (warm schema cache)"].met is True
    assert "1.60x bare" in by_metric["jobs.get(1) calls/s vs bare requests.Session"].civis_dyn
    pages = by_metric["20 pages of 50: iterator=True vs a hand-written loop"]
    assert pages.met is True and "1.25x loop" in pages.civis_dyn and "0.25x loop" in pages.civis_python
    paged = by_metric["20 pages of 1,000 through PaginatedResponse vs json.loads, CPU"]
    assert paged.met is None and "1.50x" in paged.civis_dyn

    table = report.format_table(rows).splitlines()
    assert table[0].startswith("metric")
    assert len(table) == len(rows) + 2
    assert {line.index("|") for line in table if "|" in line} == {table[0].index("|")}
    rst = report.format_rst(rows)
    assert rst.startswith(".. list-table::") and rst.count("   * - ") == len(rows) + 1


def test_rows_without_the_anchor(bench):
    report, metrics = bench["report"], bench["metrics"]
    raw = {name: {"civis_dyn": clients["civis_dyn"]} for name, clients in synthetic_raw().items()}
    rows = report.build_rows(raw, metrics.QUICK, anchor_missing=True, max_threads=9)
    assert all(row.civis_python == report.MISSING for row in rows)
    cli = next(row for row in rows if row.metric.startswith("CLI"))
    assert cli.met is None  # judged against civis-python, which is missing


def test_results_are_written_atomically(bench, tmp_path):
    report = bench["report"]
    path = report.write_results(tmp_path / "results.json", {"date": "today", "rows": []})
    assert json.loads(path.read_text()) == {"date": "today", "rows": []}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_subprocess_environment_and_order(bench, monkeypatch):
    measure = bench["measure"]
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("CIVIS_API_KEY", "secret")
    env = measure.clean_env(HOME="/tmp/x")
    assert "PYTHONDONTWRITEBYTECODE" not in env and "CIVIS_API_KEY" not in env
    assert env["HOME"] == "/tmp/x"
    assert measure.ordered("AB", 0) == ["A", "B"] and measure.ordered("AB", 1) == ["B", "A"]
    assert bench["anchor"].pinned_version() == "2.10.1"


def test_calls_and_wrap_for_civis_dyn_in_process(bench, real_spec_path, monkeypatch, tmp_path):
    servers, worker = bench["servers"], bench["worker"]
    job = json.dumps({"id": 1, "name": "bench job", "lastRun": {"state": "succeeded"}}).encode()
    items = [{"id": n, "name": f"job {n}", "state": "idle"} for n in range(1, 6)]
    listing = json.dumps(items).encode()
    pages = servers.canned_pages(listing, 3)
    assert [json.loads(body)[0]["id"] for body, _ in pages] == [1, 6, 11]
    assert pages[2][1]["X-Pagination-Total-Pages"] == "3"
    with servers.CannedAPIServer({("GET", "/jobs/1"): (job, {}),
                                  ("GET", "/jobs"): (listing, {})},
                                 pages={"/jobs": pages}) as server:
        monkeypatch.setenv("CIVIS_API_ENDPOINT", server.url)
        result = worker.task_calls({
            "client": "civis_dyn", "spec": str(real_spec_path), "key": "k", "url": server.url,
            "block_seconds": 0.02, "blocks": 2, "list_size": 5, "pages": 3, "latency": 0.005,
            "thread_seconds": 0.03, "thread_blocks": 1})
        assert server.latency == 0  # reset after the threads measurement
    assert len(result["get"]["client"]) == 2 and result["get"]["ratio_median"] > 0
    assert result["list"]["client_median"] > 0 and result["pages"]["ratio_median"] > 0
    assert set(result["threads"]) == {"client_1", "client_4", "bare_1", "bare_4"}
    assert result["threads_16"]["client"] > 0 and result["threads_16"]["bare"] > 0

    page = tmp_path / "page.json"
    page.write_bytes(json.dumps(items * 4).encode())
    wrapped = worker.task_wrap({"client": "civis_dyn", "page": str(page), "size": 20,
                                "repeats": 2, "memory_objects": 200, "pages": 3})
    assert set(wrapped) == {"decode_seconds", "wrap_seconds", "wrap_read_seconds", "memory_ratio",
                            "pages_seconds", "pages_dicts_seconds"}
    assert wrapped["memory_ratio"] > 1  # the objects are held on top of their dicts
    assert worker.peak_rss_kib() > 0


def test_startup_rows_and_the_scaled_schema(bench, mini_spec_path, tmp_path):
    """bench/startup.py: the 20x schema loads, and its rows judge the targets."""
    import civis_dyn

    startup = importlib.import_module("startup")
    target = tmp_path / "x3.json"
    startup.scaled_schema(mini_spec_path, target, 3)
    small = civis_dyn.APIClient(api_key="k", local_api_spec=str(mini_spec_path))
    big = civis_dyn.APIClient(api_key="k", local_api_spec=str(target))
    resources = small.meta.spec.resources()
    assert set(big.meta.spec.resources()) == {f"{r}{s}" for r in resources
                                              for s in ("", "_k1", "_k2")}
    raw = {"pass": [0.030, 0.031], "import": [0.050, 0.050], "import_in_process": [0.001] * 2,
           "json_load": [0.050, 0.050], "first_method": [0.045, 0.055],
           "construct_x1": [0.001, 0.001], "construct_x20": [0.0012, 0.002],
           "rss_x1": [16000] * 2, "rss_x20": [16000] * 2}
    rows = startup.rows_of(raw)
    assert [row[-1] for row in rows] == [False, True, False]   # 19.5 ms; 1.0x; 1.6x
    assert "NOT met" in startup.format_rows(rows)


def test_wrap_loop_and_the_instruction_arithmetic(bench, monkeypatch, tmp_path):
    """bench/instructions.py: the worker's loop runs, and the counts become per-page figures."""
    page = tmp_path / "page.json"
    page.write_bytes(json.dumps([{"id": n, "name": f"job {n}"} for n in range(10)]).encode())
    for wrap in (False, True):
        done = bench["worker"].task_wrap_loop({"client": "civis_dyn", "page": str(page),
                                               "wrap": wrap, "count": 2})
        assert done == {"count": 2}
    instructions = importlib.import_module("instructions")
    assert instructions._COLLECTED.search("==7== Collected : 123456789").group(1) == "123456789"
    fixed = {(False, 0): 100, (False, 4): 500, (True, 0): 300, (True, 4): 740}
    monkeypatch.setattr(instructions, "instructions",
                        lambda python, task: fixed[task["wrap"], task["count"]])
    assert instructions.measure("civis_dyn", sys.executable, str(page), 4) == (100.0, 110.0)
