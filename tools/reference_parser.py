"""Parse the published Civis API reference texts into structured records.

The reference comes in three layouts:

* ``current`` with indented bullets (files ``000`` Jobs and ``003``
  Services): ``Parameters:`` / ``idint`` (name and type glued together) /
  ``Returns:`` / ``civis.response.Response`` / ``  • name : type`` or
  ``  • nametype`` bullets followed by an indented description;
* ``current`` as a flat dash list (file ``002`` Workflows): ``- get(id: int)``,
  ``- Parameters:``, ``- idint``; this layout loses the nesting of dict
  fields and, for a few methods, the method header line itself;
* ``old`` (file ``001``, the whole API): ``list_announcements(*,
  limit='DEFAULT')``, ``Parameters`` without colon, types ``integer``,
  ``string/date-time``, ``dict::``, ``list::`` ...

Every layout is read into the same dataclasses (:class:`ResourceDoc`,
:class:`MethodDoc`, :class:`ParamDoc`, :class:`FieldDoc`); types are
normalised to the current spelling (``int``, ``str (date-time)``,
``List[int]``, ...) and the printed spelling is kept in ``raw_type``.

Only the standard library is used.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

__all__ = [
    "FieldDoc",
    "MethodDoc",
    "ParamDoc",
    "ResourceDoc",
    "current_type",
    "parse_reference",
    "parse_reference_dir",
    "split_name_type",
]

# --------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------


@dataclass
class ParamDoc:
    """One documented parameter of a method (or a nested property of one).

    Attributes
    ----------
    name : str
        The parameter name as printed (snake_case).
    type : str
        The type in the current spelling, e.g. ``int``, ``List[dict]``,
        ``str (date-time)``.
    optional : bool
        True when the reference marks it ``optional``.
    description : str
        The description text, lines joined with single spaces.
    children : list of ParamDoc
        Nested properties of a ``dict`` / ``List[dict]`` parameter.
    raw_type : str
        The type exactly as printed (``integer``, ``dict::``, ``List[int]``).
    """

    name: str
    type: str
    optional: bool = False
    description: str = ""
    children: list["ParamDoc"] = field(default_factory=list)
    raw_type: str = ""


@dataclass
class FieldDoc:
    """One documented field of a response (possibly nested).

    Attributes
    ----------
    name : str
        The field name as printed (snake_case).
    type : str
        The type in the current spelling.
    description : str
        The description text ("" when the reference gives none).
    children : list of FieldDoc
        Nested fields of a ``dict`` / ``List[dict]`` field.
    raw_type : str
        The type exactly as printed.
    """

    name: str
    type: str
    description: str = ""
    children: list["FieldDoc"] = field(default_factory=list)
    raw_type: str = ""


@dataclass
class MethodDoc:
    """The documentation block of one client method.

    Attributes
    ----------
    name : str
        Method name, e.g. ``list_runs_logs``.
    signature : str
        The text after the method name exactly as printed, e.g.
        ``(id: int, *, limit: int = None)``; for a block whose header line is
        missing from the reference it is rebuilt from the parameters.
    summary : str
        The one-line summary (any deprecation warning split off).
    params : list of ParamDoc
        The documented parameters in printed order (``iterator`` included).
    returns : str
        ``"Response"``, ``"PaginatedResponse"`` or ``"None"``.
    response_code : str or None
        Text of a ``Response code 204: success`` line, e.g.
        ``"204: success"``; None when the method returns a response object.
    response_fields : list of FieldDoc
        The documented fields of the response.
    deprecation : str or None
        The deprecation text: the warning block when there is one, otherwise
        the summary when the summary says the method is deprecated.
    style : str
        ``"current"`` or ``"old"``.
    warning : str or None
        Only the warning block (``Warning: The tables/:id/refresh endpoint is
        deprecated. ...``), None when the reference has none.
    """

    name: str
    signature: str
    summary: str
    params: list[ParamDoc] = field(default_factory=list)
    returns: str = "None"
    response_code: str | None = None
    response_fields: list[FieldDoc] = field(default_factory=list)
    deprecation: str | None = None
    style: str = "current"
    warning: str | None = None

    def signature_params(self) -> list[tuple[str, str | None, bool]]:
        """Split :attr:`signature` into its parameters.

        Returns
        -------
        list of (str, str or None, bool)
            ``(name, default, keyword_only)`` for each parameter, in order;
            ``default`` is the printed default text (``None`` when there is
            none). The bare ``*`` marker is not returned but sets
            ``keyword_only`` for the parameters after it.
        """
        out = []
        keyword_only = False
        for part in _split_signature(self.signature):
            if part == "*":
                keyword_only = True
                continue
            name, default = _split_sig_part(part)
            out.append((name, default, keyword_only))
        return out

    def current_signature(self) -> str:
        """The signature in the current style.

        For ``current`` methods this is :attr:`signature`. For ``old`` ones
        (``(id, *, limit='DEFAULT')``) each parameter gets its documented type
        (``integer`` -> ``int``, ``array`` -> ``List[<item>]`` when the item type
        is known, else ``List``), ``'DEFAULT'`` defaults become ``= None``,
        required ones have no default and ``*`` is kept.

        Returns
        -------
        str
            E.g. ``(id: int, *, limit: int = None)``.
        """
        if self.style != "old":
            return self.signature
        types = {p.name: _signature_type(p.type) for p in self.params}
        parts = []
        keyword_only = False
        for part in _split_signature(self.signature):
            if part == "*":
                parts.append("*")
                keyword_only = True
                continue
            name, default = _split_sig_part(part)
            typ = types.get(name)
            text = f"{name}: {typ}" if typ else name
            if default is not None or keyword_only:
                text += " = None"
            parts.append(text)
        return "(" + ", ".join(parts) + ")"

    def is_deprecated(self) -> bool:
        """True when the reference marks the method deprecated.

        Returns
        -------
        bool
        """
        return self.deprecation is not None


@dataclass
class ResourceDoc:
    """One resource section (one client class) of the reference.

    Attributes
    ----------
    name : str
        Lower-case attribute name on the client, e.g. ``"git_repos"``.
    class_name : str
        The class name as printed, e.g. ``"Git_Repos"``.
    methods : dict of str to MethodDoc
        Documented methods by name, in reference order.
    source_file : str
        File name of the reference text the section comes from.
    """

    name: str
    class_name: str
    methods: dict[str, MethodDoc] = field(default_factory=dict)
    source_file: str = ""


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------

_NAME = r"[a-z_][a-z0-9_]*"
_NAME_RE = re.compile(rf"^{_NAME}$")
_CURRENT_TYPE_RE = re.compile(
    r"^(?:int|str|bool|float|dict|object|Any|List(?:\[[A-Za-z\[\]]+\])?)"
    r"(?: \([a-z-]+\))?$"
)
_OLD_TYPE_RE = re.compile(
    r"^(?:integer|string|boolean|bool|number|object|array|list|dict)(?:/[a-z-]+)?$"
)
_OLD_BASE = {
    "integer": "int",
    "string": "str",
    "boolean": "bool",
    "bool": "bool",
    "number": "float",
    "object": "dict",
    "dict": "dict",
    "array": "List",
    "list": "List",
}


def _is_type(text: str, style: str) -> bool:
    return bool((_OLD_TYPE_RE if style == "old" else _CURRENT_TYPE_RE).match(text))


def current_type(raw: str, style: str, has_children: bool = False) -> str:
    """Normalise a printed type to the current spelling.

    Parameters
    ----------
    raw : str
        Type as printed, without ``, optional`` and ``::``.
    style : str
        ``"current"`` or ``"old"``.
    has_children : bool
        Whether the reference documents nested fields for it (an old
        ``list`` with nested fields is a ``List[dict]``).

    Returns
    -------
    str
        E.g. ``int``, ``str (date-time)``, ``List[dict]``, ``List``.
    """
    raw = raw.strip()
    if style != "old":
        if raw == "object":
            return "dict"
        if raw == "List" and has_children:
            return "List[dict]"
        return raw
    base, _, fmt = raw.partition("/")
    typ = _OLD_BASE.get(base, base)
    if typ == "List" and has_children:
        typ = "List[dict]"
    return f"{typ} ({fmt})" if fmt else typ


def _signature_type(typ: str) -> str:
    """Type as written in a current signature (no ``(format)`` suffix)."""
    return typ.split(" (", 1)[0]


def split_name_type(
    text: str, style: str, known_names: Iterable[str] = ()
) -> tuple[str, str, bool, bool] | None:
    """Split an item line such as ``created_atstr (time)`` into its parts.

    Parameters
    ----------
    text : str
        The item text without bullet or dash, e.g. ``user_idsList[int]``,
        ``name : str``, ``statusarray, optional``, ``paramslist, optional::``.
    style : str
        ``"current"`` or ``"old"``: which type spellings are valid.
    known_names : iterable of str
        Parameter names known from the signature; a glued item is split at
        the longest known name first.

    Returns
    -------
    tuple or None
        ``(name, raw_type, optional, has_children_marker)``, or None when the
        text is not an item line.
    """
    text = text.strip()
    children_marker = False
    if text.endswith("::"):
        text = text[:-2].rstrip()
        children_marker = True
    optional = False
    if text.endswith(", optional"):
        text = text[: -len(", optional")].rstrip()
        optional = True
    if text.endswith("::"):
        text = text[:-2].rstrip()
        children_marker = True
    if " : " in text:
        name, typ = (s.strip() for s in text.split(" : ", 1))
        if _NAME_RE.match(name) and _is_type(typ, style):
            return name, typ, optional, children_marker
        return None
    for name in sorted(set(known_names), key=len, reverse=True):
        if text.startswith(name) and _is_type(text[len(name):], style):
            return name, text[len(name):], optional, children_marker
    # The longest valid type suffix wins (names never end in a type prefix).
    for pos in range(1, len(text)):
        name, typ = text[:pos], text[pos:]
        if _NAME_RE.match(name) and _is_type(typ, style):
            return name, typ, optional, children_marker
    return None


# --------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------


def _split_signature(signature: str) -> list[str]:
    """Split ``(a: int, *, b: List[int] = None)`` into its parts."""
    inner = signature.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return [p for p in parts if p]


def _split_sig_part(part: str) -> tuple[str, str | None]:
    name, _, default = part.partition("=")
    name = name.split(":", 1)[0].strip()
    return name, (default.strip() if default else None)


def _sig_names(signature: str) -> list[str]:
    return [
        _split_sig_part(p)[0]
        for p in _split_signature(signature)
        if p not in ("*", "...") and not p.startswith("*[")
    ]


def _synth_signature(params: list[ParamDoc], style: str) -> str:
    """Rebuild a signature in the file's style from documented parameters."""
    required = [p for p in params if not p.optional]
    optional = [p for p in params if p.optional]
    if style == "old":
        parts = [p.name for p in required]
        if optional:
            parts.append("*")
            parts += [f"{p.name}='DEFAULT'" for p in optional]
    else:
        parts = [f"{p.name}: {_signature_type(p.type)}" for p in required]
        if optional:
            parts.append("*")
            parts += [f"{p.name}: {_signature_type(p.type)} = None" for p in optional]
    return "(" + ", ".join(parts) + ")"


