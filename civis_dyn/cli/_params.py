"""Command-line parameters made from an operation's :class:`~civis_dyn.spec._model.Parameter`.

* required parameters become positional arguments, optional ones ``--options``
  (``page_num`` -> ``--page-num``);
* booleans are flags (``--hidden/--no-hidden``; not given: not sent), required
  ones positional ``true``/``false``;
* integers, numbers and string enums are checked by click;
* arrays and objects take JSON text, ``@file.json``, ``@file.yaml`` or ``@-``
  (JSON from standard input): see :class:`JsonValue`.

Values the user does not give are not sent, so the API's defaults apply.
"""

import json
import sys

import click

from ..spec._naming import camel_to_snake

__all__ = ["JSON_METAVAR", "JsonValue", "click_parameter", "option_flag", "type_hint"]

JSON_METAVAR = "JSON|@FILE"
_MAX_FIELDS_SHOWN = 40


def option_flag(name):
    """The option spelling of a Python parameter name: ``page_num`` -> ``--page-num``."""
    return "--" + name.replace("_", "-")


class JsonValue(click.ParamType):
    """A JSON array or object given as text, ``@path`` (JSON or YAML file) or ``@-`` (stdin).

    Parameters
    ----------
    kind : str or None
        ``"array"`` or ``"object"`` to insist on that shape; None for any JSON.
    """

    name = "json"

    def __init__(self, kind=None):
        self.kind = kind

    def __repr__(self):
        return f"JsonValue({self.kind!r})"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value  # already converted (defaults, programmatic calls)
        if value.startswith("@"):
            data = self._load_file(value[1:], param, ctx)
        else:
            data = self._parse_json(value, "the value", param, ctx)
        self._check_kind(data, param, ctx)
        return data

    def _parse_json(self, text, where, param, ctx):
        try:
            return json.loads(text)
        except ValueError as exc:
            shape = {"array": "[1, 2]", "object": '{"key": "value"}'}.get(self.kind, "[1, 2]")
            self.fail(f"{where} is not valid JSON ({exc}). Pass JSON text such as '{shape}', "
                      f"or @file.json / @file.yaml.", param, ctx)

    def _load_file(self, path, param, ctx):
        if not path:
            self.fail("'@' must be followed by a file name (or '-' for standard input)", param, ctx)
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
        except OSError as exc:
            self.fail(f"cannot read {path}: {exc.strerror}", param, ctx)
        except UnicodeDecodeError:
            self.fail(f"{path} is not UTF-8 text", param, ctx)
        if path.lower().endswith((".yaml", ".yml")):
            return self._parse_yaml(text, path, param, ctx)
        return self._parse_json(text, path, param, ctx)

    def _parse_yaml(self, text, path, param, ctx):
        try:
            import yaml
        except ImportError:
            self.fail(f"reading {path} needs PyYAML, which is not installed "
                      f"(pip install pyyaml), or give the value as JSON", param, ctx)
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            self.fail(f"{path} is not valid YAML: {exc}", param, ctx)

    def _check_kind(self, data, param, ctx):
        expected = {"array": list, "object": dict}.get(self.kind)
        if expected is not None and not isinstance(data, expected):
            got = type(data).__name__ if data is not None else "null"
            article = "an" if self.kind == "array" else "a"
            self.fail(f"must be {article} JSON {self.kind}, not {got}", param, ctx)


def _fields(spec, schema, where):
    """snake_case names of the fields of an object (or array of objects) schema."""
    if schema.get("type") == "array":
        schema = spec.resolve(schema.get("items") or {}, where + ".items")
    return [camel_to_snake(k) for k in (schema.get("properties") or {})]


def type_hint(param, spec):
    """A short text for help pages: the type, the allowed values or the object's fields."""
    schema = param.schema
    kind = schema.get("type")
    if kind in ("array", "object") or (kind is None and "properties" in schema):
        fields = _fields(spec, schema, param.name)
        shape = "JSON array" if kind == "array" else "JSON object"
        if fields:
            shown = ", ".join(fields[:_MAX_FIELDS_SHOWN])
            more = ", …" if len(fields) > _MAX_FIELDS_SHOWN else ""
            return f"{shape} with fields: {shown}{more}"
        items = schema.get("items") or {}
        if kind == "array" and items.get("type"):
            return f"JSON array of {items['type']}s"
        return shape
    if schema.get("enum"):
        return "one of: " + ", ".join(map(str, schema["enum"]))
    fmt = schema.get("format")
    if kind and fmt:
        return f"{kind} ({fmt})"
    return kind or "any JSON value"


def _click_type(schema):
    kind = schema.get("type")
    enum = schema.get("enum")
    if kind == "integer":
        return click.INT
    if kind == "number":
        return click.FLOAT
    if kind == "boolean":
        return click.BOOL
    if kind == "string":
        if enum and all(isinstance(v, str) for v in enum):
            return click.Choice(enum)
        return click.STRING
    if kind in ("array", "object") or "properties" in schema:
        return JsonValue(kind if kind in ("array", "object") else "object")
    return click.STRING


def _help(param, spec):
    text = " ".join(param.description.split())
    hint = type_hint(param, spec)
    if param.schema.get("type") in ("array", "object") or "properties" in param.schema:
        text = f"{text} [{hint}]" if text else f"[{hint}]"
    return text


def click_parameter(param, spec):
    """Return the :class:`click.Argument` or :class:`click.Option` for one API parameter.

    Parameters
    ----------
    param : civis_dyn.spec._model.Parameter
    spec : civis_dyn.spec._model.ApiSpec
        For resolving nested schemas in help texts.
    """
    click_type = _click_type(param.schema)
    if param.required:  # documented in the command's Arguments section
        return click.Argument([param.name], type=click_type, required=True,
                              metavar=param.name.upper())
    metavar = JSON_METAVAR if isinstance(click_type, JsonValue) else None
    flag = option_flag(param.name)
    if click_type is click.BOOL:
        negative = "--no-" + flag[2:]
        return click.Option([f"{flag}/{negative}", param.name], default=None,
                            help=_help(param, spec))
    return click.Option([flag, param.name], type=click_type, default=None, metavar=metavar,
                        help=_help(param, spec))
