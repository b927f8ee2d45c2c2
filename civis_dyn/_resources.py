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

import fnmatch
import types
from typing import NamedTuple
from urllib.parse import quote

from ._errors import ArgumentTypeError, ArgumentValueError
from ._warnings import warn_user
from .spec._validate import (
    ARGUMENTS,
    Mismatch,
    SchemaDriftWarning,
    argument_rules,
    check,
    check_shape,
    format_path,
)

__all__ = [
    "BoundArguments",
    "OperationMethod",
    "Resource",
    "ResourceType",
    "client_of",
    "name_of",
    "register_extension",
    "registered_extension",
    "resource_class",
    "synthesized_methods",
]


class Extension:
    """A convenience method offered on every resource that has the methods it needs.

    Registered from :mod:`civis_dyn._extensions` (or by :func:`register_extension`);
    the target is imported on first use.

    Parameters
    ----------
    name : str
        Method name on the resource (``run_and_wait``).
    target : str
        ``"module:function"``; the function takes the resource as its first
        argument.
    requires : tuple of tuple of str, or callable
        Alternatives: the extension applies when the resource has every
        method of at least one tuple (empty: every resource). A name with
        ``*`` is a pattern matched against the method names (``list_*_runs``).
        Or a predicate ``requires(spec, resource) -> bool``.
    """

    __slots__ = ("name", "target", "requires")

    def __init__(self, name, target, requires=()):
        self.name = name
        self.target = target
        self.requires = requires if callable(requires) else tuple(tuple(g) for g in requires)

    def applies(self, spec, resource):
        """True when ``resource`` of ``spec`` gets this extension."""
        if callable(self.requires):
            return bool(self.requires(spec, resource))
        methods = spec.index.get(resource, ())
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


def _register_builtin_extensions():
    from ._extensions import EXTENSIONS  # the package's own conveniences (runs, io, finders)

    for name, target, requires in EXTENSIONS:
        register_extension(name, target, requires)


_register_builtin_extensions()


def registered_extension(name):
    """The :class:`Extension` registered under ``name`` (``KeyError`` when there is none)."""
    return _EXTENSIONS[name]


def _extension(spec, resource, name, extensions=_EXTENSIONS):
    extension = extensions.get(name)
    if extension is None or not extension.applies(spec, resource):
        return None
    return extension


def suggest(name, candidates, prefix=""):
    """Return ``" Did you mean ...?"`` for close matches of ``name``, or ``""``.

    Each match is shown with ``prefix`` before it (``"jobs."`` gives ``'jobs.get'``).
    """
    import difflib

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
            extension = _extension(spec, cls._resource, name, cls._extensions)
            if extension is None:
                raise AttributeError(f"{cls._resource!r} has no method {name!r}."
                                     f"{suggest(name, cls.method_names())}")
            function = extension.load()
            setattr(cls, name, function)
            return function
        method = cls._method_type(spec.operation(cls._resource, name), cls.__name__)
        setattr(cls, name, method)
        return method

    def method_names(cls):
        """API method names plus the extensions that apply to this resource (sorted)."""
        spec = cls._spec
        methods = spec.index.get(cls._resource, {})
        extra = [e.name for e in cls._extensions.values()
                 if e.name not in methods and e.applies(spec, cls._resource)]
        return sorted([*methods, *extra])

    def __dir__(cls):
        names = set(type.__dir__(cls))
        if "_spec" in cls.__dict__:
            names.update(cls.method_names())
        return sorted(names)


class Resource(metaclass=ResourceType):
    """Base class of the synthesized resources (``client.jobs`` is a ``Jobs``).

    A method can be replaced on one resource instance (``client.tables.list =
    Mock()``, ``mock.patch.object(client.jobs, "get")``): the instance's own
    attribute wins over the synthesized method, for that client only.
    """

    __slots__ = ("_client", "__dict__")
    _extensions = _EXTENSIONS  # the convenience methods offered (AsyncResource has its own)

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        method = getattr(type(self), name)  # synthesizes, or raises AttributeError
        return method.__get__(self, type(self))

    def __dir__(self):
        return dir(type(self))

    def __repr__(self):
        methods = [n for n in dir(self) if not n.startswith("_")]
        return f"<civis_dyn resource {self._resource!r}: {len(methods)} methods>"

    def __reduce__(self):
        # the class is made at run time from the schema: rebuild through the client
        return (getattr, (self._client, self._resource))


def client_of(resource):
    """The :class:`~civis_dyn.APIClient` a resource instance (``client.jobs``) belongs to."""
    return resource._client