# --------------------------------------------------------------------------
# Line classification
# --------------------------------------------------------------------------

_CLASS_RE = re.compile(r"^(?:- )?class ([A-Za-z_][A-Za-z0-9_]*)\((.*)\)\s*$")
_HEADER_RE = re.compile(rf"^(?:- )?({_NAME})(\(.*\))\s*$")
_EXAMPLE_RE = re.compile(r">>> client\.([a-z_][a-z0-9_]*)\.")
_PARAMS_MARK = {"Parameters", "Parameters:", "- Parameters:"}
_RETURNS_MARK = {"Returns", "Returns:", "- Returns:"}
_CODE_RE = re.compile(r"^(?:- )?Response code (\d{3}: .*)$")
_BULLET_RE = re.compile(r"^(\s*)• (.*)$")
_INLINE_SPLIT_RE = re.compile(rf"\s+- ({_NAME}) : ")
_RAW_DASH_RE = re.compile(rf"^(\s*)- ({_NAME} : \S.*)$")
_WARNING_RE = re.compile(r"^(Warning: .*\.)\s+([A-Z].*)$")


@dataclass
class _Node:
    """A parsed item before it becomes a ParamDoc or FieldDoc."""

    name: str
    raw_type: str
    optional: bool
    marker: bool
    indent: int
    desc: list[str] = field(default_factory=list)
    children: list["_Node"] = field(default_factory=list)


