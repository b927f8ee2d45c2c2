"""Conveniences over any resource: find by name, create-or-update, export/import, housekeeping.

They work from the schema alone, so they apply to every resource that follows
the API's conventions, and they are offered as methods of the resources that
have the API methods they need (an API method of the same name always wins)::

    client.projects.get_id("Q3 planning")
    client.projects.create_or_update("Q3 planning", description="…")
    client.scripts.export_definition(42, "etl.json", kind="python3")
    response, dropped = client.scripts.import_definition("etl.json", name="ETL copy")
    client.jobs.count_runs_by_state(42)
    client.jobs.cancel_runs(42, created_before="2024-06-01", dry_run=True)
    client.projects.archive_stale(not_updated_since="2023-01-01", dry_run=True)

Each is also a function of this module taking the resource first
(``conveniences.get_id(client.projects, "Q3 planning")``), which is how a
loop over resource names calls them (``getattr(client, name)``), and how to
reach a resource whose only create or read methods belong to a kind
(``conveniences.import_definition(client.exports, path, kind="files_csv")``):
the methods appear on a resource when it has the plain ``get``, ``post``,
``list``… (or, for runs and archiving, those of some kind). On the command
line: ``civis-dyn <resource> find NAME``, ``export ID PATH``, ``import PATH``.

========================  ====================================================
method                    API methods it calls
========================  ====================================================
``find_by_name``          ``list`` (``list_<kind>`` when the resource has one)
``get_id``                same
``create_or_update``      the above, then ``patch`` (``put`` without one) or ``post``
``export_definition``     ``get``
``import_definition``     ``post``
``count_runs_by_state``   the run model's list (``list_runs``, ``list_executions``…)
``cancel_runs``           its list and cancel (``delete_runs``,
                          ``post_executions_cancel``…)
``archive_stale``         ``list`` and ``put_archive``
========================  ====================================================

Kinds
-----
Some resources hold sub-collections with methods of their own
(``scripts.post_python3``, ``scripts.get_python3``, ``scripts.list_python3_runs``).
``kind="python3"`` makes a convenience call ``<verb>_python3<rest>`` where it
would call ``<verb><rest>``. Finding by name uses ``list_<kind>`` when the
resource has one, else the resource's own ``list`` (script ids are shared by
every kind of script; pass a filter such as ``type="python3"`` to narrow it).

Return values are :class:`~civis_dyn.Response` objects whatever the client's
``return_type``.

On an :class:`~civis_dyn.AsyncAPIClient` every one is a coroutine
(``await async_client.projects.get_id("Q3 planning")``) with the same
arguments, requests, results and errors: each is written once, as steps
(:mod:`civis_dyn._effects`) that the blocking client runs and the async
client awaits (the definition file of ``export_definition`` and ``import_definition`` is
written and read in the event loop's thread: it is small).
"""

import datetime
import difflib
import json
import logging
import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from ._effects import Call, Collect, perform
from ._files import write_atomically
from ._errors import (
    AmbiguousNameError,
    ArgumentTypeError,
    ArgumentValueError,
    CivisAPIError,
    CivisAPIKeyError,
    InvalidResponseError,
    NotFoundError,
)
from ._resources import Resource, client_of, name_of, suggest
from ._response import Response
from .spec._naming import camel_to_snake
from .spec._runs import ACTIVE_STATES, run_kinds

__all__ = [
    "ACTIVE_RUN_STATES",
    "DEFINITION_FORMAT",
    "DroppedField",
    "HousekeepingReport",
    "ImportResult",
    "archive_stale",
    "cancel_runs",
    "count_runs_by_state",
    "create_or_update",
    "export_definition",
    "find_by_name",
    "get_id",
    "import_definition",
]

log = logging.getLogger("civis_dyn.conveniences")

#: The ``format`` marker of files written by :func:`export_definition`.
DEFINITION_FORMAT = "civis_dyn.definition/1"

#: Run states that :func:`cancel_runs` cancels unless told otherwise.
ACTIVE_RUN_STATES = ACTIVE_STATES

_KIND = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_LIMIT_MAX = re.compile(r"[Mm]aximum (?:allowed )?(?:is |of )?(\d+)")
_CANDIDATES_SHOWN = 10


