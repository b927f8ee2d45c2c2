"""Schema helpers for the local Civis API: its routes, response filling and request checks.

Everything here is read-only after construction, so it is shared by the
server's threads without a lock. Routing, ``$ref`` resolution and value checks
are the package's own (:mod:`civis_dyn.spec`), so the local API reads a schema
exactly as the client does.

* :class:`Router` puts the schema's operations (as :class:`Route` objects,
  with the local API's pagination and ordering defaults) on the package's
  :class:`~civis_dyn.spec._routing.Router`.
* :class:`SchemaIndex` fills a stored object out to the shape of a response
  schema and checks a request value against a schema, naming the offending
  field.
"""

from __future__ import annotations

import re

from ..spec._model import ApiSpec
from ..spec._routing import NoRoute, split_path
from ..spec._routing import Router as PathRouter
from ..spec._validate import REQUESTS, Mismatch, check as check_value, format_path

__all__ = ["Route", "Router", "SchemaIndex", "camel", "parse_query_value"]

_METHODS = ("get", "put", "post", "patch", "delete")
_MAX_DEPTH = 8
_MISSING = object()
_CAMEL_RE = re.compile(r"_([a-z0-9])")
_DEFAULTS_RE = re.compile(r"[Dd]efaults? (?:to |of )?(?:its maximum of )?(\d+)")
_MAXIMUM_RE = re.compile(r"[Mm]aximum (?:allowed )?(?:is |of )?(\d+)")
_ORDER_RE = re.compile(r"Defaults to ([a-z_]+)")
_DIR_RE = re.compile(r"default(?:ing|s)? to (asc|desc)")


def camel(name: str) -> str:
    """Convert a snake_case wire name to camelCase (``run_id`` -> ``runId``)."""
    return _CAMEL_RE.sub(lambda m: m.group(1).upper(), name)


class Route:
    """One (path template, HTTP method) pair of the schema.

    Parameters
    ----------
    template : str
        The path template as written in the schema, e.g. ``/jobs/{id}/runs``.
    method : str
        Upper-case HTTP method.
    op : dict
        The schema's operation object.

    Attributes
    ----------
    key : str
        The template without a trailing slash (``/jobs/`` -> ``/jobs``).
    shape : tuple
        The normalised segments, ``None`` standing for a parameter.
    param_names, param_types : tuple of str
        Names and declared types of the path parameters, in order.
    query : dict
        Query parameter objects by name.
    body : dict or None
        The schema of the ``in: body`` parameter, if any.
    status : int
        The first 2xx status the operation declares (200 if none).
    response : dict or None
        The response schema for ``status``.
    limit_default, limit_max : int
        Pagination defaults read from the ``limit`` description.
    paginated : bool
        True when the operation takes ``limit`` or ``page_num``.
    order_default, dir_default : str or None
        Default ordering read from the ``order``/``order_dir`` descriptions.
    plan : tuple
        Filled in by the store: which handler serves this route.
    """

    __slots__ = (
        "template", "method", "op", "key", "shape", "param_names", "param_types",
        "query", "body", "status", "response", "limit_default", "limit_max",
        "paginated", "order_default", "dir_default", "plan",
    )

    def __init__(self, template: str, method: str, op: dict):
        self.template = template
        self.method = method
        self.op = op
        self.key = template.rstrip("/") or "/"
        segs = [s for s in template.split("/") if s]
        self.shape = tuple(None if s.startswith("{") else s for s in segs)
        params = {p.get("name"): p for p in op.get("parameters") or () if isinstance(p, dict)}
        names = [s[1:-1] for s in segs if s.startswith("{")]
        self.param_names = tuple(names)
        self.param_types = tuple((params.get(n) or {}).get("type", "string") for n in names)
        self.query = {n: p for n, p in params.items() if p.get("in") == "query"}
        body = [p for p in params.values() if p.get("in") == "body"]
        self.body = body[0].get("schema") if body else None
        codes = sorted(int(c) for c in (op.get("responses") or {}) if str(c).isdigit())
        ok = [c for c in codes if 200 <= c < 300]
        self.status = ok[0] if ok else 200
        resp = (op.get("responses") or {}).get(str(self.status)) or {}
        self.response = resp.get("schema")
        limit_desc = (self.query.get("limit") or {}).get("description") or ""
        m = _DEFAULTS_RE.search(limit_desc)
        self.limit_default = int(m.group(1)) if m else 20
        m = _MAXIMUM_RE.search(limit_desc)
        self.limit_max = int(m.group(1)) if m else max(self.limit_default, 1000)
        self.paginated = "limit" in self.query or "page_num" in self.query
        m = _ORDER_RE.search((self.query.get("order") or {}).get("description") or "")
        self.order_default = m.group(1) if m else None
        m = _DIR_RE.search((self.query.get("order_dir") or {}).get("description") or "")
        self.dir_default = m.group(1) if m else None
        self.plan = None

    def __repr__(self):
        return f"<Route {self.method} {self.template}>"


