"""Runs as the schema describes them: one :class:`RunKind` per resource and kind of run.

A *run collection* is a path ``<owner>/{id}/<word>`` whose last segment is one
of the run words below (``runs``, ``builds``, ``executions``,
``deployments``). Around it the schema declares, by shape alone:

==============================================  =====================
path (verb)                                     role
==============================================  =====================
``<owner>/{id}/<word>`` (POST)                  ``start``
``<owner>/{id}/<word>`` (GET)                   ``list``
``<owner>/{id}/<word>/{run_id}`` (GET)          ``get``
``<owner>/{id}/<word>/{run_id}`` (DELETE)       ``cancel``
``<owner>/{id}/<word>/{run_id}/cancel`` (POST)  ``cancel`` (no DELETE)
``<owner>/{id}/<word>/{run_id}/logs`` (GET)     ``logs``
``<owner>/{id}/<word>/{run_id}/outputs`` (GET)  ``outputs``
==============================================  =====================

A collection that can be started or read one run at a time is a run kind.
Every Civis run belongs to a job, so a kind of ``runs`` that has no GET of its
own (``POST /imports/{id}/runs``) is read, cancelled and listed for outputs
through the plain ``jobs`` runs. The kind's name is the part of the API method
name between the verb and the word (``python3`` for ``post_python3_runs``;
None for ``post_runs``).

What a state means is a fact about the collection (:data:`RUN_COLLECTIONS`):
runs, builds and executions end ``succeeded``, ``failed`` or ``cancelled``
(``success`` and ``error`` too); a deployment is done when it is up
(``running``, ``sleeping``), failed when ``failed``, gone when ``terminated``.

Everything here is pure data derived from an :class:`~civis_dyn.spec.ApiSpec`
and cached per spec (weakly: the cache never keeps a schema alive).
"""

import re

from ._naming import path_shape

__all__ = [
    "ACTIVE_STATES",
    "CANCELLED",
    "CIVIS_PYTHON_JOBS",
    "FAILED",
    "RUN_COLLECTIONS",
    "SUCCEEDED",
    "Endpoint",
    "RunKind",
    "RunStates",
    "jobs_run_kind",
    "offers_runs",
    "run_kinds",
]

#: Outcomes of a final state.
SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"
#: States of a run that has not ended (what housekeeping cancels, what the local API can cancel).
ACTIVE_STATES = ("queued", "running")


class RunStates:
    """What the states of one run collection mean.

    Parameters
    ----------
    outcomes : dict
        Final state -> :data:`SUCCEEDED`, :data:`FAILED` or :data:`CANCELLED`;
        any other state means "not done yet".
    ends_as : str
        The state a successful run ends in (what a local API reports).
    cancel_removes : bool
        True when cancelling removes the item (a deployment) instead of
        marking it cancelled.
    """

    __slots__ = ("outcomes", "ends_as", "cancel_removes")

    def __init__(self, outcomes, ends_as, cancel_removes=False):
        self.outcomes = dict(outcomes)
        self.ends_as = ends_as
        self.cancel_removes = cancel_removes

    def outcome(self, state):
        """:data:`SUCCEEDED`, :data:`FAILED`, :data:`CANCELLED`, or None (not final)."""
        if isinstance(state, str):
            state = state.lower()
        return self.outcomes.get(state)

    def __repr__(self):
        return f"<RunStates final={sorted(self.outcomes)} ends_as={self.ends_as!r}>"


_RUN_OUTCOMES = {"succeeded": SUCCEEDED, "success": SUCCEEDED, "failed": FAILED,
                 "error": FAILED, "cancelled": CANCELLED}
#: The run-like collections, by the last segment of their path, and what their states mean.
RUN_COLLECTIONS = {
    "runs": RunStates(_RUN_OUTCOMES, "succeeded"),
    "builds": RunStates(_RUN_OUTCOMES, "succeeded"),
    "executions": RunStates(_RUN_OUTCOMES, "succeeded"),
    # a deployment is done when it is up, and is removed (not cancelled) by DELETE
    "deployments": RunStates({"running": SUCCEEDED, "sleeping": SUCCEEDED, "failed": FAILED,
                              "terminated": CANCELLED}, "running", cancel_removes=True),
}

