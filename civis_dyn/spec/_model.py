"""The immutable model of an API schema: :class:`ApiSpec`, :class:`Operation`, :class:`Parameter`.

An :class:`ApiSpec` starts from the raw schema (bytes or a dict) and builds what
the client needs as late as possible:

* the *index* (resource -> method name -> verb and path) on first use, or
  from a preprocessed copy handed in by the loader (see ``spec._cache``);
* the parsed JSON document only when an operation is first needed;
* each :class:`Operation` (parameters, signature order, response) on first use;
* docstrings only when ``__doc__`` is read (``spec._docs``).

Nothing here performs I/O or knows about HTTP.
"""

import json
import threading
import time
from functools import cached_property

from .._errors import SpecError
from ._cache import sha256_hex
from ._naming import (
    ARRAY_DESPITE_SCHEMA,
    camel_to_snake,
    method_name,
    object_name,
    path_escape,
    path_shape,
    resource_name,
)

__all__ = ["ApiSpec", "Operation", "Parameter", "SpecInfo"]

HTTP_VERBS = ("get", "put", "post", "delete", "patch", "head", "options")
LOCATIONS = ("path", "query", "body")
_PY_TYPES = {"integer": int, "string": str, "boolean": bool, "number": float, "object": dict}
_MAX_REF_HOPS = 64
_DEFINITIONS = "#/definitions/"


class SpecInfo:
    """Where a schema came from.

    Attributes
    ----------
    source : str
        ``"file"``, ``"dict"``, ``"bundle"``, ``"memory"``, ``"disk-cache"``,
        ``"download"`` or ``"stale-cache"``.
    location : str or None
        File path or URL.
    fetched_at : float or None
        When the schema was downloaded (``time.time()``), if it was.
    sha256 : str
        Hash of the schema's bytes (of its compact JSON for a dict).
    """

    __slots__ = ("source", "location", "fetched_at", "sha256")

    def __init__(self, source, location=None, fetched_at=None, sha256=""):
        self.source = source
        self.location = location
        self.fetched_at = fetched_at
        self.sha256 = sha256

    @property
    def age(self):
        """Seconds since the schema was fetched, or None."""
        if self.fetched_at is None:
            return None
        return max(0.0, time.time() - self.fetched_at)

    def as_dict(self):
        """Return the fields as a plain dict (for display and JSON)."""
        return {"source": self.source, "location": self.location,
                "fetched_at": self.fetched_at, "age": self.age, "sha256": self.sha256}

    def __repr__(self):
        age = self.age
        age_text = "" if age is None else f", age={age:.0f}s"
        return (f"SpecInfo(source={self.source!r}, location={self.location!r}{age_text}, "
                f"sha256={self.sha256[:12]!r})")


class Parameter:
    """One argument of an API method.

    Attributes
    ----------
    name : str
        The Python (snake_case) name.
    wire_name : str
        The name sent to the API, exactly as the schema spells it.
    location : str
        ``"path"``, ``"query"`` or ``"body"``.
    required : bool
    schema : dict
        The parameter's schema with top-level ``$ref`` resolved.
    description : str
    """

    __slots__ = ("name", "wire_name", "location", "required", "schema", "description")

    def __init__(self, name, wire_name, location, required, schema, description):
        self.name = name
        self.wire_name = wire_name
        self.location = location
        self.required = required
        self.schema = schema
        self.description = description

    @property
    def type(self):
        """The JSON schema type (``"integer"``, ``"array"``, …) or None."""
        return self.schema.get("type")

    @property
    def annotation(self):
        """The Python annotation shown in the signature (``int``, ``List[int]``)."""
        return python_type(self.schema)

    def __repr__(self):
        return f"Parameter({self.name!r}, {self.location}, required={self.required})"


def python_type(schema):
    """Map a (resolved) JSON schema to the annotation civis-python shows."""
    import inspect  # signatures and docstrings need these; building a client does not
    from typing import List

    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") or {}
        if "$ref" in items or items.get("type") == "object" or "properties" in items:
            return List[dict]
        return List[python_type(items)] if items.get("type") else list
    if kind is None:
        return dict if ("properties" in schema or "$ref" in schema) else inspect.Parameter.empty
    return _PY_TYPES.get(kind, inspect.Parameter.empty)


