"""Typed stubs (``.pyi``) generated from the schema in use, and the check that they are current.

A client built at run time is invisible to static tools. :func:`render_stubs`
writes, from the same :class:`~civis_dyn.spec._model.ApiSpec` the client runs
on, a stub tree that VS Code/Pylance, PyCharm and mypy read:

``__init__.pyi``
    The public names: :class:`APIClient` (one typed attribute per resource),
    the responses, the errors; the other public names typed loosely.
``_client.pyi``, ``_response.pyi``
    ``APIClient`` and the generic ``Response`` / ``ListResponse[T]`` /
    ``PaginatedResponse[T]``.
``types.pyi``
    One :class:`Response` subclass per response schema (``Job``,
    ``JobSummary``), fields typed (``X | None`` when the schema does not
    require them or marks them nullable), and one ``...Input``
    ``TypedDict(total=False)`` per nested request body, whose keys are both
    the wire names (camelCase) and their snake_case forms, as the client
    accepts both. The same names exist at run time (:mod:`civis_dyn.types`).
``_api/<resource>.pyi``
    One class per resource; each method has the run-time signature, enum
    parameters as ``Literal[...]``, ``@overload`` on ``iterator: Literal[True]``
    (``PaginatedResponse[X]``) for paginated lists, ``@deprecated`` on
    deprecated operations, and the numpydoc docstring.
``schema.sha256``
    The hash of the schema the stubs describe: a client built from another
    schema warns once per process (:func:`check_installed_stubs`).

Two layouts (:func:`write_stubs`): ``"typings"`` writes ``<out>/civis_dyn/``
(Pyright's default ``stubPath`` is ``./typings``; mypy reads it through
``mypy_path``); ``"package"`` writes a PEP 561 stub-only distribution,
``<out>/civis_dyn-stubs/`` plus a ``pyproject.toml`` (``pip install <out>``),
and ``--install`` puts ``civis_dyn-stubs/`` straight into site-packages.
"""

import keyword
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from .spec._naming import camel_to_snake

__all__ = [
    "SHA_FILE",
    "STUBS_PACKAGE",
    "TypeCatalog",
    "check_installed_stubs",
    "installed_stubs",
    "note_spec_in_use",
    "render_stubs",
    "spec_in_use",
    "type_catalog",
    "write_stubs",
]

STUBS_PACKAGE = "civis_dyn-stubs"
SHA_FILE = "schema.sha256"
MAX_FILE_BYTES = 2 * 1024 * 1024
LAYOUTS = ("typings", "package")
_MARK = "\x00"                  # placeholder for the module prefix of a name in types.pyi
_KEEP_CASE = frozenset({"arguments", "environmentVariables"})   # nested keys keep their case
_STRING_FORMATS = {"date-time": "datetime.datetime", "date": "datetime.date", "time": "datetime.time"}
_SCALARS = {"integer": "builtins.int", "number": "builtins.float", "boolean": "builtins.bool",
            "string": "builtins.str"}
_ANY = "typing.Any"
_UNTYPED = "civis_dyn._response.UntypedResponse"
_RESPONSE = "civis_dyn._response.Response"
# names the stub modules import; a method or class of that name would hide them
_RESERVED = frozenset({"builtins", "datetime", "typing", "typing_extensions", "civis_dyn", "_types"})


def _cap_words(name):
    """``list_runs`` / ``lastRun`` -> ``ListRuns`` / ``LastRun``."""
    snake = camel_to_snake(name)
    return "".join(part[:1].upper() + part[1:] for part in snake.replace("-", "_").split("_"))


def _is_object(schema):
    return schema.get("type") == "object" or (schema.get("type") is None and "properties" in schema)


def _literal(values):
    """``typing.Literal[...]`` for an enum of scalars, else None."""
    if not values or not all(isinstance(v, (str, int, bool)) and v is not None for v in values):
        return None
    return "typing.Literal[" + ", ".join(repr(v) for v in values) + "]"


def _optional(annotation):
    if annotation == _ANY or annotation.endswith("| None"):
        return annotation
    return f"{annotation} | None"


