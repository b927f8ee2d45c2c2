"""Instructions, not seconds: decode + wrap a 1,000-object page vs ``json.loads``, under callgrind.

Usage::

    python bench/instructions.py            # civis_dyn, and civis-python when bench/run.py
                                            # has installed it (bench/.anchor-venv)
    python bench/instructions.py --count 40 # more civis_dyn pages per process (20 by default)

``bench/run.py``'s wrap row times the same work on the clock, which on a shared
machine moves by several percent between runs. ``valgrind --tool=callgrind``
counts the instructions a process executes instead, whatever else the machine
is doing (``PYTHONHASHSEED=0`` here). One thing still moves it: where the
garbage collector's full collections fall, which depends on everything the
process allocated before. Over a few pages one such collection more or less
moved civis_dyn's figure between 1.09x and 1.33x; over 20 pages (the default)
it stayed at 1.094x on different pages. It does not see cache misses, so it is
a floor of the timed ratio, not a replacement: use it to tell whether a change
to the wrapping makes less work.

Four processes per client run ``_worker.py``'s ``wrap_loop`` task on the same
page as ``bench/run.py`` (a real ``GET /jobs`` page from the LocalCivisAPI):
decode once or ``count + 1`` times, and decode + wrap once or ``count + 1``
times (the first call is the warm-up: imports and first-use costs). The
differences give the instructions of one ``json.loads`` and of one decode +
wrap, garbage collection and freeing the page included. civis-python runs
:data:`ANCHOR_COUNT` pages (each costs it about 20 times as much; its ratio
does not hang on a few million instructions). Needs ``valgrind`` on the PATH
and the real schema (as ``bench/run.py`` finds it); prints why and exits 2
without them.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from _anchor import VENV, installed_version  # noqa: E402
from _servers import canned_bodies, start_local_api  # noqa: E402
from run import SPEC_ENV, find_spec  # noqa: E402

WORKER = BENCH / "_worker.py"
ANCHOR_COUNT = 3  # civis-python's pages per process
_COLLECTED = re.compile(r"Collected : (\d+)")


def instructions(python, task):
    """Instructions callgrind counts for one ``_worker.py`` task run by ``python``."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0",
           "HOME": os.environ.get("HOME", "/tmp")}
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           python, str(WORKER), json.dumps(task)],
                          capture_output=True, text=True, env=env, timeout=1800)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind of {task['task']} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def measure(client, python, page, count):
    """Instructions of one ``json.loads`` of the page and of one decode + wrap of it."""
    def task(wrap, times):
        return {"task": "wrap_loop", "client": client, "page": page, "wrap": wrap, "count": times}

    decode = (instructions(python, task(False, count)) - instructions(python, task(False, 0)))
    wrapped = (instructions(python, task(True, count)) - instructions(python, task(True, 0)))
    return decode / count, wrapped / count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20,
                        help="civis_dyn's pages per process (default 20)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not on the PATH (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    spec = find_spec()
    if spec is None:
        print(f"the real schema was not found: set {SPEC_ENV}", file=sys.stderr)
        return 2
    clients = [("civis_dyn", sys.executable, args.count)]
    anchor = VENV / "bin" / "python"
    if anchor.exists() and installed_version(anchor):
        clients.insert(0, ("civis", str(anchor), ANCHOR_COUNT))
    with tempfile.TemporaryDirectory(prefix="civis-dyn-instructions-") as scratch:
        api = start_local_api(str(spec), 50)
        try:
            page = Path(scratch) / "page.json"
            page.write_bytes(canned_bodies(api, 50, 1000)["page"])
        finally:
            api.stop()
        print(f"decode + wrap a 1,000-object page ({page.stat().st_size:,} bytes of JSON), "
              f"instructions per page, PYTHONHASHSEED=0")
        for client, python, count in clients:
            decode, wrapped = measure(client, python, str(page), count)
            print(f"  {client:10s} {count:2d} pages  json.loads {decode / 1e6:7.2f} M   "
                  f"decode + wrap {wrapped / 1e6:7.2f} M   {wrapped / decode:.3f}x   "
                  f"(+{(wrapped - decode) / 1000:,.0f} per object)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