def name_of(resource):
    """The schema's name of a resource instance or class (``"jobs"``)."""
    return resource._resource


_CLASS_REGISTRY = ("resource_classes",)  # key of ApiSpec.derived: {resource: class}
_CLASSES_MODULE = "civis_dyn.resources"  # the public module that names the generated classes


def resource_class(spec, resource, base=None):
    """Return the (cached, shared) class for ``resource`` of ``spec``.

    ``base`` is the class's base (default :class:`Resource`; the async
    client's :class:`~civis_dyn._async_client.AsyncResource` gets classes of its own).

    Raises
    ------
    AttributeError
        When the schema has no such resource (with close-name suggestions).
    """
    registry = spec.derived(_CLASS_REGISTRY if base in (None, Resource)
                            else (*_CLASS_REGISTRY, base.__name__), dict)
    try:
        return registry[resource]
    except KeyError:
        pass
    if resource not in spec.index:
        raise AttributeError(f"The API has no resource {resource!r}.{suggest(resource, spec.index)}")
    base = base or Resource
    cls = type(base)(resource.title(), (base,), {
        "__slots__": (), "__module__": _CLASSES_MODULE,
        "__doc__": f"The ``{resource}`` resource of the Civis API.",
        "_spec": spec, "_resource": resource,
    })
    return registry.setdefault(resource, cls)


def synthesized_methods(spec, base=None):
    """Count the methods synthesized so far for ``spec`` (over all its resources).

    ``base``: the resources' base class, as given to :func:`resource_class`.
    """
    registry = spec.derived(_CLASS_REGISTRY if base in (None, Resource)
                            else (*_CLASS_REGISTRY, base.__name__), dict)
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
        client = resource._client
        return client.meta.invoke(self.operation, self.prepare(client, args, kwargs))

    def prepare(self, client, args, kwargs):
        """Warn about deprecation and bind one call's arguments for ``client`` (a :class:`BoundArguments`)."""
        op = self.operation
        if op.alias_of:
            warn_user(f"{self._label} is deprecated; use {op.resource}.{op.alias_of}() instead")
        elif op.deprecation:
            warn_user(f"{self._label} is deprecated: {op.deprecation}")
        return self.bind(args, kwargs, client_rules(client))

    @property
    def binder(self):
        """The :class:`Binder` of this operation (made on first use)."""
        binder = self._binder
        if binder is None:
            binder = self._binder = Binder(self.operation, self._label)
        return binder

    def bind(self, args, kwargs, rules=ARGUMENTS):
        """Check a call's arguments: a :class:`BoundArguments`, see :meth:`Binder.bind`."""
        return self.binder.bind(args, kwargs, rules)


Resource._method_type = OperationMethod  # what ResourceType synthesizes (AsyncResource: its twin)