_RUN_PATH = re.compile(
    r"^(?P<owner>.*/\{[^}/]+\})/(?P<word>" + "|".join(RUN_COLLECTIONS) + r")"
    r"(?:/\{(?P<param>[^}/]+)\}(?:/(?P<tail>[^/{}]+))?)?/?$")
# (verb, has a run id, tail) -> role
_ROLES = {("post", False, None): "start", ("get", False, None): "list",
          ("get", True, None): "get", ("delete", True, None): "cancel",
          ("post", True, "cancel"): "post_cancel", ("get", True, "logs"): "logs",
          ("get", True, "outputs"): "outputs"}
_ENDPOINTS = ("start", "get", "cancel", "list", "logs", "outputs")


class Endpoint(tuple):
    """An API method as ``(resource, method)``: ``("scripts", "get_python3_runs")``."""

    __slots__ = ()

    def __new__(cls, resource, method):
        return tuple.__new__(cls, (resource, method))

    @property
    def resource(self):
        return self[0]

    @property
    def method(self):
        return self[1]

    def __repr__(self):
        return f"{self[0]}.{self[1]}"


class RunKind:
    """How to start, read, cancel and list one kind of run of one resource.

    Attributes
    ----------
    resource : str
        The resource offering the runs (``"scripts"``).
    kind : str or None
        ``"python3"`` for ``post_python3_runs``; None for ``post_runs``.
    collection : str
        ``"runs"``, ``"builds"``, ``"executions"`` or ``"deployments"``.
    owner_path : str
        The path of the object being run (``/scripts/python3/{id}``).
    run_id_param : str
        The name of the run's id in its paths (``run_id``, ``deployment_id``).
    start, get, cancel, list, logs, outputs : Endpoint or None
        The API methods, each ``(resource, method)``; ``get``, ``cancel``,
        ``logs`` and ``outputs`` may belong to ``jobs`` (see the module notes).
    states : RunStates
        What the collection's states mean.
    """

    __slots__ = ("resource", "kind", "collection", "owner_path", "run_id_param", "states",
                 *_ENDPOINTS)

    def __init__(self, resource, kind, collection, owner_path="", run_id_param="run_id",
                 **endpoints):
        self.resource = resource
        self.kind = kind
        self.collection = collection
        self.owner_path = owner_path
        self.run_id_param = run_id_param
        self.states = RUN_COLLECTIONS.get(collection, RUN_COLLECTIONS["runs"])
        for name in _ENDPOINTS:
            value = endpoints.pop(name, None)
            setattr(self, name, None if value is None else Endpoint(*value))
        if endpoints:
            raise TypeError(f"RunKind(): unknown endpoints {sorted(endpoints)}")

    def has(self, *roles):
        """True when every one of ``roles`` (``"start"``, ``"get"``…) has an endpoint."""
        return all(getattr(self, role) is not None for role in roles)

    def bound(self, client, role):
        """The client's bound method for ``role`` (``client.scripts.get_python3_runs``), or None."""
        endpoint = getattr(self, role)
        if endpoint is None or client is None:
            return None
        return getattr(getattr(client, endpoint.resource), endpoint.method)

    @property
    def label(self):
        """``"scripts python3 runs"``: how messages name this kind."""
        return " ".join(p for p in (self.resource, self.kind, self.collection) if p)

    def __repr__(self):
        shown = " ".join(f"{n}={getattr(self, n)!r}" for n in _ENDPOINTS if getattr(self, n))
        return f"<RunKind {self.resource} kind={self.kind!r} {self.collection}: {shown}>"


#: What civis-python assumes of every run (``client.jobs.get_runs``…): the model of a
#: client that offers no schema (a plain mock).
CIVIS_PYTHON_JOBS = RunKind(
    "jobs", None, "runs", "/jobs/{id}", start=("jobs", "post_runs"), get=("jobs", "get_runs"),
    cancel=("jobs", "delete_runs"), list=("jobs", "list_runs"), logs=("jobs", "list_runs_logs"),
    outputs=("jobs", "list_runs_outputs"))


