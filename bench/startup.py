"""Start-up benchmarks of civis_dyn: import, a new process to the first method, size independence.

Usage::

    python bench/startup.py              # 7 rounds (about a minute on 2 cores)
    python bench/startup.py --rounds 3   # fewer rounds
    python bench/startup.py --json       # also print the raw figures as JSON

``bench/run.py`` calls :func:`run` and prints this table after its own.

Three rows, each measured side by side with its baseline in the same round
(order alternating between rounds), every figure in a fresh subprocess with a
clean environment (``PYTHONDONTWRITEBYTECODE`` unset, ``.pyc`` files warm). Each
round keeps the fastest of :data:`BEST_OF` processes of each kind (start-up
times on a shared machine only ever get slower by noise); the table shows the
median over rounds and the range of the per-round ratios:

``import civis_dyn``
    Wall time of ``python -c "import civis_dyn"`` minus that of ``python -c
    pass`` (the interpreter's own start-up, ``site`` included), and the import
    timed inside the process (``perf_counter`` around the statement).
    Target: at most 15 ms.
``new process to the first method``
    Wall time of a process that imports civis_dyn, builds
    ``APIClient(api_key=..., local_api_spec=<schema>)`` on a warm cache and
    resolves ``client.jobs.get`` with its signature, divided by the wall time
    of a process that only ``json.load``\\ s the schema file. Target: at most 1.0x.
``warm construction at 20x the schema``
    ``APIClient(api_key=..., local_api_spec=...)`` timed inside a fresh
    process on a warm cache (its modules already imported), for a schema 20
    times the real one (its resources replicated under new names, written to
    a temporary directory) divided by the same for the real schema; each
    round takes the fastest of :data:`BEST_OF` processes of each. Target: at most 1.5x.

Nothing here writes into the repository: the schemas and caches live in a
temporary directory removed at the end.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SPEC_ENV = "CIVIS_DYN_TEST_SPEC"
API_KEY = "bench-key-0123456789"
SCALE = 20
BEST_OF = 3
DROPPED_ENV = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME")

TARGETS = {"import": 0.015, "first_method": 1.0, "scale": 1.5}

# a new process: import, construct on a warm cache, resolve one method and its signature
FIRST_METHOD = """\
import sys
import civis_dyn
client = civis_dyn.APIClient(api_key=sys.argv[1], local_api_spec=sys.argv[2])
method = client.jobs.get
import inspect
if "id" not in inspect.signature(method).parameters:
    raise SystemExit("jobs.get has no id parameter")
"""
JSON_LOAD = """\
import json, sys
with open(sys.argv[2], "rb") as f:
    json.load(f)