def client_rules(client):
    """The argument-check :class:`~civis_dyn.spec._validate.Rules` of ``client``.

    From its ``parameter_validation`` setting and where its schema came from
    (the bundled or a stale schema turns unknown names into warnings).
    """
    meta = client.meta
    return argument_rules(meta.config.parameter_validation, meta.spec_info.source)


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
    """Binds a call's arguments to an operation, checks them and splits them by location.

    The first step (:meth:`arguments`) is Python's calling convention and is
    shared with :func:`~civis_dyn.testing.create_client_mock`; the second
    (:meth:`bind`) checks values with the package's one validator
    (:mod:`civis_dyn.spec._validate`) under the client's rules.
    """

    def __init__(self, op, label):
        self.label = label
        self.params = {p.name: p for p in op.parameters}
        self.positional = [p.name for p in op.parameters if p.required]
        self.paginated = op.paginated
        self.path_template = op.path
        self.spec = op.spec
        self.verb = op.verb
        self.has_body = any(p.location == "body" for p in op.parameters)

    def arguments(self, args, kwargs, unknown="refuse"):
        """Bind ``args`` and ``kwargs`` to the parameters: ``(values, iterator, extra)``.

        ``values`` maps Python names to the given values; ``extra`` holds the
        keyword arguments the schema does not know, kept (in the order given)
        when ``unknown`` is not ``"refuse"``.

        Raises
        ------
        ArgumentTypeError
            (A :class:`TypeError`.) For too many positional arguments, an unexpected keyword (with
            close-name suggestions), a duplicate or a missing required one.
        """
        label = self.label
        if len(args) > len(self.positional):
            raise ArgumentTypeError(f"{label} takes {len(self.positional)} positional argument(s) "
                                    f"but {len(args)} were given (optional arguments are "
                                    f"keyword-only)")
        values = dict(zip(self.positional, args))
        iterator = None
        extra = {}
        for name, value in kwargs.items():
            if name == "iterator" and self.paginated:
                iterator = value
                continue
            if name not in self.params:
                if unknown != "refuse":
                    extra[name] = value
                    continue
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
        return values, iterator, extra

    def bind(self, args, kwargs, rules=ARGUMENTS):
        """Return the :class:`BoundArguments` of one call.

        Parameters
        ----------
        args, kwargs
            The call's arguments.
        rules : civis_dyn.spec._validate.Rules, optional
            How strict the checks are (see :func:`argument_rules`).

        Raises
        ------
        ArgumentTypeError
            For a missing, unexpected or duplicated argument, or a wrong type
            (a :class:`TypeError`).
        ArgumentValueError
            (A :class:`ValueError`.) For a value outside an ``enum`` or a field the schema does not know.

        Warns
        -----
        SchemaDriftWarning
            Under drifting rules, for each keyword, field or enum value the
            schema does not know (sent as given).
        """
        label = self.label
        values, iterator, extra = self.arguments(args, kwargs, rules.drift)
        if iterator is not None and not isinstance(iterator, bool):
            raise ArgumentTypeError(f"{label} argument 'iterator' must be a bool, "
                                    f"not {type(iterator).__name__}")
        drift = []
        query, body, path_values = {}, {}, {}
        for name, value in values.items():
            if value is None:
                continue
            param = self.params[name]
            value = self._check(value, param.schema, name, rules, drift)
            if param.location == "path":
                text = str(value)
                if text in ("", ".", ".."):  # would change the URL: /a//b, /a/./b, /a/../b
                    raise ArgumentValueError(f"{label} argument {name!r} cannot be {text!r}: "
                                             f"it is a segment of the URL path")
                path_values[param.wire_name] = quote(text, safe="")
            elif param.location == "query":
                query.update(query_items(param.wire_name, value))
            else:
                body[param.wire_name] = value
        for name, value in extra.items():
            if value is None:
                continue
            if rules.drift == "warn":
                drift.append(Mismatch((), f"is not a parameter of {label} in the schema in use",
                                      "unknown", name))
            value = self._check(value, None, name, rules, drift)
            if self.verb in ("get", "delete", "head"):
                query.update(query_items(name, value))
            else:
                body[name] = value
        if drift:
            _warn_drift(label, drift)
        path = self.path_template
        for wire, text in path_values.items():
            path = path.replace("{" + wire + "}", text)
        return BoundArguments(path, query, body if body or self.has_body else None, bool(iterator))

    def _check(self, value, schema, name, rules, drift):
        try:
            check_shape(value, (name,))
            return check(value, schema, self.spec, rules, (name,), drift, f"{self.label} argument")
        except Mismatch as exc:
            raise argument_error(self.label, exc) from None


def argument_error(label, mismatch):
    """The client's exception for a :class:`~civis_dyn.spec._validate.Mismatch` of an argument.

    :class:`~civis_dyn.ArgumentTypeError` for a wrong type or key,
    :class:`~civis_dyn.ArgumentValueError` for a wrong value or unknown field;
    the message names the method and where in the argument the problem is.
    """
    where = format_path(mismatch.path)
    if mismatch.kind == "unknown":
        close = mismatch.suggestion(snake=True)
        hint = (" Did you mean " + " or ".join(map(repr, close)) + "?") if close else ""
        return ArgumentValueError(f"{label} argument {where!r} has an unknown field "
                                  f"{mismatch.field!r}.{hint}")
    error = ArgumentTypeError if mismatch.kind in ("type", "key") else ArgumentValueError
    return error(f"{label} argument {where!r} {mismatch.problem}")


def _warn_drift(label, drift):
    lines = []
    for mismatch in drift:
        if mismatch.kind == "unknown":
            where = format_path((*mismatch.path, mismatch.field))
            lines.append(f"{'field' if mismatch.path else 'parameter'} {where!r}")
        else:
            lines.append(f"{format_path(mismatch.path)!r} {mismatch.problem}")
    warn_user(f"{label}: the schema in use (the bundled or a stale one) does not know "
              f"{'; '.join(lines)}. Sent as given: the API may know it", SchemaDriftWarning)


def query_items(wire, value):
    """A checked query value as the request sends it: ``{name: text}`` or ``{name[]: [text]}``."""
    if isinstance(value, list):
        return {wire + "[]": [_query_text(v) for v in value]}
    return {wire: _query_text(value)}


def _query_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value
