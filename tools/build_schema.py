"""Build ``schemas/civis_api_spec.json`` from the published API reference.

Usage::

    python tools/build_schema.py [--reference DIR] [--output PATH] [--check]
    python tools/build_schema.py --check-fidelity REAL_SPEC.json

The reference texts ``000`` ... ``003`` (default ``../shared/reference``
beside the checkout) are parsed by :mod:`reference_parser` and turned into a
Swagger 2.0 schema with one operation per documented method. The HTTP verb
and path are derived by inverting the client's naming rules (resource = first
path segment; method name = verb + the non-parameter segments; ``GET`` on a
path not ending in a parameter is ``list``). Where the reference leaves a
spelling ambiguous, the answer is in the one :data:`FACTS` table below.

The output is deterministic: keys are sorted (except the members of
``properties``, which keep the documented order because the client builds
its signatures from it), JSON is minified and ends with a newline, and the
file is replaced atomically. ``--check`` exits 1 when the committed file is
not what the tool would write. Without the reference, ``--check`` says so and
exits 0 (a bare clone, as the test suite skips it), or 2 when ``CI=true``;
building exits 2.

Besides the standard library it uses civis_dyn's own naming rules
(``spec._naming``), ``$ref`` resolver (``ApiSpec.resolve``) and atomic writer, so
the tool and the client can never disagree on them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout that is not installed: use its civis_dyn
    sys.path.insert(1, str(REPO))

from civis_dyn._files import write_atomically  # noqa: E402
from civis_dyn.spec._model import ApiSpec  # noqa: E402
from civis_dyn.spec._naming import method_name, resource_name  # noqa: E402
from civis_dyn.spec._source import BUNDLE_NAME  # noqa: E402

try:  # imported as tools.build_schema
    from . import reference_parser as rp
except ImportError:  # run as a script: tools/ is sys.path[0]
    import reference_parser as rp  # type: ignore[no-redef]

DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
DEFAULT_OUTPUT = REPO / "schemas" / BUNDLE_NAME  # the package data civis_dyn.schemas

# --------------------------------------------------------------------------
# Facts the reference cannot tell. Hand-written, one comment each.
# --------------------------------------------------------------------------

FACTS: dict[str, dict] = {
    # Path segments written with "_" or "-" that method names flatten to
    # underscores: "a_b" in a method name is one segment spelled this way,
    # not the two segments "a/b".
    "segments": {
        "active_workloads": "active_workloads",  # clusters: .../instance_configs/{id}/active_workloads
        "advanced_settings": "advanced-settings",  # databases: /databases/{id}/advanced-settings
        "api_keys": "api_keys",  # users: /users/{id}/api_keys
        "cass_ncoa": "cass-ncoa",  # enhancements and tables: .../cass-ncoa
        "checkout_latest": "checkout-latest",  # scripts, workflows: .../git/checkout-latest
        "child_groups": "child_groups",  # groups: /groups/{id}/child_groups
        "civis_data_match": "civis-data-match",  # enhancements: /enhancements/civis-data-match
        "data_sets": "data_sets",  # remote_hosts: /remote_hosts/{id}/data_sets
        "deployment_stats": "deployment_stats",  # clusters: /clusters/kubernetes/{id}/deployment_stats
        "field_mapping": "field-mapping",  # enhancements: /enhancements/field-mapping
        "historical_graphs": "historical_graphs",  # clusters: .../instance_configs/{..}/historical_graphs
        "instance_configs": "instance_configs",  # clusters: /clusters/kubernetes/instance_configs
        "parent_projects": "parent_projects",  # projects: /projects/{id}/parent_projects
        "spot_orders": "spot_orders",  # media: /media/spot_orders
        "trigger_email": "trigger_email",  # jobs: /jobs/{id}/trigger_email
        "update_links": "update-links",  # notebooks: /notebooks/{id}/update-links
        "user_statistics": "user_statistics",  # clusters: .../instance_configs/{..}/user_statistics
        "whitelist_ips": "whitelist-ips",  # databases: /databases/{id}/whitelist-ips
    },
    # Body/response wire names that are not the plain camelCase of the
    # documented snake_case name.
    "wire_names": {
        "limiting_sql": "limitingSQL",  # enhancements cass_ncoa/geocode bodies
        "provide_api_key": "provideAPIKey",  # reports and report templates bodies
    },
    # Required arguments of POST/PUT/PATCH methods that are path parameters
    # although no segment names them (they follow the previous parameter).
    "path_args": {
        ("groups", "put_members"): ("user_id",),  # PUT /groups/{id}/members/{user_id}
        ("permission_sets", "patch_resources"): ("name",),  # .../resources/{name}
        ("permission_sets", "put_resources_shares_groups"): ("name",),  # .../resources/{name}/shares/groups
        ("permission_sets", "put_resources_shares_users"): ("name",),  # .../resources/{name}/shares/users
    },
    # Required arguments that name a segment but travel in the body.
    "body_args": {
        ("reports", "post_services"): ("service_id",),  # POST /reports/services {serviceId}
        ("files", "post_preprocess_csv"): ("file_id",),  # POST /files/preprocess/csv {fileId}
        ("files", "put_preprocess_csv"): ("file_id",),  # PUT /files/preprocess/csv/{id} {fileId}
    },
    # Whole paths the rules cannot derive, by (resource, method).
    "paths": {
        # {id} is an instance config, not a cluster, though kubernetes/{id} exists
        ("clusters", "list_kubernetes_instance_configs_active_workloads"):
            "/clusters/kubernetes/instance_configs/{id}/active_workloads",
        # singular "container", unlike every other /scripts/containers path
        ("scripts", "patch_container_runs"): "/scripts/container/{id}/runs/{run_id}",
    },
    # Sub-collection paths that carry a trailing slash like resource roots.
    "trailing_slash": {
        "/enhancements/civis-data-match",  # POST /enhancements/civis-data-match/
        "/templates/reports",  # GET and POST /templates/reports/
        "/templates/scripts",  # GET and POST /templates/scripts/
    },
    # list_* methods that answer an array although their summary does not
    # start with "List" (the rule: "List ..." summaries and logs are arrays)
    "array_responses": {
        ("clusters", "list_kubernetes_deployment_stats"),  # one entry per deployment
        ("clusters", "list_kubernetes_instance_configs_user_statistics"),  # one per user
        ("imports", "list_runs"),  # "Get the run history of this import"
        ("permission_sets", "list_users_permissions"),  # one entry per resource
    },
}

VERBS = {"list": "get", "get": "get", "post": "post", "put": "put",
         "patch": "patch", "delete": "delete"}
_PARAM_SUFFIXES = ("_id", "_name", "_hash")

# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def wire_name(name: str) -> str:
    """The camelCase wire name of a documented snake_case name.

    Parameters
    ----------
    name : str
        E.g. ``from_template_id``.

    Returns
    -------
    str
        E.g. ``fromTemplateId``; :data:`FACTS` ``wire_names`` wins.
    """
    if name in FACTS["wire_names"]:
        return FACTS["wire_names"][name]
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


# --------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------


def _segments(tokens: list[str], extra: set[str]) -> list[str]:
    """Group method-name tokens into path segments.

    ``FACTS["segments"]`` (and the names in ``extra``) say which runs of
    tokens form one segment; the longest known run wins.
    """
    known = dict(FACTS["segments"])
    for name in extra:
        known.setdefault(name, name)
    out, i = [], 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            joined = "_".join(tokens[i:j])
            if j - i > 1 and joined in known:
                out.append(known[joined])
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _attaches(param: str, seg: str) -> bool:
    """Whether ``{param}`` names an item of the collection ``seg``."""
    seg = seg.replace("-", "_")
    if param == seg:
        return True
    stem = param
    for suffix in _PARAM_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return False
    word = stem.split("_")[-1]
    plurals = {stem + "s", stem + "es", word + "s", word + "es", stem, word}
    return seg in plurals or any(seg.endswith("_" + p) for p in plurals)


def _path_params(
    resource: str, verb: str, segs: list[str], method: rp.MethodDoc
) -> list[str]:
    """The documented arguments of a method that travel in the path.

    GET and DELETE have no body, so all their required arguments are path
    parameters. For the other verbs the path parameters are the leading
    required arguments that name a segment (``id``, ``run_id`` after
    ``runs``, ``service_id`` after ``services``); the rest is the body. A
    POST path never ends in a parameter, so for POST an argument naming
    only the last segment (``post_scripts(script_id)``) is a body property.
    ``FACTS`` ``path_args`` / ``body_args`` settle the remaining cases.
    """
    required = [n for n, d, kw in method.signature_params() if d is None and not kw]
    if verb in ("get", "delete"):
        return [n for n in required if n != "iterator"]
    extra = FACTS["path_args"].get((resource, method.name), ())
    body = FACTS["body_args"].get((resource, method.name), ())
    full = [resource] + segs
    out = []
    for name in required:
        if name in body:
            break
        named = [i for i, s in enumerate(full) if _attaches(name, s)]
        if verb == "post" and named == [len(full) - 1]:
            break
        if name == "id" or name in extra or name in segs or named:
            out.append(name)
        else:
            break
    return out


def derive_path(
    resource: str,
    method: rp.MethodDoc,
    prefixes: set[tuple[str, ...]] = frozenset(),
) -> tuple[str, str, list[str]]:
    """Verb, path template and path-parameter names of a documented method.

    Parameters
    ----------
    resource : str
        Resource attribute name, e.g. ``jobs``.
    method : reference_parser.MethodDoc
        The documented method.
    prefixes : set of tuple of str
        Segment runs after the resource that the resource documents as
        parameterless collections (``("containers",)`` for ``scripts``); an
        ``{id}`` goes after the longest one the method starts with.

    Returns
    -------
    (str, str, list of str)
        E.g. ``("get", "/jobs/{id}/runs/{run_id}/logs", ["id", "run_id"])``.
    """
    word, _, rest = method.name.partition("_")
    verb = VERBS[word]
    tokens = rest.split("_") if rest else []
    names = [n for n, d, kw in method.signature_params() if d is None and not kw]
    segs = _segments(tokens, {n for n in names if "_" in n})
    params = _path_params(resource, verb, segs, method)
    fact = FACTS["paths"].get((resource, method.name))
    if fact is None and method.warning:
        m = re.search(r"The (\S+) endpoint", method.warning)
        if m and resource_name(m.group(1)) == resource:
            fact = "/" + re.sub(r":([a-z_][a-z0-9_]*)", r"{\1}", m.group(1).strip("/"))
    if fact is not None:
        in_path = [p[1:-1] for p in re.findall(r"\{[^}]+\}", fact)]
        # documented (signature) order, which the client's signature follows
        return verb, fact, sorted(in_path, key=lambda n: names.index(n) if n in names else len(names))

    full = [resource] + segs
    slots: dict[int, list[str]] = {}  # params after full[i]
    taken: set[int] = set()
    pending = list(params)
    # {a}/{b}: a token run equal to a parameter that another one follows
    for k, name in enumerate(params[:-1]):
        if name in full[1:]:
            i = full.index(name, 1)
            full[i] = "{" + name + "}"
            slots.setdefault(i, []).append(params[k + 1])
            taken.add(i)
            pending.remove(name)
            pending.remove(params[k + 1])
    for name in list(pending):
        if name == "id":
            continue
        cands = [i for i, s in enumerate(full) if not s.startswith("{") and _attaches(name, s)]
        free = [i for i in cands if i not in taken]
        if free:  # the deepest collection it names
            slots.setdefault(free[-1], []).append(name)
            taken.add(free[-1])
            pending.remove(name)
    if "id" in pending:
        best = 0
        for n in range(len(segs), 0, -1):
            if tuple(segs[:n]) in prefixes:
                best = n
                break
        if best in taken:
            free = [i for i in range(len(full) - 1, -1, -1) if i not in taken]
            best = free[0] if free else len(full) - 1
        slots.setdefault(best, []).insert(0, "id")
        taken.add(best)
        pending.remove("id")
    # parameters no segment names follow the previous parameter's segment
    for name in pending:
        k = params.index(name)
        after = 0
        for prev in reversed(params[:k]):
            at = [i for i, ps in slots.items() if prev in ps]
            if at:
                after = at[0] + 1
                break
        free = [i for i in range(after, len(full)) if i not in taken]
        at = free[0] if free else len(full) - 1
        slots.setdefault(at, []).append(name)
        taken.add(at)
    parts = []
    for i, seg in enumerate(full):
        parts.append(seg)
        parts += ["{" + p + "}" for p in slots.get(i, [])]
    path = "/" + "/".join(parts)
    if path == "/" + resource or path in FACTS["trailing_slash"]:
        path += "/"
    return verb, path, params


def collection_prefixes(res: rp.ResourceDoc) -> set[tuple[str, ...]]:
    """Segment runs a resource documents as parameterless collections."""
    out: set[tuple[str, ...]] = set()
    for m in res.methods.values():
        word, _, rest = m.name.partition("_")
        if not rest:
            continue
        verb = VERBS[word]
        tokens = rest.split("_")
        segs = _segments(tokens, set())
        if not _path_params(res.name, verb, segs, m):
            out.add(tuple(segs))
    return out


# --------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------

_SCALARS = {"int": "integer", "str": "string", "bool": "boolean",
            "float": "number", "dict": "object", "object": "object", "Any": "object"}


def type_schema(typ: str, name: str = "", item_types: dict[str, str] | None = None) -> dict:
    """Swagger type (and format/items) for a documented type.

    Parameters
    ----------
    typ : str
        Current-style type, e.g. ``str (date-time)``, ``List[int]``.
    name : str
        The parameter or field name, used for the item type of an untyped
        ``List`` (the old reference prints just ``list``).
    item_types : dict of str to str, optional
        Item types documented elsewhere for the same name (see
        :func:`list_item_types`); without one, ``*_ids`` lists hold
        integers and other lists strings.

    Returns
    -------
    dict
    """
    base, _, fmt = typ.partition(" (")
    fmt = fmt.rstrip(")")
    if base.startswith("List"):
        inner = base[5:-1] if base.startswith("List[") else ""
        if not inner:
            inner = (item_types or {}).get(name) or ("int" if name.endswith("_ids") else "str")
        return {"type": "array", "items": type_schema(inner)}
    out = {"type": _SCALARS.get(base, "string")}
    if fmt:
        out["format"] = fmt
    return out


def list_item_types(docs: dict[str, rp.ResourceDoc]) -> dict[str, str]:
    """Item type of each name the reference documents as a typed list.

    Parameters
    ----------
    docs : dict of str to ResourceDoc

    Returns
    -------
    dict of str to str
        E.g. ``{"scheduled_days": "int", "user_ids": "int"}``; the most
        frequent item type wins, ties by name order.
    """
    counts: dict[str, dict[str, int]] = {}

    def visit(items):
        for it in items:
            if it.type.startswith("List[") and it.type != "List[dict]":
                inner = it.type[5:-1]
                per = counts.setdefault(it.name, {})
                per[inner] = per.get(inner, 0) + 1
            visit(it.children)

    for res in docs.values():
        for m in res.methods.values():
            visit(m.params)
            visit(m.response_fields)
    return {n: max(sorted(c), key=lambda t: c[t]) for n, c in sorted(counts.items())}


def _object_schema(items, with_required: bool, item_types=None) -> dict:
    props = {}
    required = []
    for it in items:
        props[wire_name(it.name)] = _item_schema(it, item_types)
        if with_required and not getattr(it, "optional", True):
            required.append(wire_name(it.name))
    out: dict = {"type": "object"}
    if props:
        out["properties"] = props
    if required:
        out["required"] = required
    return out


def _item_schema(it, item_types=None) -> dict:
    """Schema of a ParamDoc/FieldDoc, nested fields included."""
    sch = type_schema(it.type, it.name, item_types)
    if it.children:
        nested = _object_schema(it.children, False, item_types)
        if sch["type"] == "array":
            sch["items"] = nested
        else:
            sch.update(nested)
    if it.description:
        sch["description"] = it.description
    return sch


def _is_array_response(
    resource: str, verb: str, path: str, method: rp.MethodDoc
) -> bool:
    """Whether a method answers a JSON array.

    Paginated methods do; so do ``list_*`` methods (GET on a path that does
    not end in a parameter) whose summary starts with "List" or whose path
    ends in ``logs``, plus the ``array_responses`` facts. Everything else
    answers one object.
    """
    if method.returns == "PaginatedResponse":
        return True
    last = path.rstrip("/").split("/")[-1]
    if verb != "get" or last.startswith("{"):
        return False
    if (resource, method.name) in FACTS["array_responses"]:
        return True
    return method.summary.startswith("List") or last == "logs"


def _camel_class(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\-]", text) if p)


def build_operation(
    resource: rp.ResourceDoc, method: rp.MethodDoc, verb: str, path: str,
    path_params: list[str], item_types: dict[str, str] | None = None,
) -> dict:
    """The Swagger operation object of one documented method.

    Parameters
    ----------
    resource : reference_parser.ResourceDoc
    method : reference_parser.MethodDoc
    verb, path : str
        From :func:`derive_path`.
    path_params : list of str
        Arguments that travel in the path.
    item_types : dict of str to str, optional
        See :func:`list_item_types`.

    Returns
    -------
    dict
    """
    params = []
    body = []
    for p in method.params:
        if p.name == "iterator" and verb == "get":
            continue  # client-side only
        if p.name in path_params:
            entry = {"name": p.name, "in": "path", "required": True}
            entry.update(type_schema(p.type, p.name, item_types))
            if p.description:
                entry["description"] = p.description
            params.append(entry)
        elif verb in ("get", "delete"):
            entry = {"name": p.name, "in": "query", "required": not p.optional}
            entry.update(type_schema(p.type, p.name, item_types))
            if p.description:
                entry["description"] = p.description
            params.append(entry)
        else:
            body.append(p)
    order = {n: i for i, n in enumerate(path_params)}
    params.sort(key=lambda e: (e["in"] != "path", order.get(e["name"], 0)))
    if body:
        schema = _object_schema(body, True, item_types)
        params.append({
            "name": _camel_class(resource.name) + _camel_class(method.name) + "Request",
            "in": "body",
            "required": bool(schema.get("required")),
            "schema": schema,
        })
    if method.returns == "None":
        code, _, text = (method.response_code or "204: success").partition(":")
        responses = {code.strip(): {"description": text.strip() or "success"}}
    else:
        schema = _object_schema(method.response_fields, False, item_types)
        if _is_array_response(resource.name, verb, path, method):
            schema = {"type": "array", "items": schema}
        responses = {"200": {"description": "success", "schema": schema}}
    op = {"summary": method.summary, "parameters": params, "responses": responses}
    if method.warning:
        op["x-deprecation-warning"] = method.warning
    if method.deprecation:
        op["deprecated"] = True
    return op


def build_spec(
    reference: Path | str = DEFAULT_REFERENCE,
    index: dict[tuple[str, str], tuple[str, str]] | None = None,
) -> dict:
    """The whole Swagger 2.0 schema built from the reference folder.

    Parameters
    ----------
    reference : str or os.PathLike
        Folder with the ``000`` ... ``003`` reference texts.
    index : dict, optional
        Filled with ``(resource, documented method) -> (verb, path)``.

    Returns
    -------
    dict
    """
    docs = rp.parse_reference_dir(reference)
    item_types = list_item_types(docs)
    paths: dict[str, dict] = {}
    for res in docs.values():
        prefixes = collection_prefixes(res)
        for method in res.methods.values():
            verb, path, pparams = derive_path(res.name, method, prefixes)
            if index is not None:
                index[(res.name, method.name)] = (verb, path)
            item = paths.setdefault(path, {})
            if verb in item:
                continue  # e.g. get_me and list_me documented for one path
            item[verb] = build_operation(res, method, verb, path, pparams, item_types)
    return share_definitions({
        "swagger": "2.0",
        "info": {
            "title": "Civis Analytics API",
            "version": "1",
            "description": "Built by tools/build_schema.py from the published API reference.",
        },
        "host": "api.civisanalytics.com",
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {
            "api_key": {"type": "apiKey", "name": "Authorization", "in": "header"}
        },
        "security": [{"api_key": []}],
        "paths": paths,
    })


# --------------------------------------------------------------------------
# Shared definitions
# --------------------------------------------------------------------------

_MIN_SHARED = 300  # bytes of JSON below which a repeated object stays inline


def _key(schema: dict) -> str:
    return json.dumps(_canonical(schema), separators=(",", ":"), ensure_ascii=False)


def _object_nodes(spec: dict):
    """``(schema, name hint)`` for every object schema, in a fixed order."""

    def walk(schema, hint):
        if not isinstance(schema, dict):
            return
        if schema.get("type") == "object" and "properties" in schema:
            yield schema, hint
            for name, sub in schema["properties"].items():
                yield from walk(sub, _camel_class(name))
        if "items" in schema:
            yield from walk(schema["items"], hint)

    for path in sorted(spec["paths"]):
        for verb in sorted(spec["paths"][path]):
            op = spec["paths"][path][verb]
            base = _camel_class(resource_name(path)) + _camel_class(method_name(verb, path))
            for p in op["parameters"]:
                if p["in"] == "body":
                    yield from walk(p["schema"], base + "Request")
            for code in sorted(op["responses"]):
                if "schema" in op["responses"][code]:
                    yield from walk(op["responses"][code]["schema"], base + "Response")


def share_definitions(spec: dict) -> dict:
    """Move object schemas that occur more than once into ``definitions``.

    Only objects of at least ``_MIN_SHARED`` bytes are shared; each becomes
    ``#/definitions/<Name>``, named after where it first occurs (``Author``,
    ``JobsListResponse``; a number is added on a clash). The result is the
    same schema once local references are resolved.

    Parameters
    ----------
    spec : dict
        A schema with inline objects (modified in place).

    Returns
    -------
    dict
        ``spec``.
    """
    counts: dict[str, int] = {}
    hints: dict[str, str] = {}
    for node, hint in _object_nodes(spec):
        k = _key(node)
        counts[k] = counts.get(k, 0) + 1
        hints.setdefault(k, hint)
    shared = {k for k, n in counts.items() if n > 1 and len(k) >= _MIN_SHARED}
    names: dict[str, str] = {}
    used: set[str] = set()
    definitions: dict[str, dict] = {}

    def name_for(k: str) -> str:
        if k not in names:
            base = hints[k] or "Object"
            name, n = base, 1
            while name in used:
                n += 1
                name = f"{base}{n}"
            used.add(name)
            names[k] = name
        return names[k]

    def replace(schema):
        if not isinstance(schema, dict):
            return schema
        if schema.get("type") == "object" and "properties" in schema:
            k = _key(schema)
            inner = dict(schema)
            inner["properties"] = {n: replace(v) for n, v in schema["properties"].items()}
            if k in shared:
                name = name_for(k)
                definitions.setdefault(name, inner)
                return {"$ref": f"#/definitions/{name}"}
            return inner
        if "items" in schema:
            schema = dict(schema)
            schema["items"] = replace(schema["items"])
        return schema

    for path in sorted(spec["paths"]):
        for verb in sorted(spec["paths"][path]):
            op = spec["paths"][path][verb]
            for p in op["parameters"]:
                if p["in"] == "body":
                    p["schema"] = replace(p["schema"])
            for code in sorted(op["responses"]):
                resp = op["responses"][code]
                if "schema" in resp:
                    resp["schema"] = replace(resp["schema"])
    if definitions:
        spec["definitions"] = definitions
    return spec


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def _canonical(obj, keep_order: bool = False):
    """Sort every mapping's keys except the members of ``properties``."""
    if isinstance(obj, dict):
        keys = list(obj) if keep_order else sorted(obj)
        return {k: _canonical(obj[k], keep_order=(k == "properties" and not keep_order))
                for k in keys}
    if isinstance(obj, list):
        return [_canonical(v) for v in obj]
    return obj