def _layout(lines: list[str]) -> str:
    """``"old"``, ``"dash"`` or ``"bullet"`` for one file."""
    counts = {"old": 0, "dash": 0, "bullet": 0}
    for line in lines:
        s = line.strip()
        if s == "Parameters" or s == "Returns":
            counts["old"] += 1
        elif s == "- Parameters:" or s == "- Returns:":
            counts["dash"] += 1
        elif s == "Parameters:" or s == "Returns:":
            counts["bullet"] += 1
    return max(counts, key=lambda k: counts[k])


def _is_marker(line: str) -> bool:
    return line.strip() in _PARAMS_MARK or line.strip() in _RETURNS_MARK


# --------------------------------------------------------------------------
# Item parsing
# --------------------------------------------------------------------------


def _parse_bullet_items(
    lines: list[str], style: str, known_names: list[str] | None
) -> list[_Node]:
    """Items of a bulleted region (files 000, 001, 003) as a tree.

    Unbulleted lines at column 0 are items only when ``known_names`` is
    given (the parameters region) and their name is one of them; an empty
    ``known_names`` (signature unknown) accepts any name.

    Two rendering quirks of the old layout are undone: nested fields glued
    onto a description (``Dependent objects - object_type : string``) become
    children of the described item, and raw ``- name : type`` lines (an
    unrendered list) nest under the last item by their indentation.
    """
    roots: list[_Node] = []
    stack: list[_Node] = []
    last: _Node | None = None  # where description lines go
    raw_anchor: _Node | None = None
    raw_stack: list[_Node] = []
    for line in lines:
        if not line.strip():
            continue
        m = _BULLET_RE.match(line)
        parsed = None
        indent = 0
        if m:
            indent = len(m.group(1)) + 1
            parsed = split_name_type(m.group(2), style)
        elif known_names is not None and not line.startswith(" "):
            parsed = split_name_type(line, style, known_names)
            if parsed and known_names and parsed[0] not in known_names:
                parsed = None
        if parsed is None:
            if last is None:
                continue
            raw = _RAW_DASH_RE.match(line)
            raw_item = raw and split_name_type(raw.group(2), style)
            if raw_item:
                if raw_anchor is None:
                    raw_anchor, raw_stack = last, []
                node = _Node(raw_item[0], raw_item[1], raw_item[2], raw_item[3],
                             len(raw.group(1)))
                while raw_stack and raw_stack[-1].indent >= node.indent:
                    raw_stack.pop()
                (raw_stack[-1] if raw_stack else raw_anchor).children.append(node)
                raw_stack.append(node)
                last = node
                continue
            text = line.strip()
            chunks = _INLINE_SPLIT_RE.split(" " + text)
            # chunks: [desc, name1, type1, name2, type2, ...]
            children = []
            for k in range(1, len(chunks) - 1, 2):
                typ = chunks[k + 1].strip()
                marker = typ.endswith(":")
                typ = typ.rstrip(":").strip()
                if not _is_type(typ, style):
                    children = []
                    break
                children.append(_Node(chunks[k], typ, False, marker, last.indent + 1))
            if children:
                if chunks[0].strip():
                    last.desc.append(chunks[0].strip())
                last.children.extend(children)
                last = children[-1]
            else:
                last.desc.append(text)
            continue
        name, raw_type, optional, marker = parsed
        node = _Node(name, raw_type, optional, marker, indent)
        while stack and stack[-1].indent >= indent:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
        last = node
        raw_anchor, raw_stack = None, []
    return roots