# -- the call context ------------------------------------------------------------
class _Call:
    """The resource, client and schema behind one convenience call, and its label.

    ``label`` (``"scripts.cancel_runs()"``) starts every error message.
    """

    def __init__(self, resource, function, kind=None):
        if not isinstance(resource, Resource):
            raise ArgumentTypeError(f"civis_dyn.conveniences.{function}() takes a resource such as "
                                    f"client.projects first, not {type(resource).__name__}")
        self.resource = resource
        self.name = name_of(resource)
        self.client = client_of(resource)
        self.spec = self.client.meta.spec
        self.methods = self.spec.index.get(self.name, {})
        self.label = f"{self.name}.{function}()"
        if kind is not None and (not isinstance(kind, str) or not _KIND.fullmatch(kind)):
            raise ArgumentValueError(f"{self.label} argument 'kind' must be a snake_case name "
                                     f"such as 'python3'; got {kind!r}")
        self.kind = kind

    def method_name(self, verb, rest=""):
        """``verb[_kind]rest``: ``("list", "_runs")`` -> ``list_python3_runs``."""
        return verb + (f"_{self.kind}" if self.kind else "") + rest

    def has(self, name, path_params):
        """True when the resource has method ``name`` taking ``path_params`` path parameters."""
        entry = self.methods.get(name)
        return entry is not None and entry[1].count("{") == path_params

    def require(self, verb, rest="", *, path_params, purpose):
        """Return ``verb[_kind]rest`` if the resource has it, else raise naming the kinds that do."""
        name = self.method_name(verb, rest)
        if self.has(name, path_params):
            return name
        pattern = re.compile(re.escape(verb) + r"_(.+)" + re.escape(rest) + "$")
        kinds = sorted({m.group(1) for m in map(pattern.match, self.methods)
                        if m and self.has(m.group(0), path_params)
                        and not self.methods[m.group(0)][2]})
        hint = ""
        if kinds:
            hint = f"; kinds that have one: {', '.join(map(repr, kinds))} (pass kind=...)"
        raise ArgumentValueError(f"{self.label}: the {self.name!r} resource has no method "
                                 f"{name!r} to {purpose}{hint}")

    def list_method(self, purpose):
        """``list_<kind>`` if the resource has it, else its ``list``."""
        if self.kind and self.has(self.method_name("list"), 0):
            return self.method_name("list")
        if self.has("list", 0):
            return "list"
        raise ArgumentValueError(f"{self.label}: the {self.name!r} resource has no 'list' "
                                 f"method to {purpose}")

    def operation(self, name):
        return self.spec.operation(self.name, name)

    def call(self, method, /, *args, **kwargs):
        """The effect of calling API method ``method`` (a name, or ``(resource, name)``).

        ``yield`` it to get a Response whatever the return type.
        """
        resource, method = (self.name, method) if isinstance(method, str) else method
        return Call(self.client.meta.call, resource, method, *args, **kwargs)

    def items(self, method, /, *args, **query):
        """Steps: every item of list method ``method`` (all pages of a paginated one)."""
        op = self.operation(method)
        if op.paginated:
            if "limit" not in query:
                limit = _page_size(op)
                if limit is not None:
                    query["limit"] = limit
            return (yield Collect(getattr(self.resource, method), *args, iterator=True, **query))
        result = yield self.call(method, *args, **query)
        if result is None:
            return []
        if not isinstance(result, list):
            raise InvalidResponseError(200, f"{self.name}.{method}() returned an object where "
                                       f"{self.label} needs a list", None, "GET", op.path)
        return list(result)


def _perform(resource, steps):
    """Run a convenience's steps: its result, or a coroutine on the async client."""
    return perform(getattr(resource, "_client", None), steps)


def _page_size(op):
    """The largest page the schema allows for ``op``'s ``limit``, if it says."""
    for param in op.parameters:
        if param.wire_name == "limit" and param.location == "query":
            found = _LIMIT_MAX.search(param.description or "")
            return int(found.group(1)) if found else None
    return None


def _field(item, key):
    return item.get(key) if hasattr(item, "get") else None


def _show(candidates):
    shown = ", ".join(f"{name!r} (id {id_})" for id_, name in candidates[:_CANDIDATES_SHOWN])
    more = len(candidates) - _CANDIDATES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


