"""Benchmarks of civis_dyn side by side with civis-python, in one command.

Usage::

    python bench/run.py            # every benchmark, 5 rounds (under 5 minutes on 2 cores)
    python bench/run.py --quick    # 1 round, smaller sizes (under 1 minute)
    python bench/run.py --rst      # print the last results (bench/results.json) as rst

What it does:

1. makes sure the anchor, civis-python (pinned in ``bench/requirements-anchor.txt``),
   is installed in ``bench/.anchor-venv/`` (created with this Python, installed from
   PyPI with that environment's pip); if that fails, it says so and measures
   civis_dyn alone;
2. starts, in threads of this process, the embedded LocalCivisAPI on the real
   schema (``../shared/specs/civis_api_spec.json`` beside the checkout, or env
   ``CIVIS_DYN_TEST_SPEC``) and a minimal canned server for per-call figures;
3. warms the ``.pyc`` files (``PYTHONDONTWRITEBYTECODE`` is unset for every
   subprocess) and the schema caches;
4. runs every measurement for both clients, round after round, interleaved
   (A B, then B A), each in fresh subprocesses of the client's own interpreter;
5. prints the table (medians over rounds), and writes ``bench/results.json``
   atomically with the date, the machine and every raw figure.

Nothing here is imported by the test suite except through
``tests/test_bench_smoke.py``, which runs a small part in-process.
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from _anchor import ensure_anchor  # noqa: E402
from _measure import Client, MeasurementError, ordered  # noqa: E402
from _metrics import FULL, MEASUREMENTS, QUICK, Context, warm_up  # noqa: E402
from _report import build_rows, format_rst, format_table, medians, write_results  # noqa: E402
from _servers import (CannedAPIServer, canned_bodies, canned_pages, full_pages,  # noqa: E402
                      start_local_api)

RESULTS = BENCH / "results.json"
SPEC_ENV = "CIVIS_DYN_TEST_SPEC"


def find_spec():
    """The real schema: env ``CIVIS_DYN_TEST_SPEC``, else ``../shared/specs`` beside the repo."""
    env = os.environ.get(SPEC_ENV)
    path = Path(env) if env else REPO.parent / "shared" / "specs" / "civis_api_spec.json"
    return path.resolve() if path.is_file() else None


def machine():
    """What the figures were measured on."""
    info = {"nproc": os.cpu_count(), "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(), "machine": platform.machine()}
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            total = next(line for line in f if line.startswith("MemTotal:"))
        info["memory_gib"] = round(int(total.split()[1]) / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            model = next(line for line in f if line.startswith("model name"))
        info["cpu"] = model.split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    return info


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def git_revision():
    try:
        out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python bench/run.py",
        description="Benchmark civis_dyn against civis-python, interleaved, in one run.")
    parser.add_argument("--quick", action="store_true",
                        help="one round with smaller sizes (under a minute)")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, or 1 with --quick)")
    parser.add_argument("--no-anchor", action="store_true",
                        help="measure civis_dyn alone (do not install civis-python)")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="where to write the results (default bench/results.json)")
    parser.add_argument("--rst", action="store_true",
                        help="print the table of the last results file as rst, and exit")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def print_rst(path):
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 1
    from _report import Row

    rows = [Row(**{k: v for k, v in row.items() if k in Row.__dataclass_fields__})
            for row in document["rows"]]
    m = document["machine"]
    print(f"Measured {document['date']} on {m.get('cpu', m['machine'])}, {m['nproc']} CPUs, "
          f"Python {m['python']}, {m['platform']} (``python bench/run.py``"
          f"{' --quick' if document['mode'] == 'quick' else ''}, {document['rounds']} rounds):")
    print()
    print(format_rst(rows))
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.rst:
        return print_rst(args.output)
    began = time.perf_counter()
    settings = QUICK if args.quick else FULL
    if args.rounds is not None:
        settings = dataclasses.replace(settings, rounds=args.rounds)

    def log(message):
        print(f"[{time.perf_counter() - began:6.1f}s] {message}", flush=True)

    spec = find_spec()
    if spec is None:
        print(f"the real schema was not found: set {SPEC_ENV} or put it at "
              f"{REPO.parent / 'shared' / 'specs' / 'civis_api_spec.json'}", file=sys.stderr)
        return 2
    load_before = load_average()
    log(f"load average {load_before} on {os.cpu_count()} CPUs; schema {spec}")

    clients = []
    if args.no_anchor:
        anchor_status = {"installed": False, "error": "--no-anchor given"}
    else:
        anchor = ensure_anchor(log=log)
        anchor_status = {"installed": anchor.available, "version": anchor.version,
                         "error": anchor.error, "python": anchor.python}
        if anchor.available:
            clients.append(Client("civis", f"civis-python {anchor.version}", anchor.python,
                                  str(Path(anchor.python).parent)))
        else:
            log("THE ANCHOR COULD NOT BE INSTALLED: measuring civis_dyn alone.\n"
                + anchor.error)
    clients.append(Client("civis_dyn", "civis_dyn", sys.executable,
                          str(Path(sys.executable).parent)))

    scratch = Path(tempfile.mkdtemp(prefix="civis-dyn-bench-"))
    ctx = Context(spec=str(spec), clients=clients, settings=settings, scratch=scratch)
    raw = {name: {client.name: [] for client in clients} for name, _ in MEASUREMENTS}
    errors = []
    try:
        log(f"starting the local API ({settings.total_jobs} jobs) and the canned server")
        ctx.api = start_local_api(str(spec), settings.total_jobs)
        pages = full_pages(ctx.api, settings.page_limit)
        if pages * settings.page_limit != settings.total_jobs:
            raise RuntimeError(f"expected {settings.total_jobs // settings.page_limit} full pages "
                               f"of jobs, the local API announces {pages}")
        bodies = canned_bodies(ctx.api, settings.list_size, settings.page_size)
        ctx.page_path = str(scratch / "page.json")
        Path(ctx.page_path).write_bytes(bodies["page"])
        ctx.canned = CannedAPIServer({
            ("GET", "/jobs/1"): (bodies["job"], {}),
            ("GET", "/jobs"): (bodies["list"], bodies["list_headers"]),
        }, pages={"/jobs": canned_pages(bodies["list"], settings.canned_pages)}).start()
        log("warming up .pyc files and schema caches (PYTHONDONTWRITEBYTECODE unset "
            "in every subprocess)")
        warm_up(ctx, log)
        for round_index in range(settings.rounds):
            for name, measure in MEASUREMENTS:
                for client in ordered(clients, round_index):
                    try:
                        raw[name][client.name].append(measure(ctx, client, round_index))
                    except (MeasurementError, RuntimeError, OSError, KeyError, ValueError) as exc:
                        raw[name][client.name].append(None)
                        errors.append(f"round {round_index + 1}, {name}, {client.label}: {exc}")
                        log(f"ERROR in {name} for {client.label}: {exc}")
            log(f"round {round_index + 1}/{settings.rounds} done")
    finally:
        if ctx.canned is not None:
            ctx.canned.stop()
        if ctx.api is not None:
            ctx.api.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    from civis_dyn._poller import DEFAULT_WORKERS

    anchor_missing = not any(c.name == "civis" for c in clients)
    rows = build_rows(raw, settings, anchor_missing, 1 + DEFAULT_WORKERS)
    duration = time.perf_counter() - began
    info = machine()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    notes = [
        "Every figure is the median over rounds; ratios are medians of per-round ratios "
        "between measurements taken moments apart (A/B interleaved, order alternating).",
        "Subprocesses run with PYTHONDONTWRITEBYTECODE unset, after a warm-up that writes "
        "the .pyc files (this machine sets it by default).",
        "calls/s and 4-vs-1 threads: a minimal canned asyncio server on 127.0.0.1 serving "
        "bodies made by the LocalCivisAPI from the real schema; first call, pages, futures "
        "and CLI: the LocalCivisAPI itself on the real schema.",
    ]
    if args.quick:
        notes.append(f"--quick: 1 round and {settings.futures} futures instead of 1,000; "
                     "figures are less stable.")
    if anchor_missing:
        notes.append("civis-python was not measured: " + (anchor_status["error"] or "?"))
    result = {
        "date": date, "mode": "quick" if args.quick else "full", "rounds": settings.rounds,
        "duration_s": round(duration, 1), "machine": info,
        "load_average": {"before": load_before, "after": load_average()},
        "civis_dyn_revision": git_revision(), "anchor": anchor_status,
        "settings": dataclasses.asdict(settings), "schema": str(spec), "notes": notes,
        "rows": [row.__dict__ for row in rows], "medians": medians(raw), "raw": raw,
        "errors": errors,
    }
    print()
    print(f"{date} · {info.get('cpu', info['machine'])} · {info['nproc']} CPUs · "
          f"Python {info['python']} · {info['platform']} · load {load_before} → "
          f"{result['load_average']['after']}")
    print()
    if anchor_missing:
        print("civis-python was NOT measured: " + (anchor_status["error"] or "?"))
        print()
    print(format_table(rows))
    print()
    for row in rows:
        if row.note:
            print(f"* {row.metric}: {row.note}")
    for note in notes:
        print(f"* {note}")
    missed = [row.metric for row in rows if row.met is False]
    print()
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    if errors:
        print(f"{len(errors)} measurement(s) failed:")
        for error in errors:
            print("  - " + error.replace("\n", "\n    "))
    path = write_results(args.output, result)
    print(f"wrote {path} in {duration:.0f} s")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
