"""How ``civis-dyn`` prints results: JSON, YAML or a table, with column selection.

Results are first turned into plain JSON values (:func:`plain`): snake_case
keys as ``Response.json()`` gives them, or the API's own keys with ``--raw``.
``--columns id,name,last_run.state`` keeps only those fields (dotted names
reach into nested objects) in every format.

JSON is the default when standard output is not a terminal (pipes, cron), a
table when it is; ``CIVIS_DYN_OUTPUT`` changes the default. ``--all`` streams
JSON items as pages arrive.

Text from the API never reaches the terminal as control characters: a name
holding an escape sequence (OSC 52 writes the clipboard, CSI moves the cursor
or clears the screen) is shown as visible escapes (``\x1b]52;...``) in tables
and error messages (:func:`terminal_text`); JSON escapes every control
character (C0, DEL and C1) and YAML quotes them.
"""

import json
import os
import re
import sys

import click

from .._response import ListResponse, PaginatedResponse, Response

__all__ = [
    "FORMATS",
    "terminal_text",
    "OUTPUT_ENV",
    "default_format",
    "format_table",
    "parse_columns",
    "plain",
    "select_columns",
    "write_result",
]

FORMATS = ("json", "yaml", "table")
OUTPUT_ENV = "CIVIS_DYN_OUTPUT"
_MAX_CELL = 80
_MISSING = object()
# C0 and C1 controls, DEL, and the bidirectional overrides/isolates (they reorder what
# follows on the line); newlines are handled by the callers that allow them
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")   # json escapes C0 itself


def _visible(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_text(text, keep_newlines=False):
    """``text`` safe to print on a terminal: control characters shown as ``\\xNN`` escapes.

    Parameters
    ----------
    text : str
    keep_newlines : bool, optional
        Leave ``\\n`` (and tabs) as they are, for multi-line messages.
    """
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_visible, line.replace("\t", "    "))
                         for line in text.split("\n"))
    return _UNSAFE.sub(_visible, text)


def default_format(stream=None):
    """``$CIVIS_DYN_OUTPUT`` if set, else ``"table"`` on a terminal and ``"json"`` otherwise."""
    chosen = os.environ.get(OUTPUT_ENV, "").strip().lower()
    if chosen in FORMATS:
        return chosen
    stream = stream if stream is not None else sys.stdout  # CliRunner swaps sys.stdout too
    try:
        return "table" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def plain(value, raw=False):
    """Turn a client result into plain JSON values (an iterator stays an iterator)."""
    snake = not raw
    if isinstance(value, (Response, ListResponse)):
        return value.json(snake_case=snake)
    if isinstance(value, PaginatedResponse):
        return (plain(item, raw) for item in value)
    if isinstance(value, list):
        return [plain(item, raw) for item in value]
    return value


def parse_columns(text):
    """``"id, name,last_run.state"`` -> ``["id", "name", "last_run.state"]`` (None stays None)."""
    if text is None:
        return None
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        raise click.BadParameter("give at least one column name, e.g. id,name", param_hint="--columns")
    return columns


def _lookup(record, column):
    value = record
    for part in column.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return _MISSING
    return value


def select_columns(record, columns):
    """Keep only ``columns`` of a record (dotted names reach into nested objects).

    A column the record lacks is shown as null. Non-object records pass unchanged.
    """
    if not isinstance(record, dict):
        return record
    out = {}
    for column in columns:
        value = _lookup(record, column)
        out[column] = None if value is _MISSING else value
    return out


def check_columns(records, columns):
    """Raise a usage error when no record has one of the requested columns."""
    records = [r for r in records if isinstance(r, dict)]
    if not records:
        return
    unknown = [c for c in columns if all(_lookup(r, c) is _MISSING for r in records)]
    if unknown:
        known = []
        for record in records:
            known.extend(k for k in record if k not in known)
        raise click.BadParameter(f"no such field: {', '.join(unknown)}. "
                                 f"Fields: {', '.join(known) or '(none)'}", param_hint="--columns")