class _Type:
    """A named type of the catalog: a response class or an input TypedDict."""

    __slots__ = ("name", "schema", "where", "fields")

    def __init__(self, name, schema, where):
        self.name = name
        self.schema = schema        # resolved object schema
        self.where = where
        self.fields = None          # [(key, annotation, description, note)], filled by the catalog


class TypeCatalog:
    """The named types of a schema: response classes and ``...Input`` TypedDicts.

    Built by walking every operation once (:func:`type_catalog` caches it per
    schema). Annotations are Python source text; names of catalog types carry
    a placeholder prefix (:data:`_MARK`) that :meth:`qualify` replaces by the
    module they are referred from.

    Attributes
    ----------
    responses : dict
        Class name -> :class:`_Type` (a response object schema).
    inputs : dict
        ``...Input`` name -> :class:`_Type` (a request object schema).
    """

    def __init__(self, spec):
        self.spec = spec
        self.responses = {}
        self.inputs = {}
        self._out_refs = {}     # $ref -> class name
        self._in_refs = {}      # $ref -> Input name
        self._inline = {}       # (id(schema), kind) -> name
        self._todo = []
        self.methods = {}       # (resource, method) -> (params, returns)
        for resource in spec.resources():
            for name in spec.methods(resource):
                op = spec.operation(resource, name)
                self.methods[(resource, name)] = (self._parameters(op), self._returns(op))
        while self._todo:
            kind, item = self._todo.pop()
            self._fill(kind, item)

    # -- names ------------------------------------------------------------
    def _unique(self, name):
        taken = lambda n: n in self.responses or n in self.inputs or n in _RESERVED  # noqa: E731
        if keyword.iskeyword(name) or not name.isidentifier():
            name = "T" + "".join(ch if ch.isalnum() else "_" for ch in name)
        base, n = name, 2
        while taken(name):
            name, n = f"{base}{n}", n + 1
        return name

    def _register(self, kind, ref, schema, hint, where):
        table, refs = (self.responses, self._out_refs) if kind == "out" else (self.inputs, self._in_refs)
        key = ref if ref is not None else (id(schema), kind)
        names = refs if ref is not None else self._inline
        name = names.get(key)
        if name is None:
            base = ref.rsplit("/", 1)[-1] if ref is not None else hint
            suffix = "Input" if kind == "in" and not base.endswith("Input") else ""
            name = self._unique(base + suffix)
            names[key] = name
            item = table[name] = _Type(name, schema, where)
            self._todo.append((kind, item))
        return _MARK + name

    # -- annotations ----------------------------------------------------------
    def out_type(self, node, hint, where):
        """Annotation of a response value described by raw schema ``node``."""
        spec = self.spec
        ref = node.get("$ref") if isinstance(node, dict) else None
        schema = spec.resolve(node, where) if isinstance(node, dict) else {}
        literal = _literal(schema.get("enum"))
        if literal:
            return literal
        kind = schema.get("type")
        if kind == "array":
            items = schema.get("items") or {}
            return f"builtins.list[{self.out_type(items, hint + 'Item', where + '.items')}]"
        if _is_object(schema):
            if not schema.get("properties"):
                return _UNTYPED
            if ref is not None and not ref.startswith("#/definitions/"):
                ref = None
            return self._register("out", ref, schema, hint, where)
        return _SCALARS.get(kind, _ANY)

    def in_type(self, node, hint, where):
        """Annotation of a request value described by raw schema ``node``."""
        spec = self.spec
        ref = node.get("$ref") if isinstance(node, dict) else None
        schema = spec.resolve(node, where) if isinstance(node, dict) else {}
        literal = _literal(schema.get("enum"))
        if literal:
            return literal
        kind = schema.get("type")
        if kind == "array":
            items = schema.get("items") or {}
            return f"typing.Sequence[{self.in_type(items, hint + 'Item', where + '.items')}]"
        if _is_object(schema):
            if not schema.get("properties"):
                return "builtins.dict[builtins.str, typing.Any]"
            if ref is not None and not ref.startswith("#/definitions/"):
                ref = None
            return self._register("in", ref, schema, hint, where)
        if kind == "string":
            fmt = _STRING_FORMATS.get(schema.get("format"))
            return f"builtins.str | {fmt}" if fmt else "builtins.str"
        return _SCALARS.get(kind, _ANY)

    def _fill(self, kind, item):
        schema, where = item.schema, item.where
        required = set(schema.get("required") or ())
        fields = []
        for wire, node in (schema.get("properties") or {}).items():
            here = f"{where}.properties.{wire}"
            prop = self.spec.resolve(node, here)
            description = " ".join(str(prop.get("description") or node.get("description") or "").split())
            fmt = prop.get("format") if prop.get("type") == "string" else None
            hint = item.name.removesuffix("Input") + _cap_words(wire)
            if kind == "out":
                if wire in _KEEP_CASE:
                    annotation = _UNTYPED if _is_object(prop) else self.out_type(node, hint, here)
                else:
                    annotation = self.out_type(node, hint, here)
                if wire not in required or prop.get("x-nullable") or node.get("x-nullable"):
                    annotation = _optional(annotation)
                fields.append((camel_to_snake(wire), wire, annotation, description, fmt))
            else:
                if wire in _KEEP_CASE and _is_object(prop):
                    annotation = "builtins.dict[builtins.str, typing.Any]"
                else:
                    annotation = self.in_type(node, hint, here)
                fields.append((camel_to_snake(wire), wire, _optional(annotation), description, fmt))
        item.fields = fields

    # -- operations -----------------------------------------------------------
    def _parameters(self, op):
        """``[(parameter, annotation)]`` in signature order."""
        spec = self.spec
        raw_body = {}
        for index, param in enumerate(op._raw.get("parameters") or ()):  # raw: keep $ref names
            param = spec.resolve(param, f"{op.location}.parameters[{index}]")
            if param.get("in") == "body":
                here = f"{op.location}.parameters[{index}].schema"
                body = spec.resolve(param.get("schema") or {}, here)
                for wire, node in (body.get("properties") or {}).items():
                    raw_body[wire] = (node, f"{here}.properties.{wire}")
        hint = _cap_words(op.resource) + _cap_words(op.name)
        out = []
        for p in op.parameters:
            if p.location == "body":
                node, where = raw_body.get(p.wire_name, (p.schema, op.location))
            else:
                node, where = p.schema, f"{op.location}.parameters.{p.wire_name}"
            if p.location == "body" and p.wire_name in _KEEP_CASE and _is_object(p.schema):
                annotation = "builtins.dict[builtins.str, typing.Any]"
            else:
                annotation = self.in_type(node, hint + _cap_words(p.wire_name), where)
            out.append((p, annotation))
        return out

    def _returns(self, op):
        """The return annotation(s): ``(kind, item or whole annotation)``."""
        kind = op.returns
        if kind is None:
            return ("Response", _RESPONSE)
        code = op.response[0]
        responses = op._raw.get("responses") or {}
        where = f"{op.location}.responses.{code}"
        raw = responses.get(code)
        if raw is None:
            raw = responses.get(int(code)) if code.isdigit() else None
        response = self.spec.resolve(raw or {}, where)
        node = response.get("schema") or {}
        hint = _cap_words(op.resource) + _cap_words(op.name) + "Response"
        if kind in ("ListResponse", "PaginatedResponse"):
            schema = self.spec.resolve(node, where + ".schema")
            if schema.get("type") != "array":       # an array despite the schema
                return (kind, _ANY)
            return (kind, self.out_type(schema.get("items") or {}, hint, where + ".schema.items"))
        annotation = self.out_type(node, hint, where + ".schema")
        if annotation == _UNTYPED or annotation.startswith(_MARK):
            return ("Response", annotation)
        return ("Value", annotation)    # a bare JSON value or an array

    @staticmethod
    def qualify(annotation, prefix):
        """Replace the placeholder before catalog names by ``prefix`` (``""`` or ``"_types."``)."""
        return annotation.replace(_MARK, prefix)


