"""The one validator: does a value fit a schema, and what goes on the wire?

Every check of a value against the API schema runs here, with a set of
:class:`Rules` saying how strict to be:

* the client's argument checks (:data:`ARGUMENTS`, relaxed by the schema's
  freshness, see :func:`argument_rules`);
* the Stubber's canned responses (:data:`RESPONSES`);
* the local API's request bodies (:data:`REQUESTS`).

What the API accepts, the client accepts (``ARGUMENTS`` and ``REQUESTS``
are *lenient*): the Civis API coerces a single value where the schema says
array (it wraps it), a number or bool where it says string, the text
``"true"``/``"false"`` where it says boolean, and numeric text where it says
number. Such values are sent as given. A value of another wrong type is
refused before anything is sent.

A field or enum value the schema does not know is *drift*: the API may be
newer than the schema. With a fresh schema it is refused; with the bundled
schema or a stale cached one it is sent with a :class:`SchemaDriftWarning`
(see :func:`argument_rules`).

Errors are :class:`Mismatch` objects with the path of the offending value,
so each caller words them its own way.
"""

import math
import re
import sys

from ._naming import camel_to_snake

__all__ = [
    "ARGUMENTS",
    "Mismatch",
    "REQUESTS",
    "RESPONSES",
    "Rules",
    "SchemaDriftWarning",
    "argument_rules",
    "check",
    "check_shape",
    "format_path",
    "plain_json",
]


class SchemaDriftWarning(UserWarning):
    """A value names a field or enum value the schema in use does not know.

    Raised as a warning (not an error) when the schema is the one bundled
    with civis_dyn or a stale cached copy, since the live API may know it.
    """


class Rules:
    """How strictly :func:`check` judges a value.

    Parameters
    ----------
    lenient : bool
        Accept the wrong JSON types the API coerces (see the module doc).
    enums : bool
        Check ``enum`` lists.
    drift : str
        What to do with an unknown field or enum value: ``"refuse"``,
        ``"warn"`` (collect a message, keep the value) or ``"keep"``.
    convert : bool
        Python values in: ``date``/``datetime``/``time`` become ISO 8601
        text, text of an integer becomes an ``int``, tuples become lists.
    types : bool
        Refuse values of a wrong type (False: only JSON-ability is checked).
    """

    __slots__ = ("lenient", "enums", "drift", "convert", "types")

    def __init__(self, *, lenient, enums, drift, convert, types=True):
        if drift not in ("refuse", "warn", "keep"):
            raise ValueError(f"drift must be 'refuse', 'warn' or 'keep', not {drift!r}")
        self.lenient = lenient
        self.enums = enums
        self.drift = drift
        self.convert = convert
        self.types = types

    def __repr__(self):
        return (f"Rules(lenient={self.lenient}, enums={self.enums}, drift={self.drift!r}, "
                f"convert={self.convert}, types={self.types})")


#: the client's argument checks with a fresh schema
ARGUMENTS = Rules(lenient=True, enums=True, drift="refuse", convert=True)
#: the client's argument checks with the bundled or a stale schema
ARGUMENTS_DRIFTING = Rules(lenient=True, enums=True, drift="warn", convert=True)
#: ``parameter_validation=False``: values are only made JSON
ARGUMENTS_OFF = Rules(lenient=True, enums=False, drift="keep", convert=True, types=False)
#: canned responses (the Stubber): exactly the schema's types, no unknown fields
RESPONSES = Rules(lenient=False, enums=False, drift="refuse", convert=False)
#: request bodies the local API receives: what the client may send
REQUESTS = Rules(lenient=True, enums=False, drift="keep", convert=False)

#: schema sources whose field lists may lag behind the live API
DRIFTING_SOURCES = frozenset({"bundle", "stale-cache"})


def argument_rules(parameter_validation=True, spec_source=None):
    """The :class:`Rules` of a client's argument checks.

    Parameters
    ----------
    parameter_validation : bool
        False turns the checks off (values are only made JSON).
    spec_source : str, optional
        Where the client's schema came from (:attr:`SpecInfo.source`):
        ``"bundle"`` or ``"stale-cache"`` turn drift into warnings.
    """
    if not parameter_validation:
        return ARGUMENTS_OFF
    if spec_source in DRIFTING_SOURCES:
        return ARGUMENTS_DRIFTING
    return ARGUMENTS


