"""Typed stubs: what they say (small schema), mypy over the real schema's stubs, run-time types.

The mypy tests generate the stubs from ../shared/specs (skipped without it, failed
when CI=true) and run ``mypy --strict`` once per sample in tests/stubs_samples/.
"""

import ast
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import civis_dyn
from civis_dyn import _stub_check, _stubs
from civis_dyn.spec._model import ApiSpec
from civis_dyn.spec._source import clear_memory_cache

SAMPLES = Path(__file__).resolve().parent / "stubs_samples"


def _ref(name):
    return {"$ref": f"#/definitions/{name}"}


def small_schema(**changes):
    """A schema with the shapes the stubs map: enums, nested bodies, pagination, deprecation."""
    id_param = {"name": "id", "in": "path", "required": True, "type": "integer"}
    body = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "description": "The widget's name."},
        "size": {"type": "string", "enum": ["small", "large"]},
        "dueAt": {"type": "string", "format": "date-time"},
        "schedule": {"description": "When to run.", **_ref("ScheduleInput")},
        "inlineLimits": {"type": "object", "properties": {"maxRows": {"type": "integer"}}},
        "arguments": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "string"}},
    }}
    doc = {
        "swagger": "2.0", "info": {"title": "small", "version": "1"},
        "paths": {
            "/widgets/": {
                "get": {"summary": "List widgets", "parameters": [
                    {"name": "state", "in": "query", "type": "string", "enum": ["on", "off"]},
                    {"name": "limit", "in": "query", "type": "integer"},
                    {"name": "page_num", "in": "query", "type": "integer"}],
                    "responses": {"200": {"description": "ok", "schema": {
                        "type": "array", "items": _ref("WidgetSummary")}}}},
                "post": {"summary": "Create a widget", "parameters": [
                    {"name": "body", "in": "body", "required": True, "schema": body}],
                    "responses": {"201": {"description": "ok", "schema": _ref("Widget")}}},
            },
            "/widgets/{id}": {
                "get": {"summary": "Show a widget", "parameters": [id_param],
                        "responses": {"200": {"description": "ok", "schema": _ref("Widget")}}},
                "delete": {"summary": "Archive a widget (deprecated)", "deprecated": True,
                           "parameters": [id_param],
                           "responses": {"204": {"description": "ok"}}},
            },
            "/widgets/{id}/stats": {
                "get": {"summary": "Stats", "parameters": [id_param],
                        "responses": {"200": {"description": "ok", "schema": {
                            "type": "object", "properties": {"count": {"type": "integer"}},
                            "required": ["count"]}}}},
            },
        },
        "definitions": {
            "WidgetSummary": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}}},
            "Widget": {"type": "object", "required": ["id", "name", "items"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "createdAt": {"type": "string", "format": "date-time",
                              "description": "When it was made."},
                "parent": _ref("Widget"),
                "children": {"type": "array", "items": _ref("WidgetSummary")},
                "items": {"type": "array", "items": {"type": "string"}},
                "from": {"type": "integer"},
                "arguments": {"type": "object"},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "notes": {"type": "string", "x-nullable": True}}},
            "ScheduleInput": {"type": "object", "properties": {
                "scheduledDays": {"type": "array", "items": {"type": "integer"}},
                "nested": _ref("ScheduleInput")}},
        },
    }
    for path, value in changes.items():
        doc["paths"][path] = value
    return doc


@pytest.fixture
def small_files():
    return _stubs.render_stubs(ApiSpec.from_dict(small_schema()))


def test_the_tree_has_one_module_per_resource_and_the_schema_hash(small_files):
    spec = ApiSpec.from_dict(small_schema())
    assert {"__init__.pyi", "_client.pyi", "_response.pyi", "types.pyi", "_api/__init__.pyi",
            "_api/widgets.pyi", "py.typed", "schema.sha256"} <= set(small_files)
    assert not any(name.startswith("_api/") for name in set(small_files) - {
        "_api/__init__.pyi", "_api/widgets.pyi"})
    # the other public modules are typed loosely, so imports of them still resolve
    assert "\nclass CivisFuture:\n" in small_files["futures.pyi"]
    assert "def __getattr__(name: str) -> typing.Any: ...\n" in small_files["testing/__init__.pyi"]
    assert "from civis_dyn.futures import CivisFuture as CivisFuture\n" in small_files["__init__.pyi"]
    assert small_files["schema.sha256"].strip() == spec.sha256
    assert small_files["py.typed"] == "partial\n"
    for name, text in small_files.items():
        if name.endswith(".pyi"):
            ast.parse(text, name)       # valid Python syntax
    assert "def widgets(self) -> civis_dyn._api.widgets.Widgets" in small_files["_client.pyi"]


