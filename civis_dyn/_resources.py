"""Synthesized resource classes: the API model turned into Python methods.

One class per resource (``Jobs``, ``Git_Repos``) is made by :func:`resource_class`
the first time a client touches that resource, and shared by every client built
from the same :class:`~civis_dyn.spec._model.ApiSpec`. Its methods are made on
first attribute access by the :class:`ResourceType` metaclass and stored on the
class: ``APIClient()`` synthesizes nothing up front, yet ``dir()`` lists every
method (for tab completion) because the names come from the schema's index.

Each method is an :class:`OperationMethod`, a descriptor that behaves like a
function for :func:`help`, :func:`inspect.signature` and IPython, with a
docstring rendered only when first read.
"""

import datetime
import difflib
import fnmatch
import math
import re
import types
import warnings
from typing import NamedTuple
from urllib.parse import quote

from ._errors import ArgumentTypeError, ArgumentValueError
from .spec._naming import camel_to_snake

__all__ = [
    "BoundArguments",
    "OperationMethod",
    "Resource",
    "ResourceType",
    "client_of",
    "name_of",
    "register_extension",
    "resource_class",
    "synthesized_methods",
]


class Extension:
    """A convenience method offered on every resource that has the methods it needs.

    Registered by the public package (not by the core), imported on first use.

    Parameters
    ----------
    name : str
        Method name on the resource (``run_and_wait``).
    target : str
        ``"module:function"``; the function takes the resource as its first
        argument.
    requires : tuple of tuple of str
        Alternatives: the extension applies when the resource has every
        method of at least one tuple (empty: every resource). A name with
        ``*`` is a pattern matched against the method names (``list_*_runs``).
    """

    __slots__ = ("name", "target", "requires")

    def __init__(self, name, target, requires=()):
        self.name = name
        self.target = target
        self.requires = tuple(tuple(group) for group in requires)

    def applies(self, methods):
        """True when a resource with these method names gets this extension."""
        return not self.requires or any(all(_has_method(methods, m) for m in group)
                                        for group in self.requires)

    def load(self):
        """Import and return the target function."""
        import importlib

        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


def _has_method(methods, name):
    if "*" not in name:
        return name in methods
    return any(fnmatch.fnmatchcase(m, name) for m in methods)


_EXTENSIONS = {}


def register_extension(name, target, requires=()):
    """Offer ``target`` as method ``name`` on the resources that have ``requires``.

    API method names always win: an extension never hides an operation.
    """
    _EXTENSIONS[name] = Extension(name, target, requires)


def _extension(spec, resource, name):
    extension = _EXTENSIONS.get(name)
    if extension is None or not extension.applies(spec.index.get(resource, ())):
        return None
    return extension


def suggest(name, candidates, prefix=""):
    """Return ``" Did you mean ...?"`` for close matches of ``name``, or ``""``.

    Each match is shown with ``prefix`` before it (``"jobs."`` gives ``'jobs.get'``).
    """
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(prefix + c) for c in close) + "?"


class ResourceType(type):
    """Metaclass of resource classes: methods appear on first attribute access."""

    def __getattr__(cls, name):
        if name.startswith("__") or "_spec" not in cls.__dict__:
            raise AttributeError(name)
        spec = cls._spec
        methods = spec.index.get(cls._resource)
        if methods is None or name not in methods:
            extension = _extension(spec, cls._resource, name)
            if extension is None:
                raise AttributeError(f"{cls._resource!r} has no method {name!r}."
                                     f"{suggest(name, cls._method_names())}")
            function = extension.load()
            setattr(cls, name, function)
            return function
        method = OperationMethod(spec.operation(cls._resource, name), cls.__name__)
        setattr(cls, name, method)
        return method

    def _method_names(cls):
        """API method names plus the extensions that apply to this resource."""
        spec = cls._spec
        methods = spec.index.get(cls._resource, {})
        extra = [e.name for e in _EXTENSIONS.values() if e.name not in methods and e.applies(methods)]
        return sorted([*methods, *extra])

    def __dir__(cls):
        names = set(type.__dir__(cls))
        if "_spec" in cls.__dict__:
            names.update(cls._method_names())
        return sorted(names)


class Resource(metaclass=ResourceType):
    """Base class of the synthesized resources (``client.jobs`` is a ``Jobs``)."""

    __slots__ = ("_client",)

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(type(self), name)  # synthesizes, or raises AttributeError
        return method.__get__(self, type(self))

    def __dir__(self):
        return dir(type(self))

    def __repr__(self):
        return f"<civis_dyn resource {self._resource!r}: {len(self._spec.methods(self._resource))} methods>"

    def __reduce__(self):
        # the class is made at run time from the schema: rebuild through the client
        return (getattr, (self._client, self._resource))


def client_of(resource):
    """The :class:`~civis_dyn.APIClient` a resource instance (``client.jobs``) belongs to."""
    return resource._client


def name_of(resource):
    """The schema's name of a resource instance or class (``"jobs"``)."""
    return resource._resource