class Router:
    """The local API's routes on the package's one :class:`~civis_dyn.spec._routing.Router`.

    Parameters
    ----------
    paths : dict
        The schema's ``paths`` object.

    Attributes
    ----------
    routes : list of Route
        Every (template, method) of the schema, in schema order.
    """

    split = staticmethod(split_path)

    def __init__(self, paths: dict):
        self.routes: list[Route] = []
        self._router = PathRouter()
        for template, item in (paths or {}).items():
            if not isinstance(item, dict):
                continue
            for method in _METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    route = Route(template, method.upper(), op)
                    types = dict(zip(route.param_names, route.param_types))
                    self._router.add(route.method, template, route, types)
                    self.routes.append(route)

    def match(self, method: str, segs: list[str]) -> tuple[Route, tuple]:
        """Find the route for ``method`` and the path segments.

        Returns
        -------
        (Route, tuple)
            The route and its path parameter values in order (``int`` for
            integer parameters, else ``str``).

        Raises
        ------
        NoRoute
            ``allow`` is empty when no template matches (404), else it lists
            the verbs the first matching template accepts (405).
        """
        route, values = self._router.match(method, segs)
        return route, tuple(values.values())


def parse_query_value(param: dict, raw: list[str]):
    """Convert raw query strings to the parameter's declared type.

    Returns
    -------
    value
        The converted value.

    Raises
    ------
    ValueError
        When a value does not fit the declared type.
    """
    kind = param.get("type", "string")
    if kind == "array":
        item_kind = (param.get("items") or {}).get("type", "string")
        parts = [p for r in raw for p in r.split(",") if p != ""]
        return [_scalar(item_kind, p) for p in parts]
    return _scalar(kind, raw[-1])


def _scalar(kind: str, text: str):
    if kind == "integer":
        return int(text.strip())
    if kind == "number":
        return float(text.strip())
    if kind == "boolean":
        low = text.strip().lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise ValueError(text)
    return text


class SchemaIndex:
    """Fill and check schemas of one Swagger 2.0 document.

    References are resolved, and request values checked, by the package's
    one schema engine (:meth:`ApiSpec.resolve`, :mod:`civis_dyn.spec._validate`),
    so the local API reads a schema exactly as the client does.

    Parameters
    ----------
    spec : dict or ApiSpec
        The parsed schema, or its model.
    """

    def __init__(self, spec):
        self.api = spec if isinstance(spec, ApiSpec) else ApiSpec.from_dict(spec)
        self._defaults: dict[int, object] = {}
        self._plans: dict[int, tuple] = {}

    def resolve(self, schema) -> dict:
        """The schema ``schema`` stands for (``$ref`` followed, ``allOf`` merged; ``{}`` for None).

        Raises
        ------
        civis_dyn.SpecError
            For a dangling or cyclic reference, as the client does.
        """
        if not isinstance(schema, dict):
            return {}
        return self.api.resolve(schema, "local API schema")

    def properties(self, schema) -> dict:
        """The properties of an object schema (``{}`` for anything else)."""
        s = self.resolve(schema)
        if s.get("type") == "array":
            s = self.resolve(s.get("items"))
        return s.get("properties") or {}

    def is_array(self, schema) -> bool:
        """True when the schema describes a JSON array."""
        s = self.resolve(schema)
        return s.get("type") == "array" or ("items" in s and "properties" not in s)

    def default(self, schema, depth: int = 0):
        """The value of a field absent from the store: null, [] or a filled object."""
        s = self.resolve(schema)
        key = id(s)
        hit = self._defaults.get(key, self)
        if hit is not self:
            return hit
        props = s.get("properties")
        if s.get("type") == "array" or ("items" in s and not props):
            value = []
        elif props:
            value = {} if depth >= _MAX_DEPTH else {
                k: self.default(p, depth + 1) for k, p in props.items()
            }
        elif s.get("type") == "object":
            value = {}
        else:
            value = None
        if depth < _MAX_DEPTH:
            self._defaults[key] = value
        return value

    def _fill_plan(self, schema):
        """Cached ``(properties, items)`` of a schema; properties as (name, schema, default)."""
        key = id(schema)
        plan = self._plans.get(key)
        if plan is None:
            s = self.resolve(schema)
            props = s.get("properties")
            if props:
                plan = ([(k, p, self.default(p, 1)) for k, p in props.items()], None)
            else:
                plan = (None, s.get("items"))
            self._plans[key] = plan
        return plan

    def fill(self, schema, data, depth: int = 0):
        """Shape ``data`` like ``schema``: keep its declared fields, default the rest.

        Objects without declared properties and scalars are returned as they
        are.  The result may share unchanged parts with ``data`` and with the
        cached defaults: never mutate it, serialise it.
        """
        if schema is None or depth > _MAX_DEPTH:
            return data
        props, items = self._fill_plan(schema)
        if props is not None:
            if data.__class__ is not dict:
                return data
            out = {}
            get = data.get
            for k, p, default in props:
                v = get(k, _MISSING)
                if v is _MISSING:
                    out[k] = default
                elif v.__class__ is dict or v.__class__ is list:
                    out[k] = self.fill(p, v, depth + 1)
                else:
                    out[k] = v
            return out
        if items is not None and data.__class__ is list:
            return [self.fill(items, x, depth + 1) if x.__class__ is dict or x.__class__ is list
                    else x for x in data]
        return data

    def check(self, schema, value, name: str = "") -> str | None:
        """Return an error naming the first field of ``value`` the API would refuse, or None.

        Uses the validator's request rules (:data:`~civis_dyn.spec._validate.REQUESTS`):
        whatever the client sends is accepted, ``null`` anywhere, undeclared
        fields and enum values are left to the API.
        """
        try:
            check_value(value, schema, self.api, REQUESTS, (name,) if name else ())
        except Mismatch as exc:
            where = format_path(exc.path) or "body"
            return f"{where} {exc.problem}"
        return None