class Mismatch(ValueError):
    """A value does not fit its schema.

    Attributes
    ----------
    path : tuple
        Where: keys (as the caller gave them) and list indices.
    kind : str
        ``"type"`` (a wrong type), ``"value"`` (a wrong value: enum,
        non-finite number, bad text), ``"unknown"`` (a field the schema does
        not list) or ``"key"`` (a non-string or repeated key).
    problem : str
        What is wrong, worded after the path (``"must be an int, not str"``).
    field, candidates
        For ``"unknown"``: the unknown key and the known ones.
    """

    def __init__(self, path, problem, kind="type", field=None, candidates=()):
        self.path = tuple(path)
        self.problem = problem
        self.kind = kind
        self.field = field
        self.candidates = tuple(candidates)
        super().__init__(problem)

    def suggestion(self, snake=None):
        """Close known names to an unknown field, in the caller's spelling.

        ``snake`` True gives snake_case names, False the schema's, None: the
        style of the unknown key itself.
        """
        if self.field is None:
            return []
        if snake is None:
            snake = self.field == self.field.lower()
        names = [camel_to_snake(c) for c in self.candidates] if snake else list(self.candidates)
        key = camel_to_snake(self.field) if snake else self.field
        import difflib

        return difflib.get_close_matches(key, names, n=3, cutoff=0.6)


def format_path(path):
    """Render a field path: ``("runs", 0, "id")`` -> ``runs[0].id``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_TYPE_NAMES = {"integer": "an int", "number": "a number", "boolean": "a bool",
               "string": "a str", "array": "a list", "object": "a dict"}
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_BOOLEAN_TEXT = frozenset({"true", "false"})
_SCALARS = (str, int, float, bool)
_JSON_NAMES = "JSON (a dict, list, str, int, float, bool or None)"


def _unwrap(value):
    """A :class:`civis_dyn.Response` or ListResponse as its JSON (wire keys)."""
    json = getattr(value, "json", None)
    if json is not None and type(value).__name__ in ("Response", "ListResponse"):
        return json(snake_case=False)
    return value


def _text(value, path):
    """``value`` if UTF-8 can carry it (no lone surrogate)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Mismatch(path, f"is not valid Unicode text (a lone surrogate at position "
                                 f"{exc.start})", "value") from None
    return value


def _finite(value, path):
    if isinstance(value, float) and not math.isfinite(value):
        raise Mismatch(path, f"must be a finite number (JSON has no {value!r}); got {value!r}",
                       "value")
    return value


def plain_json(value, path=(), convert=False):
    """Return ``value`` as plain JSON data (tuples become lists), or raise :class:`Mismatch`.

    With ``convert``, dates and times become ISO 8601 text; otherwise they
    are refused.
    """
    value = _unwrap(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, str):
        return _text(value, path)
    if isinstance(value, float):
        return _finite(value, path)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise Mismatch(path, f"has a non-string key {key!r}", "key")
            out[_text(key, path)] = plain_json(item, (*path, key), convert)
        return out
    if isinstance(value, (list, tuple)):
        return [plain_json(v, (*path, i), convert) for i, v in enumerate(value)]
    if convert and _is_date_or_time(value):
        return value.isoformat()
    raise Mismatch(path, f"must be {_JSON_NAMES}, not {type(value).__name__}")


def _is_date_or_time(value):
    """True for a :class:`datetime.date` (or datetime) or :class:`datetime.time`.

    Without :mod:`datetime` imported no value can be one, so building a client
    does not import it.
    """
    datetime = sys.modules.get("datetime")
    return datetime is not None and isinstance(value, (datetime.date, datetime.time))


