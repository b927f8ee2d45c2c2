"""numpydoc rendering of an :class:`~civis_dyn.spec._model.Operation`.

Called only when a method's ``__doc__`` is first read (``help()``, IPython's
``?``), never at start-up. The layout is the one the published reference shows::

    Summary, wrapped at 79 columns.

    Parameters
    ----------
    id : int
        The ID of the Job.
    schedule : dict, optional
        - scheduled : bool
            If the item is scheduled.

    Returns
    -------
    :class:`civis_dyn.Response`
        - id : int
        - runs : List[dict]
            Information about the most recent runs of the job.
            - id : int
"""

import textwrap

from ._model import type_label
from ._naming import camel_to_snake

__all__ = ["ITERATOR_DESCRIPTION", "render_docstring"]

WIDTH = 79
ITERATOR_DESCRIPTION = (
    "If True, return a generator to iterate over all responses. Use when more results than "
    "the maximum allowed by limit are needed. When True, page_num is ignored and limit is "
    "the page size (each request asks for that many). Defaults to False."
)
_MAX_DEPTH = 8
# Lines of nested fields one docstring shows (the real schema's largest has under 400):
# a small schema whose properties refer to wide definitions again and again would
# otherwise render millions of lines (depth alone does not bound breadth ** depth).
MAX_FIELD_LINES = 5_000
TRUNCATED_NOTE = "... (more fields not shown: the schema nests too widely to list here)"


def _wrap(text, indent):
    pad = " " * indent
    lines = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if paragraph:
            lines.extend(textwrap.wrap(paragraph, WIDTH, initial_indent=pad,
                                       subsequent_indent=pad, break_long_words=False,
                                       break_on_hyphens=False))
    return lines


def _children(spec, schema, where):
    """Return the (name, schema) pairs nested in an object or array-of-objects schema."""
    if schema.get("type") == "array":
        schema = spec.resolve(schema.get("items") or {}, where + ".items")
    properties = schema.get("properties") or {}
    return [(name, spec.resolve(prop, f"{where}.{name}")) for name, prop in properties.items()]


class _Budget:
    """Lines of nested fields left for one docstring."""

    __slots__ = ("left", "exceeded")

    def __init__(self, lines=None):
        self.left = MAX_FIELD_LINES if lines is None else lines
        self.exceeded = False


def _fields(spec, schema, indent, where, stack, budget=None):
    lines = []
    budget = budget if budget is not None else _Budget()
    if len(stack) >= _MAX_DEPTH:
        return lines
    for wire, prop in _children(spec, schema, where):
        if budget.left <= 0:
            budget.exceeded = True
            break
        entry = [f"{' ' * indent}- {camel_to_snake(wire)} : {type_label(prop)}"]
        description = (prop.get("description") or "").strip()
        if description:
            entry.extend(_wrap(description, indent + 4))
        budget.left -= len(entry)
        lines.extend(entry)
        if id(prop) not in stack:
            lines.extend(_fields(spec, prop, indent + 4, f"{where}.{wire}", stack | {id(prop)},
                                 budget))
    return lines


def render_docstring(op):
    """Render the numpydoc docstring of an operation.

    Parameters
    ----------
    op : Operation

    Returns
    -------
    str
    """
    spec = op.spec
    budget = _Budget()
    lines = []
    if op.alias_of:
        lines += [".. warning::", "",
                  *_wrap(f"Deprecated name: use {op.alias_of}() instead; "
                         f"this alias will be removed in a future release.", 4), ""]
    elif op.deprecation:
        lines += [".. warning::", "", *_wrap(op.deprecation, 4), ""]
    lines += _wrap(op.summary or f"{op.verb.upper()} {op.path}", 0)
    if op.description and op.description != op.summary:
        lines += ["", *_wrap(op.description, 0)]

    if op.parameters or op.paginated:
        lines += ["", "Parameters", "----------"]
        for p in op.parameters:
            optional = "" if p.required else ", optional"
            label = type_label(p.schema, with_format=p.location == "body")
            lines.append(f"{p.name} : {label}{optional}")
            if p.description:
                lines.extend(_wrap(p.description, 4))
            if p.location == "body":
                lines.extend(_fields(spec, p.schema, 4, f"{op.location}.body.{p.wire_name}",
                                     frozenset(), budget))
        if op.paginated:
            lines += ["iterator : bool, optional", *_wrap(ITERATOR_DESCRIPTION, 4)]

    lines += ["", "Returns", "-------"]
    code, description, schema = op.response
    kind = op.returns
    if kind is None:
        lines += ["None", f"    Response code {code}: {description or 'success'}"]
    elif kind == "PaginatedResponse":
        lines += [":class:`civis_dyn.ListResponse` or :class:`civis_dyn.PaginatedResponse`",
                  "    One page as a ListResponse; with ``iterator=True``, every item, fetched",
                  "    page by page, as a PaginatedResponse. Each item has these fields:"]
    else:
        lines.append(f":class:`civis_dyn.{kind}`")
        if schema is not None:
            lines.extend(_fields(spec, schema, 4, f"{op.location}.responses.{code}",
                                 frozenset(), budget))
    if budget.exceeded:
        lines += ["", TRUNCATED_NOTE]
    return "\n".join(lines) + "\n"
