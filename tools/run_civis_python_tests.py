"""Run civis-python's own test suite with civis_dyn's mock and responses in place of its own.

Usage::

    python tools/run_civis_python_tests.py [--sdist DIR_OR_TARBALL] [--python PYTHON]
                                           [--mode both|civis|civis_dyn] [--json] [PYTEST_ARGS...]

The interpreter given by ``--python`` (default: this one) must have
civis-python installed (``pip install civis==2.10.1``); civis_dyn is taken
from this checkout (put first on ``PYTHONPATH``). The tests come from
civis-python's source distribution (``pip download --no-deps --no-binary :all:
civis==2.10.1`` gives it): a folder or a ``.tar.gz``, default
``../civis-ref/civis-2.10.1`` beside the checkout or ``CIVIS_PYTHON_SDIST``.

Its ``tests/`` folder is copied to a temporary folder and run twice:

* ``civis``: unchanged, the baseline of this machine (some of its tests need
  the ``civis`` command on PATH, a network, or an API key);
* ``civis_dyn``: a ``conftest.py`` is added that, before any test module is
  imported, replaces in every loaded ``civis`` module civis-python's
  ``Response``, ``ListResponse``, ``PaginatedResponse``, ``find``,
  ``find_one``, ``CivisImmutableResponseError``, ``create_client_mock`` and
  ``create_client_mock_for_container_tests`` with civis_dyn's. civis-python's
  own code (``civis.io``, ``civis.futures``, ``civis.utils``) then runs with
  civis_dyn's objects, and so do the tests.

It prints the counts of both runs and the tests whose outcome differs; the
exit status is 1 when a test that passes in the baseline fails with civis_dyn.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SDIST = REPO.parent / "civis-ref" / "civis-2.10.1"
DEFAULT_LIVE_SCHEMA = REPO.parent / "shared" / "specs" / "civis_api_spec.json"

# What the civis_dyn run puts in place of civis-python's objects: (civis module, name) ->
# (civis_dyn module, name). Every civis module that imported the object gets the replacement.
REPLACEMENTS = {
    ("civis.response", "Response"): ("civis_dyn", "Response"),
    ("civis.response", "ListResponse"): ("civis_dyn", "ListResponse"),
    ("civis.response", "PaginatedResponse"): ("civis_dyn", "PaginatedResponse"),
    ("civis.response", "find"): ("civis_dyn", "find"),
    ("civis.response", "find_one"): ("civis_dyn", "find_one"),
    ("civis.response", "CivisImmutableResponseError"): ("civis_dyn", "CivisImmutableResponseError"),
    ("civis.tests.mocks", "create_client_mock"): ("civis_dyn.tests", "create_client_mock"),
    ("civis.tests.mocks", "create_client_mock_for_container_tests"):
        ("civis_dyn.tests", "create_client_mock_for_container_tests"),
}

# civis modules to load before patching (civis-python imports several lazily).
CIVIS_MODULES = (
    "civis", "civis.response", "civis.base", "civis.client", "civis.futures", "civis.polling",
    "civis.utils", "civis.utils._jobs", "civis.io", "civis.io._files", "civis.io._tables",
    "civis.io._databases", "civis.tests", "civis.tests.mocks", "civis.parallel", "civis.ml",
    "civis.ml._model", "civis.ml._helper", "civis.service_client", "civis.workflows",
    "civis.cli.__main__", "civis.cli._cli_commands", "civis.run_joblib_func",
)

CONFTEST = '''\
# Added by civis_dyn's tools/run_civis_python_tests.py: civis_dyn's objects in place of
# civis-python's, patched into every loaded civis module before the tests are imported.
import importlib
import importlib.util
import sys
import warnings

try:  # civis_dyn from a checkout on PYTHONPATH: its bundled schema package is schemas/
    import civis_dyn.schemas
except ImportError:
    _spec = importlib.util.spec_from_file_location(
        "civis_dyn.schemas", {schemas_init!r}, submodule_search_locations=[{schemas_dir!r}])
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["civis_dyn.schemas"] = _module
    _spec.loader.exec_module(_module)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _name in {modules!r}:
        try:
            importlib.import_module(_name)
        except ImportError:
            pass

_swap = {{}}
for (_mod, _attr), (_new_mod, _new_attr) in {replacements!r}.items():
    _old = getattr(sys.modules[_mod], _attr)
    _swap[id(_old)] = (_old, getattr(importlib.import_module(_new_mod), _new_attr))

for _name, _module in list(sys.modules.items()):
    if _module is None or not (_name == "civis" or _name.startswith("civis.")):
        continue
    for _attr, _value in list(vars(_module).items()):
        _pair = _swap.get(id(_value))
        if _pair is not None and _pair[0] is _value:
            setattr(_module, _attr, _pair[1])
'''


def find_sdist(given=None):
    """Return the folder of civis-python's source distribution, or None."""
    candidates = [given, os.environ.get("CIVIS_PYTHON_SDIST"), DEFAULT_SDIST]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def _tests_folder(sdist, workdir):
    """Copy the sdist's ``tests/`` into ``workdir``; return the copy."""
    target = workdir / "tests"
    if sdist.is_dir():
        shutil.copytree(sdist / "tests", target)
        return target
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if "/tests/" in m.name
                   and m.name.split("/", 2)[1] == "tests"]
        for member in members:
            member.name = member.name.split("/", 1)[1]
        archive.extractall(workdir, members=members, filter="data")
    return target