# -- find by name ----------------------------------------------------------------
def find_by_name(resource, name, *, kind=None, **filters):
    """Return the single object of the resource called ``name``.

    Uses the list method's server-side ``name`` (or ``q``) filter when the
    schema has one, else pages through the whole list; then keeps the items
    whose ``name`` equals ``name`` exactly (case included).

    Parameters
    ----------
    resource : Resource
        e.g. ``client.projects`` (given implicitly by the method form).
    name : str
        The exact name.
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``): see the module notes.
    **filters
        More query parameters of the list method (``author=``, ``type=``,
        ``archived="all"`` to include archived objects, which lists leave out).

    Returns
    -------
    Response
        The list item (a summary: call ``get`` for every field).

    Raises
    ------
    NotFoundError
        When no object has that name; lists objects with close names.
    AmbiguousNameError
        When several do; lists their ids and names.
    """
    return _perform(resource, _find_by_name_steps(resource, name, kind, filters))


def _find_by_name_steps(resource, name, kind, filters):
    call = _Call(resource, "find_by_name", kind)
    return (yield from _find(call, name, filters))


def get_id(resource, name, *, kind=None, **filters):
    """Return the id of the single object of the resource called ``name``.

    Same search and errors as :func:`find_by_name`.

    Returns
    -------
    int
    """
    return _perform(resource, _get_id_steps(resource, name, kind, filters))


def _get_id_steps(resource, name, kind, filters):
    call = _Call(resource, "get_id", kind)
    return _field((yield from _find(call, name, filters)), "id")


def _find(call, name, filters):
    if not isinstance(name, str) or not name:
        raise ArgumentTypeError(f"{call.label} argument 'name' must be a non-empty str, "
                                f"not {name!r}")
    list_name = call.list_method("search by name")
    op = call.operation(list_name)
    query = dict(filters)
    by_wire = {p.wire_name: p.name for p in op.parameters if p.location == "query"}
    for wire in ("name", "q"):
        if wire in by_wire:
            query.setdefault(by_wire[wire], name)
            break
    matches, others = [], []
    for item in (yield from call.items(list_name, **query)):
        item_name = _field(item, "name")
        if item_name == name:
            matches.append(item)
        elif isinstance(item_name, str):
            others.append((_field(item, "id"), item_name))
    if len(matches) == 1:
        return matches[0]
    what = call.name + (f" ({call.kind})" if call.kind else "")
    if not matches:
        close = [c for c in others if c[1].casefold() == name.casefold()]
        near = set(difflib.get_close_matches(name, [n for _, n in others], n=5, cutoff=0.6))
        close += [c for c in others if c[1] in near and c not in close]
        where = f" with {_describe_query(query)}" if query else ""
        message = f"{call.label}: no {what} object is named {name!r} ({list_name}{where})"
        if close:
            message += f". Close names: {_show(close)}"
        raise NotFoundError(message, call.name, name, close)
    found = [(_field(m, "id"), name) for m in matches]
    ids = ", ".join(str(i) for i, _ in found[:_CANDIDATES_SHOWN])
    more = len(found) - _CANDIDATES_SHOWN
    raise AmbiguousNameError(
        f"{call.label}: {len(found)} {what} objects are named {name!r} (ids {ids}"
        f"{f' and {more} more' if more > 0 else ''}); narrow the search with filters such as "
        f"author=... or use an id", call.name, name, found)


def _describe_query(query):
    return ", ".join(f"{k}={v!r}" for k, v in query.items() if k != "limit")


# -- create or update ------------------------------------------------------------
def create_or_update(resource, name, *, kind=None, find_filters=None, **fields):
    """Update the object called ``name`` with ``fields``, or create it.

    Finds the object as :func:`find_by_name` does; when there is one, sends
    ``fields`` with ``patch`` (or, for resources without ``patch``, with
    ``put``, which replaces the object: give every field it requires); when
    there is none, ``post``\\ s ``name`` and ``fields``.

    Parameters
    ----------
    name : str
        The exact name.
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``).
    find_filters : dict, optional
        Query parameters narrowing the search (``{"type": "python3"}``).
    **fields
        The object's fields, as the ``post``/``patch`` methods name them.

    Returns
    -------
    Response
        What ``post``, ``patch`` or ``put`` returned.

    Raises
    ------
    AmbiguousNameError
        When several objects have that name (nothing is changed).
    """
    return _perform(resource, _create_or_update_steps(resource, name, kind, find_filters, fields))


