"""HTML views of API results for notebooks (Jupyter's ``_repr_html_``).

Pure functions of plain JSON data (what ``Response.json()`` returns): they never make a
request, and every piece of API text is escaped, so a job named ``<script>`` stays text.

* :func:`object_html` renders one object as a collapsible tree (``<details>``); fields
  named ``*_url`` (or ``*Url``) holding an ``http(s)`` address become links.
* :func:`table_html` renders a list of objects as a table of the first rows with the
  scalar fields they share, and says how many more there are.
"""

from html import escape

__all__ = ["object_html", "table_html"]

TABLE_ROWS = 20  # rows shown by table_html
_MAX_NODES = 2000  # an object tree stops rendering after this many values
_SCALARS = (str, int, float, bool, type(None))


def _is_url_field(name):
    return isinstance(name, str) and (name.endswith("_url") or name.endswith("Url"))


def _scalar_html(name, value, quoted=True):
    if value is None:
        return '<span class="civis-null">null</span>'
    if isinstance(value, bool):
        return f'<span class="civis-bool">{"true" if value else "false"}</span>'
    if isinstance(value, (int, float)):
        return f'<span class="civis-number">{escape(repr(value))}</span>'
    text = escape(str(value))
    if _is_url_field(name) and str(value).lower().startswith(("https://", "http://")):
        return f'<a href="{escape(str(value), quote=True)}" target="_blank" rel="noopener">{text}</a>'
    return f'<span class="civis-str">"{text}"</span>' if quoted else text


def _node_html(name, value, budget, depth):
    budget[0] -= 1
    if budget[0] < 0:
        return "<li>…</li>"
    label = f"<b>{escape(str(name))}</b>: " if name is not None else ""
    if isinstance(value, dict):
        inner = "".join(_node_html(k, v, budget, depth + 1) for k, v in value.items())
        opened = " open" if depth == 0 else ""
        return (f"<li><details{opened}><summary>{label}{{{len(value)} fields}}</summary>"
                f"<ul>{inner}</ul></details></li>")
    if isinstance(value, list):
        if all(isinstance(v, _SCALARS) for v in value) and len(value) <= 10:
            items = ", ".join(_scalar_html(name, v) for v in value)
            return f"<li>{label}[{items}]</li>"
        inner = "".join(_node_html(i, v, budget, depth + 1) for i, v in enumerate(value))
        return (f"<li><details><summary>{label}[{len(value)} items]</summary>"
                f"<ul>{inner}</ul></details></li>")
    return f"<li>{label}{_scalar_html(name, value)}</li>"


def object_html(data, title="Response"):
    """Return an HTML tree of one JSON object (a ``dict``)."""
    budget = [_MAX_NODES]
    rows = "".join(_node_html(k, v, budget, 1) for k, v in data.items())
    return (f'<div class="civis-response"><details open><summary>{escape(title)} '
            f"({len(data)} fields)</summary><ul>{rows}</ul></details></div>")


def _columns(rows):
    """The keys with scalar values in every row, in the first row's order."""
    if not rows or not all(isinstance(r, dict) for r in rows):
        return None
    first = rows[0]
    return [k for k in first
            if all(k in r and isinstance(r[k], _SCALARS) for r in rows)]


def table_html(items, total=None, title="ListResponse"):
    """Return an HTML table of the first :data:`TABLE_ROWS` of ``items``.

    Parameters
    ----------
    items : list
        Plain JSON values (objects become rows).
    total : int, optional
        How many items there are in all when more exist than ``items`` holds
        (e.g. a paginated result's total); default ``len(items)``.
    """
    total = len(items) if total is None else max(total, len(items))
    shown = list(items[:TABLE_ROWS])
    more = total - len(shown)
    footer = f"<p>+{more} more</p>" if more > 0 else ""
    columns = _columns(shown)
    head = f"<p><b>{escape(title)}</b>: {total} items</p>"
    if columns is None:
        body = "".join(f"<tr><td>{_scalar_html(None, v) if isinstance(v, _SCALARS) else escape(str(v))}</td></tr>"
                       for v in shown)
        return f'<div class="civis-list">{head}<table>{body}</table>{footer}</div>'
    header = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_scalar_html(c, row[c], quoted=False)}</td>" for c in columns) + "</tr>"
        for row in shown)
    return (f'<div class="civis-list">{head}<table><thead><tr>{header}</tr></thead>'
            f"<tbody>{body}</tbody></table>{footer}</div>")
