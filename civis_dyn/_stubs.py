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
    schema warns once per process (:mod:`civis_dyn._stub_check`).

Two layouts (:func:`write_stubs`): ``"typings"`` writes ``<out>/civis_dyn/``
(Pyright's default ``stubPath`` is ``./typings``; mypy reads it through
``mypy_path``); ``"package"`` writes a PEP 561 stub-only distribution,
``<out>/civis_dyn-stubs/`` plus ``pyproject.toml`` and ``setup.py`` (``pip install <out>``),
and ``--install`` puts ``civis_dyn-stubs/`` straight into site-packages.
"""

import keyword
import os
from pathlib import Path

from ._stub_check import SHA_FILE, STUBS_PACKAGE, spec_in_use
from .spec._naming import KEEP_CASE_KEYS, camel_to_snake

__all__ = [
    "TypeCatalog",
    "render_stubs",
    "runtime_type",
    "runtime_type_names",
    "type_catalog",
    "write_stubs",
]

MAX_FILE_BYTES = 2 * 1024 * 1024
LAYOUTS = ("typings", "package")
_MARK = "\x00"                  # placeholder for the module prefix of a name in types.pyi
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
        self.fields = None  # [(snake name, wire name, annotation, description, format)]


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
    # How a value is annotated, by direction: responses come back as lists and plain dicts;
    # requests take any sequence, and strings with a format also take the Python value.
    _SHAPES = {"out": ("builtins.list", _UNTYPED),
               "in": ("typing.Sequence", "builtins.dict[builtins.str, typing.Any]")}

    def out_type(self, node, hint, where):
        """Annotation of a response value described by raw schema ``node``."""
        return self._annotation("out", node, hint, where)

    def in_type(self, node, hint, where):
        """Annotation of a request value described by raw schema ``node``."""
        return self._annotation("in", node, hint, where)

    def _annotation(self, direction, node, hint, where):
        ref = node.get("$ref") if isinstance(node, dict) else None
        schema = self.spec.resolve(node, where) if isinstance(node, dict) else {}
        literal = _literal(schema.get("enum"))
        if literal:
            return literal
        sequence, free_form = self._SHAPES[direction]
        kind = schema.get("type")
        if kind == "array":
            items = self._annotation(direction, schema.get("items") or {}, hint + "Item",
                                     where + ".items")
            return f"{sequence}[{items}]"
        if _is_object(schema):
            if not schema.get("properties"):
                return free_form
            if ref is not None and not ref.startswith("#/definitions/"):
                ref = None
            return self._register(direction, ref, schema, hint, where)
        if direction == "in" and kind == "string":
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
                if wire in KEEP_CASE_KEYS:
                    annotation = _UNTYPED if _is_object(prop) else self.out_type(node, hint, here)
                else:
                    annotation = self.out_type(node, hint, here)
                if wire not in required or prop.get("x-nullable") or node.get("x-nullable"):
                    annotation = _optional(annotation)
                fields.append((camel_to_snake(wire), wire, annotation, description, fmt))
            else:
                if wire in KEEP_CASE_KEYS and _is_object(prop):
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
        for index, param in enumerate(op.raw.get("parameters") or ()):  # raw: keep $ref names
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
            if p.location == "body" and p.wire_name in KEEP_CASE_KEYS and _is_object(p.schema):
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
        responses = op.raw.get("responses") or {}
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


def type_catalog(spec):
    """The :class:`TypeCatalog` of ``spec`` (built once per schema model)."""
    return spec.derived(("stub_type_catalog",), lambda: TypeCatalog(spec))


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
                note = (f"{note} " if note else "") + f"({fmt}: ISO 8601 text, a str)"
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

    names = resource_class(spec, resource).method_names()
    known = set(api_methods)
    return [n for n in names if n not in known]


# Typed members of the response classes, used when the run-time class has that member;
# other public members are typed loosely. (class, name) -> stub lines (4-space indented).
_RESPONSE_MEMBERS = {
    ("Response", "__getitem__"): "def __getitem__(self, key: builtins.str) -> typing.Any: ...",
    ("Response", "__contains__"): "def __contains__(self, key: builtins.object) -> builtins.bool: ...",
    ("Response", "__iter__"): "def __iter__(self) -> typing.Iterator[builtins.str]: ...",
    ("Response", "__len__"): "def __len__(self) -> builtins.int: ...",
    ("Response", "__hash__"): "def __hash__(self) -> builtins.int: ...",
    ("Response", "get"): "def get(self, key: builtins.str, default: typing.Any = None) -> typing.Any: ...",
    ("Response", "items"): "def items(self) -> typing.ItemsView[builtins.str, typing.Any]: ...",
    ("Response", "keys"): "def keys(self) -> typing.Iterable[builtins.str]: ...",
    ("Response", "json"): ("def json(self, snake_case: builtins.bool = True) -> "
                           "builtins.dict[builtins.str, typing.Any]: ..."),
    ("Response", "json_data"): ("@property\n    def json_data(self) -> "
                                "builtins.dict[builtins.str, typing.Any] | None: ..."),
    ("ListResponse", "json"): ("def json(self, snake_case: builtins.bool = True) -> "
                               "builtins.list[typing.Any]: ..."),
    ("PaginatedResponse", "__iter__"): "def __iter__(self) -> PaginatedResponse[_T]: ...",
    ("PaginatedResponse", "__next__"): "def __next__(self) -> _T: ...",
    ("PaginatedResponse", "json"): ("def json(self, snake_case: builtins.bool = True) -> "
                                    "builtins.list[typing.Any]: ..."),
    ("*", "headers"): "@property\n    def headers(self) -> typing.Mapping[builtins.str, builtins.str] | None: ...",
    ("*", "calls_remaining"): "@property\n    def calls_remaining(self) -> builtins.int | None: ...",
    ("*", "rate_limit"): "@property\n    def rate_limit(self) -> builtins.int | None: ...",
}
# attributes the list classes set on their instances (invisible on the class)
_INSTANCE_ATTRIBUTES = {
    "ListResponse": ("headers: typing.Mapping[builtins.str, builtins.str] | None",),
    "PaginatedResponse": ("headers: typing.Mapping[builtins.str, builtins.str] | None",
                          "pages_fetched: builtins.int"),
}
_RESPONSE_BASES = {"Response": "", "ListResponse": "(builtins.list[_T])",
                   "PaginatedResponse": "(typing.Iterator[_T])"}
_DUNDERS = {"__getitem__", "__contains__", "__iter__", "__len__", "__next__", "__hash__"}
_RESPONSE_TAIL = '''

class UntypedResponse(Response):
    """A Response whose fields the schema does not list: any attribute reads as Any."""

    def __getattr__(self, name: builtins.str) -> typing.Any: ...


def find(object_list: typing.Iterable[_T], filter_func: typing.Callable[[_T], builtins.object] | None = None,
         **kwargs: typing.Any) -> builtins.list[_T]: ...
def find_one(object_list: typing.Iterable[_T],
             filter_func: typing.Callable[[_T], builtins.object] | None = None,
             **kwargs: typing.Any) -> _T | None: ...
'''


def _init_text(cls):
    """``def __init__(...)`` with the run-time parameters, typed ``Any``."""
    import inspect

    params, star = ["self"], False
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}: typing.Any")
            star = True
            continue
        if p.kind is p.VAR_KEYWORD:
            params.append(f"**{p.name}: typing.Any")
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
            star = True
        default = "" if p.default is p.empty else f" = {_default_text(p.default)}"
        params.append(f"{p.name}: typing.Any{default}")
    return f"def __init__({', '.join(params)}) -> None: ..."


def _render_response_module():
    """``_response.pyi``: the run-time response classes, generic and typed where known."""
    import inspect

    from . import _response

    out = ['"""The responses of API calls, typed for the stubs (see ``civis_dyn._response``).\n\n'
           'In the stubs a Response\'s attributes are the fields its schema lists (see\n'
           '``civis_dyn.types``); read any other key with ``r["key"]`` or ``r.get("key")``.\n"""\n\n'
           'import builtins\nimport typing\n\n_T = typing.TypeVar("_T")\n']
    for name, bases in _RESPONSE_BASES.items():
        cls = getattr(_response, name)
        out.append(f"\n\nclass {name}{bases}:\n")
        lines = [*_INSTANCE_ATTRIBUTES.get(name, ()), _init_text(cls)]
        for member in sorted(dir(cls)):
            if member.startswith("_") and member not in _DUNDERS:
                continue
            if member in _DUNDERS and member not in vars(cls):
                continue            # inherited from list: already typed there
            if name != "Response" and member in vars(list) and member not in vars(cls):
                continue
            text = _RESPONSE_MEMBERS.get((name, member)) or _RESPONSE_MEMBERS.get(("*", member))
            if text is None:
                if any(line.startswith(f"{member}:") for line in lines):
                    continue
                value = inspect.getattr_static(cls, member)
                if isinstance(value, property):
                    text = f"@property\n    def {member}(self) -> typing.Any: ..."
                elif callable(value):
                    text = f"def {member}(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any: ..."
                else:
                    text = f"{member}: typing.Any"
            elif member == "headers" and any(line.startswith("headers:") for line in lines):
                continue
            lines.append(text)
        out.extend(f"    {line}\n" for line in lines)
    out.append(_RESPONSE_TAIL)
    return "".join(out)


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
    out.append(f"    {_init_text(APIClient)}\n")
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