def _parse_dash_items(lines: list[str], style: str, known: list[str]) -> list[_Node]:
    """Items of a flat dash-list region (file 002), without nesting."""
    items: list[_Node] = []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        parsed = None
        if s.startswith("- "):
            parsed = split_name_type(s[2:], style, known)
        elif " : " in s:
            parsed = split_name_type(s, style)
        if parsed is None:
            if items:
                items[-1].desc.append(s)
            continue
        name, raw, optional, marker = parsed
        items.append(_Node(name, raw, optional, marker, 0))
    return items


def _is_container(node: _Node, style: str) -> bool:
    typ = current_type(node.raw_type, style)
    return typ in ("dict", "List[dict]", "List")


@dataclass
class _Frame:
    """An open container while rebuilding nesting."""

    node: _Node | None
    allowed: set[str] | None  # None: any name
    template: dict
    seen: set[str] = field(default_factory=set)

    def accepts(self, name: str) -> bool:
        return (self.allowed is None or name in self.allowed) and name not in self.seen


def _template(items) -> dict:
    """``{name: template of children}`` for ParamDoc/FieldDoc trees."""
    return {it.name: _template(it.children) for it in items}


def _unflatten(
    items: list[_Node],
    hints: "_Hints",
    style: str,
    top_names: list[str] | None = None,
    template: dict | None = None,
) -> list[_Node]:
    """Rebuild the nesting that the flat dash layout lost.

    The knowledge comes from the indented files: ``hints.shapes`` maps a
    field name to every child name it has anywhere, and ``template`` is the
    same method's tree in the old reference, if any. An item stays in the
    innermost open container when that container lists its name (and has
    not had it yet); otherwise it goes to the nearest enclosing container
    that lists it, unless the same name comes again before that container
    can have closed (then the later one is the enclosing container's).
    Names no container lists stay where they are. For parameters, ``top_names`` (the signature order)
    decides which items are top-level.
    """
    root = _Frame(None, set(template) if template else None, template or {})
    stack = [root]
    roots: list[_Node] = []
    nxt: list[int | None] = [None] * len(items)  # next item of the same name
    last_at: dict[str, int] = {}
    for i in range(len(items) - 1, -1, -1):
        nxt[i] = last_at.get(items[i].name)
        last_at[items[i].name] = i

    def comes_again(idx: int, outer: int) -> bool:
        """Whether the same name comes again while ``stack[outer]`` is open."""
        j = nxt[idx]
        if j is None:
            return False
        return not any(
            stack[k].accepts(items[i].name)
            for i in range(idx + 1, j)
            for k in range(outer)
        )

    next_top = 0
    for idx, item in enumerate(items):
        is_top = False
        if top_names is not None:
            if next_top < len(top_names) and item.name == top_names[next_top]:
                is_top = True
                next_top += 1
            elif item.name in top_names[next_top:]:
                # the signature skipped something: resynchronise
                next_top = top_names.index(item.name, next_top) + 1
                is_top = True
        if is_top:
            del stack[1:]
        elif len(stack) > 1 and not stack[-1].accepts(item.name):
            outer = next(
                (k for k in range(len(stack) - 2, -1, -1) if stack[k].accepts(item.name)),
                None,
            )
            if outer is not None and (
                item.name in stack[-1].seen or not comes_again(idx, outer)
            ):
                del stack[outer + 1:]
            elif item.name in stack[-1].seen:
                while len(stack) > 1 and item.name in stack[-1].seen:
                    stack.pop()
        frame = stack[-1]
        (frame.node.children if frame.node else roots).append(item)
        frame.seen.add(item.name)
        if _is_container(item, style):
            sub = frame.template.get(item.name) or {}
            # the same method's own nesting is more precise than the union
            # of every nesting of that name
            shape = set(sub) or set(hints.shapes.get(item.name, ()))
            if shape:
                stack.append(_Frame(item, shape, sub))
            elif is_top and top_names is not None:
                # a top-level dict parameter: what follows until the next
                # signature name can only be its properties
                stack.append(_Frame(item, None, {}))
    return roots