"""
IMPORT_ONLY = "import civis_dyn"
PASS = "pass"
IMPORT_TIMED = """\
import time
t0 = time.perf_counter()
import civis_dyn
print("BENCH", time.perf_counter() - t0)
"""
CONSTRUCT_TIMED = """\
import sys, time
t0 = time.perf_counter()
import civis_dyn
civis_dyn.APIClient  # the modules a client is made of (imported on first use)
t1 = time.perf_counter()
client = civis_dyn.APIClient(api_key=sys.argv[1], local_api_spec=sys.argv[2])
t2 = time.perf_counter()
client.jobs.get
hwm = [l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")]
print("BENCH", t2 - t1, t1 - t0, hwm[0] if hwm else -1)
"""


def find_spec():
    """The real schema: env ``CIVIS_DYN_TEST_SPEC``, else ``../shared/specs`` beside the repo."""
    env = os.environ.get(SPEC_ENV)
    path = Path(env) if env else REPO.parent / "shared" / "specs" / "civis_api_spec.json"
    return path.resolve() if path.is_file() else None


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in DROPPED_ENV and not k.startswith("CIVIS_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def scaled_schema(source, target, copies):
    """Write ``source``'s schema with its resources replicated ``copies`` times to ``target``.

    Copy ``k`` (from 1) renames every path's first segment ``jobs`` to ``jobs_k{k}``
    and every definition ``Name`` to ``Name_k{k}`` (its ``$ref`` links rewritten), so
    each copy is a distinct resource with its own definitions. The few paths that
    the naming rules know by name (``ARRAY_DESPITE_SCHEMA``) are not copied: under
    a new name they would collide with their ``get_*`` alias.
    """
    sys.path.insert(0, str(REPO))
    from civis_dyn.spec._naming import ARRAY_DESPITE_SCHEMA, path_shape

    with open(source, "rb") as f:
        document = json.load(f)
    paths = dict(document.get("paths") or {})
    definitions = dict(document.get("definitions") or {})
    prefix = "#/definitions/"

    def renamed(node, suffix):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(prefix):
                    out[key] = value + suffix
                else:
                    out[key] = renamed(value, suffix)
            return out
        if isinstance(node, list):
            return [renamed(item, suffix) for item in node]
        return node

    for k in range(1, copies):
        suffix = f"_k{k}"
        for path, item in document["paths"].items():
            parts = path.split("/")
            if len(parts) < 2 or not parts[1] or path_shape(path) in ARRAY_DESPITE_SCHEMA:
                continue
            parts[1] = parts[1] + suffix
            paths["/".join(parts)] = renamed(item, suffix)
        for name, schema in document.get("definitions", {}).items():
            definitions[name + suffix] = renamed(schema, suffix)
    document["paths"] = paths
    document["definitions"] = definitions
    data = json.dumps(document).encode()
    Path(target).write_bytes(data)
    return len(data)


class Runner:
    """Runs snippets in fresh subprocesses of ``python`` with a clean environment."""

    def __init__(self, python, scratch):
        self.python = python
        self.scratch = Path(scratch)
        self.home = self.scratch / "home"
        self.home.mkdir(exist_ok=True)

    def env(self, cache):
        return clean_env(HOME=self.home, CIVIS_DYN_CACHE_DIR=cache)

    def wall(self, code, *args, cache):
        start = time.perf_counter()
        done = subprocess.run([self.python, "-c", code, *map(str, args)], env=self.env(cache),
                              cwd=self.scratch, capture_output=True, text=True, timeout=300)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"subprocess failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return seconds, done.stdout

    def figures(self, code, *args, cache):
        _, out = self.wall(code, *args, cache=cache)
        line = next(line for line in out.splitlines() if line.startswith("BENCH "))
        return [float(x) for x in line.split()[1:]]


def _median(values):
    return statistics.median(values) if values else float("nan")


def _range(values, scale=1.0, fmt="{:.1f}"):
    if not values:
        return "?"
    return f"{fmt.format(min(values) * scale)}–{fmt.format(max(values) * scale)}"


def run(rounds=7, python=None, spec=None, log=print):
    """Measure the three start-up rows; return ``{"rows": [...], "raw": {...}}``."""
    python = python or sys.executable
    spec = Path(spec or find_spec())
    scratch = Path(tempfile.mkdtemp(prefix="civis-dyn-startup-"))
    try:
        runner = Runner(python, scratch)
        big = scratch / f"schema-x{SCALE}.json"
        size = scaled_schema(spec, big, SCALE)
        log(f"schema {spec} ({spec.stat().st_size / 1e6:.1f} MB); x{SCALE}: {size / 1e6:.1f} MB")
        caches = {"x1": scratch / "cache-x1", "x20": scratch / "cache-x20"}
        # warm the .pyc files (PYTHONDONTWRITEBYTECODE is unset) and both caches
        for _ in range(2):
            runner.wall(FIRST_METHOD, API_KEY, spec, cache=caches["x1"])
            runner.wall(CONSTRUCT_TIMED, API_KEY, big, cache=caches["x20"])
        raw = {k: [] for k in ("pass", "import", "import_in_process", "json_load", "first_method",
                               "construct_x1", "construct_x20", "rss_x1", "rss_x20")}
        for r in range(rounds):
            def best(measure):
                return lambda: min(measure() for _ in range(BEST_OF))

            steps = [
                ("pass", best(lambda: runner.wall(PASS, cache=caches["x1"])[0])),
                ("import", best(lambda: runner.wall(IMPORT_ONLY, cache=caches["x1"])[0])),
                ("import_in_process",
                 best(lambda: runner.figures(IMPORT_TIMED, cache=caches["x1"])[0])),
                ("json_load",
                 best(lambda: runner.wall(JSON_LOAD, API_KEY, spec, cache=caches["x1"])[0])),
                ("first_method",
                 best(lambda: runner.wall(FIRST_METHOD, API_KEY, spec, cache=caches["x1"])[0])),
                ("x1", best(lambda: runner.figures(CONSTRUCT_TIMED, API_KEY, spec,
                                                   cache=caches["x1"]))),
                ("x20", best(lambda: runner.figures(CONSTRUCT_TIMED, API_KEY, big,
                                                    cache=caches["x20"]))),
            ]
            if r % 2:
                steps.reverse()
            for name, step in steps:
                value = step()
                if name in ("x1", "x20"):
                    raw[f"construct_{name}"].append(value[0])
                    raw[f"rss_{name}"].append(value[2])
                else:
                    raw[name].append(value)
            log(f"round {r + 1}/{rounds} done")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"rows": rows_of(raw), "raw": raw, "schema_x20_bytes": size}


def rows_of(raw):
    """Table rows ``(metric, figures, ratio, ranges, target, met)`` from the raw rounds."""
    over = [i - p for i, p in zip(raw["import"], raw["pass"])]
    first = [f / j for f, j in zip(raw["first_method"], raw["json_load"])]
    scale = [b / a for a, b in zip(raw["construct_x1"], raw["construct_x20"])]
    rows = [
        ("import civis_dyn over a bare interpreter",
         f"{_median(over) * 1e3:.1f} ms (wall − `python -c pass` {_median(raw['pass']) * 1e3:.0f} ms;"
         f" in-process {_median(raw['import_in_process']) * 1e3:.1f} ms)",
         f"range {_range(over, 1e3)} ms", "<= 15 ms", _median(over) <= TARGETS["import"]),
        ("new process: import + construct (warm) + jobs.get signature vs json.load process",
         f"{_median(raw['first_method']) * 1e3:.0f} ms vs {_median(raw['json_load']) * 1e3:.0f} ms",
         f"{_median(first):.2f}x (range {_range(first, fmt='{:.2f}')})", "<= 1.0x",
         _median(first) <= TARGETS["first_method"]),
        (f"warm construction at {SCALE}x the schema vs 1x",
         f"{_median(raw['construct_x20']) * 1e3:.2f} ms vs {_median(raw['construct_x1']) * 1e3:.2f} ms"
         f" (+{(_median(raw['construct_x20']) - _median(raw['construct_x1'])) * 1e3:.2f} ms)"
         f" (peak RSS {_median(raw['rss_x20']) / 1024:.0f} vs {_median(raw['rss_x1']) / 1024:.0f} MiB)",
         f"{_median(scale):.2f}x (range {_range(scale, fmt='{:.2f}')})", "<= 1.5x",
         _median(scale) <= TARGETS["scale"]),
    ]
    return rows


def format_rows(rows):
    lines = []
    for metric, figures, ratio, target, met in rows:
        lines.append(f"{metric}\n    {figures}\n    {ratio} · target {target} · "
                     f"{'met' if met else 'NOT met'}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python bench/startup.py", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON too")
    args = parser.parse_args(argv)
    if find_spec() is None:
        print(f"the real schema was not found: set {SPEC_ENV}", file=sys.stderr)
        return 2
    result = run(args.rounds)
    print()
    print(format_rows(result["rows"]))
    if args.json:
        print(json.dumps(result["raw"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