def check(value, schema, spec, rules, path=(), drift=None, context="schema of"):
    """Check ``value`` against ``schema`` and return what to send (schema's key spelling).

    Parameters
    ----------
    value : object
        None is accepted anywhere.
    schema : dict or None
        The schema (``$ref`` and ``allOf`` allowed); None or ``{}`` accepts
        any JSON.
    spec : civis_dyn.spec.ApiSpec
        Resolves references.
    rules : Rules
    path : tuple, optional
        Where ``value`` sits (for messages).
    drift : list, optional
        Receives a :class:`Mismatch` for each unknown field or enum value
        kept under ``rules.drift == "warn"``.
    context : str, optional
        Words before the path in a :class:`~civis_dyn.SpecError` about a bad
        reference (``"jobs.post() argument"``).

    Raises
    ------
    Mismatch
        For the first value that does not fit.
    civis_dyn.SpecError
        For a dangling or cyclic ``$ref``.
    """
    value = _unwrap(value)
    if value is None:
        return None
    schema = spec.resolve(schema or {}, f"{context} {format_path(path) or '(top)'!r}")
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        kind = "object"
    enum = schema.get("enum")
    if rules.enums and enum is not None and value not in enum:
        _drift(rules, drift, Mismatch(path, f"must be one of {', '.join(map(repr, enum))}; "
                                            f"got {value!r}", "value"))
    if kind == "integer":
        _check_int64(value, path)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and rules.lenient and _INTEGER_TEXT.fullmatch(value.strip()):
            return int(value) if rules.convert else value
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _finite(value, path)
        if isinstance(value, str) and rules.lenient and _number_text(value):
            return value
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and rules.lenient and value.strip().lower() in _BOOLEAN_TEXT:
            return value
    elif kind == "string":
        if isinstance(value, str):
            return _text(value, path)
        if rules.convert and _is_date_or_time(value):
            return value.isoformat()
        if rules.lenient and isinstance(value, (int, float)):  # the API keeps it as text
            return _finite(value, path)
    elif kind == "array":
        items = spec.resolve(schema.get("items") or {}, f"{context} {format_path(path)!r}")
        if isinstance(value, (list, tuple)):
            return [check(v, items, spec, rules, (*path, i), drift, context)
                    for i, v in enumerate(value)]
        if rules.lenient and isinstance(value, (*_SCALARS, dict)):  # the API wraps one item
            return check(value, items, spec, rules, path, drift, context)
    elif kind == "object":
        if isinstance(value, dict):
            return _check_object(value, schema, spec, rules, path, drift, context)
    else:  # untyped: any JSON value
        return plain_json(value, path, rules.convert)
    if not rules.types:
        return plain_json(value, path, rules.convert)
    raise Mismatch(path, f"must be {_TYPE_NAMES.get(kind, kind)}, not {type(value).__name__}")


MAX_DEPTH = 100          # nesting levels an argument may have (JSON parsers commonly stop there)
_MAX_INT_BITS = 13_000   # about 3,900 digits: below Python's int <-> str limit (4,300)
_INT64 = 1 << 63


def check_shape(value, path=()):
    """Refuse a value that cannot become JSON: too deep, circular, or with a huge int.

    Walks ``value`` without recursion, so a deep or circular value fails with a
    :class:`Mismatch`, never with a RecursionError.
    """
    stack = [(value, 0, ())]
    while stack:
        node, depth, parents = stack.pop()
        if isinstance(node, int) and not isinstance(node, bool):
            if node.bit_length() > _MAX_INT_BITS:
                raise Mismatch(path, f"holds an int of {node.bit_length()} bits, too large "
                                     f"to send", "value")
            continue
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if id(node) in parents:
            raise Mismatch(path, "is circular: it contains itself", "value")
        if depth >= MAX_DEPTH:
            raise Mismatch(path, f"is nested more than {MAX_DEPTH} levels deep", "value")
        inner = parents + (id(node),)
        stack.extend((child, depth + 1, inner) for child in children
                     if isinstance(child, (dict, list, tuple, int)))


def _check_int64(value, path):
    """Refuse an integer (or integer text) outside the signed 64-bit range the API stores."""
    if isinstance(value, str):
        text = value.strip().lstrip("-")
        if len(text) > 19 and text.isdigit() and text.isascii():
            raise Mismatch(path, f"is out of range (a 64-bit integer); got {len(text)} digits",
                           "value")
    elif isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        raise Mismatch(path, f"is out of range (a 64-bit integer); got an int of "
                             f"{value.bit_length()} bits", "value")


def _number_text(value):
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _drift(rules, drift, mismatch):
    if rules.drift == "refuse":
        raise mismatch
    if rules.drift == "warn" and drift is not None:
        drift.append(mismatch)


def _check_object(value, schema, spec, rules, path, drift, context):
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    if not properties and not isinstance(extra, dict):
        return plain_json(value, path, rules.convert)  # free-form (e.g. arguments)
    extra_schema = extra if isinstance(extra, dict) else None
    by_snake = {camel_to_snake(wire): wire for wire in properties}
    out = {}
    given_as = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise Mismatch(path, f"has a non-string key {key!r}", "key")
        where = (*path, key)
        # the API reads any spelling whose snake_case is the field's (partitionSchema_name)
        wire = key if key in properties else by_snake.get(camel_to_snake(key) if rules.lenient else key)
        if wire is None:
            if extra_schema is not None:
                out[key] = check(item, extra_schema, spec, rules, where, drift, context)
                continue
            if not extra:
                _drift(rules, drift, Mismatch(path, f"has an unknown field {key!r}", "unknown",
                                              key, properties))
            out[_text(key, path)] = plain_json(item, where, rules.convert)
            continue
        if wire in given_as:
            raise Mismatch((*path, wire), f"is given twice (as {given_as[wire]!r} and {key!r})",
                           "key")
        given_as[wire] = key
        out[wire] = check(item, properties[wire], spec, rules, where, drift, context)
    return out