@dataclass
class _Hints:
    """Nesting knowledge taken from the indented reference files."""

    shapes: dict[str, list[str]] = field(default_factory=dict)
    methods: dict[tuple[str, str], MethodDoc] = field(default_factory=dict)

    @classmethod
    def from_resources(cls, resources: Iterable[ResourceDoc]) -> "_Hints":
        hints = cls()

        def visit(items):
            for it in items:
                if it.children:
                    names = hints.shapes.setdefault(it.name, [])
                    for c in it.children:
                        if c.name not in names:
                            names.append(c.name)
                    visit(it.children)

        for res in resources:
            for m in res.methods.values():
                visit(m.params)
                visit(m.response_fields)
                hints.methods.setdefault((res.name, m.name), m)
        return hints


def _to_param(node: _Node, style: str) -> ParamDoc:
    return ParamDoc(
        name=node.name,
        type=current_type(node.raw_type, style, bool(node.children) or node.marker),
        optional=node.optional,
        description=" ".join(node.desc).strip(),
        children=[_to_param(c, style) for c in node.children],
        raw_type=node.raw_type + ("::" if node.marker else ""),
    )


def _to_field(node: _Node, style: str) -> FieldDoc:
    return FieldDoc(
        name=node.name,
        type=current_type(node.raw_type, style, bool(node.children) or node.marker),
        description=" ".join(node.desc).strip(),
        children=[_to_field(c, style) for c in node.children],
        raw_type=node.raw_type + ("::" if node.marker else ""),
    )