def dumps(spec: dict) -> str:
    """Serialise deterministically: canonical key order, minified, newline."""
    return json.dumps(_canonical(spec), separators=(",", ":"), ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (the package's writer), keeping its permissions."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    write_atomically(path, text.encode("utf-8"), mode=mode)


# --------------------------------------------------------------------------
# Fidelity (reads the real schema; never copies it)
# --------------------------------------------------------------------------


def operations_by_name(spec: dict) -> dict[tuple[str, str], tuple[str, str, dict]]:
    """``(resource, method name) -> (verb, path, operation)`` of a schema."""
    out = {}
    for path, item in spec["paths"].items():
        for verb, op in item.items():
            if verb not in VERBS.values():
                continue
            key = (resource_name(path), method_name(verb, path))
            out.setdefault(key, (verb, path, op))
    return out


def body_names(spec: dict, op: dict) -> list[str]:
    """Top-level wire names of an operation's body parameter."""
    for p in op.get("parameters", []):
        if p.get("in") == "body":
            schema = ApiSpec.from_dict(spec).resolve(p.get("schema", {}), "body")
            return list(schema.get("properties", {}))
    return []


def fidelity(
    ours: dict,
    real: dict,
    index: dict[tuple[str, str], tuple[str, str]],
) -> dict:
    """Compare our schema with the real one, method by method.

    Our operations are keyed by their documented (resource, method) names
    (``index`` from :func:`build_spec`), the real ones by the names the
    client's naming rules give them; for the methods present in both, verb
    and path are compared exactly, then the top-level body wire names.

    Parameters
    ----------
    ours, real : dict
        Swagger schemas.
    index : dict
        ``(resource, documented method) -> (verb, path)`` of ``ours``.

    Returns
    -------
    dict
        ``common`` (count), ``path_ok`` (count), ``path_mismatches`` (list of
        text), ``wire_total``/``wire_ok`` (body property names),
        ``wire_mismatches`` and ``only_ours`` (documented methods the real
        schema does not have).
    """
    theirs = operations_by_name(real)
    keys = sorted(set(index) & set(theirs))
    path_bad, wire_bad = [], []
    wire_total = wire_ok = 0
    for key in keys:
        v1, p1 = index[key]
        op1 = ours["paths"][p1][v1]
        v2, p2, op2 = theirs[key]
        if (v1, p1) != (v2, p2):
            path_bad.append(f"{key[0]}.{key[1]}: ours {v1.upper()} {p1} real {v2.upper()} {p2}")
        n1, n2 = body_names(ours, op1), set(body_names(real, op2))
        for n in n1:
            wire_total += 1
            if n in n2:
                wire_ok += 1
            else:
                wire_bad.append(f"{key[0]}.{key[1]}: body {n!r} not in real {sorted(n2)}")
    return {
        "common": len(keys),
        "path_ok": len(keys) - len(path_bad),
        "path_mismatches": path_bad,
        "wire_total": wire_total,
        "wire_ok": wire_ok,
        "wire_mismatches": wire_bad,
        "only_ours": sorted(f"{r}.{m}" for r, m in set(index) - set(theirs)),
    }


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring.

    Returns
    -------
    int
        Exit status: 0 on success, 1 when ``--check`` finds a stale file.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                    help="folder with the 000...003 reference texts")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                    help="schema file to write or check")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if OUTPUT differs from what would be written")
    ap.add_argument("--check-fidelity", type=Path, metavar="REAL_SPEC",
                    help="compare verbs, paths and body wire names with a real schema")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        where = (f"the published API reference is not at {args.reference}; put it there (CI "
                 f"has it beside the checkout) or pass --reference DIR")
        if args.check and os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
            # a bare clone: nothing to check against, as the test suite skips it too
            print(f"build_schema --check: skipped, {where}.", file=sys.stderr)
            return 0
        print(f"build_schema: {where}. Without it nothing can be built"
              f"{'' if args.check else ' or checked'} (with CI=true, --check fails).",
              file=sys.stderr)
        return 2
    index: dict[tuple[str, str], tuple[str, str]] = {}
    spec = build_spec(args.reference, index)
    text = dumps(spec)
    if args.check_fidelity:
        with open(args.check_fidelity, encoding="utf-8") as f:
            real = json.load(f)
        rep = fidelity(spec, real, index)
        for line in rep["path_mismatches"] + rep["wire_mismatches"]:
            print(line)
        print(f"verb+path: {rep['path_ok']}/{rep['common']} "
              f"({100 * rep['path_ok'] / max(rep['common'], 1):.2f}%)")
        print(f"body wire names: {rep['wire_ok']}/{rep['wire_total']} "
              f"({100 * rep['wire_ok'] / max(rep['wire_total'], 1):.2f}%)")
        print(f"documented methods not in the real schema: {len(rep['only_ours'])}: "
              + ", ".join(rep["only_ours"]))
        return 0
    if args.check:
        try:
            current = args.output.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{args.output} is out of date: re-run "
                  f"`python tools/build_schema.py` and commit the result.", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date.")
        return 0
    write_atomic(args.output, text)
    print(f"wrote {args.output} ({len(text.encode('utf-8'))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