def _create_or_update_steps(resource, name, kind, find_filters, fields):
    call = _Call(resource, "create_or_update", kind)
    post = call.require("post", path_params=0, purpose="create objects")
    update = None
    for verb in ("patch", "put"):
        if call.has(call.method_name(verb), 1):
            update = call.method_name(verb)
            break
    if update is None:
        raise ArgumentValueError(f"{call.label}: the {call.name!r} resource has no "
                                 f"{call.method_name('patch')!r} or {call.method_name('put')!r} "
                                 f"method to update objects")
    if "name" not in {p.name for p in call.operation(post).parameters}:
        raise ArgumentValueError(f"{call.label}: {call.name}.{post}() takes no 'name', so objects "
                                 f"of {call.name!r} cannot be matched by name")
    if find_filters is not None and not isinstance(find_filters, dict):
        raise ArgumentTypeError(f"{call.label} argument 'find_filters' must be a dict, "
                                f"not {type(find_filters).__name__}")
    try:
        existing = yield from _find(call, name, find_filters or {})
    except NotFoundError:
        log.info("%s: creating %r", call.label, name)
        return (yield call.call(post, name=name, **fields))
    object_id = _field(existing, "id")
    log.info("%s: updating %r (id %s) with %s", call.label, name, object_id, update)
    if update.startswith("put"):
        return (yield call.call(update, object_id, name=name, **fields))
    return (yield call.call(update, object_id, **fields))


# -- export / import -------------------------------------------------------------
class DroppedField(NamedTuple):
    """A field of an imported definition that was not sent, and why.

    Attributes
    ----------
    field : str
        A dotted path; ``[]`` stands for every item of a list (``params[].value``).
    reason : str
        Why, in words.
    category : str
        ``"read_only"``: the API returns the field but ``post`` does not
        accept it (``id``, ``created_at``, ``author``…); ``"unknown"``:
        neither ``post`` nor ``get`` has it; ``"null"``: its value is null,
        which for a new object means the same as leaving it out.
    """

    field: str
    reason: str
    category: str


class ImportResult:
    """What :func:`import_definition` did.

    Unpacks as ``response, dropped = result``.

    Attributes
    ----------
    response : Response or None
        What ``post`` returned (None for a dry run).
    dropped : list of DroppedField
        The fields not sent, and why.
    fields : dict
        The arguments given (or, for a dry run, that would be given) to
        ``post``, with snake_case keys (the contents of free-form objects
        such as ``arguments`` as in the file).
    """

    __slots__ = ("response", "dropped", "fields")

    def __init__(self, response, dropped, fields):
        self.response = response
        self.dropped = list(dropped)
        self.fields = fields

    def __iter__(self):
        return iter((self.response, self.dropped))

    def __repr__(self):
        created = "dry run" if self.response is None else f"id={_field(self.response, 'id')!r}"
        return (f"<ImportResult {created}, {len(self.fields)} field(s) sent, "
                f"{len(self.dropped)} dropped>")


def export_definition(resource, id, path, *, kind=None, wire_case=False):
    """Write an object's definition to a JSON file (atomically).

    The file holds the ``get`` response and where it came from::

        {"format": "civis_dyn.definition/1", "resource": "scripts", "kind": "python3",
         "id": 42, "case": "snake", "exported_at": "2024-06-01T12:00:00+00:00",
         "definition": {...}}

    Parameters
    ----------
    id : int
        The object's id.
    path : str or PathLike
        The file to write (replaced if it exists), or an existing directory,
        in which ``<resource>[-<kind>]-<id>.json`` is written.
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``).
    wire_case : bool, optional
        False (default): snake_case keys, as ``Response`` shows them (the
        values of ``arguments`` and ``environment_variables`` keep their case).
        True: the keys exactly as the API sent them (camelCase).

    Returns
    -------
    pathlib.Path
        The file written. It is written to a temporary file in the same
        directory, then renamed: readers never see half a file.
    """
    return _perform(resource, _export_definition_steps(resource, id, path, kind, wire_case))


