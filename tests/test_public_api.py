"""The public surface: complete, sorted ``__all__``; light imports."""
import subprocess
import sys

import pytest

import civis_dyn
import civis_dyn.testing


@pytest.mark.parametrize("module", [civis_dyn, civis_dyn.testing])
def test_all_is_sorted_and_every_name_resolves(module):
    names = module.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None, name


def test_every_public_exception_is_exported():
    from civis_dyn import _errors

    exceptions = {n for n, v in vars(_errors).items()
                  if isinstance(v, type) and issubclass(v, Exception) and not n.startswith("_")}
    assert exceptions <= set(civis_dyn.__all__)
    assert set(_errors.__all__) == exceptions


def test_lazy_names_are_public():
    assert set(civis_dyn._LAZY) <= set(civis_dyn.__all__)
    assert set(civis_dyn.__all__) <= set(dir(civis_dyn))


def test_bare_import_loads_no_other_module():
    """``import civis_dyn`` is cheap: every public name is imported on first use."""
    code = ("import sys; before = set(sys.modules); import civis_dyn; "
            "print(' '.join(sorted(set(sys.modules) - before)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["civis_dyn", "civis_dyn._lazy", "civis_dyn._version"]


def test_every_public_name_is_importable_from_a_fresh_process():
    code = ("import civis_dyn; "
            "exec('from civis_dyn import ' + ', '.join(civis_dyn.__all__)); "
            "print(sorted(set(civis_dyn.__all__) - set(dir(civis_dyn))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# the core's modules: what they raise reaches users, so it must derive from CivisDynError
CORE_MODULES = ("_client", "_config", "_http", "_limits", "_meta", "_pipeline", "_poller",
                "_resources", "_response", "_transport", "conveniences", "futures", "resources")
# protocol exceptions Python itself expects (attribute and item lookup, iteration, pickling)
PROTOCOL = {"AttributeError", "KeyError", "StopIteration"}


def test_the_core_raises_only_civis_dyn_errors():
    import ast
    import builtins
    from pathlib import Path

    package = Path(civis_dyn.__file__).parent
    found = []
    for name in CORE_MODULES:
        tree = ast.parse((package / f"{name}.py").read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                raised = getattr(node.exc.func, "id", None)
                builtin = getattr(builtins, raised or "", None)
                if (isinstance(builtin, type) and issubclass(builtin, BaseException)
                        and raised not in PROTOCOL
                        and function.name not in ("__reduce__", "__getstate__")):
                    found.append(f"{name}.py:{node.lineno} {function.name} raises {raised}")
    assert not found, found