_CLASS_REGISTRY_ATTR = "_resource_classes"
_CLASSES_MODULE = "civis_dyn.resources"  # the public module that names the generated classes


def resource_class(spec, resource):
    """Return the (cached, shared) class for ``resource`` of ``spec``.

    Raises
    ------
    AttributeError
        When the schema has no such resource (with close-name suggestions).
    """
    registry = spec.__dict__.setdefault(_CLASS_REGISTRY_ATTR, {})
    try:
        return registry[resource]
    except KeyError:
        pass
    if resource not in spec.index:
        raise AttributeError(f"The API has no resource {resource!r}.{suggest(resource, spec.index)}")
    cls = ResourceType(resource.title(), (Resource,), {
        "__slots__": (), "__module__": _CLASSES_MODULE,
        "__doc__": f"The ``{resource}`` resource of the Civis API.",
        "_spec": spec, "_resource": resource,
    })
    return registry.setdefault(resource, cls)


def synthesized_methods(spec):
    """Count the methods synthesized so far for ``spec`` (over all its resources)."""
    registry = spec.__dict__.get(_CLASS_REGISTRY_ATTR, {})
    return sum(isinstance(v, OperationMethod) for cls in registry.values() for v in vars(cls).values())


class OperationMethod:
    """A method synthesized from an :class:`~civis_dyn.spec._model.Operation`.

    Acts as a function: binding to a resource gives a bound method whose
    signature, name and docstring are the operation's. Calling it checks the
    arguments against the schema, then asks the client to send the request.
    """

    def __init__(self, operation, class_name):
        self.operation = operation
        self.__name__ = operation.name
        self.__qualname__ = f"{class_name}.{operation.name}"
        self.__module__ = _CLASSES_MODULE
        self._label = f"{operation.resource}.{operation.name}()"
        self._binder = None

    @property
    def __doc__(self):
        return self.operation.doc

    @property
    def __signature__(self):
        import inspect

        sig = self.operation.signature
        self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return sig.replace(parameters=[self_param, *sig.parameters.values()])

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def __repr__(self):
        op = self.operation
        return f"<civis_dyn method {op.resource}.{op.name}: {op.verb.upper()} {op.path}>"

    def __call__(self, resource, *args, **kwargs):
        op = self.operation
        if op.alias_of:
            warnings.warn(f"{self._label} is deprecated; use {op.resource}.{op.alias_of}() instead",
                          FutureWarning, stacklevel=3)
        elif op.deprecation:
            warnings.warn(f"{self._label} is deprecated: {op.deprecation}",
                          FutureWarning, stacklevel=3)
        return resource._client.meta.invoke(op, self.bind(args, kwargs))

    def bind(self, args, kwargs):
        """Check a call's arguments: a :class:`BoundArguments`, see :meth:`Binder.bind`."""
        binder = self._binder
        if binder is None:
            binder = self._binder = Binder(self.operation, self._label)
        return binder.bind(args, kwargs)


class BoundArguments(NamedTuple):
    """One call's checked arguments, split by where they go in the request."""

    path: str
    """The API path with its values quoted (``/jobs/1``)."""
    query: dict
    """Query parameters by wire name (list values under ``name[]``)."""
    body: dict | None
    """The JSON body, or None when the operation takes none."""
    iterator: bool
    """True for ``iterator=True``: iterate every page."""


class Binder:
    """Checks a call's arguments against an operation and splits them by location."""

    def __init__(self, op, label):
        self.label = label
        self.params = {p.name: p for p in op.parameters}
        self.positional = [p.name for p in op.parameters if p.required]
        self.paginated = op.paginated
        self.path_template = op.path
        self.spec = op.spec
        self.has_body = any(p.location == "body" for p in op.parameters)

    def bind(self, args, kwargs):
        """Return the :class:`BoundArguments` of one call.

        Raises
        ------
        ArgumentTypeError
            For a missing, unexpected or duplicated argument, or a wrong type
            (a :class:`TypeError`).
        ArgumentValueError
            For a value outside an ``enum`` (a :class:`ValueError`).
        """
        label = self.label
        if len(args) > len(self.positional):
            raise ArgumentTypeError(f"{label} takes {len(self.positional)} positional argument(s) "
                                    f"but {len(args)} were given (optional arguments are "
                                    f"keyword-only)")
        values = dict(zip(self.positional, args))
        iterator = None
        for name, value in kwargs.items():
            if name == "iterator" and self.paginated:
                iterator = value
                continue
            if name not in self.params:
                hint = suggest(name, list(self.params) + (["iterator"] if self.paginated else []))
                raise ArgumentTypeError(f"{label} got an unexpected keyword argument "
                                        f"{name!r}.{hint}")
            if name in values:
                raise ArgumentTypeError(f"{label} got multiple values for argument {name!r}")
            values[name] = value
        missing = [n for n in self.positional if values.get(n) is None]
        if missing:
            names = ", ".join(repr(n) for n in missing)
            raise ArgumentTypeError(f"{label} missing required argument(s): {names}")
        if iterator is not None and not isinstance(iterator, bool):
            raise ArgumentTypeError(f"{label} argument 'iterator' must be a bool, "
                                    f"not {type(iterator).__name__}")

        query, body, path_values = {}, {}, {}
        for name, value in values.items():
            if value is None:
                continue
            param = self.params[name]
            value = check_value(value, param.schema, self.spec, label, name)
            if param.location == "path":
                text = str(value)
                if text in ("", ".", ".."):  # would change the URL: /a//b, /a/./b, /a/../b
                    raise ArgumentValueError(f"{label} argument {name!r} cannot be {text!r}: "
                                             f"it is a segment of the URL path")
                path_values[param.wire_name] = quote(text, safe="")
            elif param.location == "query":
                if isinstance(value, list):
                    query[param.wire_name + "[]"] = [_query_text(v) for v in value]
                else:
                    query[param.wire_name] = _query_text(value)
            else:
                body[param.wire_name] = value
        path = self.path_template
        for wire, text in path_values.items():
            path = path.replace("{" + wire + "}", text)
        return BoundArguments(path, query, body if body or self.has_body else None, bool(iterator))