def _export_definition_steps(resource, id, path, kind, wire_case):  # noqa: A002
    call = _Call(resource, "export_definition", kind)
    get = call.require("get", path_params=1, purpose="read objects")
    target = Path(path)
    if target.is_dir():
        target = target / f"{call.name}{f'-{call.kind}' if call.kind else ''}-{id}.json"
    obj = yield call.call(get, id)
    if not isinstance(obj, Response):
        raise InvalidResponseError(200, f"{call.name}.{get}() returned no object", None, "GET",
                                   call.operation(get).path)
    document = {
        "format": DEFINITION_FORMAT,
        "resource": call.name,
        "kind": call.kind,
        "id": _field(obj, "id") if _field(obj, "id") is not None else id,
        "case": "wire" if wire_case else "snake",
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "definition": obj.json(snake_case=not wire_case),
    }
    _write_json_atomically(target, document)
    log.info("%s: wrote %s %s to %s", call.label, call.name, id, target)
    return target


def _write_json_atomically(path, document):
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text.encode("utf-8"), mode=0o644)


def import_definition(resource, path, *, kind=None, dry_run=False, **overrides):
    """Create an object from a definition file, sending only what ``post`` accepts.

    Reads a file written by :func:`export_definition` (or a plain JSON object
    of fields, in snake_case or the API's case), keeps the fields that the
    resource's ``post`` accepts — at every level: nested objects and the
    objects inside lists are filtered against their own schemas — and posts
    them. Null fields are not sent either (for a new object null and absent
    mean the same); every field left out is reported.

    Parameters
    ----------
    path : str or PathLike
        The definition file.
    kind : str, optional
        A sub-collection; default: the one recorded in the file.
    dry_run : bool, optional
        Only work out what would be sent and dropped; post nothing.
    **overrides
        Fields to set instead of the file's (``name="Copy of ETL"``); each
        must be a field ``post`` accepts. Give here what ``get`` never
        returns but ``post`` requires (a credential's ``password``); None
        removes a field.

    Returns
    -------
    ImportResult
        Unpacks as ``(response, dropped)``; ``dropped`` lists
        :class:`DroppedField` entries (field path and reason).

    Raises
    ------
    ArgumentValueError
        When the file is not a JSON object, or was exported from another
        resource or kind.
    """
    return _perform(resource, _import_definition_steps(resource, path, kind, dry_run, overrides))


def _import_definition_steps(resource, path, kind, dry_run, overrides):
    call = _Call(resource, "import_definition", kind)
    definition, meta = _read_definition(path, call.label)
    if meta is not None:
        if meta.get("resource") != call.name:
            raise ArgumentValueError(f"{call.label}: {path} holds a {meta.get('resource')!r} "
                                     f"definition; import it with "
                                     f"client.{meta.get('resource')}.import_definition()")
        file_kind = meta.get("kind")
        if kind is None and file_kind is not None:
            call = _Call(resource, "import_definition", file_kind)
        elif kind is not None and file_kind is not None and kind != file_kind:
            raise ArgumentValueError(f"{call.label}: {path} holds a {file_kind!r} definition, "
                                     f"not {kind!r}")
    post = call.require("post", path_params=0, purpose="create objects")
    op = call.operation(post)
    get = call.method_name("get")
    get_schema = call.operation(get).response[2] if call.has(get, 1) else None
    fields, dropped = _fields_for_post(call, op, get, definition, get_schema)
    accepted = {p.name: p for p in op.parameters if p.location == "body"}
    by_wire = {p.wire_name: p.name for p in accepted.values()}
    for key, value in overrides.items():
        name = key if key in accepted else by_wire.get(key)
        if name is None:
            raise ArgumentTypeError(f"{call.label} got an unexpected keyword argument {key!r}: "
                                    f"{call.name}.{post}() does not accept it.{suggest(key, accepted)}")
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    if dry_run:
        log.info("%s: dry run: would post %d field(s), dropped %d", call.label, len(fields),
                 len(dropped))
        return ImportResult(None, dropped, fields)
    response = yield call.call(post, **fields)
    log.info("%s: created id %s from %s", call.label, _field(response, "id"), path)
    return ImportResult(response, dropped, fields)


def _read_definition(path, label):
    """Return ``(definition, meta)``; ``meta`` is None for a plain JSON object."""
    with open(path, encoding="utf-8") as stream:
        try:
            document = json.load(stream)
        except ValueError as exc:
            raise ArgumentValueError(f"{label}: {path} is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ArgumentValueError(f"{label}: {path} must hold a JSON object, "
                                 f"not {type(document).__name__}")
    if document.get("format") == DEFINITION_FORMAT:
        definition = document.get("definition")
        if not isinstance(definition, dict):
            raise ArgumentValueError(f"{label}: {path} has no 'definition' object")
        return definition, document
    return document, None