def seed_live_schema(cache_dir, schema_path):
    """Put ``schema_path`` in a civis_dyn disk cache as if this machine had downloaded it.

    civis-python's tests run against its own copy of the live schema; civis_dyn's
    ``create_client_mock()`` uses the freshest schema it finds, so the run sees
    the same operations as civis-python's (the bundled schema can be older).
    """
    sys.path.insert(0, str(REPO))
    try:
        from civis_dyn._config import DEFAULT_BASE_URL
        from civis_dyn.spec._cache import CachedSchema, DiskCache, schema_entry_name
    finally:
        sys.path.pop(0)
    import time

    raw = Path(schema_path).read_bytes()
    entry = CachedSchema.from_download(raw, fetched_at=time.time(), base_url=DEFAULT_BASE_URL,
                                       api_version="1.0")
    DiskCache(cache_dir).write_schema(
        schema_entry_name(DEFAULT_BASE_URL, "1.0", "civis-python-tests"), entry)


def run_suite(python, sdist, patched, pytest_args=(), live_schema=None, only=()):
    """Run the suite once; return ``{test id: outcome}`` and pytest's summary line."""
    with tempfile.TemporaryDirectory(prefix="civis-python-tests-") as tmp:
        workdir = Path(tmp)
        tests = _tests_folder(sdist, workdir)
        if patched:
            conftest = tests / "conftest.py"
            previous = conftest.read_text() if conftest.exists() else ""
            conftest.write_text(CONFTEST.format(
                modules=CIVIS_MODULES, replacements=REPLACEMENTS,
                schemas_init=str(REPO / "schemas" / "__init__.py"),
                schemas_dir=str(REPO / "schemas")) + previous)
        report = workdir / "report.xml"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("CIVIS_API_KEY", None)
        env.pop("CIVIS_API_ENDPOINT", None)
        env["CIVIS_DYN_CACHE_DIR"] = str(workdir / "civis_dyn-cache")
        if patched and live_schema is not None:
            seed_live_schema(workdir / "civis_dyn-cache", live_schema)
        completed = subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
             f"--junitxml={report}", *pytest_args, *(list(only) or [str(tests)])],
            cwd=workdir, env=env, capture_output=True, text=True)
        summary = [line for line in completed.stdout.splitlines() if line.strip()][-1:] or [""]
        outcomes = _outcomes(report) if report.exists() else {}
    return outcomes, summary[0], completed.stdout


def _outcomes(report):
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            outcome = "failed"
        elif "error" in kinds:
            outcome = "error"
        elif "skipped" in kinds:
            outcome = "skipped"
        else:
            outcome = "passed"
        outcomes[name] = outcome
    return outcomes


def _node_id(test):
    """``tests.test_io::test_x`` (a junit name) -> ``tests/test_io.py::test_x`` (a pytest node id)."""
    module, _, name = test.partition("::")
    return "/".join(module.split(".")) + ".py::" + name


def count(outcomes):
    """``{outcome: number}`` of one run."""
    counts = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def compare(baseline, patched):
    """Tests passing in ``baseline`` but not in ``patched`` (regressions), and the reverse."""
    regressions = sorted(t for t, o in baseline.items() if o == "passed"
                         and patched.get(t, "missing") not in ("passed", "skipped"))
    fixed = sorted(t for t, o in patched.items() if o == "passed"
                   and baseline.get(t) not in (None, "passed"))
    return regressions, fixed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", help="civis-python's sdist folder or .tar.gz")
    parser.add_argument("--python", default=sys.executable,
                        help="an interpreter with civis-python installed")
    parser.add_argument("--mode", choices=("both", "civis", "civis_dyn"), default="both")
    parser.add_argument("--live-schema", default=None,
                        help="a copy of the live API schema, seen by civis_dyn as downloaded "
                             "(default ../shared/specs/civis_api_spec.json when present; "
                             "'none': only the bundled schema)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args, pytest_args = parser.parse_known_args(argv)
    sdist = find_sdist(args.sdist)
    if sdist is None:
        parser.error("civis-python's sdist not found (give --sdist or set CIVIS_PYTHON_SDIST)")
    live_schema = args.live_schema
    if live_schema is None and DEFAULT_LIVE_SCHEMA.exists():
        live_schema = DEFAULT_LIVE_SCHEMA
    if live_schema == "none":
        live_schema = None
    result = {"live_schema": str(live_schema) if live_schema else None}
    runs = {"civis": False, "civis_dyn": True}
    for mode, patched in runs.items():
        if args.mode in (mode, "both"):
            outcomes, summary, _ = run_suite(args.python, sdist, patched, pytest_args,
                                             live_schema)
            result[mode] = {"counts": count(outcomes), "summary": summary, "outcomes": outcomes}
    if "civis" in result and "civis_dyn" in result:
        regressions, fixed = compare(result["civis"]["outcomes"], result["civis_dyn"]["outcomes"])
        if regressions:  # civis-python has timing-dependent tests: a regression must repeat
            again, _, _ = run_suite(args.python, sdist, True, pytest_args, live_schema,
                                    only=[_node_id(t) for t in regressions])
            flaky = [t for t in regressions if again.get(t) == "passed"]
            regressions = [t for t in regressions if t not in flaky]
            result["flaky"] = flaky
        result["regressions"], result["fixed"] = regressions, fixed
    if args.json:
        print(json.dumps(result, indent=1, sort_keys=True))
    else:
        for mode in runs:
            if mode in result:
                print(f"{mode:10} {result[mode]['summary']}")
                failing = sorted(t for t, o in result[mode]["outcomes"].items()
                                 if o in ("failed", "error"))
                for test in failing:
                    print(f"    {result[mode]['outcomes'][test]:7} {test}")
        for label in ("regressions", "fixed", "flaky"):
            if label in result:
                print(f"{label} ({len(result[label])}):")
                for test in result[label]:
                    print(f"    {test}")
    return 1 if result.get("regressions") else 0


if __name__ == "__main__":
    sys.exit(main())