_CATALOGS_ATTR = "_stub_type_catalog"
_CATALOG_LOCK = threading.Lock()


def type_catalog(spec):
    """The :class:`TypeCatalog` of ``spec`` (built once per schema model)."""
    catalog = spec.__dict__.get(_CATALOGS_ATTR)
    if catalog is None:
        with _CATALOG_LOCK:
            catalog = spec.__dict__.get(_CATALOGS_ATTR)
            if catalog is None:
                catalog = spec.__dict__[_CATALOGS_ATTR] = TypeCatalog(spec)
    return catalog


# -- rendering ----------------------------------------------------------------
_HEADER = '"""Generated by ``civis-dyn stubs`` from the API schema (sha256 {sha}).\n\n' \
          'Do not edit: regenerate with ``civis-dyn stubs``."""\n'


def _docstring(text, indent):
    """A triple-quoted docstring literal for ``text``, indented."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip()
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    pad = " " * indent
    lines = text.split("\n")
    body = "\n".join((pad + line) if line.strip() else "" for line in lines[1:])
    if body:
        return f'{pad}"""{lines[0]}\n{body}\n{pad}"""\n'
    return f'{pad}"""{lines[0]}"""\n'


def _render_types(catalog, sha):
    out = [_HEADER.format(sha=sha), "import builtins\nimport datetime\nimport typing\n\n",
           "import civis_dyn._response\n\n__all__ = [\n"]
    names = sorted([*catalog.responses, *catalog.inputs])
    out.extend(f"    {name!r},\n" for name in names)
    out.append("]\n")
    response_attrs = set(dir(_response_class()))
    for name in sorted(catalog.responses):
        item = catalog.responses[name]
        out.append(f"\n\nclass {name}(civis_dyn._response.Response):\n")
        shadowed = []
        doc = [f"A ``{name}`` object returned by the API."]
        body = []
        for snake, wire, annotation, description, fmt in item.fields:
            if snake in response_attrs or keyword.iskeyword(snake) or not snake.isidentifier():
                shadowed.append(f"``r[{snake!r}]``")
                continue
            note = description
            if fmt:
                note = (f"{note} " if note else "") + f"({fmt}, sent as text)"
            body.append(f"    {snake}: {catalog.qualify(annotation, '')}\n")
            if note:
                body.append(_docstring(note, 4))
        if shadowed:
            doc.append("")
            doc.append("Read with an index (their names are Response methods or keywords): "
                       + ", ".join(shadowed) + ".")
        out.append(_docstring("\n".join(doc), 4))
        out.extend(body)
    for name in sorted(catalog.inputs):
        item = catalog.inputs[name]
        keys = {}
        for snake, wire, annotation, _, _ in item.fields:
            text = catalog.qualify(annotation, "")
            keys.setdefault(wire, text)
            keys.setdefault(snake, text)
        entries = "".join(f"    {k!r}: {v},\n" for k, v in keys.items())
        out.append(f"\n{name} = typing.TypedDict({name!r}, {{\n{entries}}}, total=False)\n")
    return "".join(out)


def _response_class():
    from ._response import Response

    return Response


def _signature_text(params, iterator=None):
    """Parameter list text (after ``self``); ``iterator`` is its annotation text or None."""
    required = [f"{p.name}: {annotation}" for p, annotation in params if p.required]
    optional = [f"{p.name}: {_optional(annotation)} = None" for p, annotation in params
                if not p.required]
    if iterator is not None:
        optional.append(iterator)
    parts = ["self", *required]
    if optional:
        parts.append("*")
        parts.extend(optional)
    return ", ".join(parts)


def _render_method(op, params, returns, prefix):
    qualify = TypeCatalog.qualify
    params = [(p, qualify(annotation, prefix)) for p, annotation in params]
    kind, item = returns
    item = qualify(item, prefix)
    decorators = []
    if op.alias_of:
        message = f"{op.resource}.{op.name}() is deprecated; use {op.resource}.{op.alias_of}() instead"
        decorators.append(f"    @typing_extensions.deprecated({message!r})\n")
    elif op.deprecation:
        message = f"{op.resource}.{op.name}() is deprecated: {op.deprecation}"
        decorators.append(f"    @typing_extensions.deprecated({message!r})\n")
    doc = _docstring(op.doc, 8)
    name = op.name
    if kind == "PaginatedResponse":
        variants = [
            ("iterator: typing.Literal[True]", f"civis_dyn._response.PaginatedResponse[{item}]"),
            ("iterator: typing.Literal[False] | None = None",
             f"civis_dyn._response.ListResponse[{item}]"),
            ("iterator: builtins.bool | None = None",
             f"civis_dyn._response.ListResponse[{item}] | civis_dyn._response.PaginatedResponse[{item}]"),
        ]
        out = []
        for iterator, result in variants:
            out.append("    @typing.overload\n")
            out.extend(decorators)
            out.append(f"    def {name}({_signature_text(params, iterator)}) -> {result}:\n{doc}"
                       f"        ...\n")
        return "".join(out)
    if kind == "ListResponse":
        result = f"civis_dyn._response.ListResponse[{item}]"
    else:
        result = item
    return (f"{''.join(decorators)}    def {name}({_signature_text(params)}) -> {result}:\n{doc}"
            f"        ...\n")


def _resource_class_name(resource):
    """The run-time class name of a resource (``git_repos`` -> ``Git_Repos``)."""
    return resource.title()


def _render_resource(catalog, resource, sha):
    spec = catalog.spec
    cls = _resource_class_name(resource)
    out = [_HEADER.format(sha=sha),
           "import builtins\nimport datetime\nimport typing\n\nimport typing_extensions\n\n"
           "import civis_dyn._response\nimport civis_dyn.types as _types\n\n\n",
           f"class {cls}:\n", _docstring(f"The ``{resource}`` resource of the Civis API.", 4)]
    api_methods = spec.methods(resource)
    for name in api_methods:
        params, returns = catalog.methods[(resource, name)]
        out.append("\n")
        out.append(_render_method(spec.operation(resource, name), params, returns, "_types."))
    for name in _extension_names(spec, resource, api_methods):
        out.append(f"\n    def {name}(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:\n")
        out.append(_docstring(f"A civis_dyn convenience method (see ``help(client.{resource}."
                              f"{name})``); typed loosely.", 8))
        out.append("        ...\n")
    return "".join(out)


def _extension_names(spec, resource, api_methods):
    from ._resources import resource_class

    names = resource_class(spec, resource)._method_names()
    known = set(api_methods)
    return [n for n in names if n not in known]


_RESPONSE_STUB = '''\
"""The responses of API calls, typed for the stubs (see ``civis_dyn._response``)."""

import builtins
import typing

_T = typing.TypeVar("_T")


class Response:
    """A read-only, attribute-style view of a JSON object returned by the API.

    In the stubs, attributes are those the schema lists (see ``civis_dyn.types``);
    read any other key with ``r["key"]`` or ``r.get("key")``.
    """

    def __init__(self, json_data: typing.Mapping[str, typing.Any] | None = None, *,
                 headers: typing.Mapping[str, str] | None = None, keep_case: bool = False,
                 json_value: bool = False) -> None: ...
    def __getitem__(self, key: str) -> typing.Any: ...
    def get(self, key: str, default: typing.Any = None) -> typing.Any: ...
    def __contains__(self, key: object) -> bool: ...
    def keys(self) -> builtins.list[str]: ...
    def values(self) -> builtins.list[typing.Any]: ...
    def items(self) -> builtins.list[tuple[str, typing.Any]]: ...
    def __iter__(self) -> typing.Iterator[str]: ...
    def __len__(self) -> int: ...
    def json(self, snake_case: bool = True) -> builtins.dict[str, typing.Any]: ...
    @property
    def headers(self) -> typing.Mapping[str, str] | None: ...
    @property
    def calls_remaining(self) -> int | None: ...
    @property
    def rate_limit(self) -> int | None: ...


class UntypedResponse(Response):
    """A Response whose fields the schema does not list: any attribute reads as Any."""

    def __getattr__(self, name: str) -> typing.Any: ...


class ListResponse(builtins.list[_T]):
    """A list of responses returned for a JSON array."""

    headers: typing.Mapping[str, str] | None
    def __init__(self, items: typing.Iterable[typing.Any] = ..., *,
                 headers: typing.Mapping[str, str] | None = None,
                 json_value: bool = False) -> None: ...
    def json(self, snake_case: bool = True) -> builtins.list[typing.Any]: ...
    @property
    def calls_remaining(self) -> int | None: ...
    @property
    def rate_limit(self) -> int | None: ...


class PaginatedResponse(typing.Iterator[_T]):
    """A lazy iterator over every item of a paginated list endpoint."""

    headers: typing.Mapping[str, str] | None
    pages_fetched: int
    def __init__(self, fetch_page: typing.Callable[[int], typing.Any],
                 start_page: int = 1) -> None: ...
    def __iter__(self) -> "PaginatedResponse[_T]": ...
    def __next__(self) -> _T: ...
    def json(self, snake_case: bool = True) -> builtins.list[typing.Any]: ...


def find(object_list: typing.Iterable[_T], filter_func: typing.Callable[[_T], object] | None = None,
         **kwargs: typing.Any) -> builtins.list[_T]: ...
def find_one(object_list: typing.Iterable[_T],
             filter_func: typing.Callable[[_T], object] | None = None,
             **kwargs: typing.Any) -> _T | None: ...
'''


def _default_text(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return "..."


def _render_client(spec, sha):
    import inspect

    from ._client import APIClient

    out = [_HEADER.format(sha=sha), "import typing\n\n"]
    resources = [r for r in spec.resources() if r.isidentifier() and not keyword.iskeyword(r)]
    own = {n for n in dir(APIClient) if not n.startswith("_")}
    resources = [r for r in resources if r not in own and r not in ("meta", "last_response")]
    out.extend(f"import civis_dyn._api.{r}\n" for r in resources)
    out.append("\n\nclass APIClient:\n")
    out.append(_docstring("The Civis API client; one attribute per resource of the schema.", 4))
    out.append("    meta: typing.Any\n    last_response: typing.Any\n")
    params = ["self"]
    star = False
    for p in inspect.signature(APIClient.__init__).parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        default = "" if p.default is p.empty else f" = {_default_text(p.default)}"
        params.append(f"{p.name}: typing.Any{default}")
    out.append(f"    def __init__({', '.join(params)}) -> None: ...\n")
    for name in sorted(own):
        value = inspect.getattr_static(APIClient, name)
        if isinstance(value, property):
            out.append(f"    @property\n    def {name}(self) -> typing.Any: ...\n")
        elif callable(value):
            out.append(f"    def {name}(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any: ...\n")
        else:
            out.append(f"    {name}: typing.Any\n")
    for r in resources:
        out.append(f"    @property\n    def {r}(self) -> civis_dyn._api.{r}.{_resource_class_name(r)}: ...\n")
    return "".join(out)


def _render_init(sha):
    import inspect

    import civis_dyn
    from . import _errors

    out = [_HEADER.format(sha=sha), "import builtins\nimport typing\n\n",
           "from civis_dyn._client import APIClient as APIClient\n",
           "from civis_dyn._response import ListResponse as ListResponse\n",
           "from civis_dyn._response import PaginatedResponse as PaginatedResponse\n",
           "from civis_dyn._response import Response as Response\n",
           "from civis_dyn._response import find as find\n",
           "from civis_dyn._response import find_one as find_one\n",
           "from civis_dyn import types as types\n\n",
           f"__all__ = {sorted(civis_dyn.__all__)!r}\n__version__: str\n"]
    done = {"APIClient", "ListResponse", "PaginatedResponse", "Response", "find", "find_one",
            "__version__"}
    errors = [n for n in _errors.__all__ if n in civis_dyn.__all__]
    emitted = set()

    def emit_error(name):
        if name in emitted:
            return
        cls = getattr(_errors, name)
        bases = []
        for base in cls.__bases__:
            if base.__module__ == "builtins":
                bases.append(f"builtins.{base.__name__}")
            elif base.__name__ in errors:
                emit_error(base.__name__)
                bases.append(base.__name__)
            else:   # a private shared base: use its public ancestors
                bases.extend(b.__name__ if b.__module__ != "builtins" else f"builtins.{b.__name__}"
                             for b in base.__bases__)
                for b in base.__bases__:
                    if b.__name__ in errors:
                        emit_error(b.__name__)
        emitted.add(name)
        out.append(f"\n\nclass {name}({', '.join(dict.fromkeys(bases))}):\n"
                   f"    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None: ...\n"
                   f"    def __getattr__(self, name: str) -> typing.Any: ...\n")

    for name in errors:
        emit_error(name)
    done.update(errors)
    for name in sorted(set(civis_dyn.__all__) - done):
        value = getattr(civis_dyn, name)
        if inspect.isclass(value):
            out.append(f"\n\nclass {name}:\n"
                       f"    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None: ...\n"
                       f"    def __getattr__(self, name: str) -> typing.Any: ...\n")
        elif callable(value):
            out.append(f"\n\ndef {name}(*args: typing.Any, **kwargs: typing.Any) -> typing.Any: ...\n")
        else:
            out.append(f"\n{name}: typing.Any\n")
    return "".join(out)


def render_stubs(spec):
    """Render the stub tree of ``spec``.

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec
        The schema model (``client.meta.spec``).

    Returns
    -------
    dict
        ``{relative path: text}``; paths are relative to the package
        directory (``civis_dyn/`` or ``civis_dyn-stubs/``).
    """
    sha = spec.sha256
    catalog = type_catalog(spec)
    files = {
        "__init__.pyi": _render_init(sha),
        "_client.pyi": _render_client(spec, sha),
        "_response.pyi": _RESPONSE_STUB,
        "types.pyi": _render_types(catalog, sha),
        "_api/__init__.pyi": "",
        "py.typed": "partial\n",
        SHA_FILE: sha + "\n",
    }
    for resource in spec.resources():
        if resource.isidentifier() and not keyword.iskeyword(resource):
            files[f"_api/{resource}.pyi"] = _render_resource(catalog, resource, sha)
    return files


_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "civis-dyn-stubs"
version = "{version}"
description = "Type stubs for civis_dyn, generated from the API schema {sha12}"

[tool.setuptools]
packages = ["civis_dyn-stubs", "civis_dyn-stubs._api"]

[tool.setuptools.package-data]
"*" = ["*.pyi", "py.typed", "schema.sha256"]
'''


def write_stubs(spec, out, layout="typings", *, pyproject=True):
    """Write the stubs of ``spec`` under ``out`` and return the package directory.

    The package directory is replaced as a whole (files of resources that no
    longer exist do not linger); the new tree is built beside it first.

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec
    out : str or PathLike
        ``"typings"`` layout: the stubs go to ``<out>/civis_dyn/``.
        ``"package"`` layout: ``<out>/civis_dyn-stubs/`` and ``<out>/pyproject.toml``.
    layout : {"typings", "package"}
    pyproject : bool, optional
        With the package layout, also write ``<out>/pyproject.toml`` (not
        when writing into site-packages).

    Raises
    ------
    ValueError
        For an unknown layout, or a rendered file over 2 MB.
    OSError
        When the files cannot be written.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"write_stubs: layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    files = render_stubs(spec)
    for name, text in files.items():
        size = len(text.encode())
        if size > MAX_FILE_BYTES:
            raise ValueError(f"write_stubs: {name} would be {size} bytes (limit {MAX_FILE_BYTES})")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / ("civis_dyn" if layout == "typings" else STUBS_PACKAGE)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=out))
    try:
        staging.chmod(0o755)    # mkdtemp makes it private; stubs are meant to be read
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=out))
            os.replace(target, old / target.name)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if layout == "package" and pyproject:
        from ._version import __version__

        (out / "pyproject.toml").write_text(
            _PYPROJECT.format(version=__version__, sha12=spec.sha256[:12]), encoding="utf-8")
    return target


