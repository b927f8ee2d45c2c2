"""civis-python 2.10.1's own test suite, with civis_dyn's mock and responses in place of its own.

Runs ``tools/run_civis_python_tests.py`` when civis-python's sdist is available (default
``../civis-ref/civis-2.10.1``, or ``CIVIS_PYTHON_SDIST``) and an interpreter with civis-python
installed is known (this one, or ``CIVIS_PYTHON`` naming one); skips otherwise. Slow (two
runs of about 40 s), so it is also skipped unless ``CIVIS_DYN_CIVIS_PYTHON_SUITE=1``.
"""
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
try:
    import run_civis_python_tests as runner
finally:
    sys.path.pop(0)


def _interpreter():
    given = os.environ.get("CIVIS_PYTHON")
    if given:
        return given
    if importlib.util.find_spec("civis") is not None:
        return sys.executable
    return None


def test_civis_python_suite_passes_as_with_civis_python():
    """civis-python's tests pass with civis_dyn's create_client_mock, Response, find as with its own."""
    if os.environ.get("CIVIS_DYN_CIVIS_PYTHON_SUITE") != "1":
        pytest.skip("set CIVIS_DYN_CIVIS_PYTHON_SUITE=1 to run civis-python's suite (slow)")
    sdist = runner.find_sdist()
    python = _interpreter()
    if sdist is None or python is None:
        pytest.skip("needs civis-python's sdist and an interpreter with civis-python installed "
                    "(CIVIS_PYTHON_SDIST, CIVIS_PYTHON)")
    live = runner.DEFAULT_LIVE_SCHEMA if runner.DEFAULT_LIVE_SCHEMA.exists() else None
    baseline, _, _ = runner.run_suite(python, sdist, False)
    patched, summary, output = runner.run_suite(python, sdist, True, live_schema=live)
    regressions, _ = runner.compare(baseline, patched)
    if regressions:  # civis-python has timing-dependent tests: a regression must repeat
        again, _, _ = runner.run_suite(python, sdist, True, live_schema=live,
                                       only=[runner._node_id(t) for t in regressions])
        regressions = [t for t in regressions if again.get(t) != "passed"]
    assert patched and not regressions, (summary, regressions)
    response_tests = {t: o for t, o in patched.items() if ".test_response::" in t}
    assert response_tests and set(response_tests.values()) == {"passed"}, response_tests


def test_runner_swaps_civis_objects_for_civis_dyn_ones():
    """The runner's conftest replaces exactly civis-python's response objects and mocks."""
    replaced = {name for _, name in runner.REPLACEMENTS}
    assert replaced == {"Response", "ListResponse", "PaginatedResponse", "find", "find_one",
                        "CivisImmutableResponseError", "create_client_mock",
                        "create_client_mock_for_container_tests"}
    for module, name in runner.REPLACEMENTS.values():
        assert getattr(importlib.import_module(module), name) is not None
    assert runner._node_id("tests.test_io::test_x[a-b]") == "tests/test_io.py::test_x[a-b]"