def _kind_name(method, collection):
    """``python3`` for ``post_python3_runs``; None for ``post_runs``."""
    stem = method.split("_", 1)[1] if "_" in method else ""
    if stem.endswith(collection):
        stem = stem[:-len(collection)]
    return stem.rstrip("_") or None


def _derive(spec, resource):
    methods = spec.index.get(resource) or {}
    groups = {}  # (owner shape, word) -> {"roles": {...}, "owner": path, "param": name}
    # preferred names first, so a deprecated alias only fills a role nothing else has
    ordered = sorted(methods.items(), key=lambda item: bool(item[1][2]))
    for name, (verb, path, alias_of) in ordered:
        match = _RUN_PATH.match(path)
        if match is None:
            continue
        role = _ROLES.get((verb, match["param"] is not None, match["tail"]))
        if role is None:
            continue
        group = groups.setdefault((path_shape(match["owner"]), match["word"]),
                                  {"roles": {}, "owner": match["owner"], "param": None})
        group["roles"].setdefault(role, name)
        if match["param"] and group["param"] is None:
            group["param"] = match["param"]
        if role in ("start", "get"):
            group["owner"] = match["owner"]
    table = {}
    for (_, word), group in groups.items():
        roles = group["roles"]
        if "cancel" not in roles and "post_cancel" in roles:
            roles["cancel"] = roles["post_cancel"]
        if "start" not in roles and "get" not in roles:
            continue  # only listed (cluster deployments): not a run this client drives
        named_by = roles.get("start") or roles.get("get")
        kind = _kind_name(named_by, word)
        if kind in table:
            continue
        endpoints = {role: (resource, roles[role]) for role in _ENDPOINTS if role in roles}
        table[kind] = RunKind(resource, kind, word, group["owner"],
                              group["param"] or "run_id", **endpoints)
    if resource != "jobs":
        for run_kind in table.values():
            if run_kind.collection == "runs" and run_kind.get is None:
                _read_through_jobs(spec, run_kind)
    return table


def _read_through_jobs(spec, run_kind):
    """Fill what a kind of runs lacks from the plain ``jobs`` runs (every run is a job's)."""
    if "jobs" not in spec.index:
        return
    jobs = run_kinds(spec, "jobs").get(None)
    if jobs is None or jobs.get is None:
        return
    run_kind.run_id_param = jobs.run_id_param
    for role in ("get", "cancel", "logs", "outputs"):
        if getattr(run_kind, role) is None:
            setattr(run_kind, role, getattr(jobs, role))




def run_kinds(spec, resource):
    """Return ``{kind: RunKind}`` for ``resource`` of ``spec`` (cached per spec).

    Parameters
    ----------
    spec : civis_dyn.spec.ApiSpec
    resource : str
        A resource name (``"scripts"``); an unknown one has no runs (``{}``).

    Returns
    -------
    dict
        Kind name (None for the plain kind) -> :class:`RunKind`. Do not mutate.
    """
    return spec.derived(("run_kinds", resource), lambda: _derive(spec, resource))


def jobs_run_kind(spec):
    """The plain ``jobs`` runs of ``spec`` (every Civis run belongs to a job).

    With no schema (None), or a schema without them, what civis-python
    assumes: :data:`CIVIS_PYTHON_JOBS`.
    """
    if spec is not None and "jobs" in spec.index:
        found = run_kinds(spec, "jobs").get(None)
        if found is not None and found.get is not None:
            return found
    return CIVIS_PYTHON_JOBS


def offers_runs(*roles):
    """A predicate ``(spec, resource) -> bool``: some kind of run of it has every role.

    Used to offer run conveniences only on the resources that can use them
    (``offers_runs("start", "get")`` for ``client.<resource>.run``).
    """
    def applies(spec, resource):
        return any(k.has(*roles) for k in run_kinds(spec, resource).values())

    applies.__name__ = "offers_runs(" + ", ".join(map(repr, roles)) + ")"
    return applies