# --------------------------------------------------------------------------
# Sections and blocks
# --------------------------------------------------------------------------


def _prev_nonblank(lines: list[str], i: int) -> int:
    i -= 1
    while i >= 0 and not lines[i].strip():
        i -= 1
    return i


def _next_nonblank(lines: list[str], i: int) -> int:
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _summary_list(lines: list[str], layout: str) -> list[tuple[str | None, str, str]]:
    """``(name, short signature, summary)`` entries of a Methods list."""
    out: list[tuple[str | None, str, str]] = []
    if layout == "dash":
        i = 0
        while i < len(lines):
            s = lines[i].strip()
            if _NAME_RE.match(s) and i + 1 < len(lines) and lines[i + 1].startswith("("):
                sig_sum = lines[i + 1].strip()
                depth = 0
                for j, ch in enumerate(sig_sum):
                    depth += ch == "("
                    depth -= ch == ")"
                    if depth == 0:
                        break
                out.append((s, sig_sum[: j + 1], sig_sum[j + 1:].strip()))
                i += 2
                continue
            if s and s not in ("Methods", "Examples") and not s.startswith(">>>"):
                out.append((None, "", s))
            i += 1
        return out
    i = 0
    while i < len(lines):
        m = _HEADER_RE.match(lines[i].strip())
        if m:
            j = _next_nonblank(lines, i)
            summary = lines[j].strip() if j < len(lines) else ""
            out.append((m.group(1), m.group(2), summary))
            i = j + 1
            continue
        i += 1
    return out


def _split_warning(summary: str) -> tuple[str, str | None]:
    m = _WARNING_RE.match(summary)
    if m:
        return m.group(2).strip(), m.group(1).strip()
    return summary, None