def type_label(schema, with_format=True):
    """Return the type text used in docstrings: ``int``, ``List[dict]``, ``str (date-time)``.

    The reference shows formats for body and response fields, not for path and
    query parameters (``with_format=False``).
    """
    import inspect

    annotation = python_type(schema)
    if annotation is inspect.Parameter.empty:
        text = schema.get("type") or "object"
    else:
        text = inspect.formatannotation(annotation)
    fmt = schema.get("format")
    if with_format and fmt and schema.get("type") == "string":
        text += f" ({fmt})"
    return text


def raw_parameters(spec, where, raw):
    """Yield ``(parameter, body)`` for each parameter of a raw operation, checked.

    ``parameter`` is the resolved parameter object; ``body`` is None, or for a
    body parameter ``(required wire names, [(wire name, resolved property)])``.

    Raises
    ------
    SpecError
        Naming the location of a dangling or cyclic ``$ref``, an unknown
        location (``in``), a missing name or a value of the wrong shape.
    """
    params = raw.get("parameters")
    if params is None:
        return
    if not isinstance(params, list):
        raise SpecError(f"{where}.parameters: must be an array")
    for index, param in enumerate(params):
        here = f"{where}.parameters[{index}]"
        param = spec.resolve(param, here)
        if not isinstance(param, dict):
            raise SpecError(f"{here}: a parameter must be an object")
        location = param.get("in")
        if location not in LOCATIONS:
            raise SpecError(f"{here}: unsupported parameter location {location!r} "
                            f"(expected one of {', '.join(LOCATIONS)})")
        if location != "body":
            name = param.get("name")
            if not isinstance(name, str) or not name:
                raise SpecError(f"{here}: a parameter needs a name")
            yield param, None
            continue
        schema = spec.resolve(param.get("schema") or {}, f"{here}.schema")
        if not isinstance(schema, dict):
            raise SpecError(f"{here}.schema: must be an object")
        required = schema.get("required") or ()
        properties = schema.get("properties") or {}
        if not isinstance(required, list) and required != ():
            raise SpecError(f"{here}.schema.required: must be an array")
        if not isinstance(properties, dict):
            raise SpecError(f"{here}.schema.properties: must be an object")
        resolved = []
        for wire, prop in properties.items():
            prop = spec.resolve(prop, f"{here}.schema.properties.{wire}")
            if not isinstance(prop, dict):
                raise SpecError(f"{here}.schema.properties.{wire}: must be an object")
            resolved.append((wire, prop))
        yield param, (set(required), resolved)


def _responses(raw, where):
    """The ``responses`` object of a raw operation ({} when absent)."""
    responses = raw.get("responses")
    if responses is None:
        return {}
    if not isinstance(responses, dict):
        raise SpecError(f"{where}.responses: must be an object")
    return responses