# -- the schema in use and installed stubs ----------------------------------
_IN_USE = {"spec": None}
_WARNED = set()
_WARN_LOCK = threading.Lock()


def spec_in_use():
    """The schema of the most recently built client, else the one ``APIClient()`` would use."""
    spec = _IN_USE["spec"]
    if spec is None:
        from ._client import APIClient

        spec = APIClient().meta.spec     # note_spec_in_use records it
    return spec


def installed_stubs():
    """Stubs that type checkers would find: ``[(directory, sha256, refresh command)]``.

    Looks for ``civis_dyn-stubs/schema.sha256`` on ``sys.path`` (site-packages)
    and ``typings/civis_dyn/schema.sha256`` in the working directory. Reads
    only those small files.
    """
    found = []
    seen = set()
    candidates = [(Path(entry or ".") / STUBS_PACKAGE, "civis-dyn stubs --install")
                  for entry in sys.path]
    candidates.append((Path("typings") / "civis_dyn", "civis-dyn stubs"))
    for directory, command in candidates:
        sha_file = directory / SHA_FILE
        try:
            text = sha_file.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            continue
        key = os.path.realpath(directory)
        if not text or key in seen:
            continue
        seen.add(key)
        if command.endswith("--install") and not _in_site_packages(directory):
            command = f"civis-dyn stubs --out {directory.parent}"
        found.append((directory, text[0], command))
    return found