def _parse_block(
    name: str,
    signature: str | None,
    summary_lines: list[str],
    body: list[str],
    style: str,
    layout: str,
    hints: _Hints,
    resource: str = "",
) -> MethodDoc:
    """Build a MethodDoc from the lines after the summary."""
    p_start = r_start = None
    for i, line in enumerate(body):
        s = line.strip()
        if s in _PARAMS_MARK and p_start is None and r_start is None:
            p_start = i
        elif s in _RETURNS_MARK and r_start is None:
            r_start = i
    params_lines = body[p_start + 1: r_start] if p_start is not None else []
    returns_lines = body[r_start + 1:] if r_start is not None else []

    known = _sig_names(signature) if signature else []
    old = hints.methods.get((resource, name))
    if layout == "dash":
        flat = _parse_dash_items(params_lines, style, known)
        pnodes = _unflatten(
            flat, hints, style, top_names=known or None,
            template=_template(old.params) if old else None,
        )
    else:
        pnodes = _parse_bullet_items(params_lines, style, known)
    params = [_to_param(n, style) for n in pnodes]

    returns = "None"
    code = None
    fields: list[FieldDoc] = []
    k = _next_nonblank(returns_lines, -1)
    if k < len(returns_lines):
        kind = returns_lines[k].strip().removeprefix("- ")
        if kind.endswith("PaginatedResponse"):
            returns = "PaginatedResponse"
        elif kind.endswith("Response"):
            returns = "Response"
        rest = returns_lines[k + 1:]
        for idx, line in enumerate(rest):
            m = _CODE_RE.match(line.strip())
            if m:
                code = m.group(1).strip()
                rest = rest[:idx] + rest[idx + 1:]
                break
        if layout == "dash":
            fnodes = _unflatten(
                _parse_dash_items(rest, style, []), hints, style,
                template=_template(old.response_fields) if old else None,
            )
        else:
            fnodes = _parse_bullet_items(rest, style, None)
        fields = [_to_field(n, style) for n in fnodes]

    summary = " ".join(s.strip() for s in summary_lines if s.strip())
    summary, warning = _split_warning(summary)
    deprecation = warning
    if deprecation is None and re.search(r"\bdeprecated\b", summary, re.I):
        deprecation = summary
    if signature is None:
        signature = _synth_signature(params, style)
    return MethodDoc(
        name=name,
        signature=signature,
        summary=summary,
        params=params,
        returns=returns,
        response_code=code,
        response_fields=fields,
        deprecation=deprecation,
        style=style,
        warning=warning,
    )


def _parse_section(
    lines: list[str],
    class_name: str,
    source: str,
    style: str,
    layout: str,
    hints: _Hints,
) -> ResourceDoc:
    attr = class_name.lower()
    for line in lines:
        m = _EXAMPLE_RE.search(line)
        if m:
            attr = m.group(1)
            break

    # Block starts: header lines followed by a Parameters/Returns marker
    # before any other header.
    starts: list[tuple[int, int, str | None, str | None]] = []  # (start, body, name, sig)
    headers = [i for i, l in enumerate(lines) if _HEADER_RE.match(l.strip())]
    header_set = set(headers)
    methods_at = next((i for i, l in enumerate(lines) if l.strip() == "Methods"), 0)
    first_block = len(lines)
    for i in headers:
        j = _next_nonblank(lines, i)
        while j < len(lines) and j not in header_set and not _is_marker(lines[j]):
            j = _next_nonblank(lines, j)
        if j < len(lines) and _is_marker(lines[j]):
            m = _HEADER_RE.match(lines[i].strip())
            starts.append((i, i + 1, m.group(1), m.group(2)))
            first_block = min(first_block, i)
    # Headerless blocks: a Parameters marker met after the previous block
    # already had its markers starts a new block at the summary line just
    # before it (the reference lost the header line).
    starts.sort()
    header_starts = [s[0] for s in starts]
    for i, line in enumerate(lines):
        if line.strip() not in _PARAMS_MARK or i < first_block:
            continue
        before = [s for s in header_starts if s < i]
        if not before:
            continue
        between = lines[before[-1] + 1: i]
        if any(_is_marker(l) for l in between):
            p = _prev_nonblank(lines, i)
            starts.append((p, p, None, None))
    starts.sort()

    listing = _summary_list(lines[methods_at + 1: first_block], layout)
    res = ResourceDoc(name=attr, class_name=class_name, source_file=source)
    for n, (start, body_at, name, sig) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        block = lines[body_at:end]
        # summary lines: up to the first marker
        cut = next((k for k, l in enumerate(block) if _is_marker(l)), len(block))
        summary_lines, body = block[:cut], block[cut:]
        if name is None:
            summary_lines = [lines[start]]
            name = _match_listing(listing, lines[start].strip(), res.methods)
            if name is None:
                continue
        method = _parse_block(name, sig, summary_lines, body, style, layout, hints, attr)
        if name not in res.methods:
            res.methods[name] = method
    return res