def _properties(spec, schema, where):
    """The resolved ``properties`` of an object schema (or of a list's items), else None."""
    if not isinstance(schema, dict):
        return None
    schema = spec.resolve(schema, where)
    if schema.get("type") == "array":
        return None
    properties = schema.get("properties")
    return properties if isinstance(properties, dict) and properties else None


def _fields_for_post(call, op, get_name, definition, get_schema):
    """Split a definition into the ``post`` arguments and the dropped fields."""
    spec = call.spec
    post_label = f"{call.name}.{op.name}()"
    reasons = {
        "read_only": f"read-only: {call.name}.{get_name}() returns it but {post_label} "
                     f"does not accept it",
        "unknown": f"unknown: {post_label} does not accept it and the schema does not "
                   f"describe it",
        "schema_read_only": "read-only: the schema marks it readOnly",
        "null": "null: not sent (the API's default applies)",
    }
    params = {p.wire_name: p for p in op.parameters if p.location == "body"}
    by_snake = {p.name: p for p in params.values()}
    get_properties = _properties(spec, get_schema, f"{op.location}.get") or {}
    dropped, fields = [], {}
    for key, value in definition.items():
        param = params.get(key) or by_snake.get(key)
        if param is None:
            known = key in get_properties or key in {camel_to_snake(k) for k in get_properties}
            _drop(dropped, key, reasons, "read_only" if known else "unknown")
            continue
        if param.schema.get("readOnly"):
            _drop(dropped, key, reasons, "schema_read_only")
            continue
        if value is None:
            _drop(dropped, key, reasons, "null")
            continue
        get_prop = _get_property(get_properties, param.wire_name)
        fields[param.name] = _filter_value(spec, value, param.schema, get_prop, key, reasons,
                                           dropped)
    unique = list(dict.fromkeys(dropped))  # the items of a list report each field once
    return fields, unique


def _drop(dropped, field, reasons, why):
    category = "read_only" if why == "schema_read_only" else why
    dropped.append(DroppedField(field, reasons[why], category))


def _get_property(properties, wire):
    if wire in properties:
        return properties[wire]
    for key, value in properties.items():
        if camel_to_snake(key) == camel_to_snake(wire):
            return value
    return None


def _filter_value(spec, value, schema, get_schema, where, reasons, dropped):
    schema = spec.resolve(schema, where)
    if get_schema is not None:
        get_schema = spec.resolve(get_schema, where)
    if isinstance(value, list) and schema.get("type") == "array":
        items = schema.get("items") or {}
        get_items = (get_schema or {}).get("items") if (get_schema or {}).get("type") == "array" \
            else None
        return [_filter_value(spec, v, items, get_items, f"{where}[]", reasons, dropped)
                for v in value]
    properties = _properties(spec, schema, where)
    if not isinstance(value, dict) or properties is None:
        return value  # a scalar, or a free-form object (arguments): sent as given
    get_properties = _properties(spec, get_schema, where) or {}
    by_snake = {camel_to_snake(k): k for k in properties}
    out = {}
    for key, item in value.items():
        field = f"{where}.{key}"
        wire = key if key in properties else by_snake.get(key)
        if wire is None:
            known = _get_property(get_properties, key) is not None
            _drop(dropped, field, reasons, "read_only" if known else "unknown")
            continue
        prop = spec.resolve(properties[wire], field)
        if prop.get("readOnly"):
            _drop(dropped, field, reasons, "schema_read_only")
            continue
        if item is None:
            _drop(dropped, field, reasons, "null")
            continue
        get_prop = _get_property(get_properties, wire)
        out[camel_to_snake(wire)] = _filter_value(spec, item, prop, get_prop, field, reasons,
                                                  dropped)
    return out