_LOOSE_CLASS = ("    def __init__(self, *args: typing.Any, **kwargs: typing.Any) -> None: ...\n"
                "    def __getattr__(self, name: str) -> typing.Any: ...\n")
_LOOSE_FUNCTION = "(*args: typing.Any, **kwargs: typing.Any) -> typing.Any: ...\n"
# names __init__.pyi types precisely (beside the errors), with the module that defines them
_TYPED_TOP = {"APIClient": "civis_dyn._client", "ListResponse": "civis_dyn._response",
              "PaginatedResponse": "civis_dyn._response", "Response": "civis_dyn._response",
              "find": "civis_dyn._response", "find_one": "civis_dyn._response"}


def _public_modules():
    """``{name: module or None}`` of civis_dyn's public modules besides the top level and types.

    A module is public when no part of its dotted name starts with ``_``; one
    that cannot be imported here (an optional dependency) maps to None.
    """
    import importlib
    import pkgutil

    import civis_dyn

    out = {}
    for info in pkgutil.walk_packages(civis_dyn.__path__, "civis_dyn.", onerror=lambda name: None):
        name = info.name
        if any(part.startswith("_") for part in name.split(".")) or name == "civis_dyn.types":
            continue
        try:
            out[name] = (importlib.import_module(name), info.ispkg)
        except Exception:  # noqa: BLE001 - typed loosely instead
            out[name] = (None, info.ispkg)
    return out


