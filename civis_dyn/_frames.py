"""``to_pandas()``: API lists as DataFrames typed from the schema (pandas imported on use).

Columns follow the item schema's property order (then any field the schema does not name);
types come from the schema: ``integer`` → nullable ``Int64``, ``number`` → ``float64``,
``boolean`` → nullable ``boolean``, strings with format ``date-time``/``time``/``date`` →
``datetime64`` (UTC), other strings → ``object``. Nested objects stay dicts, or become dotted
columns (``last_run.state``) with ``flatten=True``.
"""

from .spec._naming import camel_to_snake

__all__ = ["to_frame"]

_DATETIME_FORMATS = frozenset({"date-time", "time", "date"})


def _flatten(row, prefix="", out=None):
    out = {} if out is None else out
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            _flatten(value, f"{name}.", out)
        else:
            out[name] = value
    return out


def _column_types(schema, prefix="", flatten=False, out=None):
    """``{column: (type, format)}`` in schema order, nested properties dotted if flattened."""
    out = {} if out is None else out
    for wire, prop in ((schema or {}).get("properties") or {}).items():
        name = f"{prefix}{camel_to_snake(wire)}"
        prop = prop or {}
        if flatten and prop.get("type") == "object" and prop.get("properties"):
            _column_types(prop, f"{name}.", True, out)
        else:
            out[name] = (prop.get("type"), prop.get("format"))
    return out


def _convert(pd, series, kind, fmt):
    if kind == "string" and fmt in _DATETIME_FORMATS:
        return pd.to_datetime(series, utc=True, errors="coerce")
    try:
        if kind == "integer":
            return series.astype("Int64")
        if kind == "number":
            return series.astype("float64")
        if kind == "boolean":
            return series.astype("boolean")
    except (TypeError, ValueError):
        pass  # a value the schema did not promise: keep the column as the API sent it
    return series


def to_frame(rows, item_schema=None, flatten=False):
    """Return a ``pandas.DataFrame`` of ``rows`` (snake_case dicts).

    Parameters
    ----------
    rows : list of dict
        The items, as ``Response.json()`` returns them.
    item_schema : dict, optional
        The schema of one item (resolved), for column order and types.
    flatten : bool, optional
        Nested objects as dotted columns instead of dict values.
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas() needs pandas: pip install 'civis-dyn[pandas]'") from None
    types = _column_types(item_schema, flatten=flatten)
    if flatten:
        # a null nested object becomes nulls in its dotted columns, not a column of its own
        parents = {c[:i] for c in types for i, ch in enumerate(c) if ch == "."}
        rows = [{k: v for k, v in _flatten(r).items() if not (k in parents and not v)}
                if isinstance(r, dict) else r for r in rows]
    columns = list(types)
    seen = set(columns)
    for row in rows:
        if isinstance(row, dict):
            for key in row:
                if key not in seen:
                    seen.add(key)
                    columns.append(key)
    frame = pd.DataFrame.from_records(rows, columns=columns or None)
    for name, (kind, fmt) in types.items():
        if name in frame:
            frame[name] = _convert(pd, frame[name], kind, fmt)
    return frame
