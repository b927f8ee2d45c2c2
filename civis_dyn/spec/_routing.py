"""Routing: a request's verb and path to the operation that serves it.

One :class:`Router` matches request paths against the schema's path
templates, for every part of the package that receives requests (the
Stubber, the local API):

* templates are compiled once into a trie of path segments;
* literal segments win over parameters (``/users/me`` before ``/users/{id}``),
  with backtracking, so the most literal template that fits is found;
* a parameter declared ``integer`` accepts only digits (and is returned as
  an ``int``) when the route was added with its parameter types;
* trailing and doubled slashes are ignored (``/jobs/`` and ``/jobs`` are one
  route; the first one added wins) and segments are percent-decoded.

:func:`operation_router` gives the shared router of an
:class:`~civis_dyn.spec.ApiSpec`, whose targets are ``(resource, method)``
pairs (deprecated aliases left out: the preferred name answers for them).
"""

from urllib.parse import unquote

__all__ = ["NoRoute", "Router", "operation_router"]


class NoRoute(LookupError):
    """No template matches a path (``allow`` is empty), or none takes the verb.

    Attributes
    ----------
    allow : tuple of str
        The verbs the first matching template accepts (answer 405), or empty
        when no template matches (answer 404).
    """

    def __init__(self, allow=()):
        super().__init__(allow)
        self.allow = tuple(allow)


class _Node:
    __slots__ = ("literal", "param", "routes")

    def __init__(self):
        self.literal = {}
        self.param = None
        self.routes = None  # VERB -> (target, parameter names, parameter types)


def split_path(path):
    """Split a request path into its non-empty, percent-decoded segments."""
    if "%" in path:
        return [unquote(s) for s in path.split("/") if s]
    return [s for s in path.split("/") if s]


def template_segments(template):
    """``/jobs/{id}/runs`` -> ``["jobs", None, "runs"]`` and ``["id"]``."""
    shape, names = [], []
    for segment in template.split("/"):
        if not segment:
            continue
        if segment.startswith("{") and segment.endswith("}"):
            shape.append(None)
            names.append(segment[1:-1])
        else:
            shape.append(segment)
    return shape, names


class Router:
    """Match (verb, path) against path templates.

    Examples
    --------
    >>> router = Router()
    >>> router.add("GET", "/users/{id}", "get", {"id": "integer"})
    >>> router.add("GET", "/users/me", "me")
    >>> router.match("GET", "/users/me")
    ('me', {})
    >>> router.match("GET", "/users/7")
    ('get', {'id': 7})
    """

    def __init__(self):
        self._root = _Node()

    def add(self, verb, template, target, param_types=None):
        """Route ``verb template`` to ``target``; the first target added for a route wins.

        Parameters
        ----------
        verb : str
            HTTP verb (any case).
        template : str
            The path template as the schema spells it.
        target : object
            What :meth:`match` returns for this route.
        param_types : dict, optional
            ``{parameter name: JSON type}``; ``"integer"`` parameters then
            match only digits and are returned as ``int``.

        Returns
        -------
        bool
            False when the route was already taken (by a template differing
            only in slashes).
        """
        shape, names = template_segments(template)
        node = self._root
        for segment in shape:
            if segment is None:
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literal.setdefault(segment, _Node())
        if node.routes is None:
            node.routes = {}
        types = tuple((param_types or {}).get(n, "string") for n in names)
        verb = verb.upper()
        if verb in node.routes:
            return False
        node.routes[verb] = (target, tuple(names), types)
        return True

    def _candidates(self, node, segments, i, values, out):
        if i == len(segments):
            if node.routes:
                out.append((node.routes, tuple(values)))
            return
        child = node.literal.get(segments[i])
        if child is not None:
            self._candidates(child, segments, i + 1, values, out)
        if node.param is not None:
            values.append(segments[i])
            self._candidates(node.param, segments, i + 1, values, out)
            values.pop()

    def match(self, verb, path):
        """Find the target for ``verb`` and ``path``.

        Parameters
        ----------
        verb : str
        path : str or list of str
            The request path, or its segments from :func:`split_path`.

        Returns
        -------
        (target, dict)
            The target and the path parameters by name (``int`` for integer
            parameters, else ``str``).

        Raises
        ------
        NoRoute
        """
        segments = split_path(path) if isinstance(path, str) else path
        verb = verb.upper()
        out = []
        self._candidates(self._root, segments, 0, [], out)
        for routes, values in out:
            route = routes.get(verb)
            if route is None:
                continue
            target, names, types = route
            params = {}
            for name, kind, value in zip(names, types, values):
                if kind == "integer":
                    if not value.isdigit():
                        break
                    value = int(value)
                params[name] = value
            else:
                return target, params
        if out and not any(verb in routes for routes, _ in out):
            raise NoRoute(sorted(out[0][0]))
        raise NoRoute()


def operation_router(spec):
    """The shared :class:`Router` of ``spec``: targets are ``(resource, method)``."""
    def make():
        router = Router()
        for resource, methods in spec.index.items():
            for name, (verb, path, alias_of) in methods.items():
                if not alias_of:
                    router.add(verb, path, (resource, name))
        return router

    return spec.derived(("operation_router",), make)