def test_response_classes_are_typed_from_the_schema(small_files):
    types = small_files["types.pyi"]
    widget = types[types.index("class Widget("):types.index("class WidgetSummary(")]
    assert "    id: builtins.int\n" in widget                                 # required
    assert "    name: builtins.str\n" in widget
    assert "    created_at: builtins.str | None\n" in widget                 # not required
    assert "When it was made. (date-time: ISO 8601 text, a str)" in widget
    assert "    parent: Widget | None\n" in widget                           # recursive $ref
    assert "    children: builtins.list[WidgetSummary] | None\n" in widget
    assert "    kind: typing.Literal['a', 'b'] | None\n" in widget
    assert "    arguments: civis_dyn._response.UntypedResponse | None\n" in widget
    assert "    notes: builtins.str | None\n" in widget
    # a field named like a Response method, or a keyword, is read with an index
    assert "    items:" not in widget and "    from:" not in widget
    assert "``r['items']``" in widget and "``r['from']``" in widget
    # an inline response schema gets a name from its operation
    assert "class WidgetsGetStatsResponse(civis_dyn._response.Response):" in types


def test_nested_bodies_are_typeddicts_with_wire_and_snake_keys(small_files):
    types = small_files["types.pyi"]
    assert ("ScheduleInput = typing.TypedDict('ScheduleInput', {\n"
            "    'scheduledDays': typing.Sequence[builtins.int] | None,\n"
            "    'scheduled_days': typing.Sequence[builtins.int] | None,\n"
            "    'nested': ScheduleInput | None,\n}, total=False)") in types
    assert "WidgetsPostInlineLimitsInput = typing.TypedDict(" in types


def test_methods_have_runtime_signatures_enums_overloads_and_deprecation(small_files):
    api = small_files["_api/widgets.pyi"]
    assert ("def post(self, name: builtins.str, *, size: typing.Literal['small', 'large'] | None"
            " = None, due_at: builtins.str | datetime.datetime | None = None, schedule: "
            "_types.ScheduleInput | None = None, inline_limits: _types.WidgetsPostInlineLimitsInput"
            " | None = None, arguments: builtins.dict[builtins.str, typing.Any] | None = None, "
            "tags: typing.Sequence[builtins.str] | None = None) -> _types.Widget:") in api
    assert ("iterator: typing.Literal[True]) -> "
            "civis_dyn._response.PaginatedResponse[_types.WidgetSummary]:") in api
    assert ("iterator: typing.Literal[False] | None = None) -> "
            "civis_dyn._response.ListResponse[_types.WidgetSummary]:") in api
    assert api.count("@typing.overload") == 3
    delete = api[api.index("@typing_extensions.deprecated"):]
    assert delete.startswith("@typing_extensions.deprecated('widgets.delete() is deprecated: ")
    assert "def delete(self, id: builtins.int) -> civis_dyn._response.Response:" in delete
    assert '"""Show a widget\n' in api                   # the numpydoc docstrings
    assert "    Parameters\n        ----------\n        id : int" in api


def test_write_stubs_layouts(tmp_path):
    spec = ApiSpec.from_dict(small_schema())
    typings = _stubs.write_stubs(spec, tmp_path / "typings")
    assert typings == tmp_path / "typings" / "civis_dyn"
    assert (typings / "_api" / "widgets.pyi").is_file()
    package = _stubs.write_stubs(spec, tmp_path / "dist", "package")
    assert package == tmp_path / "dist" / "civis_dyn-stubs"
    assert "setuptools.build_meta" in (tmp_path / "dist" / "pyproject.toml").read_text()
    setup_py = (tmp_path / "dist" / "setup.py").read_text()
    assert 'name="civis-dyn-stubs"' in setup_py and "'civis_dyn-stubs._api'" in setup_py
    # regenerating replaces the tree: a file of an older generation does not linger
    (package / "_api" / "gone.pyi").write_text("")
    _stubs.write_stubs(spec, tmp_path / "dist", "package")
    assert not (package / "_api" / "gone.pyi").exists()
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        "civis_dyn-stubs", "pyproject.toml", "setup.py"]
    with pytest.raises(ValueError, match="layout must be one of"):
        _stubs.write_stubs(spec, tmp_path, "wheel")