def _exported(module):
    """The public names a module offers: its ``__all__``, else what it defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return sorted(names)
    return sorted(n for n, v in vars(module).items() if not n.startswith("_")
                  and getattr(v, "__module__", None) == module.__name__)


def _loose_items(module_name, names, lookup, homes):
    """Stub text for ``names`` of a module, typed loosely (``Any``) unless stubbed elsewhere.

    ``homes`` maps ``id(object)`` to ``(module, name)`` where the object is
    stubbed; a re-export becomes ``from <module> import <name> as <alias>``.
    """
    import inspect
    import types as pytypes

    out = []
    for name in names:
        value = lookup(name)
        if value is None and name != "__version__":
            continue
        if isinstance(value, pytypes.ModuleType):
            continue
        home = homes.get(id(value))
        if home is not None and home[0] != module_name:
            out.append(f"from {home[0]} import {home[1]} as {name}\n")
        elif inspect.isclass(value):
            bases = _loose_bases(value, module_name, homes)
            out.append(f"\n\nclass {name}{bases}:\n{_LOOSE_CLASS}")
        elif callable(value):
            out.append(f"\n\ndef {name}{_LOOSE_FUNCTION}")
        else:
            out.append(f"\n{name}: typing.Any\n")
    return out


def _loose_bases(cls, module_name, homes):
    """``(Base, builtins.X)`` keeping what ``except`` and ``warnings`` need of a loose class.

    The nearest ancestor stubbed elsewhere (a civis_dyn error) and the nearest
    built-in ancestor (``ValueError``, ``UserWarning``); ``""`` for a plain class.
    """
    bases = []
    for base in cls.__mro__[1:]:
        home = homes.get(id(base))
        if home is not None:
            bases.append(home[1] if home[0] == module_name else f"{home[0]}.{home[1]}")
            break
    builtin = next((b for b in cls.__mro__[1:] if b.__module__ == "builtins" and b is not object),
                   None)
    if builtin is not None and not (
            bases and issubclass(_first_stubbed_ancestor(cls, bases), builtin)):
        bases.append(f"builtins.{builtin.__name__}")
    return f"({', '.join(bases)})" if bases else ""


def _first_stubbed_ancestor(cls, bases):
    """The first stubbed ancestor of ``cls`` (the one :func:`_loose_bases` named)."""
    name = bases[0].rsplit(".", 1)[-1]
    return next(b for b in cls.__mro__[1:] if b.__name__ == name)


def _render_loose_module(module_name, module, sha, homes):
    import re

    body = []
    if module is not None:
        body = _loose_items(module_name, _exported(module), lambda n: getattr(module, n, None), homes)
    bases = re.findall(r"^class \w+\((.*)\):$", "".join(body), re.M)
    needed = {ref.rsplit(".", 1)[0] for text in bases for ref in text.split(", ")
              if ref.startswith("civis_dyn.")}
    out = [_HEADER.format(sha=sha), "import builtins\nimport typing\n\n",
           *(f"import {m}\n" for m in sorted(needed)), "\n", *body]
    out.append("\n\ndef __getattr__(name: str) -> typing.Any: ...\n")
    return "".join(out)


def _homes(modules):
    """Where each public object is stubbed: ``{id(object): (module, name)}``."""
    import inspect

    import civis_dyn
    from . import _errors

    homes = {}
    for name in [*_TYPED_TOP, *(n for n in _errors.__all__ if n in civis_dyn.__all__)]:
        homes[id(getattr(civis_dyn, name))] = ("civis_dyn", name)
    for module_name, (module, _) in modules.items():
        if module is None:
            continue
        for name in _exported(module):
            value = getattr(module, name, None)
            if (inspect.isclass(value) or inspect.isfunction(value)) \
                    and value.__module__ == module_name and id(value) not in homes:
                homes[id(value)] = (module_name, name)
    return homes


def _render_init(sha, homes):
    import civis_dyn
    from . import _errors

    out = [_HEADER.format(sha=sha), "import builtins\nimport typing\n\n"]
    out.extend(f"from {module} import {name} as {name}\n" for name, module in _TYPED_TOP.items())
    out.append("from civis_dyn import types as types\n\n")
    out.append(f"__all__ = {sorted(civis_dyn.__all__)!r}\n__version__: str\n")
    done = {*_TYPED_TOP, "__version__"}
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
        out.append(f"\n\nclass {name}({', '.join(dict.fromkeys(bases))}):\n{_LOOSE_CLASS}")

    for name in errors:
        emit_error(name)
    done.update(errors)
    rest = sorted(set(civis_dyn.__all__) - done)
    out.extend(_loose_items("civis_dyn", rest, lambda n: getattr(civis_dyn, n, None), homes))
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
    modules = _public_modules()
    homes = _homes(modules)
    files = {
        "__init__.pyi": _render_init(sha, homes),
        "_client.pyi": _render_client(spec, sha),
        "_response.pyi": _render_response_module(),
        "types.pyi": _render_types(catalog, sha),
        "_api/__init__.pyi": "",
        "py.typed": "partial\n",
        SHA_FILE: sha + "\n",
    }
    for resource in spec.resources():
        if resource.isidentifier() and not keyword.iskeyword(resource):
            files[f"_api/{resource}.pyi"] = _render_resource(catalog, resource, sha)
    for name, (module, is_package) in modules.items():
        path = "/".join(name.split(".")[1:]) + ("/__init__.pyi" if is_package else ".pyi")
        files[path] = _render_loose_module(name, module, sha, homes)
    return files


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""
# setup.py, not [project]: setuptools' pyproject validation refuses the "-stubs" package name
_SETUP_PY = """\
from setuptools import setup