def _match_listing(listing, summary: str, taken: dict) -> str | None:
    for name, _, text in listing:
        if name and text == summary and name not in taken:
            return name
    return None


def _sections(lines: list[str]) -> list[tuple[int, int, str]]:
    """``(start, end, class name)`` of every resource section."""
    found = []
    for i, line in enumerate(lines):
        m = _CLASS_RE.match(line.strip())
        if m:
            title = _prev_nonblank(lines, i)
            found.append((max(title, 0), m.group(1)))
    out = []
    for n, (start, cls) in enumerate(found):
        end = found[n + 1][0] if n + 1 < len(found) else len(lines)
        out.append((start, end, cls))
    return out


# --------------------------------------------------------------------------
# Shapes (nesting knowledge for the flat layout)
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _sibling_hints(folder: str, exclude: str) -> _Hints:
    resources: list[ResourceDoc] = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry == exclude or not entry.endswith(".txt") or entry[:3] not in _DEFAULT_NAMES:
            continue
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        if _layout(lines) == "dash":
            continue
        resources += _parse_lines(lines, entry, _Hints())
    return _Hints.from_resources(resources)


_DEFAULT_NAMES = ("000", "001", "002", "003")


def _parse_lines(lines: list[str], source: str, hints: _Hints) -> list[ResourceDoc]:
    layout = _layout(lines)
    style = "old" if layout == "old" else "current"
    out = []
    for start, end, cls in _sections(lines):
        out.append(_parse_section(lines[start:end], cls, source, style, layout, hints))
    return out


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def parse_reference(path, context: Iterable[ResourceDoc] | None = None) -> list[ResourceDoc]:
    """Parse one reference text file.

    Parameters
    ----------
    path : str or os.PathLike
        A reference file (any of the three layouts).
    context : iterable of ResourceDoc, optional
        Resources parsed from indented files, used to rebuild the nesting
        the flat dash layout (file ``002``) loses. By default the indented
        reference files beside ``path`` (``000``, ``001``, ``003``) are read
        for it when ``path`` has the flat layout.

    Returns
    -------
    list of ResourceDoc
        The resource sections in file order.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if context is not None:
        hints = _Hints.from_resources(context)
    elif _layout(lines) == "dash":
        hints = _sibling_hints(str(path.parent.resolve()), path.name)
    else:
        hints = _Hints()
    return _parse_lines(lines, path.name, hints)


def parse_reference_dir(folder, names=_DEFAULT_NAMES) -> dict[str, ResourceDoc]:
    """Parse the reference files of a folder and merge them by resource.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding ``000_*.txt`` ... ``003_*.txt``.
    names : tuple of str
        File-name prefixes to read.

    Returns
    -------
    dict of str to ResourceDoc
        Keyed by the lower-case resource attribute name (``"jobs"``,
        ``"git_repos"``), sorted by name. A resource documented in a
        current-style file (``000``, ``002``, ``003``) replaces the old-style
        (``001``) section of the same name.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*.txt") if p.name[:3] in names)
    parsed: list[tuple[int, ResourceDoc]] = []
    indented: list[ResourceDoc] = []
    flat: list[tuple[Path, list[str]]] = []
    for p in files:
        with open(p, encoding="utf-8") as f:
            lines = f.read().splitlines()
        if _layout(lines) == "dash":
            flat.append((p, lines))
            continue
        docs = _parse_lines(lines, p.name, _Hints())
        indented += docs
        rank = 0 if _layout(lines) == "old" else 1
        parsed += [(rank, d) for d in docs]
    hints = _Hints.from_resources(indented)
    for p, lines in flat:
        parsed += [(1, d) for d in _parse_lines(lines, p.name, hints)]
    out: dict[str, tuple[int, ResourceDoc]] = {}
    for rank, doc in parsed:
        if doc.name not in out or rank > out[doc.name][0]:
            out[doc.name] = (rank, doc)
    return {k: out[k][1] for k in sorted(out)}