def test_the_stub_package_builds_with_every_file(tmp_path):
    """``pip install <out>`` builds with setuptools; build it here (offline) and compare."""
    pytest.importorskip("setuptools")
    package = _stubs.write_stubs(ApiSpec.from_dict(small_schema()), tmp_path / "dist", "package")
    subprocess.run([sys.executable, "setup.py", "-q", "build", "--build-base", str(tmp_path / "b")],
                   cwd=tmp_path / "dist", check=True, capture_output=True, timeout=120)
    built = tmp_path / "b" / "lib" / "civis_dyn-stubs"
    files = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    assert files == {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    assert {"py.typed", "schema.sha256", "_api/widgets.pyi", "types.pyi"} <= files


# -- installed stubs that describe another schema ---------------------------------------
@pytest.fixture
def stub_check(monkeypatch, tmp_path):
    """An empty sys.path and working directory, and a fresh once-per-process memory."""
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site")])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_stub_check, "_WARNED", set())
    return tmp_path


def _client(document):
    return civis_dyn.APIClient(local_api_spec=document, api_key="k", base_url="https://x.test/")


def test_stale_installed_stubs_warn_once_naming_the_command(stub_check):
    old = small_schema()
    _stubs.write_stubs(ApiSpec.from_dict(old), stub_check / "site", "package", pyproject=False)
    new = small_schema(**{"/gadgets/": {"get": {"responses": {}}}})
    with pytest.warns(UserWarning, match=r"type stubs in .*civis_dyn-stubs describe schema "
                                         r"[0-9a-f]{12}, but this client uses schema") as caught:
        _client(new)
    assert f"`civis-dyn stubs --out {stub_check / 'site'}`" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _client(new)        # once per process


def test_current_or_absent_stubs_do_not_warn(stub_check):
    document = small_schema()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _client(document)                                   # no stubs at all
        _stubs.write_stubs(ApiSpec.from_dict(document), stub_check / "typings")
        _client(document)                                   # stubs of this very schema
    assert _stub_check.installed_stubs()[0][2] == "civis-dyn stubs"


def test_typings_in_the_working_directory_are_checked(stub_check):
    _stubs.write_stubs(ApiSpec.from_dict(small_schema()), stub_check / "typings")
    with pytest.warns(UserWarning, match="refresh them with `civis-dyn stubs`"):
        stale = _stub_check.check_installed_stubs("0" * 64)
    assert [(s[0].resolve(), s[2]) for s in stale] == [
        ((stub_check / "typings" / "civis_dyn").resolve(), "civis-dyn stubs")]


# -- civis_dyn.types at run time -----------------------------------------------------------
def test_types_are_importable_at_run_time(monkeypatch):
    monkeypatch.setattr(_stub_check, "_IN_USE", {"spec": None})
    _client(small_schema())
    import civis_dyn.types as types

    for name in ("Widget", "WidgetSummary", "ScheduleInput"):
        monkeypatch.delitem(vars(types), name, raising=False)
    from civis_dyn.types import ScheduleInput, Widget

    assert issubclass(Widget, civis_dyn.Response) and Widget.__module__ == "civis_dyn.types"
    widget = Widget({"id": 1, "createdAt": "2030-01-01T00:00:00Z"})
    assert (widget.id, widget.created_at) == (1, "2030-01-01T00:00:00Z")
    assert Widget.__annotations__["parent"] == "Widget | None"
    assert ScheduleInput(scheduled_days=[1]) == {"scheduled_days": [1]}
    assert {"scheduledDays", "scheduled_days", "nested"} == ScheduleInput.__optional_keys__
    assert {"Widget", "WidgetSummary", "ScheduleInput"} <= set(dir(types))
    with pytest.raises(AttributeError, match="Did you mean 'Widget'"):
        types.Widgte


# -- the real schema: mypy, signatures, sizes -------------------------------------------------
@pytest.fixture(scope="session")
def real_stubs(real_spec_path, tmp_path_factory):
    """The stubs of the real schema in a typings folder (no cache directory touched)."""
    spec = ApiSpec.from_bytes(real_spec_path.read_bytes(), location=str(real_spec_path))
    root = tmp_path_factory.mktemp("real-stubs")
    package = _stubs.write_stubs(spec, root / "typings")
    return spec, package


def test_real_stub_files_are_small_enough(real_stubs):
    spec, package = real_stubs
    sizes = {p.relative_to(package).as_posix(): p.stat().st_size for p in package.rglob("*.pyi")}
    assert {f"_api/{r}.pyi" for r in spec.resources()} <= set(sizes)
    assert max(sizes.values()) < _stubs.MAX_FILE_BYTES


def _stub_functions(path):
    """``{(class, method): [ast.FunctionDef, ...]}`` of a stub module (overloads grouped)."""
    tree = ast.parse(path.read_text())
    out = {}
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef):
            for node in cls.body:
                if isinstance(node, ast.FunctionDef):
                    out.setdefault(node.name, []).append(node)
    return out