class Operation:
    """One API operation (verb + path) and the method synthesized for it.

    Built by :meth:`ApiSpec.operation`; read-only afterwards.
    """

    def __init__(self, spec, resource, name, verb, path, raw, alias_of=None):
        self.spec = spec
        self.resource = resource
        self.name = name
        self.verb = verb
        self.path = path
        self.alias_of = alias_of
        self._raw = raw
        where = f"paths.{path}.{verb}"
        self.location = where
        self.summary = (raw.get("summary") or "").strip()
        self.description = (raw.get("description") or "").strip()
        warning = raw.get("x-deprecation-warning")
        if warning:
            self.deprecation = str(warning).strip()
        elif raw.get("deprecated") is True or "deprecated" in self.summary.lower():
            self.deprecation = f"{self.summary}." if self.summary else "This endpoint is deprecated."
        else:
            self.deprecation = None

    def __repr__(self):
        return f"<Operation {self.resource}.{self.name}: {self.verb.upper()} {self.path}>"

    @cached_property
    def parameters(self):
        """All parameters in signature order (tuple of :class:`Parameter`).

        Required ones first (path, then query, then body properties), then the
        optional ones in schema order.
        """
        path_params, required_query, required_body, optional = [], [], [], []
        for param, body in raw_parameters(self.spec, self.location, self._raw):
            if body is not None:
                required, properties = body
                for wire, prop in properties:
                    item = Parameter(camel_to_snake(wire), wire, "body", wire in required,
                                     prop, (prop.get("description") or "").strip())
                    (required_body if item.required else optional).append(item)
                continue
            wire = param["name"]
            location = param["in"]
            required = bool(param.get("required")) or location == "path"
            item = Parameter(camel_to_snake(wire), wire, location, required, param,
                             (param.get("description") or "").strip())
            if location == "path":
                path_params.append(item)
            elif required:
                required_query.append(item)
            else:
                optional.append(item)
        params = (*path_params, *required_query, *required_body, *optional)
        seen = {}
        for p in params:
            if not p.name.isidentifier():
                raise SpecError(f"{self.location}: parameter {p.wire_name!r} gives no valid "
                                f"Python name ({p.name!r})")
            if p.name in seen:
                raise SpecError(f"{self.location}: two parameters are both named {p.name!r} "
                                f"({seen[p.name].wire_name!r} and {p.wire_name!r})")
            seen[p.name] = p
        return params

    @cached_property
    def paginated(self):
        """True for GETs that have both ``limit`` and ``page_num`` query parameters."""
        if self.verb != "get":
            return False
        names = {p.wire_name for p in self.parameters if p.location == "query"}
        return "limit" in names and "page_num" in names

    @cached_property
    def response(self):
        """``(code, description, schema or None)`` of the first documented response."""
        responses = _responses(self._raw, self.location)
        if not responses:
            return ("200", "success", None)
        code = sorted(responses)[0]
        response = self.spec.resolve(responses[code] or {}, f"{self.location}.responses.{code}")
        schema = response.get("schema")
        if schema is not None:
            schema = self.spec.resolve(schema, f"{self.location}.responses.{code}.schema")
        return (str(code), (response.get("description") or "").strip(), schema)

    @property
    def raw(self):
        """The operation's node as the schema writes it (``$ref`` names kept; read-only use)."""
        return self._raw

    @cached_property
    def item_schema(self):
        """The (resolved) schema of one item of an array response, or None."""
        schema = self.response[2]
        if schema is None:
            return None
        if schema.get("type") == "array":
            return self.spec.resolve(schema.get("items") or {},
                                     f"{self.location}.responses.items")
        return schema if self.returns_array else None

    @cached_property
    def returns_array(self):
        """True when the response is a JSON array (or known to be one)."""
        schema = self.response[2]
        if schema is None:
            return False
        if schema.get("type") == "array":
            return True
        return path_shape(self.path) in ARRAY_DESPITE_SCHEMA

    @property
    def returns(self):
        """``"PaginatedResponse"``, ``"ListResponse"``, ``"Response"`` or None."""
        if self.response[2] is None:  # documented as None, as the reference does
            return None
        if self.paginated:
            return "PaginatedResponse"
        if self.returns_array:
            return "ListResponse"
        return "Response"

    @cached_property
    def signature(self):
        """The :class:`inspect.Signature` users see (without ``self``)."""
        import inspect

        P = inspect.Parameter
        items = []
        for p in self.parameters:
            if p.required:
                items.append(P(p.name, P.POSITIONAL_OR_KEYWORD, annotation=p.annotation))
            else:
                items.append(P(p.name, P.KEYWORD_ONLY, default=None, annotation=p.annotation))
        if self.paginated:
            items.append(P("iterator", P.KEYWORD_ONLY, default=None, annotation=bool))
        return inspect.Signature(items)

    @cached_property
    def doc(self):
        """The numpydoc docstring (rendered on first access)."""
        from ._docs import render_docstring

        return render_docstring(self)