def _in_site_packages(directory):
    """True for ``.../site-packages/civis_dyn-stubs`` (no sysconfig: this runs in every client)."""
    return directory.parent.name in ("site-packages", "dist-packages")


def check_installed_stubs(spec):
    """Warn (once per stub directory and process) when installed stubs describe another schema.

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec or str
        The schema in use, or its sha256 (computed only when stubs are found).

    Returns
    -------
    list
        The ``(directory, sha256, command)`` of the stale stubs found.
    """
    stubs = installed_stubs()
    if not stubs:
        return []
    sha = spec if isinstance(spec, str) else spec.sha256
    stale = [s for s in stubs if s[1] != sha]
    for directory, theirs, command in stale:
        with _WARN_LOCK:
            if str(directory) in _WARNED:
                continue
            _WARNED.add(str(directory))
        from .spec._cache import warn

        warn(f"the type stubs in {directory} describe schema {theirs[:12]}, but this client uses "
             f"schema {sha[:12]}; refresh them with `{command}`", UserWarning)
    return stale


def note_spec_in_use(spec):
    """Called by :class:`~civis_dyn.APIClient` once built: record ``spec``, check the stubs.

    Cheap: a few ``stat`` calls; the schema's hash is read only when stubs are installed.
    """
    _IN_USE["spec"] = spec
    try:
        check_installed_stubs(spec)
    except Exception:   # a check must never break a client  # noqa: BLE001
        pass


