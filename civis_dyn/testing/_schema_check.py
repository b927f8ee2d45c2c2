"""Checking a canned API response against an operation's response schema.

Used by :class:`~civis_dyn.testing.Stubber` when a response is added: the
value a test wants the API to answer with is checked field by field and
turned into what the API would put on the wire.

Rules:

* keys may be given snake_case (``last_run``) or as the schema spells them
  (``lastRun``); the result uses the schema's spelling;
* a field the schema does not list is refused (with close-name
  suggestions), unless the object allows ``additionalProperties``;
* ``integer`` takes an ``int``, ``number`` an ``int`` or ``float``,
  ``boolean`` a ``bool``, ``string`` a ``str``, ``array`` a list or tuple,
  ``object`` a dict (a :class:`civis_dyn.Response` counts as its dict);
* ``null`` is accepted for every field: the Civis schema marks no field
  nullable, yet the API sends ``null`` for unset ones;
* required fields may be left out: a canned response need only hold what the
  code under test reads;
* free-form objects (no ``properties``, such as ``arguments``) keep their
  keys as given; their values need only be JSON.
"""

import difflib

from .._response import ListResponse, Response
from ..spec._naming import camel_to_snake

__all__ = ["SchemaMismatch", "format_path", "plain_json", "to_wire"]

_EXPECTED = {
    "integer": "an int",
    "number": "a number",
    "boolean": "a bool",
    "string": "a str",
    "array": "a list",
    "object": "a dict",
}
_JSON_SCALARS = (str, int, float, bool)


class SchemaMismatch(ValueError):
    """A value does not fit its schema.

    Attributes
    ----------
    path : tuple
        Where: keys (as the caller gave them) and list indices.
    problem : str
        What is wrong, naming the field (``unknown field 'last_run.stae'``).
    """

    def __init__(self, path, problem):
        self.path = tuple(path)
        self.problem = problem
        super().__init__(problem)


def format_path(path):
    """Render a field path: ``("runs", 0, "id")`` -> ``runs[0].id``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _field(path):
    return f"field {format_path(path)!r} " if path else ""


def _type_error(path, expected, value):
    return SchemaMismatch(path, f"{_field(path)}must be {expected}, not {type(value).__name__}")


def _unwrap(value):
    if isinstance(value, Response):
        return value.json(snake_case=False)
    if isinstance(value, ListResponse):
        return value.json(snake_case=False)
    return value


def plain_json(value, path=()):
    """Return ``value`` as plain JSON data (tuples become lists), or raise :class:`SchemaMismatch`."""
    value = _unwrap(value)
    if value is None or isinstance(value, _JSON_SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return [plain_json(v, (*path, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise SchemaMismatch(path, f"{_field(path)}has a non-string key {key!r}")
            out[key] = plain_json(item, (*path, key))
        return out
    raise _type_error(path, "JSON (a dict, list, str, int, float, bool or None)", value)


def to_wire(value, schema, spec, path=()):
    """Check ``value`` against ``schema`` and return it with the schema's key spelling.

    Parameters
    ----------
    value : object
        The canned value (None is accepted anywhere).
    schema : dict or None
        The schema (``$ref`` allowed); None or ``{}`` accepts any JSON.
    spec : civis_dyn.spec._model.ApiSpec
        Resolves ``$ref``.
    path : tuple, optional
        Where ``value`` sits (for messages).

    Raises
    ------
    SchemaMismatch
        Naming the first field that does not fit.
    """
    value = _unwrap(value)
    if value is None:
        return None
    schema = spec.resolve(schema or {}, f"response schema at {format_path(path) or '(top)'}")
    kind = schema.get("type")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
    elif kind == "string":
        if isinstance(value, str):
            return value
    elif kind == "array":
        if isinstance(value, (list, tuple)):
            items = schema.get("items")
            return [to_wire(v, items, spec, (*path, i)) for i, v in enumerate(value)]
    elif kind == "object":
        if isinstance(value, dict):
            return _object_to_wire(value, schema, spec, path)
    else:  # untyped
        return plain_json(value, path)
    raise _type_error(path, _EXPECTED.get(kind, kind), value)


def _object_to_wire(value, schema, spec, path):
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    extra_schema = extra if isinstance(extra, dict) else None
    by_snake = {camel_to_snake(wire): wire for wire in properties}
    out = {}
    given_as = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise SchemaMismatch(path, f"{_field(path)}has a non-string key {key!r}")
        where = (*path, key)
        wire = key if key in properties else by_snake.get(key)
        if wire is None:
            if properties and not extra:
                raise SchemaMismatch(where, _unknown_field(key, path, properties, by_snake))
            out[key] = to_wire(item, extra_schema, spec, where) if extra_schema else plain_json(item, where)
            continue
        if wire in given_as:
            raise SchemaMismatch(where, f"field {format_path((*path, wire))!r} is given twice "
                                        f"(as {given_as[wire]!r} and {key!r})")
        given_as[wire] = key
        out[wire] = to_wire(item, properties[wire], spec, where)
    return out


def _unknown_field(key, path, properties, by_snake):
    # suggest in the caller's style: camelCase names for a key with capitals, else snake_case
    candidates = list(properties) if key != key.lower() else list(by_snake)
    close = difflib.get_close_matches(key, candidates, n=3, cutoff=0.6)
    text = f"unknown field {format_path((*path, key))!r}"
    if close:
        text += " (did you mean " + " or ".join(repr(format_path((*path, c))) for c in close) + "?)"
    return text