_KINDS = {"posonly": inspect.Parameter.POSITIONAL_ONLY, "args": inspect.Parameter.POSITIONAL_OR_KEYWORD,
          "kwonly": inspect.Parameter.KEYWORD_ONLY}
# run-time annotation -> how the stub annotation starts (before " | None")
_STUB_TYPES = {int: ("builtins.int", "typing.Literal["), str: ("builtins.str", "typing.Literal["),
               bool: ("builtins.bool",), float: ("builtins.float",),
               dict: ("_types.", "builtins.dict[")}


def _stub_parameters(node):
    a = node.args
    params = []
    for kind, items, defaults in (("args", a.args, [None] * (len(a.args) - len(a.defaults))
                                   + list(a.defaults)),
                                  ("kwonly", a.kwonlyargs, a.kw_defaults)):
        for arg, default in zip(items, defaults):
            params.append((arg.arg, _KINDS[kind],
                           inspect.Parameter.empty if default is None else ast.literal_eval(default),
                           ast.unparse(arg.annotation) if arg.annotation else ""))
    return params[1:]   # without self


def test_stub_signatures_equal_runtime_signatures_for_every_method(real_stubs):
    spec, package = real_stubs
    client = civis_dyn.APIClient(local_api_spec=spec.document, api_key="k",
                                 base_url="https://x.test/")
    checked = 0
    for resource in spec.resources():
        functions = _stub_functions(package / "_api" / f"{resource}.pyi")
        for name in spec.methods(resource):
            runtime = inspect.signature(getattr(getattr(client, resource), name))
            expected = [(p.name, p.kind, p.default) for p in runtime.parameters.values()]
            variants = functions.get(name)
            assert variants, f"{resource}.{name} has no stub"
            for node in variants:
                stub = _stub_parameters(node)
                got = [(n, k, d) for n, k, d, _ in stub]
                if len(variants) > 1 and got[-1][0] == "iterator" and got[-1][2] is inspect.Parameter.empty:
                    got[-1] = (got[-1][0], got[-1][1], None)    # the Literal[True] overload
                assert got == expected, f"{resource}.{name}"
                for (pname, _, _, text), param in zip(stub, runtime.parameters.values()):
                    annotation = param.annotation
                    text = text.removesuffix(" | None")
                    if pname == "iterator":
                        assert text in ("typing.Literal[True]", "typing.Literal[False]",
                                        "builtins.bool"), (resource, name, text)
                    elif annotation in _STUB_TYPES:
                        assert text.startswith(_STUB_TYPES[annotation]), (resource, name, pname, text)
                    elif getattr(annotation, "__origin__", None) is list or annotation is list:
                        assert text.startswith("typing.Sequence["), (resource, name, pname, text)
            checked += 1
    assert checked == sum(len(spec.methods(r)) for r in spec.resources()) > 900


def _mypy(sample, typings, cache, *flags):
    """Run mypy --strict on a copy of ``sample`` next to nothing else; return its output."""
    work = cache.parent / "work"
    work.mkdir(exist_ok=True)
    (cache.parent / "mypy.ini").write_text("[mypy]\n")
    shutil.copy(sample, work / sample.name)
    env = {**os.environ, "MYPYPATH": str(typings)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-error-codes",
         "--cache-dir", str(cache), "--config-file", str(cache.parent / "mypy.ini"), *flags, sample.name],
        cwd=work, env=env, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy") / "cache"