# -- civis_dyn.types at run time ----------------------------------------------
def runtime_type_names():
    """The names :mod:`civis_dyn.types` offers for the schema in use."""
    catalog = type_catalog(spec_in_use())
    return [*catalog.responses, *catalog.inputs]


def runtime_type(name):
    """Make the run-time class behind ``civis_dyn.types.<name>``.

    Raises
    ------
    AttributeError
        When the schema in use has no such type (with close-name suggestions).
    """
    import typing

    from ._resources import suggest
    from ._response import Response

    catalog = type_catalog(spec_in_use())
    item = catalog.responses.get(name)
    if item is not None:
        annotations = {snake: catalog.qualify(annotation, "")
                       for snake, _, annotation, _, _ in item.fields}
        fields = "\n".join(f"{snake} : {annotation}" for snake, annotation in annotations.items())
        doc = (f"A ``{name}`` object returned by the API (a :class:`civis_dyn.Response`)."
               + (f"\n\nAttributes\n----------\n{fields}" if fields else ""))
        return type(name, (Response,), {"__slots__": (), "__module__": __name__.rsplit(".", 1)[0]
                                        + ".types", "__doc__": doc,
                                        "__annotations__": annotations})
    item = catalog.inputs.get(name)
    if item is not None:
        keys = {}
        for snake, wire, _, _, _ in item.fields:
            keys.setdefault(wire, typing.Any)
            keys.setdefault(snake, typing.Any)
        cls = typing.TypedDict(name, keys, total=False)
        cls.__module__ = "civis_dyn.types"
        cls.__doc__ = (f"A request body object; keys: {', '.join(keys) or '(none)'} "
                       f"(wire names or their snake_case forms).")
        return cls
    raise AttributeError(f"module 'civis_dyn.types' has no attribute {name!r} (the schema in use "
                         f"has no such type).{suggest(name, [*catalog.responses, *catalog.inputs])}")