# -- housekeeping ----------------------------------------------------------------
class HousekeepingReport:
    """What a housekeeping call selected and did.

    Attributes
    ----------
    action : str
        ``"cancel"`` or ``"archive"``.
    target : str
        What was looked at (``"jobs 42 runs"``, ``"projects"``).
    dry_run : bool
        True when nothing was changed.
    selected : list of dict
        The objects chosen: ``id`` and the fields the choice rests on
        (``state`` and ``created_at``, or ``name`` and ``updated_at``).
    failed : dict
        ``{id: error message}`` for the objects the API refused to change
        (e.g. a run that finished meanwhile); the others were still done.
    """

    __slots__ = ("action", "target", "dry_run", "selected", "failed")

    def __init__(self, action, target, dry_run, selected=(), failed=None):
        self.action = action
        self.target = target
        self.dry_run = dry_run
        self.selected = list(selected)
        self.failed = dict(failed or {})

    @property
    def done(self):
        """Ids of the objects changed (none on a dry run)."""
        if self.dry_run:
            return []
        return [s["id"] for s in self.selected if s["id"] not in self.failed]

    @property
    def ok(self):
        """True when nothing failed."""
        return not self.failed

    def as_dict(self):
        """A JSON-ready dict (for command lines and logs)."""
        return {"action": self.action, "target": self.target, "dry_run": self.dry_run,
                "selected": self.selected, "done": self.done,
                "failed": {str(k): v for k, v in self.failed.items()}}

    def __str__(self):
        ids = ", ".join(str(s["id"]) for s in self.selected) or "nothing"
        if self.dry_run:
            return f"dry run: would {self.action} {len(self.selected)} of {self.target}: {ids}"
        text = f"{self.action}: {len(self.done)} of {len(self.selected)} selected of {self.target}"
        if self.failed:
            text += "; failed: " + "; ".join(f"{k}: {v}" for k, v in self.failed.items())
        return text

    def __repr__(self):
        return (f"<HousekeepingReport {self.action} {self.target!r} dry_run={self.dry_run} "
                f"selected={len(self.selected)} failed={len(self.failed)}>")


def _as_datetime(value, label, argument):
    """An aware datetime from a datetime, a date or an ISO 8601 string (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ArgumentValueError(f"{label} argument {argument!r} must be an ISO 8601 date "
                                     f"or time such as '2024-06-01T00:00:00Z'; got "
                                     f"{value!r}") from None
    elif isinstance(value, datetime.datetime):
        pass
    elif isinstance(value, datetime.date):
        value = datetime.datetime(value.year, value.month, value.day)
    else:
        raise ArgumentTypeError(f"{label} argument {argument!r} must be a datetime, a date or an "
                                f"ISO 8601 str, not {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def _timestamp(text):
    """The API's timestamp as an aware datetime, or None when missing or unreadable."""
    if not isinstance(text, str):
        return None
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _run_methods(call, *, cancel):
    """``(list method, cancel endpoint or None)`` of the resource's runs (of ``call.kind``)."""
    roles = ("list", "cancel") if cancel else ("list",)
    kind = run_kinds(call.spec, call.name).get(call.kind)
    if kind is not None and kind.has(*roles):
        return kind.list.method, kind.cancel
    missing = "delete" if kind is not None and kind.list is not None else "list"
    purpose = "cancel runs" if missing == "delete" else "list runs"
    usable = sorted(repr(k) for k, v in run_kinds(call.spec, call.name).items()
                    if k is not None and v.has(*roles))
    hint = f"; kinds that have one: {', '.join(usable)} (pass kind=...)" if usable else ""
    raise ArgumentValueError(f"{call.label}: the {call.name!r} resource has no method "
                             f"{call.method_name(missing, '_runs')!r} to {purpose}{hint}")


def count_runs_by_state(resource, id, *, kind=None, created_before=None):
    """Count a job's runs by state.

    Parameters
    ----------
    id : int
        The job (script, import, workflow, …).
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``).
    created_before : datetime, date or str, optional
        Count only the runs created before this time (ISO 8601 text; a time
        without a zone is UTC).

    Returns
    -------
    collections.Counter
        ``{state: number of runs}``; a state with no run counts 0, and
        ``sum(counts.values())`` is the total.
    """
    return _perform(resource, _count_runs_by_state_steps(resource, id, kind, created_before))


def _count_runs_by_state_steps(resource, id, kind, created_before):  # noqa: A002
    call = _Call(resource, "count_runs_by_state", kind)
    before = None if created_before is None else _as_datetime(created_before, call.label,
                                                              "created_before")
    list_name, _ = _run_methods(call, cancel=False)
    counts = Counter()
    for run in (yield from call.items(list_name, id)):
        if before is not None:
            created = _timestamp(_field(run, "created_at"))
            if created is None or created >= before:
                continue
        counts[_field(run, "state")] += 1
    return counts