setup(
    name="civis-dyn-stubs",
    version={version!r},
    description="Type stubs for civis_dyn, generated from the API schema {sha12}",
    packages={packages!r},
    package_data={{package: ["*.pyi", "py.typed", "schema.sha256"] for package in {packages!r}}},
)
"""


def write_stubs(spec, out, layout="typings", *, pyproject=True):
    """Write the stubs of ``spec`` under ``out`` and return the package directory.

    The package directory is replaced as a whole (files of resources that no
    longer exist do not linger); the new tree is built beside it first.

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec
    out : str or PathLike
        ``"typings"`` layout: the stubs go to ``<out>/civis_dyn/``.
        ``"package"`` layout: ``<out>/civis_dyn-stubs/``, ``<out>/pyproject.toml`` and
        ``<out>/setup.py`` (``pip install <out>``).
    layout : {"typings", "package"}
    pyproject : bool, optional
        With the package layout, also write ``<out>/pyproject.toml`` and
        ``<out>/setup.py`` (not when writing into site-packages).

    Raises
    ------
    ValueError
        For an unknown layout, or a rendered file over 2 MB.
    OSError
        When the files cannot be written.
    """
    import shutil
    import tempfile

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

        packages = sorted({STUBS_PACKAGE + "".join("." + part for part in Path(name).parent.parts)
                           for name in files if name.endswith(".pyi")})
        (out / "pyproject.toml").write_text(_PYPROJECT, encoding="utf-8")
        (out / "setup.py").write_text(_SETUP_PY.format(
            version=__version__, sha12=spec.sha256[:12], packages=packages), encoding="utf-8")
    return target


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