def test_mypy_strict_accepts_a_correct_typed_sample(real_stubs, mypy_cache):
    _, package = real_stubs
    code, output = _mypy(SAMPLES / "typed_ok.py", package.parent, mypy_cache)
    assert (code, output.strip()) == (0, "")


# marker in tests/stubs_samples/typed_wrong.py -> (error code, text the message contains)
EXPECTED_ERRORS = {
    "E-str-id": ("arg-type", 'Argument 1 to "get" of "Jobs" has incompatible type "str"; '
                             'expected "int"'),
    "E-misspelled-field": ("attr-defined", '"Job" has no attribute "nmae"'),
    "E-misspelled-param": ("call-overload", 'Unexpected keyword argument "limt"'),
    "E-nested-type": ("typeddict-item", 'TypedDict item "cpu" has type "int | None"'),
    "E-nested-key": ("typeddict-unknown-key", 'Extra key "memroy" for TypedDict '
                                              '"ScriptRequiredResourcesCreateRequestInput"'),
    "E-paginated-not-list": ("attr-defined", '"PaginatedResponse[JobRun]" has no attribute "append"'),
    "E-deprecated": ("deprecated", "scripts.delete() is deprecated"),
    "E-misspelled-resource": ("attr-defined", '"APIClient" has no attribute "jobz"'),
}


def test_mypy_strict_rejects_wrong_types_and_misspelled_fields(real_stubs, mypy_cache):
    _, package = real_stubs
    sample = SAMPLES / "typed_wrong.py"
    code, output = _mypy(sample, package.parent, mypy_cache, "--enable-error-code", "deprecated")
    assert code == 1, output
    errors = re.findall(r"^typed_wrong\.py:(\d+): error: (.*)  \[([a-z-]+)\]$", output, re.M)
    lines = sample.read_text().splitlines()
    found = {}
    for line, message, error_code in errors:
        markers = re.findall(r"E-[a-z-]+", lines[int(line) - 1])
        assert markers, f"unexpected error on line {line}: {message} [{error_code}]"
        for marker in markers:
            if EXPECTED_ERRORS[marker][0] == error_code and EXPECTED_ERRORS[marker][1] in message:
                found[marker] = message
    assert set(found) == set(EXPECTED_ERRORS), output
    assert len(errors) == len(EXPECTED_ERRORS), output


def test_generation_reads_cached_slices_not_the_whole_schema(real_spec_path, tmp_path, monkeypatch):
    """A warm start renders the stubs from the per-resource slices, never parsing the schema."""
    from civis_dyn.spec._source import load_api_spec

    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path / "cache"))
    clear_memory_cache()
    load_api_spec(real_spec_path)                  # cold: index and slices written
    clear_memory_cache()
    spec = load_api_spec(real_spec_path)           # warm: slices
    files = _stubs.render_stubs(spec)
    assert spec._document is None                  # the whole schema was never parsed
    assert json.loads(json.dumps(len(files))) > 40
    clear_memory_cache()


def test_loosely_typed_exceptions_keep_their_exception_bases(small_files):
    """``except civis_dyn.io.SomeError`` type-checks: loose classes keep exception ancestry."""
    import inspect as _inspect

    checked = 0
    for name, (module, is_package) in _stubs._public_modules().items():
        if module is None:
            continue
        path = "/".join(name.split(".")[1:]) + ("/__init__.pyi" if is_package else ".pyi")
        text = small_files[path]
        for attr in _stubs._exported(module):
            value = getattr(module, attr, None)
            if _inspect.isclass(value) and issubclass(value, BaseException) \
                    and f"\nclass {attr}" in text:
                line = re.search(rf"^class {attr}(.*):$", text, re.M).group(1)
                assert line.startswith("(") and ("builtins." in line or "civis_dyn." in line
                                                 or "Error" in line), (path, attr, line)
                checked += 1
    init = small_files["__init__.pyi"]
    for attr in civis_dyn.__all__:
        value = getattr(civis_dyn, attr)
        if _inspect.isclass(value) and issubclass(value, BaseException):
            assert re.search(rf"^class {attr}\((.+)\):$", init, re.M), attr
            checked += 1
    assert checked > 10