# -- tables ---------------------------------------------------------------
def _cell(value):
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    else:
        text = str(value)
    text = terminal_text(" ".join(text.splitlines()))
    if len(text) > _MAX_CELL:
        text = text[:_MAX_CELL - 1] + "…"
    return text


def _default_columns(rows):
    """Keys holding a scalar in some row, in first-seen order.

    Nested values and columns empty in every row are left out, to keep the
    table narrow; ``--columns`` shows any field.
    """
    columns = []
    for row in rows:
        for key, value in row.items():
            if key not in columns and value not in (None, "") and not isinstance(value, (dict, list)):
                columns.append(key)
    if not columns:  # nothing scalar: show every key
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    return columns


def _grid(header, rows):
    header = [terminal_text(h) for h in header]
    rows = [[terminal_text(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    lines = []
    for row in (header, *rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def format_table(value, columns=None):
    """Render a list of objects as rows, one object as FIELD/VALUE pairs, a scalar as text.

    Parameters
    ----------
    value : list, dict or scalar
        Plain JSON values.
    columns : list of str, optional
        Columns to show (default: the scalar fields of the rows).
    """
    if isinstance(value, dict):
        if columns is not None:
            value = [value]
        else:
            return _grid(["FIELD", "VALUE"], [[k, _cell(v)] for k, v in value.items()])
    if isinstance(value, list):
        if not value:
            return "  ".join(c.upper() for c in columns) if columns else "(no results)"
        if not all(isinstance(row, dict) for row in value):
            return _grid(["VALUE"], [[_cell(row)] for row in value])
        columns = columns or _default_columns(value)
        rows = [[_cell(_lookup(row, c) if _lookup(row, c) is not _MISSING else None)
                 for c in columns] for row in value]
        return _grid([c.upper() for c in columns], rows)
    return _cell(value)


# -- writing --------------------------------------------------------------
def _dump_json(value):
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _dump_yaml(value):
    try:
        import yaml
    except ImportError:
        raise click.UsageError("--output yaml needs PyYAML, which is not installed "
                               "(pip install pyyaml); use --output json or table") from None
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False)
    if _JSON_UNSAFE.search(text):  # YAML counts the bidi controls as printable: escape all
        text = yaml.safe_dump(value, sort_keys=False, allow_unicode=False,
                              default_flow_style=False)
    return text.rstrip("\n")


def _stream_json(items, echo):
    """Write an iterator of items as one JSON array, each item as soon as it arrives."""
    first = True
    for item in items:
        text = _dump_json(item).replace("\n", "\n  ")
        echo(("[\n  " if first else ",\n  ") + text, nl=False)
        first = False
    echo("[]" if first else "\n]")


def write_result(value, *, fmt, columns=None, raw=False, echo=click.echo):
    """Print one command's result.

    Parameters
    ----------
    value : Response, ListResponse, PaginatedResponse, list, dict or scalar
        What the client returned.
    fmt : str
        ``"json"``, ``"yaml"`` or ``"table"``.
    columns : list of str, optional
        Fields to keep (``--columns``).
    raw : bool, optional
        Keep the API's own (camelCase) keys.
    echo : callable, optional
        ``echo(text, nl=True)`` that prints (default :func:`click.echo`).
    """
    data = plain(value, raw)
    is_stream = not isinstance(data, (dict, list, str, int, float, bool, type(None)))
    if fmt == "json" and is_stream:
        if columns is not None:
            data = (select_columns(item, columns) for item in data)
        _stream_json(data, echo)
        return
    if is_stream:
        data = list(data)
    records = data if isinstance(data, list) else [data]
    if columns is not None:
        check_columns(records, columns)
    if fmt == "table":
        echo(format_table(data, columns))
        return
    if columns is not None:
        data = ([select_columns(r, columns) for r in data] if isinstance(data, list)
                else select_columns(data, columns))
    echo(_dump_yaml(data) if fmt == "yaml" else _dump_json(data))
