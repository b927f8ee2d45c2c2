"""The in-memory, schema-driven store behind the local Civis API.

Design
------
Every route of the schema is classified once, at start, from the shape of its
path template and the verbs the schema declares around it; each request then
runs the handler its route was given.  The only per-resource knowledge is the
small tables of facts below (``RUN_WORDS``, ``JOB_FAMILY``, ``VIEWS``,
``LINK_TARGETS``, ``SINGLETONS``).

A template is read as groups of literal segments each followed by at most one
parameter: ``/scripts/containers/{id}/runs/{run_id}/logs`` is the top
collection ``/scripts/containers`` (item ``id``), its sub-collection ``runs``
(item ``run_id``), then the tail ``logs``.  Stored objects are :class:`Node`
objects; a node owns its sub-collections, links, shares and tail documents, so
``/jobs/7/runs`` and ``/scripts/containers/7/runs`` reach the same runs.

Kinds of sub-collection (``owner/{id}/<sub>``):

* run-like (``runs``, ``builds``, ``executions``, ``deployments``): POST
  starts a run whose state is computed from the clock at read time
  (``queued`` -> ``running`` -> ``succeeded``/``failed``); DELETE cancels
  (deployments are removed instead, as in the real API);
* shares (``shares/users``, ``shares/groups``);
* objects, when the schema has a POST on the collection (``/imports/{id}/syncs``);
* links, when the schema can PUT an item but not POST one
  (``/jobs/{id}/projects/{project_id}``, ``/groups/{id}/members/{user_id}``):
  PUT adds, DELETE removes, GET lists the linked objects.

Ids are integers unique per collection.  The collections of the job family
(``/jobs``, ``/scripts...``, ``/imports...``, ``/exports...``,
``/enhancements...``) share one id sequence, as scripts share the ids of their
jobs in the real API, so ``/jobs/{id}`` and ``/scripts/{id}`` (the generic
parents, ``VIEWS``) show any script, import, export or enhancement.  Runs of
every owner share one sequence per sub-collection name.

Responses are the stored data shaped by the operation's response schema
(:meth:`SchemaIndex.fill`): undeclared fields are dropped, missing ones are
null, ``[]`` or filled objects.

The store is not thread-safe by itself: the server holds one lock around
every call into it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timezone
from itertools import islice

from ..spec._runs import ACTIVE_STATES, RUN_COLLECTIONS
from ._data import camel_body
from ._schema import NoRoute, Router, SchemaIndex, camel, parse_query_value

__all__ = ["ApiError", "LOCAL_USER", "Reply", "Store"]

#: The user every request acts as.
LOCAL_USER = {"id": 1, "name": "Local User", "username": "local", "initials": "LU",
              "online": True, "email": "local@example.com"}

#: Run-like sub-collections and the state a successful run ends in (a deployment keeps
#: running until it is deleted): the client's run model.
RUN_WORDS = {word: states.ends_as for word, states in RUN_COLLECTIONS.items()}
#: Run-like sub-collections whose DELETE removes the item instead of cancelling it.
DELETE_REMOVES = frozenset(word for word, states in RUN_COLLECTIONS.items()
                           if states.cancel_removes)
#: Top collections sharing one id sequence (prefixes, on segment boundaries).
JOB_FAMILY = ("/jobs", "/scripts", "/imports", "/exports", "/enhancements", "/files/preprocess")
#: Generic parents: an id missing from them is looked up in these members of the family.
#: (``/imports/files/{id}/runs`` also reaches the runs of a ``Dbsync`` import.)
VIEWS = {"/jobs": JOB_FAMILY, "/scripts": ("/scripts",), "/imports/files": ("/imports",)}
#: Where the targets of a link sub-collection live (default: ``/<sub>``).
LINK_TARGETS = {"parent_projects": "/projects", "members": "/users", "tags": "/table_tags"}
#: Literal paths answered from a fixed document until PUT/PATCHed.
SINGLETONS = {"/users/me": LOCAL_USER}
#: Path keys that stand for an id (``/users/me/api_keys`` is the local user's).
KEY_ALIASES = {("/users", "me"): LOCAL_USER["id"]}
#: Share permission levels and the ShareIndex sets they go to.
PERMISSIONS = {"read": "readers", "write": "writers", "manage": "owners"}
_RESERVED = frozenset({"limit", "page_num", "order", "order_dir", "archived", "hidden", "q"})
_SYSTEM = ("id", "createdAt", "author", "user", "userId", "archived", "myPermissionLevel")
_NOT_PARENT = frozenset({"userId", "deploymentId", "fromTemplateId", "childJobId",
                         "lastExecutionId", "lastRunId", "parentId", "primaryGroupId"})


class ApiError(Exception):
    """An error answer: ``{"error", "errorDescription", "code"}``."""

    def __init__(self, status: int, error: str, description: str, headers=None):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": self.error, "errorDescription": self.description, "code": self.status}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found")


class Reply:
    """A successful answer: status, JSON-able body (None: empty) and headers."""

    __slots__ = ("status", "body", "headers")

    def __init__(self, status: int, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = headers


class Run:
    """Timing of one run; its state is a pure function of the clock."""

    __slots__ = ("t0", "queued", "running", "final", "error", "cancel_t", "logs", "phase",
                 "outputs")

    def __init__(self, t0, queued, running, final, error):
        self.t0 = t0
        self.queued = queued
        self.running = running
        self.final = final
        self.error = error
        self.cancel_t = None
        self.logs = []
        self.phase = 0
        self.outputs = []

    def at(self, now):
        """Return ``(state, started, finished)`` clock times at ``now``."""
        start = self.t0 + self.queued
        end = start + self.running
        endless = self.final == "running" and not self.error
        c = self.cancel_t
        if c is not None and now >= c:
            return "cancelled", (start if c >= start else None), c
        if now < start:
            return "queued", None, None
        if endless or now < end:
            return "running", start, None
        return ("failed" if self.error else self.final), start, end

    def events(self):
        """The log lines of the whole life, as ``(time, message, level)``."""
        start = self.t0 + self.queued
        end = start + self.running
        ev = [(self.t0, "Run queued", "info"), (start, "Run started", "info")]
        if self.final == "running" and not self.error:
            ev.append((start, "Deployment is running", "info"))
        else:
            ev.append((start + self.running / 2, "Working...", "info"))
            if self.error:
                ev.append((end, f"Run failed: {self.error}", "error"))
            else:
                ev.append((end, "Run succeeded", "info"))
        if self.cancel_t is not None:
            # A run is only cancelled before it ends, so its last line is dropped.
            ev = [e for e in ev if e[0] <= self.cancel_t]
            ev.append((self.cancel_t, "Run cancelled", "warn"))
        return ev


class Node:
    """One stored object (or run)."""

    __slots__ = ("data", "coll", "key", "owner_key", "children", "links", "tails", "shares",
                 "run", "runnable")

    def __init__(self, data, coll, key, owner_key=None, runnable=False):
        self.data = data
        self.coll = coll
        self.key = key
        self.owner_key = owner_key
        self.children = {}
        self.links = {}
        self.tails = {}
        self.shares = None
        self.run = None
        self.runnable = runnable


def _groups(shape):
    """Split a template shape into ``[(literals, has_param)]`` groups."""
    out, lits = [], []
    for seg in shape:
        if seg is None:
            out.append((tuple(lits), True))
            lits = []
        else:
            lits.append(seg)
    if lits or not out:
        out.append((tuple(lits), False))
    return out


def under_any(path, prefixes):
    """True when ``path`` is one of ``prefixes`` or lies below one of them."""
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def _qstr(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return str(v)


def _sort_key(field):
    def key(d):
        v = d.get(field)
        if isinstance(v, dict):
            v = v.get("id")
        if v is None:
            rank = (0, 0)
        elif isinstance(v, (bool, int, float)):
            rank = (1, v)
        elif isinstance(v, str):
            rank = (2, v)
        else:
            rank = (3, str(v))
        i = d.get("id")
        return rank, i if isinstance(i, int) else 0
    return key


class Store:
    """Schema-driven resources for :class:`LocalCivisAPI`.

    Parameters
    ----------
    spec : dict
        The parsed Swagger 2.0 schema.
    clock : callable
        Returns seconds (any origin); run states are computed from it.
    run_delays : tuple of float
        Seconds a new run spends queued, then running.
    """

    def __init__(self, spec: dict, clock, run_delays=(0.05, 0.1), wall=None):
        self.spec = spec
        self.index = SchemaIndex(spec)
        self.router = Router(spec.get("paths") or {})
        self.clock = clock
        self.run_delays = tuple(run_delays)
        self._clock0 = clock()
        self._wall0 = wall if wall is not None else datetime.now(timezone.utc).timestamp()
        self.top: dict[str, dict] = {}
        self.family: dict[int, Node] = {}
        self.singletons: dict[str, object] = {}
        self.creations: Counter = Counter()
        self._ids: Counter = Counter()
        self.data = None  # the DataFeatures hooks (files, SQL...), set by LocalCivisAPI
        self._compile()
        if "/users" in self.tops:
            self.seed("/users", dict(LOCAL_USER))

    def publish(self, spec: dict) -> None:
        """Route by ``spec`` from now on (a deploy of the API); stored objects stay."""
        self.spec = spec
        self.index = SchemaIndex(spec)
        self.router = Router(spec.get("paths") or {})
        self._compile()

    # -- compilation -------------------------------------------------------
    def _compile(self):
        routes = self.router.routes
        have = {(r.shape, r.method) for r in routes}
        shapes = {r.shape for r in routes}
        self._get = {r.shape: r for r in routes if r.method == "GET"}
        tops = set()
        for r in routes:
            groups = _groups(r.shape)
            if groups[0][1] and groups[0][0]:
                tops.add("/" + "/".join(groups[0][0]))
        self.tops = tops
        self.runnable = set()
        for r in routes:
            g = _groups(r.shape)
            if len(g) > 1 and g[1][0] and g[1][0][-1] in RUN_WORDS and g[0][0]:
                self.runnable.add("/" + "/".join(g[0][0]))
        self.runnable_family = any(v in self.runnable for v in VIEWS)

        def sub_kind(prefix, lits):
            coll = prefix + lits
            if not lits:
                return "other"
            if lits[-1] in RUN_WORDS:
                return "run"
            if lits in (("shares", "users"), ("shares", "groups")):
                return "share"
            if (coll, "POST") in have and any(sh[:len(coll) + 1] == coll + (None,)
                                              for sh in shapes):
                return "obj"
            if (coll + (None,), "PUT") in have:
                return "link"
            return "other"

        for r in routes:
            r.plan = self._plan(r, _groups(r.shape), sub_kind, shapes)

    def _plan(self, r, groups, sub_kind, shapes):
        m = r.method
        chain = []          # (name, kind) of every parameterised group
        prefix = ()
        for i, (lits, has_param) in enumerate(groups):
            if not has_param:
                break
            if i == 0:
                chain.append(("/" + "/".join(lits), "top"))
            else:
                chain.append(("/".join(lits), sub_kind(prefix, lits)))
            prefix = prefix + lits + (None,)
        last_lits, last_param = groups[-1]
        if not last_param:
            tail = last_lits
            if not chain:
                path = "/" + "/".join(tail)
                if path == "/endpoints":
                    return ("endpoints", None)
                if path in self.tops:
                    return {"GET": ("list", None),
                            "POST": ("create", None)}.get(m, ("action", None))
                return {"GET": ("single_get", path), "POST": ("action", None),
                        "DELETE": ("single_delete", path)}.get(m, ("single_update", path))
            kind = sub_kind(prefix, tail)
            info = {"chain": chain, "sub": "/".join(tail), "tail": tail, "same": False}
            owner_kind = chain[-1][1]
            if kind == "run":
                return ("run_list" if m == "GET" else "run_create" if m == "POST" else "tail", info)
            if tail == ("shares",) and m == "GET":
                return ("shares_get", info)
            if kind == "share" and m == "PUT":
                info["which"] = tail[1]
                return ("share_set", info)
            if tail == ("archive",) and m == "PUT":
                return ("archive", info)
            if owner_kind == "run" and tail == ("logs",) and m in ("GET", "POST"):
                return ("logs_get" if m == "GET" else "logs_post", info)
            if owner_kind == "run" and tail == ("outputs",) and m in ("GET", "POST"):
                return ("outputs_list" if m == "GET" else "outputs_add", info)
            if kind == "link" and m == "GET":
                return ("link_list", info)
            if kind == "obj" and m in ("GET", "POST"):
                return ("list" if m == "GET" else "create", info)
            if m == "POST" and tail == ("cancel",):
                return ("cancel", info)
            if m == "POST" and tail == ("clone",):
                return ("clone", info)
            if m == "POST" and tail in (("run",), ("redeploy",)):
                info["sub"] = "runs" if tail == ("run",) else "deployments"
                return ("run_create", info)
            owner_get = self._get.get(prefix)
            info["same"] = bool(owner_get is not None and r.response is not None
                                and owner_get.response == r.response)
            return ("tail", info)
        # An item path: the last group names the item.
        name, kind = chain[-1]
        info = {"chain": chain[:-1], "sub": name, "kind": kind}
        if kind == "share":
            return ("unshare" if m == "DELETE" else "tail", dict(info, which=name.split("/")[1],
                                                                 same=False, tail=()))
        if kind == "link":
            return {"PUT": ("link_add", info), "DELETE": ("link_remove", info),
                    "GET": ("link_get", info)}.get(m, ("obj_get", info))
        if kind == "run":
            if m == "GET":
                return ("obj_get", info)
            if m == "DELETE":
                return ("obj_delete" if name.split("/")[-1] in DELETE_REMOVES else "run_cancel",
                        info)
        return {"GET": ("obj_get", info), "PUT": ("obj_put", info), "PATCH": ("obj_patch", info),
                "DELETE": ("obj_delete", info)}.get(m, ("action", info))

    # -- helpers -----------------------------------------------------------
    def stamp(self, t) -> str | None:
        """ISO 8601 UTC time of clock value ``t`` (None stays None)."""
        if t is None:
            return None
        dt = datetime.fromtimestamp(self._wall0 + (t - self._clock0), timezone.utc)
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"

    def _next_id(self, name: str) -> int:
        self._ids[name] += 1
        return self._ids[name]

    def _counter_name(self, top: str) -> str:
        return "family" if under_any(top, JOB_FAMILY) else top

    def _find(self, items: dict, key, param: str | None):
        node = items.get(key)
        if node is None and isinstance(key, str) and key.isdigit():
            node = items.get(int(key))
        if node is None and isinstance(key, str):
            field = camel(param) if param else "name"
            for n in items.values():
                if n.data.get(field) == key or n.data.get("name") == key:
                    return n
        return node

    def top_node(self, top: str, key, param=None):
        key = KEY_ALIASES.get((top, key), key)
        node = None
        items = self.top.get(top)
        if items is not None:
            node = self._find(items, key, param)
        if node is None and top in VIEWS and isinstance(key, int):
            hit = self.family.get(key)
            if hit is not None and under_any(hit.coll, VIEWS[top]):
                node = hit
        return node

    def resolve_owner(self, route, params, chain):
        """Walk the parameterised groups of ``chain`` to the owning node."""
        node = None
        for i, (name, kind) in enumerate(chain):
            key = params[i]
            pname = route.param_names[i]
            if i == 0:
                node = self.top_node(name, key, pname)
                what = f"{name.lstrip('/')} {key}"
            else:
                items = node.children.get(name)
                if items is None and kind == "link":
                    if key in node.links.get(name, ()):
                        node = self._link_target(name, key)
                        continue
                node = self._find(items, key, pname) if items is not None else None
                what = f"{name} {key}"
            if node is None:
                raise not_found(what.capitalize())
        return node

    def _link_target(self, sub: str, key) -> Node:
        target = LINK_TARGETS.get(sub.split("/")[-1], "/" + sub.split("/")[-1])
        node = self.top_node(target, key)
        return node if node is not None else Node({"id": key}, target, key)

    def _latest_run(self, node):
        for sub, items in node.children.items():
            if items and sub.split("/")[-1] in RUN_WORDS:
                return items
        return None

    def view(self, node: Node, now) -> dict:
        """The stored data of ``node`` with its computed fields."""
        if node.run is not None:
            return self.run_view(node, now)
        d = node.data
        extra = {}
        runs = self._latest_run(node)
        if runs:
            views = [self.run_view(n, now) for n in islice(reversed(runs.values()), 10)]
            last = views[0]
            extra = {"state": last["state"], "lastRun": last, "runs": views,
                     "finishedAt": last["finishedAt"], "lastRunId": last["id"],
                     "lastExecutionId": last["id"], "lastExecution": last}
        elif node.runnable:
            extra = {"state": d.get("state") or "idle", "lastRun": None, "runs": []}
        linked = node.links.get("projects")
        if linked:
            extra["projects"] = [self.view(self._link_target("projects", k), now)
                                 for k in linked]
        return {**d, **extra} if extra else d

    def run_view(self, node, now):
        r = node.run
        state, started, finished = r.at(now)
        d = dict(node.data)
        d["state"] = state
        d["startedAt"] = self.stamp(started)
        d["finishedAt"] = self.stamp(finished)
        d["error"] = r.error if state == "failed" else None
        d["isCancelRequested"] = r.cancel_t is not None
        d["updatedAt"] = self.stamp(finished if finished is not None else
                                    started if started is not None else r.t0)
        return d

    def _shape(self, schema, node: Node, data: dict, item_param=None, sub=None):
        """Fill ``data`` of ``node`` to ``schema``, adding parent/id aliases."""
        props = self.index.properties(schema)
        if props and node.owner_key is not None:
            extra = {}
            if "id" not in props:
                for cand in ((camel(item_param) if item_param else None),
                             (sub.split("/")[-1].rstrip("s") + "Id" if sub else None)):
                    if cand and cand in props:
                        extra[cand] = node.key
                        break
            if node.run is not None:
                for p in props:
                    if (p.endswith("Id") and p not in data and p not in extra
                            and p not in _NOT_PARENT):
                        extra[p] = node.owner_key
                        break
            if "userId" in props and "userId" not in data:
                extra["userId"] = LOCAL_USER["id"]
            if extra:
                data = {**data, **extra}
        return self.index.fill(schema, data)

    def reply(self, route, node, now, item_param=None, sub=None, status=None):
        status = status or route.status
        if status == 204 or route.response is None:
            return Reply(status)
        return Reply(status, self._shape(route.response, node, self.view(node, now),
                                         item_param, sub))

    # -- entry points --------------------------------------------------------
    def match(self, method: str, segs: list[str]):
        """Route a request; raise :class:`ApiError` 404/405 when it has no route."""
        try:
            return self.router.match(method, segs)
        except NoRoute as e:
            if e.allow:
                raise ApiError(405, "method_not_allowed",
                               f"{method} is not allowed on /{'/'.join(segs)}; "
                               f"allowed: {', '.join(e.allow)}",
                               {"Allow": ", ".join(e.allow)}) from None
            raise ApiError(404, "not_found",
                           f"No route matches /{'/'.join(segs)}") from None

    def handle(self, route, params, raw_query: dict, body_bytes: bytes) -> Reply:
        """Validate a request and run its route's handler."""
        query = {}
        for name, values in raw_query.items():
            p = route.query.get(name)
            if p is None:
                query[name] = values[-1]
                continue
            try:
                query[name] = parse_query_value(p, values)
            except ValueError:
                raise ApiError(400, "bad_request",
                               f"{name} must be of type {p.get('type')}") from None
        body = None
        if body_bytes and body_bytes.strip():
            try:
                body = json.loads(body_bytes)
            except ValueError:
                raise ApiError(400, "bad_request", "The request body is not valid JSON") from None
            body = camel_body(body)  # snake_case keys are accepted, as by the real API
            if route.body is not None:
                err = self.index.check(route.body, body, "")
                if err:
                    raise ApiError(400, "bad_request", err)
        kind, info = route.plan
        handler, now = getattr(self, "_h_" + kind), self.clock()
        hook = self.data.hook(route) if self.data is not None else None
        if hook is not None:
            return hook(route, params, query, body, info, now,
                        lambda b: handler(route, params, query, b, info, now))
        return handler(route, params, query, body, info, now)

    def seed(self, path: str, data: dict | None = None) -> dict:
        """Store an object in a collection without a request; return its data.

        ``path`` is a collection path such as ``/databases`` or
        ``/scripts/containers/3/runs``; ``data`` may carry an ``id``.
        """
        segs = [s for s in path.split("/") if s]
        lits, rest = [], []
        for i, s in enumerate(segs):
            if s.isdigit():
                rest = segs[i:]
                break
            lits.append(s)
        top = "/" + "/".join(lits)
        if not rest:
            return self.create(top, None, None, dict(data or {}), self.clock(),
                                key=(data or {}).get("id")).data
        owner = self.top_node(top, int(rest[0]))
        if owner is None:
            raise KeyError(f"{top}/{rest[0]} does not exist")
        i = 1
        while i + 1 < len(rest) and rest[i + 1].isdigit():
            items = owner.children.get(rest[i]) or {}
            owner = items.get(int(rest[i + 1]))
            if owner is None:
                raise KeyError(f"{path}: no {rest[i]} {rest[i + 1]}")
            i += 2
        sub = "/".join(rest[i:])
        return self.create(top, owner, sub, dict(data or {}), self.clock(),
                            key=(data or {}).get("id")).data

    # -- object collections ------------------------------------------------
    def create(self, top, owner, sub, body, now, key=None, error=None):
        stamp = self.stamp(now)
        if owner is None:
            items = self.top.setdefault(top, {})
            counter = self._counter_name(top)
        else:
            items = owner.children.setdefault(sub, {})
            counter = "sub:" + sub
        if isinstance(key, int):
            self._ids[counter] = max(self._ids[counter], key)
        else:
            key = self._next_id(counter)
        data = dict(body)
        data.update(id=key, createdAt=stamp, updatedAt=stamp)
        word = sub.split("/")[-1] if sub else None
        runnable = owner is None and (top in self.runnable or (
            self.runnable_family and under_any(top, JOB_FAMILY)))
        node = Node(data, top if owner is None else sub, key,
                    None if owner is None else owner.key, runnable)
        if word in RUN_WORDS:
            data.setdefault("user", LOCAL_USER)
            q, r = self.run_delays
            node.run = Run(now, q, r, RUN_WORDS[word], error)
        else:
            data.setdefault("author", LOCAL_USER)
            data.setdefault("user", LOCAL_USER)
            data.setdefault("archived", False)
            data.setdefault("myPermissionLevel", "manage")
        items[key] = node
        if owner is None and under_any(top, JOB_FAMILY):
            self.family[key] = node
        return node

    def _coll_of(self, route, params, info):
        """``(owner, items)`` of the collection a list/create route addresses."""
        chain = info["chain"] if info else []
        if not chain:
            return None, self.top.get(route.key, {})
        owner = self.resolve_owner(route, params, chain)
        return owner, owner.children.get(info["sub"], {})

    def _h_create(self, route, params, query, body, info, now):
        if body is not None and not isinstance(body, dict):
            raise ApiError(400, "bad_request", "body must be of type object")
        chain = info["chain"] if info else []
        owner = self.resolve_owner(route, params, chain) if chain else None
        node = self.create(route.key if owner is None else None, owner,
                            info["sub"] if owner is not None else None, body or {}, now)
        self.creations[route.key] += 1
        return self.reply(route, node, now, sub=info["sub"] if info else None)

    def _h_list(self, route, params, query, body, info, now):
        if not (info and info["chain"]) and route.key in VIEWS:
            nodes = [n for n in self.family.values() if under_any(n.coll, VIEWS[route.key])]
        else:
            nodes = list(self._coll_of(route, params, info)[1].values())
        rows = [(self.view(n, now), n) for n in nodes]
        return self.list_reply(route, query, rows)

    def list_reply(self, route, query, rows):
        """Filter, sort and paginate ``(data, node)`` rows; shape the page."""
        item_schema = self.index.resolve(route.response).get("items")
        props = self.index.properties(route.response)
        archived = _qstr(query.get("archived", "false")).lower()
        if archived == "true":
            rows = [r for r in rows if r[0].get("archived") is True]
        elif archived != "all":
            rows = [r for r in rows if r[0].get("archived") is not True]
        if _qstr(query.get("hidden", "false")).lower() != "true":
            rows = [r for r in rows if r[0].get("hidden") is not True]
        q = query.get("q")
        if isinstance(q, str) and q:
            low = q.lower()
            rows = [r for r in rows if low in str(r[0].get("name") or "").lower()
                    or _qstr(r[0].get("id")) == q]
        for name, value in query.items():
            if name in _RESERVED:
                continue
            field = camel(name)
            if field not in props and not any(field in r[0] for r in rows):
                continue
            wanted = value if isinstance(value, list) else (
                value.split(",") if isinstance(value, str) else [value])
            wanted = {_qstr(w) for w in wanted}

            def ok(d, field=field, wanted=wanted):
                v = d.get(field)
                if isinstance(v, dict):
                    v = v.get("id")
                return _qstr(v) in wanted
            rows = [r for r in rows if ok(r[0])]
        order = query.get("order") or route.order_default
        direction = (query.get("order_dir") or route.dir_default or "asc").lower()
        key = _sort_key(camel(order) if isinstance(order, str) and order else "id")
        rows.sort(key=lambda r: key(r[0]), reverse=direction == "desc")
        headers = None
        if route.paginated:
            limit = query.get("limit") or route.limit_default
            limit = max(1, min(int(limit), route.limit_max))
            page = max(1, int(query.get("page_num") or 1))
            total = len(rows)
            rows = rows[(page - 1) * limit: page * limit]
            headers = {"X-Pagination-Current-Page": str(page),
                       "X-Pagination-Per-Page": str(limit),
                       "X-Pagination-Total-Entries": str(total),
                       "X-Pagination-Total-Pages": str(math.ceil(total / limit))}
        if item_schema is None:
            return Reply(route.status, [d for d, _ in rows], headers)
        return Reply(route.status, [self._shape(item_schema, n, d) for d, n in rows], headers)

    def _item(self, route, params, info):
        chain = info["chain"]
        sub = info["sub"]
        key = params[len(chain)]
        if not chain:
            node = self.top_node(sub, key, route.param_names[0])
            if node is None:
                raise not_found(f"{sub.lstrip('/')} {key}".capitalize())
            return None, node
        owner = self.resolve_owner(route, params, chain)
        node = self._find(owner.children.get(sub, {}), key, route.param_names[len(chain)])
        if node is None:
            raise not_found(f"{sub} {key}".capitalize())
        return owner, node

    def _h_obj_get(self, route, params, query, body, info, now):
        _, node = self._item(route, params, info)
        return self.reply(route, node, now, route.param_names[-1], info["sub"])

    def _h_obj_patch(self, route, params, query, body, info, now, replace=False):
        if body is not None and not isinstance(body, dict):
            raise ApiError(400, "bad_request", "body must be of type object")
        _, node = self._item(route, params, info)
        body = {k: v for k, v in (body or {}).items() if k not in _SYSTEM}
        if node.run is not None and isinstance(body.get("error"), str):
            node.run.error = body["error"]
        if replace:
            data = {k: node.data[k] for k in _SYSTEM + ("createdAt",) if k in node.data}
        else:
            data = dict(node.data)
        data.update(body)
        data["updatedAt"] = self.stamp(now)
        node.data = data
        return self.reply(route, node, now, route.param_names[-1], info["sub"])

    def _h_obj_put(self, route, params, query, body, info, now):
        return self._h_obj_patch(route, params, query, body, info, now, replace=True)

    def _h_obj_delete(self, route, params, query, body, info, now):
        owner, node = self._item(route, params, info)
        items = self.top[node.coll] if owner is None else owner.children[info["sub"]]
        del items[node.key]
        if owner is None and self.family.get(node.key) is node:
            del self.family[node.key]
        return self.reply(route, node, now, route.param_names[-1], info["sub"])

    def _h_action(self, route, params, query, body, info, now):
        data = body if isinstance(body, dict) else {}
        if info and (info.get("chain") or info.get("sub")):
            try:
                _, node = self._item(route, params, info)
                data = {**self.view(node, now), **data}
            except ApiError:
                pass
        if route.status == 204 or route.response is None:
            return Reply(route.status)
        return Reply(route.status, self.index.fill(route.response, data))

    # -- singletons and tails ------------------------------------------------
    def _h_endpoints(self, *args):  # served by the HTTP layer, which has the raw bytes
        raise ApiError(500, "internal_error", "/endpoints is served by the server")

    def _h_single_get(self, route, params, query, body, info, now):
        data = self.singletons.get(info, SINGLETONS.get(info))
        if self.index.is_array(route.response):
            return self.list_reply(route, query, [(d, Node(d, info, None))
                                                   for d in (data or [])])
        return Reply(route.status, self.index.fill(route.response, data or {}))

    def _h_single_update(self, route, params, query, body, info, now):
        data = self.singletons.get(info, SINGLETONS.get(info)) or {}
        if isinstance(body, dict) and isinstance(data, dict):
            data = {**data, **body}
        elif body is not None:
            data = body
        self.singletons[info] = data
        if route.status == 204 or route.response is None:
            return Reply(route.status)
        return Reply(route.status, self.index.fill(route.response, data))

    def _h_single_delete(self, route, params, query, body, info, now):
        self.singletons.pop(info, None)
        return Reply(route.status)

    def _h_tail(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        name = "/".join(info["tail"])
        m = route.method
        if info["same"]:
            if m in ("PUT", "PATCH") and isinstance(body, dict):
                owner.data = {**owner.data, **{k: v for k, v in body.items() if k not in _SYSTEM},
                              "updatedAt": self.stamp(now)}
            return self.reply(route, owner, now)
        data = owner.tails.get(name)
        if m in ("PUT", "PATCH"):
            data = {**(data if isinstance(data, dict) else {}), **(body if isinstance(
                body, dict) else {})}
            owner.tails[name] = data
        elif m == "DELETE":
            owner.tails.pop(name, None)
        elif m == "POST":
            data = body if isinstance(body, dict) else {}
        if route.status == 204 or route.response is None:
            return Reply(route.status)
        if self.index.is_array(route.response):
            rows = data if isinstance(data, list) else []
            return self.list_reply(route, query, [(d, Node(d, name, None)) for d in rows])
        return Reply(route.status, self.index.fill(route.response, data or {}))

    def _h_archive(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        status = (body or {}).get("status") if isinstance(body, dict) else None
        if not isinstance(status, bool):
            raise ApiError(400, "bad_request", "status must be of type boolean")
        owner.data = {**owner.data, "archived": status, "updatedAt": self.stamp(now)}
        return self.reply(route, owner, now)

    def _h_clone(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        data = {k: v for k, v in owner.data.items() if k not in _SYSTEM}
        items_owner = None
        if len(info["chain"]) > 1:
            items_owner = self.resolve_owner(route, params, info["chain"][:-1])
        node = self.create(owner.coll if items_owner is None else None, items_owner,
                            owner.coll if items_owner is not None else None, data, now)
        self.creations[route.key] += 1
        return self.reply(route, node, now)

    # -- shares and links -----------------------------------------------------
    def _share_index(self, node):
        sets = {v: {"users": [], "groups": []} for v in PERMISSIONS.values()}
        shares = node.shares or {"users": {}, "groups": {}}
        author = node.data.get("author") or LOCAL_USER
        if author.get("id") not in shares["users"]:
            sets["owners"]["users"].append({"id": author.get("id"), "name": author.get("name")})
        for which, label, top in (("users", "User", "/users"), ("groups", "Group", "/groups")):
            for key, level in shares[which].items():
                target = self.top_node(top, key)
                name = target.data.get("name") if target is not None else f"{label} {key}"
                sets[PERMISSIONS[level]][which].append({"id": key, "name": name})
        return {**sets, "totalUserShares": sum(len(s["users"]) for s in sets.values()),
                "totalGroupShares": sum(len(s["groups"]) for s in sets.values())}

    def _shares_reply(self, route, node):
        index = self._share_index(node)
        if route.status == 204 or route.response is None:
            return Reply(route.status)
        data = [index] if self.index.is_array(route.response) else index
        return Reply(route.status, self.index.fill(route.response, data))

    def _h_shares_get(self, route, params, query, body, info, now):
        return self._shares_reply(route, self.resolve_owner(route, params, info["chain"]))

    def _h_share_set(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        which = info["which"]
        field = "userIds" if which == "users" else "groupIds"
        body = body if isinstance(body, dict) else {}
        ids = body.get(field)
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "bad_request", f"{field} is required")
        level = body.get("permissionLevel")
        if level not in PERMISSIONS:
            raise ApiError(400, "bad_request",
                           "permissionLevel must be one of read, write, manage")
        if node.shares is None:
            node.shares = {"users": {}, "groups": {}}
        for key in ids:
            node.shares[which][key] = level
        return self._shares_reply(route, node)

    def _h_unshare(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        key = params[-1]
        if node.shares is None or node.shares[info["which"]].pop(key, None) is None:
            raise not_found(f"Share with {info['which'][:-1]} {key}")
        return Reply(route.status) if route.status == 204 or route.response is None else (
            self._shares_reply(route, node))

    def _h_link_add(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        owner.links.setdefault(info["sub"], {})[params[-1]] = True
        return self.reply(route, owner, now)

    def _h_link_remove(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        if owner.links.get(info["sub"], {}).pop(params[-1], None) is None:
            raise not_found(f"{info['sub']} {params[-1]}".capitalize())
        return self.reply(route, owner, now)

    def _h_link_get(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        if params[-1] not in owner.links.get(info["sub"], {}):
            raise not_found(f"{info['sub']} {params[-1]}".capitalize())
        return self.reply(route, self._link_target(info["sub"], params[-1]), now)

    def _h_link_list(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        rows = []
        for key in owner.links.get(info["sub"], {}):
            node = self._link_target(info["sub"], key)
            rows.append((self.view(node, now), node))
        return self.list_reply(route, query, rows)

    # -- runs -------------------------------------------------------------------
    def _fail_reason(self, owner, body):
        name = owner.data.get("name")
        if isinstance(name, str) and "fail" in name.lower():
            return "Simulated failure: the job's name contains 'fail'"
        body = body if isinstance(body, dict) else {}
        for source in (body, body.get("arguments"), body.get("input"),
                       owner.data.get("arguments"), owner.data.get("input")):
            if isinstance(source, dict) and source.get("fail"):
                flag = source["fail"]
                return flag if isinstance(flag, str) else "Simulated failure: 'fail' flag set"
        return None

    def _h_run_create(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        data = {k: v for k, v in body.items() if k != "fail"} if isinstance(body, dict) else {}
        node = self.create(None, owner, info["sub"], data, now,
                            error=self._fail_reason(owner, body))
        self.creations[route.key] += 1
        return self.reply(route, node, now, sub=info["sub"])

    def _h_run_list(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        rows = [(self.view(n, now), n) for n in owner.children.get(info["sub"], {}).values()]
        return self.list_reply(route, query, rows)

    def _cancel(self, node, now):
        self._advance_logs(node, now)
        if node.run.at(now)[0] in ACTIVE_STATES:
            node.run.cancel_t = now

    def _h_run_cancel(self, route, params, query, body, info, now):
        _, node = self._item(route, params, info)
        self._cancel(node, now)
        return self.reply(route, node, now, route.param_names[-1], info["sub"])

    def _h_cancel(self, route, params, query, body, info, now):
        owner = self.resolve_owner(route, params, info["chain"])
        if owner.run is None:
            runs = self._latest_run(owner)
            if not runs:
                raise not_found(f"A run of {info['chain'][-1][0].lstrip('/')} {owner.key}")
            owner = next(reversed(runs.values()))
        self._cancel(owner, now)
        return self.reply(route, owner, now)

    def _advance_logs(self, node, now):
        r = node.run
        events = r.events()
        while r.phase < len(events) and events[r.phase][0] <= now:
            t, message, level = events[r.phase]
            r.phase += 1
            r.logs.append({"id": len(r.logs) + 1, "createdAt": self.stamp(t),
                           "message": message, "level": level})

    def _h_logs_get(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        if node.run is None:
            return Reply(route.status, [])
        self._advance_logs(node, now)
        last = query.get("last_id")
        lines = node.run.logs
        if isinstance(last, int):
            lines = [x for x in lines if x["id"] > last]
        limit = query.get("limit")
        if isinstance(limit, int) and limit >= 0:
            lines = lines[:limit]
        return Reply(route.status, self.index.fill(route.response, lines))

    def _h_logs_post(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        if node.run is None:
            raise not_found(f"Run {node.key}")
        self._advance_logs(node, now)
        body = body if isinstance(body, dict) else {}
        batch = body.get("messages") if isinstance(body.get("messages"), list) else [body]
        for m in batch:
            if isinstance(m, dict) and m.get("message") is not None:
                node.run.logs.append({"id": len(node.run.logs) + 1,
                                      "createdAt": m.get("createdAt") or self.stamp(now),
                                      "message": str(m["message"]),
                                      "level": m.get("level") or "info"})
        return Reply(route.status)

    def _h_outputs_list(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        rows = [(d, Node(d, "outputs", None)) for d in (node.run.outputs if node.run else [])]
        return self.list_reply(route, query, rows)

    def _h_outputs_add(self, route, params, query, body, info, now):
        node = self.resolve_owner(route, params, info["chain"])
        if node.run is None:
            raise not_found(f"Run {node.key}")
        body = body if isinstance(body, dict) else {}
        kind, oid = body.get("objectType"), body.get("objectId")
        if not kind or oid is None:
            raise ApiError(400, "bad_request", "objectType and objectId are required")
        out = {"objectType": kind, "objectId": oid, "name": f"{kind} {oid}",
               "link": f"/{camel(str(kind)).lower()}s/{oid}", "value": None,
               "id": len(node.run.outputs) + 1, "createdAt": self.stamp(now)}
        node.run.outputs.append(out)
        if route.status == 204 or route.response is None:
            return Reply(route.status)
        return Reply(route.status, self.index.fill(route.response, out))