class ApiSpec:
    """A parsed API schema and the index of its operations.

    Build one with :meth:`from_bytes` or :meth:`from_dict`. Instances are
    shared (the loader caches them by sha256); treat them as immutable.

    Parameters
    ----------
    raw : bytes, optional
        The schema's JSON text.
    document : dict, optional
        The parsed schema (given instead of, or with, ``raw``).
    info : SpecInfo
        Where the schema came from.
    index : mapping, optional
        A preprocessed index (see :attr:`index`), e.g. from the disk cache.
    loader : callable, optional
        ``loader()`` returns the schema's bytes again (checked against
        ``sha256``): the model then need not keep them (see :meth:`forget_bytes`).
    """

    def __init__(self, *, raw=None, document=None, source, location=None, fetched_at=None,
                 sha256=None, index=None, loader=None):
        if raw is None and document is None and loader is None:
            raise SpecError("a schema needs its bytes or its parsed document")
        self._raw = raw
        self._loader = loader
        self._document = document
        self._source = (source, location, fetched_at)
        self._sha256 = sha256
        self._index = index
        self._operations = {}
        self._lock = threading.Lock()
        self._slice_loader = None   # resource -> {"paths", "definitions"} or None
        self._slices = {}
        self._definitions = {}      # definitions from the slices loaded so far
        self._merges = {}           # id(allOf node) -> (node, merged schema)
        self._derived = {}          # see derived()

    # -- construction -----------------------------------------------------
    @classmethod
    def from_bytes(cls, raw, *, source="file", location=None, fetched_at=None, index=None):
        """Model a schema from its JSON bytes (parsed only when needed)."""
        return cls(raw=raw, source=source, location=location, fetched_at=fetched_at,
                   sha256=sha256_hex(raw), index=index)

    @classmethod
    def from_dict(cls, document, *, source="dict", location=None, fetched_at=None):
        """Model a schema from an already parsed dict (not copied: do not mutate it)."""
        if not isinstance(document, dict):
            raise SpecError(f"the schema must be a JSON object, not {type(document).__name__}")
        return cls(document=document, source=source, location=location, fetched_at=fetched_at)

    @property
    def sha256(self):
        """Hex sha256 of the schema's bytes (computed on first use for a dict)."""
        if self._sha256 is None:
            self._sha256 = sha256_hex(self.raw)
        return self._sha256

    @property
    def info(self):
        """A :class:`SpecInfo` saying where this schema came from."""
        source, location, fetched_at = self._source
        return SpecInfo(source, location, fetched_at, self.sha256)

    # -- the document -----------------------------------------------------
    @property
    def raw(self):
        """The schema's JSON bytes (read again from their source when not kept)."""
        if self._raw is not None:
            return self._raw
        if self._loader is not None:
            return self._loader()
        self._raw = json.dumps(self._document, separators=(",", ":")).encode()
        return self._raw

    def forget_bytes(self):
        """Drop the schema's bytes when ``loader`` can read them again (they can be large)."""
        if self._loader is not None:
            self._raw = None

    @property
    def document(self):
        """The parsed schema (parsed on first access)."""
        if self._document is None:
            where = self._source[1] or self._source[0]
            raw = self._raw if self._raw is not None else self._loader()
            try:
                document = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise SpecError(f"{where}: the schema is not valid JSON ({exc})") from None
            except RecursionError:
                raise SpecError(f"{where}: the schema is nested too deeply to be "
                                f"parsed") from None
            if not isinstance(document, dict):
                raise SpecError(f"{where}: the schema must be a JSON object")
            self._document = document
        return self._document

    def resolve(self, node, where="schema"):
        """Follow ``$ref`` links from ``node`` and merge ``allOf``: the schema it stands for.

        This is the one place the package resolves references; the client,
        the validator, the test doubles and ``tools/`` all use it. Only
        local ``#/...`` references exist. An ``allOf`` is merged into one
        object schema (its parts' properties and ``required`` combined, the
        node's own keys winning); the merge is made once per node.

        Parameters
        ----------
        node : object
            A schema, a reference to one, or anything else (returned as is).
        where : str, optional
            Where ``node`` sits, for error messages.

        Raises
        ------
        SpecError
            For a dangling, cyclic or non-local reference (or an ``allOf``
            that includes itself), naming ``where`` and the reference.
        """
        return self._resolve(node, where, ())

    def _resolve(self, node, where, merging):
        seen = []
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError(f"{where}: unsupported $ref {ref!r} (only local '#/...' refs)")
            if ref in seen or len(seen) > _MAX_REF_HOPS:
                raise SpecError(f"{where}: cyclic $ref {' -> '.join([*seen, ref])}")
            seen.append(ref)
            node = self._target(ref, where)
        if isinstance(node, dict) and "allOf" in node:
            return self._merged(node, where, merging)
        return node

    def _target(self, ref, where):
        if self._document is None and ref.startswith(_DEFINITIONS):
            target = self._definitions.get(ref[len(_DEFINITIONS):])
            if target is not None:
                return target
        target = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise SpecError(f"{where}: dangling $ref {ref!r}")
            target = target[part]
        return target

    def _merged(self, node, where, merging):
        hit = self._merges.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        if id(node) in merging:
            raise SpecError(f"{where}: cyclic allOf")
        parts = node["allOf"]
        if not isinstance(parts, list):
            raise SpecError(f"{where}.allOf: must be an array")
        merged = {"properties": {}}
        required = []
        for index, part in enumerate(parts):
            part = self._resolve(part, f"{where}.allOf[{index}]", (*merging, id(node)))
            if not isinstance(part, dict):
                raise SpecError(f"{where}.allOf[{index}]: must be an object")
            for key, value in part.items():
                if key == "properties":
                    merged["properties"].update(value or {})
                elif key == "required":
                    required += [n for n in value or () if n not in required]
                else:
                    merged.setdefault(key, value)
        for key, value in node.items():
            if key == "properties":
                merged["properties"].update(value or {})
            elif key == "required":
                required += [n for n in value or () if n not in required]
            elif key != "allOf":
                merged[key] = value
        if required:
            merged["required"] = required
        if not merged["properties"]:
            del merged["properties"]
        elif "type" not in merged:
            merged["type"] = "object"
        with self._lock:
            return self._merges.setdefault(id(node), (node, merged))[1]

    # -- the index --------------------------------------------------------
    @property
    def index(self):
        """``{resource: {method: [verb, path, alias_of]}}``, JSON-serializable.

        ``alias_of`` is None, or the preferred name for a deprecated alias.
        """
        if self._index is None:
            self._index = self.build_index()
        return self._index

    def build_index(self):
        """The index of names built from the whole schema document (no cache involved)."""
        document = self.document
        paths = document.get("paths")
        if not isinstance(paths, dict):
            where = self._source[1] or self._source[0]
            raise SpecError(f"{where}: the schema has no 'paths' object")
        index = {}
        for path, item in paths.items():
            if not isinstance(item, dict):
                raise SpecError(f"paths.{path}: a path item must be an object")
            escape = path_escape(path)
            if escape is not None:
                raise SpecError(f"paths.{path}: refused, it could leave the API's base URL "
                                f"({escape})")
            resource = resource_name(path)
            if not resource:
                continue
            methods = index.setdefault(resource, {})
            for verb, raw in item.items():
                if verb not in HTTP_VERBS:
                    continue
                if not isinstance(raw, dict):
                    raise SpecError(f"paths.{path}.{verb}: an operation must be an object")
                self._check_operation(f"paths.{path}.{verb}", raw)
                name = method_name(verb, path)
                self._add(methods, resource, name, [verb, path, None])
                if verb == "get" and name.startswith("list") and self._returns_object(path, raw):
                    preferred = object_name(name)
                    self._add(methods, resource, preferred, [verb, path, None])
                    methods[name][2] = preferred
        return index

    def _check_operation(self, where, raw):
        """Check what an operation's method rests on, once, when the index is built.

        Every parameter (``$ref`` resolved, location, name) and the body's
        properties (one level of ``$ref``) are checked here, so a malformed
        schema fails when the client is built; a warm start reuses the index
        of an already checked schema and skips this. Deeper schemas are
        resolved when first used.
        """
        for _ in raw_parameters(self, where, raw):
            pass
        _responses(raw, where)

    @staticmethod
    def _add(methods, resource, name, entry):
        if name in methods:
            other = methods[name]
            raise SpecError(f"method name collision: {resource}.{name} is both "
                            f"{other[0].upper()} {other[1]} and {entry[0].upper()} {entry[1]}")
        methods[name] = entry

    def _returns_object(self, path, raw):
        if path_shape(path) in ARRAY_DESPITE_SCHEMA:
            return False
        response = _responses(raw, f"paths.{path}.get").get("200")
        if not isinstance(response, dict):
            return False
        where = f"paths.{path}.get.responses.200"
        schema = self.resolve(response, where).get("schema")
        if schema is None:  # undocumented body: the API answers with an object
            return True
        schema = self.resolve(schema, where + ".schema")
        return schema.get("type") == "object" or (schema.get("type") is None and "properties" in schema)

    # -- what higher layers derive from the schema ---------------------------
    def derived(self, key, make):
        """Return what ``make()`` derives from this schema, made once per ``key``.

        Higher layers (resource classes, the router) keep what they build
        from a schema here, so it lives exactly as long as the model and is
        shared by every client built from it. Thread-safe: if two threads
        race, both get the first result stored.

        Parameters
        ----------
        key : hashable
            Names what is derived, e.g. ``("router",)``.
        make : callable
            Called with no arguments on first use.
        """
        try:
            return self._derived[key]
        except KeyError:
            pass
        value = make()
        with self._lock:
            return self._derived.setdefault(key, value)

    # -- queries ----------------------------------------------------------
    def resources(self):
        """Sorted resource names."""
        index = self.index
        names = list(index)
        if not getattr(index, "iterates_sorted", False):  # a CachedIndex is, a dict is not
            names.sort()
        return names

    def methods(self, resource):
        """Sorted method names of ``resource`` (aliases included)."""
        return sorted(self.index.get(resource, ()))

    def count_operations(self):
        """Number of distinct ``(verb, path)`` operations (aliases not counted)."""
        return len({(e[0], e[1]) for methods in self.index.values() for e in methods.values()})

    def operation(self, resource, name):
        """Return the :class:`Operation` behind ``resource.name`` (built once).

        Raises
        ------
        KeyError
            When the resource has no such method.
        """
        key = (resource, name)
        try:
            return self._operations[key]
        except KeyError:
            pass
        verb, path, alias_of = self.index[resource][name]
        operation = Operation(self, resource, name, verb, path,
                              self._raw_operation(resource, verb, path), alias_of)
        with self._lock:
            return self._operations.setdefault(key, operation)

    def _raw_operation(self, resource, verb, path):
        if self._document is None and self._slice_loader is not None:
            part = self._slice(resource)
            operation = ((part or {}).get("paths") or {}).get(path, {}).get(verb)
            if isinstance(operation, dict):
                return operation
        try:
            return self.document["paths"][path][verb]
        except (KeyError, TypeError):
            raise SpecError(f"paths.{path}.{verb}: missing from the schema") from None

    # -- per-resource slices ------------------------------------------------
    def use_slices(self, loader):
        """Read operations from per-resource slices (see :meth:`slices`) when possible.

        Parameters
        ----------
        loader : callable
            ``loader(resource)`` returns the decoded slice, or None (the
            document is then parsed as usual).
        """
        self._slice_loader = loader

    def _slice(self, resource):
        try:
            return self._slices[resource]
        except KeyError:
            pass
        part = self._slice_loader(resource)
        if not isinstance(part, dict) or not isinstance(part.get("definitions", {}), dict):
            part = None
        with self._lock:
            if part is not None:
                self._definitions.update(part.get("definitions") or {})
            return self._slices.setdefault(resource, part)

    def slices(self):
        """What each resource's operations need, as compact JSON bytes.

        Returns
        -------
        dict
            ``{resource: b'{"paths": {...}, "definitions": {...}}'}``: the
            resource's path items (operations without ``x-examples``) and every
            definition they reach through ``#/definitions/`` refs. A warm start
            decodes one small slice instead of the whole schema.
        """
        document = self.document
        definitions = document.get("definitions") or {}
        by_resource = {}
        for path, item in document["paths"].items():
            resource = resource_name(path)
            if resource not in self.index:
                continue
            by_resource.setdefault(resource, {})[path] = {
                verb: {k: v for k, v in raw.items() if k != "x-examples"}
                for verb, raw in item.items() if verb in HTTP_VERBS and isinstance(raw, dict)}
        direct = {}  # definition name -> names its body refers to (walked once each)

        def refs_in(node):
            found, stack = set(), [node]
            while stack:
                node = stack.pop()
                if isinstance(node, dict):
                    ref = node.get("$ref")
                    if isinstance(ref, str) and ref.startswith(_DEFINITIONS):
                        found.add(ref[len(_DEFINITIONS):])
                    stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
                elif isinstance(node, list):
                    stack.extend(v for v in node if isinstance(v, (dict, list)))
            return found

        out = {}
        for resource, paths in by_resource.items():
            needed, todo = {}, list(refs_in(paths))
            while todo:
                name = todo.pop()
                if name in needed or name not in definitions:
                    continue
                needed[name] = definitions[name]
                if name not in direct:
                    direct[name] = refs_in(definitions[name])
                todo.extend(direct[name])
            out[resource] = json.dumps({"paths": paths, "definitions": needed},
                                       separators=(",", ":")).encode()
        return out

    def __repr__(self):
        return f"<ApiSpec {self._source[0]} {self._source[1] or ''}>"