def cancel_runs(resource, id, *, created_before, kind=None, states=ACTIVE_RUN_STATES,
                dry_run=False):
    """Cancel a job's runs that are still queued or running and were created before a time.

    Every run is listed first, then the selected ones are cancelled one by
    one; a run the API refuses to cancel (it finished meanwhile, …) is
    recorded in the report's ``failed`` and the others are still cancelled.

    Parameters
    ----------
    id : int
        The job (script, import, workflow, …).
    created_before : datetime, date or str
        Only runs created before this time (ISO 8601 text; a time without a
        zone is UTC).
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``).
    states : iterable of str, optional
        The states to cancel (default ``("queued", "running")``).
    dry_run : bool, optional
        Only report what would be cancelled.

    Returns
    -------
    HousekeepingReport
    """
    return _perform(resource, _cancel_runs_steps(resource, id, created_before, kind, states,
                                                 dry_run))


def _cancel_runs_steps(resource, id, created_before, kind, states, dry_run):  # noqa: A002
    call = _Call(resource, "cancel_runs", kind)
    before = _as_datetime(created_before, call.label, "created_before")
    if isinstance(states, str):
        states = (states,)
    try:
        states = frozenset(states)
    except TypeError:
        states = None
    if not states or not all(isinstance(state, str) for state in states):
        raise ArgumentTypeError(f"{call.label} argument 'states' must be a non-empty list of "
                                f"run states such as ('queued', 'running')")
    list_name, cancel = _run_methods(call, cancel=True)
    selected = []
    for run in (yield from call.items(list_name, id)):
        created = _timestamp(_field(run, "created_at"))
        if _field(run, "state") in states and created is not None and created < before:
            selected.append({"id": _field(run, "id"), "state": _field(run, "state"),
                             "created_at": _field(run, "created_at")})
    report = HousekeepingReport("cancel", f"{call.name} {id} runs", dry_run, selected)
    if not dry_run:
        for run in selected:
            yield from _act(call, report, run["id"], cancel, id, run["id"])
    log.info("%s: %s", call.label, report)
    return report


def archive_stale(resource, *, not_updated_since, kind=None, dry_run=False, **filters):
    """Archive the objects of a resource not updated since a time.

    Lists the resource's objects that are not archived (all pages), selects
    those whose ``updated_at`` is before ``not_updated_since``, then archives
    them one by one; one the API refuses to archive is recorded in the
    report's ``failed`` and the others are still archived.

    Parameters
    ----------
    not_updated_since : datetime, date or str
        ISO 8601 text accepted; a time without a zone is UTC.
    kind : str, optional
        A sub-collection (``"python3"`` for ``scripts``); when it has no list
        of its own, narrow the resource's list with a filter (``type=...``).
    dry_run : bool, optional
        Only report what would be archived.
    **filters
        More query parameters of the list method (``author=``, …).

    Returns
    -------
    HousekeepingReport
    """
    return _perform(resource, _archive_stale_steps(resource, not_updated_since, kind, dry_run,
                                                   filters))


def _archive_stale_steps(resource, not_updated_since, kind, dry_run, filters):
    call = _Call(resource, "archive_stale", kind)
    since = _as_datetime(not_updated_since, call.label, "not_updated_since")
    archive = call.require("put", "_archive", path_params=1, purpose="archive objects")
    list_name = call.list_method("find stale objects")
    query = dict(filters)
    if "archived" in {p.name for p in call.operation(list_name).parameters}:
        query.setdefault("archived", "false")
    selected = []
    for item in (yield from call.items(list_name, **query)):
        if _field(item, "archived") is True:
            continue
        updated = _timestamp(_field(item, "updated_at"))
        if updated is not None and updated < since:
            selected.append({"id": _field(item, "id"), "name": _field(item, "name"),
                             "updated_at": _field(item, "updated_at")})
    report = HousekeepingReport("archive", call.name + (f" ({call.kind})" if call.kind else ""),
                                dry_run, selected)
    if not dry_run:
        for item in selected:
            yield from _act(call, report, item["id"], archive, item["id"], status=True)
    log.info("%s: %s", call.label, report)
    return report


def _act(call, report, key, method, /, *args, **kwargs):
    """Call one changing method; an API refusal goes into the report, a bad key is raised."""
    try:
        yield call.call(method, *args, **kwargs)
    except CivisAPIKeyError:
        raise
    except CivisAPIError as exc:
        log.warning("%s: %s %s failed: %s", call.label, report.action, key, exc)
        report.failed[key] = str(exc)