def _query_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_TYPE_NAMES = {"integer": "an int", "number": "a number", "boolean": "a bool",
               "string": "a str", "array": "a list", "object": "a dict"}


def check_value(value, schema, spec, label, where):
    """Check ``value`` against a (resolved) schema and return the value to send.

    Integers accept ``int`` and strings of ASCII digits with an optional
    minus sign (converted); numbers accept ``int`` and finite ``float``;
    strings accept ``str`` that UTF-8 can carry (and ``date``/``datetime``,
    sent as ISO 8601); arrays accept lists and tuples; objects accept dicts,
    whose snake_case keys are mapped to the schema's wire names. Nested
    fields the schema does not list are refused when the schema lists any.
    Free-form objects and untyped values accept any JSON value (see
    :func:`_check_json`).
    """
    kind = schema.get("type")
    enum = schema.get("enum")
    if enum is not None and value not in enum:
        raise ArgumentValueError(f"{label} argument {where!r} must be one of "
                                 f"{', '.join(map(repr, enum))}; got {value!r}")
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value)
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ArgumentValueError(f"{label} argument {where!r} must be a finite number "
                                         f"(JSON has no {value!r}); got {value!r}")
            return value
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
    elif kind == "string":
        if isinstance(value, str):
            return _check_text(value, label, where)
        if isinstance(value, (datetime.date, datetime.time)):
            return value.isoformat()
    elif kind == "array":
        if isinstance(value, (list, tuple)):
            items = spec.resolve(schema.get("items") or {}, f"{label} argument {where!r}")
            return [check_value(v, items, spec, label, f"{where}[{i}]") for i, v in enumerate(value)]
    elif kind == "object" or (kind is None and "properties" in schema):
        if isinstance(value, dict):
            return _check_object(value, schema, spec, label, where)
    else:  # untyped: any JSON value
        return _check_json(value, label, where)
    raise ArgumentTypeError(f"{label} argument {where!r} must be {_TYPE_NAMES.get(kind, kind)}, "
                            f"not {type(value).__name__}")


def _check_object(value, schema, spec, label, where):
    properties = schema.get("properties")
    if not properties:
        return _check_json(value, label, where)  # free-form object (e.g. arguments)
    by_snake = {camel_to_snake(k): k for k in properties}
    out = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ArgumentTypeError(f"{label} argument {where!r} has a non-string key {key!r}")
        wire = key if key in properties else by_snake.get(key)
        if wire is None:
            hint = suggest(camel_to_snake(key), list(by_snake))
            raise ArgumentValueError(f"{label} argument {where!r} has an unknown field "
                                     f"{key!r}.{hint}")
        if item is None:
            out[wire] = None
            continue
        prop = spec.resolve(properties[wire], f"{label} argument '{where}.{key}'")
        out[wire] = check_value(item, prop, spec, label, f"{where}.{key}")
    return out


def _check_text(value, label, where):
    """Return ``value`` if UTF-8 can carry it (it has no lone surrogate)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ArgumentValueError(f"{label} argument {where!r} is not valid Unicode text "
                                     f"(a lone surrogate at position {exc.start})") from None
    return value


def _check_json(value, label, where):
    """Return ``value`` as JSON can carry it, for free-form objects and untyped values.

    Accepts dicts with str keys, lists, tuples (sent as arrays), str, int,
    finite float, bool and None, at any depth; dates and times are sent as
    ISO 8601 text. Anything else (sets, bytes, NaN, other objects) raises an
    error naming the method and where in the argument it is.
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _check_text(value, label, where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ArgumentValueError(f"{label} argument {where!r} must be a finite number "
                                     f"(JSON has no {value!r}); got {value!r}")
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ArgumentTypeError(f"{label} argument {where!r} has a non-string key {key!r}")
            out[_check_text(key, label, where)] = _check_json(item, label, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_check_json(v, label, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise ArgumentTypeError(f"{label} argument {where!r} must hold only JSON values (dict, list, "
                            f"str, int, float, bool or None), not {type(value).__name__}")
