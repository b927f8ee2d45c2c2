"""Runs: start them, wait for them, follow their logs, cancel them.

Everything here is generic over what the schema lets us run, found in the
client's index rather than listed by hand:

* every resource with ``POST …/{id}/runs`` and ``GET …/{id}/runs/{run_id}``
  (jobs, scripts of every kind, imports, exports, enhancements, queries…),
  cancelled with ``DELETE …/runs/{run_id}``; a start path without its own GET
  (``POST /imports/{id}/runs``) is polled through ``/jobs/{id}/runs/{run_id}``,
  since every Civis run belongs to a job;
* workflow executions (``post_executions``/``get_executions``, cancelled with
  ``post_executions_cancel``);
* deployments of services, notebooks and the like (``post_deployments``/
  ``get_deployments``, cancelled with ``delete_deployments``);
* runs that can be watched but not started here, such as model builds
  (``GET /models/{id}/builds/{build_id}``): ``watch_run`` and ``follow_logs``.

Module functions
----------------
:class:`CivisFuture`
    A :class:`concurrent.futures.Future` of one run.
:func:`run_job`\\ ``(job_id, client=None, polling_interval=None)``
    Start a job (``client.jobs.post_runs``) and return its :class:`CivisFuture`.
:func:`follow_logs`\\ ``(job_id, run_id, client=None, *, polling_interval=None)``
    A generator of the run's new log entries until the run is final.

Methods on resources
--------------------
Offered on every resource that has a runs pair (``dir(client.jobs)`` lists
them). Resources with several kinds of runs (``scripts``: ``sql``,
``python3``, ``containers``…; ``enhancements``; ``imports``) take ``kind=``,
the part of the API method name between ``post_`` and ``_runs``::

    client.jobs.run(id, *, kind=None, polling_interval=None, on_state_change=None,
                    **start_arguments)                           -> CivisFuture
    client.jobs.run_and_wait(id, *, kind=None, timeout=None, callback=None,
                             polling_interval=None, **start_arguments) -> Response
    client.jobs.watch_run(id, run_id, *, kind=None, polling_interval=None,
                          on_state_change=None)                  -> CivisFuture
    client.jobs.follow_logs(id, run_id, *, kind=None, polling_interval=None)
                                                                 -> iterator of Response

    client.scripts.run_and_wait(17, kind="python3", timeout=600)
    client.workflows.run(5, target_task="load").result()
    client.services.run_and_wait(3)        # waits until the deployment is up

``run_and_wait`` polls in the calling thread (no background thread): it calls
``callback(run)`` on every change of state, returns the final run on success,
raises :class:`~civis_dyn.CivisJobFailure` on failure,
:class:`concurrent.futures.CancelledError` when the run was cancelled and
:class:`~civis_dyn.CivisRunTimeoutError` (a :class:`TimeoutError` carrying the
last known state in ``.response``) after ``timeout`` seconds; the run itself
goes on (cancel it with ``client.jobs.delete_runs(id, run_id)`` if you wish).

States
------
Runs and workflow executions end ``succeeded`` (or ``success``), ``failed``
(or ``error``) or ``cancelled``. A deployment is done when it is ``running``
or ``sleeping`` (it is up), failed when ``failed``, and cancelled when
``terminated``. Any other state (``queued``, ``running``, ``pending``, None…)
means "keep polling".

Polling
-------
A future is polled immediately (unless ``poll_on_creation=False``), then
after 1 s, 1.2 s, 1.44 s … (times 1.2) up to 15 s between polls, or every
``polling_interval`` seconds when one is given. All futures of the process are
polled by one shared background poller (see :mod:`civis_dyn._poller`): one
scheduling thread and a fixed pool of at most 8 HTTP worker threads (env
``CIVIS_DYN_POLL_WORKERS``; ``0`` polls sequentially from the scheduling
thread), however many futures exist. No lock is held across a network call.

Callbacks
---------
Done-callbacks (:meth:`CivisFuture.add_done_callback`) and ``on_state_change``
hooks run in a poller thread (or in the calling thread when the future is
already done); keep them short. An exception raised by one is logged, kept in
:attr:`CivisFuture.callback_errors`, and **surfaced** rather than swallowed:
when the run itself succeeded, :meth:`~CivisFuture.result` raises the first
such exception and :meth:`~CivisFuture.exception` returns it. A failed run's
own exception and a cancelled run's :class:`~concurrent.futures.CancelledError`
take precedence. ``result()`` and ``exception()`` return only after every
done-callback has run, so what they report does not depend on timing.
"""

import concurrent.futures
import logging
import re
import threading
import time
import types
from concurrent.futures._base import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    PENDING,
    RUNNING,
)
from urllib.parse import urlsplit

from ._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisDynError,
    CivisJobFailure,
    CivisRunTimeoutError,
)
from ._poller import in_poller_thread, shared_poller
from ._resources import Resource, client_of, name_of
from ._response import Response
from .spec._naming import path_shape

__all__ = [
    "CivisFuture",
    "follow_logs",
    "follow_resource_logs",
    "run",
    "run_and_wait",
    "run_job",
    "watch_run",
]

log = logging.getLogger("civis_dyn.futures")

#: Backoff of the default polling schedule: first delay, factor, ceiling (seconds).
FIRST_INTERVAL = 1.0
BACKOFF_FACTOR = 1.2
MAX_INTERVAL = 15.0
#: Log lines kept in a :class:`~civis_dyn.CivisJobFailure`.
FAILURE_LOG_LINES = 20
#: The logs endpoints' documented default page size.
LOG_PAGE_SIZE = 10_000

SUCCEEDED, FAILED, CANCELLED_RUN = "succeeded", "failed", "cancelled"
_RUN_OUTCOMES = {"succeeded": SUCCEEDED, "success": SUCCEEDED, "failed": FAILED,
                 "error": FAILED, "cancelled": CANCELLED_RUN}
_DEPLOYMENT_OUTCOMES = {"running": SUCCEEDED, "sleeping": SUCCEEDED, "failed": FAILED,
                        "terminated": CANCELLED_RUN}
# Run-like sub-collections: the last path segment of a start path -> final states.
COLLECTIONS = {"runs": _RUN_OUTCOMES, "builds": _RUN_OUTCOMES, "executions": _RUN_OUTCOMES,
               "deployments": _DEPLOYMENT_OUTCOMES}
# Fields holding a run's error, in order of preference.
_ERROR_FIELDS = ("error", "state_message", "mistral_state_info", "error_message")
_START_PATH = re.compile(r"^(?P<owner>.*/\{[^}/]+\})/(?P<collection>[^/{}]+)/?$")
_ITEM_PATH = re.compile(
    r"^(?P<owner>.*/\{[^}/]+\})/(?P<collection>[^/{}]+)/\{(?P<param>[^}/]+)\}/?$")
_DONE_STATES = (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED)


# -- what can be run: derived from the schema's index -------------------------
class RunEndpoints:
    """The API methods that start, poll, cancel and read one kind of run.

    Each endpoint is a ``(resource, method name)`` pair or None.

    Attributes
    ----------
    resource : str
        The resource offering the start method (``"scripts"``).
    kind : str or None
        ``"python3"`` for ``post_python3_runs``; None for ``post_runs``.
    collection : str
        ``"runs"``, ``"executions"`` or ``"deployments"``.
    start, get, cancel, logs, outputs : tuple or None
    owner_path : str
        The path of the object being run, e.g. ``/scripts/python3/{id}``.
    outcomes : dict
        Final state -> ``"succeeded"``, ``"failed"`` or ``"cancelled"``.
    """

    __slots__ = ("resource", "kind", "collection", "start", "get", "cancel", "logs", "outputs",
                 "owner_path", "outcomes", "run_id_param")

    def __init__(self, resource, kind, collection, start, get, cancel=None, logs=None,
                 outputs=None, owner_path="", run_id_param="run_id"):
        self.resource = resource
        self.kind = kind
        self.collection = collection
        self.start = start
        self.get = get
        self.cancel = cancel
        self.logs = logs
        self.outputs = outputs
        self.owner_path = owner_path
        self.outcomes = COLLECTIONS.get(collection, _RUN_OUTCOMES)
        self.run_id_param = run_id_param

    def bound(self, client, which):
        """The bound API method for endpoint ``which`` of ``client``, or None."""
        endpoint = getattr(self, which)
        if endpoint is None or client is None:
            return None
        resource, name = endpoint
        return getattr(getattr(client, resource), name)

    def __repr__(self):
        return (f"<RunEndpoints {self.resource} kind={self.kind!r} start={self.start} "
                f"get={self.get} cancel={self.cancel} logs={self.logs}>")


def _find(methods, verb, shape):
    """The name of the (non-alias) method ``verb`` whose path has ``shape``."""
    found = None
    for name, (method_verb, path, alias_of) in methods.items():
        if method_verb == verb and path_shape(path) == shape:
            if not alias_of:
                return name
            found = found or name
    return found


def _kind(name, prefix, collection):
    """``python3`` for ``post_python3_runs``; None for ``post_runs``."""
    if name.startswith(prefix) and name.endswith(collection):
        return name[len(prefix):-len(collection)].rstrip("_") or None
    return name


def _derive_endpoints(spec, resource):
    methods = spec.index.get(resource) or {}
    table = {}
    for name, (verb, path, alias_of) in methods.items():  # GET …/{id}/runs/{run_id}
        match = _ITEM_PATH.match(path)
        if verb != "get" or alias_of or match is None or match["collection"] not in COLLECTIONS:
            continue
        collection = match["collection"]
        item = path_shape(path)
        start = _find(methods, "post", item[:-len("/{}")])
        kind = _kind(start, "post_", collection) if start else _kind(name, "get_", collection)
        cancel = _find(methods, "delete", item) or _find(methods, "post", item + "/cancel")
        logs = _find(methods, "get", item + "/logs")
        outputs = _find(methods, "get", item + "/outputs")
        table[kind] = RunEndpoints(
            resource, kind, collection, start and (resource, start), (resource, name),
            cancel and (resource, cancel), logs and (resource, logs),
            outputs and (resource, outputs), match["owner"], match["param"])
    jobs = None
    for name, (verb, path, alias_of) in methods.items():  # a start without its own GET
        match = _START_PATH.match(path)
        if verb != "post" or alias_of or match is None or match["collection"] != "runs":
            continue
        kind = _kind(name, "post_", "runs")
        if kind in table or resource == "jobs":
            continue
        jobs = jobs or _jobs_runs(spec)
        if jobs is None:
            continue
        logs = _find(methods, "get", path_shape(path) + "/{}/logs")
        table[kind] = RunEndpoints(
            resource, kind, "runs", (resource, name), jobs.get, jobs.cancel,
            (resource, logs) if logs else jobs.logs, jobs.outputs, match["owner"],
            jobs.run_id_param)
    return table


def _jobs_runs(spec):
    """The plain ``jobs`` runs endpoints (every Civis run belongs to a job), or None."""
    if "jobs" not in spec.index:
        return None
    return run_endpoints(spec, "jobs").get(None)


def run_endpoints(spec, resource):
    """Return ``{kind: RunEndpoints}`` for ``resource`` of ``spec`` (cached per spec)."""
    cache = spec.__dict__.setdefault("_run_endpoints", {})
    try:
        return cache[resource]
    except KeyError:
        pass
    return cache.setdefault(resource, _derive_endpoints(spec, resource))


def _endpoints_of_poller(poller):
    """``(RunEndpoints or None, client or None)`` for a bound API method."""
    function = getattr(poller, "__func__", None)
    operation = getattr(function, "operation", None)
    resource = getattr(poller, "__self__", None)
    client = client_of(resource) if isinstance(resource, Resource) else None
    if operation is None or client is None or not isinstance(poller, types.MethodType):
        return None, client
    spec = operation.spec
    wanted = (operation.resource, operation.alias_of or operation.name)
    for endpoints in run_endpoints(spec, operation.resource).values():
        if endpoints.get == wanted:
            return endpoints, client
    return None, client


def _select_endpoints(resource, kind, label, need=None):
    """The :class:`RunEndpoints` of a resource instance for ``kind``."""
    name = name_of(resource)
    table = run_endpoints(client_of(resource).meta.spec, name)
    if need:
        table = {k: e for k, e in table.items() if getattr(e, need) is not None}
    if kind is not None:
        if not isinstance(kind, str):
            raise ArgumentTypeError(f"{label} argument 'kind' must be a str, not "
                                    f"{type(kind).__name__}")
        key = kind.replace("-", "_").lower()
        if key in table:
            return table[key]
        raise ArgumentValueError(f"{label} argument 'kind' must be one of "
                                 f"{_kinds_text(table)}; got {kind!r}")
    if None in table:
        return table[None]
    if len(table) == 1:
        return next(iter(table.values()))
    if not table:
        raise TypeError(f"{label}: {name!r} has no runs this method can use")
    raise TypeError(f"{label} needs kind=: {name!r} runs several kinds: "
                    f"{_kinds_text(table)}")


def _kinds_text(table):
    kinds = sorted(repr(k) for k in table if k is not None)
    return ", ".join(kinds) if kinds else "(none)"


# -- small helpers --------------------------------------------------------------
def _as_response(value):
    """A :class:`Response` from what an API method returned (any return_type)."""
    if isinstance(value, Response) or value is None:
        return value
    if isinstance(value, dict):
        return Response(value)
    json_method = getattr(value, "json", None)
    if callable(json_method) and hasattr(value, "status_code"):  # return_type="raw"
        data = json_method() if getattr(value, "content", b"") else {}
        return Response(data if isinstance(data, dict) else {}, headers=value.headers)
    return value


def _as_items(value):
    if value is None:
        return []
    if hasattr(value, "status_code") and callable(getattr(value, "json", None)):
        value = value.json() if value.content else []
    return [_as_response(v) for v in value]


def _field(run, name):
    if run is None:
        return None
    getter = getattr(run, "get", None)
    return getter(name) if getter is not None else getattr(run, name, None)


def _state_of(run):
    state = _field(run, "state")
    return state.lower() if isinstance(state, str) else state


def _error_message(run, state):
    for name in _ERROR_FIELDS:
        value = _field(run, name)
        if value:
            return str(value)
    return f"the run ended in state {state!r}"


def _check_interval(value, label, name="polling_interval"):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{label} argument {name!r} must be a number of seconds, "
                                f"not {type(value).__name__}")
    if not value > 0:
        raise ArgumentValueError(f"{label} argument {name!r} must be > 0; got {value!r}")
    return float(value)


def _check_timeout(value, label):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{label} argument 'timeout' must be a number of seconds, "
                                f"not {type(value).__name__}")
    if not value >= 0:
        raise ArgumentValueError(f"{label} argument 'timeout' must be >= 0; got {value!r}")
    return float(value)


def _check_callable(value, label, name):
    if value is not None and not callable(value):
        raise ArgumentTypeError(f"{label} argument {name!r} must be callable, "
                                f"not {type(value).__name__}")
    return value


def _check_id(value, label, name):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ArgumentTypeError(f"{label} argument {name!r} must be an int, "
                            f"not {type(value).__name__}")


class _Backoff:
    """Delays between polls: fixed, or 1 s growing by 1.2x up to 15 s."""

    __slots__ = ("fixed", "current")

    def __init__(self, fixed=None):
        self.fixed = fixed
        self.current = FIRST_INTERVAL

    def next(self):
        if self.fixed is not None:
            return self.fixed
        delay = self.current
        self.current = min(MAX_INTERVAL, self.current * BACKOFF_FACTOR)
        return delay

    def reset(self):
        self.current = FIRST_INTERVAL


def _run_id_from(run, endpoints):
    """The id of a run just started, from the start method's answer."""
    for name in (endpoints.run_id_param, "id"):
        value = _field(run, name)
        if value is not None:
            return value
    raise CivisDynError(f"{endpoints.resource}.{endpoints.start[1]}() answered without a run id")


def _platform_url(client, path):
    """The Civis Platform page mirroring API ``path``, or None."""
    base = getattr(client, "base_url", None)
    if not base:
        return None
    host = urlsplit(base).hostname or ""
    if not host.startswith("api."):
        return None
    return f"https://platform.{host[len('api.'):]}/spa/#{path}"


def _read_logs(logs_method, job_id, run_id, last_id=None):
    """Log entries newer than ``last_id``, oldest first."""
    kwargs = {} if last_id is None else {"last_id": last_id}
    entries = _as_items(logs_method(job_id, run_id, **kwargs))
    entries = [e for e in entries if _field(e, "id") is not None]
    entries.sort(key=lambda e: _field(e, "id"))
    if last_id is not None:
        entries = [e for e in entries if _field(e, "id") > last_id]
    return entries


def _tail_logs(logs_method, job_id, run_id, count=FAILURE_LOG_LINES):
    """The last ``count`` log messages of a run ([] when they cannot be read)."""
    if logs_method is None:
        return []
    try:
        entries = _read_logs(logs_method, job_id, run_id)
    except Exception as exc:  # the failure matters more than its logs
        log.debug("could not read the logs of job %s run %s: %s", job_id, run_id, exc)
        return []
    return [str(_field(e, "message") or "") for e in entries[-count:]]


def _failure(run, state, job_id, run_id, logs_method):
    return CivisJobFailure(_error_message(run, state), response=run, job_id=job_id,
                           run_id=run_id, log_lines=_tail_logs(logs_method, job_id, run_id))


# -- the future -----------------------------------------------------------------
class CivisFuture(concurrent.futures.Future):
    """A :class:`concurrent.futures.Future` of a Civis run, polled in the background.

    Parameters
    ----------
    poller : callable
        Returns the run's current state, e.g. ``client.jobs.get_runs``.
    poller_args : tuple
        Its arguments, e.g. ``(job_id, run_id)``.
    polling_interval : float, optional
        Seconds between polls; default: 1 s, growing by 1.2x up to 15 s.
    client : APIClient, optional
        Default: the client ``poller`` belongs to.
    poll_on_creation : bool, optional
        Poll at once (default) or only after the first interval.
    on_state_change : callable, optional
        Called as ``on_state_change(run)`` whenever the run's state changes
        (the first state seen included), in a poller thread.

    Notes
    -----
    ``result()`` gives the final run (a :class:`~civis_dyn.Response`) when it
    succeeded, raises :class:`~civis_dyn.CivisJobFailure` (with the error
    message, ``job_id``, ``run_id`` and the last log lines) when it failed,
    :class:`concurrent.futures.CancelledError` when it was cancelled, and the
    API error when polling itself failed (after the transport's retries). A
    timeout raises :class:`~civis_dyn.CivisRunTimeoutError`, a
    :class:`TimeoutError` carrying the last known state. See the module
    documentation for callbacks and polling.

    When ``poller`` is an API method of a run kind the schema describes
    (``client.scripts.get_python3_runs``…), :meth:`cancel`, :meth:`outputs`,
    the failure's log lines and :attr:`job_url` use the matching endpoints.
    """

    def __init__(self, poller, poller_args, polling_interval=None, client=None,
                 poll_on_creation=True, *, on_state_change=None):
        super().__init__()
        label = "CivisFuture()"
        if not callable(poller):
            raise ArgumentTypeError(f"{label} argument 'poller' must be callable, "
                                    f"not {type(poller).__name__}")
        if isinstance(poller_args, (str, bytes)) or not hasattr(poller_args, "__iter__"):
            raise ArgumentTypeError(f"{label} argument 'poller_args' must be a tuple, "
                                    f"not {type(poller_args).__name__}")
        self.poller = poller
        self.poller_args = tuple(poller_args)
        self.polling_interval = _check_interval(polling_interval, label)
        self.poll_on_creation = bool(poll_on_creation)
        self._on_state_change = _check_callable(on_state_change, label, "on_state_change")
        endpoints, poller_client = _endpoints_of_poller(poller)
        self.client = client if client is not None else poller_client
        self._endpoints = endpoints
        self._outcomes = endpoints.outcomes if endpoints else _RUN_OUTCOMES
        self._backoff = _Backoff(self.polling_interval)
        self._last_run = None
        self._last_state = _NEVER
        self._settled = threading.Event()
        self._callback_thread = None
        self._callback_errors = []
        self._poller_instance = shared_poller()
        first = 0.0 if self.poll_on_creation else self._backoff.next()
        self._poller_instance.schedule(self, first)

    # -- identity -----------------------------------------------------------
    @property
    def job_id(self):
        """The job (or workflow, service…) id: ``poller_args[0]``."""
        return self.poller_args[0] if self.poller_args else None

    @property
    def run_id(self):
        """The run (or execution, deployment) id: ``poller_args[1]``, or None."""
        return self.poller_args[1] if len(self.poller_args) > 1 else None

    @property
    def job_url(self):
        """The job's page on Civis Platform, or None when it cannot be derived.

        The Platform's host comes from the client's base URL (``api.X`` ->
        ``platform.X``; None for other hosts, such as a local test server).
        Runs of jobs and scripts link to ``/spa/#/jobs/{job_id}``, as
        civis-python does; workflows, services and the like to the page
        mirroring their API path (``/spa/#/workflows/{id}``).
        """
        if self.job_id is None:
            return None
        endpoints = self._endpoints
        if endpoints is None or endpoints.collection == "runs":
            path = f"/jobs/{self.job_id}"
        else:
            path = re.sub(r"\{[^}]+\}", str(self.job_id), endpoints.owner_path, count=1)
        return _platform_url(self.client, path)

    @property
    def job_run_url(self):
        """The run's page on Civis Platform (``…/jobs/{job_id}?runId={run_id}``), or None.

        None when :attr:`job_url` is, and for workflow executions and
        deployments, which have no page of their own.
        """
        job_url = self.job_url
        if job_url is None or self.run_id is None:
            return None
        endpoints = self._endpoints
        if endpoints is not None and endpoints.collection != "runs":
            return None
        return f"{job_url}?runId={self.run_id}"

    @property
    def last_response(self):
        """The run as last polled (a :class:`~civis_dyn.Response`), or None."""
        return self._last_run

    @property
    def state(self):
        """The run's last known state (``"running"``…), or None before the first poll."""
        return None if self._last_state is _NEVER else self._last_state

    @property
    def callback_errors(self):
        """Exceptions raised by done-callbacks and ``on_state_change`` (a list copy)."""
        with self._condition:
            return list(self._callback_errors)

    def __repr__(self):
        with self._condition:
            status = self._state.lower()
        return (f"<CivisFuture at {id(self):#x} {status} job_id={self.job_id} "
                f"run_id={self.run_id} state={self.state!r}>")

    # -- status -------------------------------------------------------------
    def running(self):
        """True while the run's last known state is ``running`` (and it is not done)."""
        return not self.done() and self.state == "running"

    def succeeded(self):
        """True when the run finished successfully."""
        with self._condition:
            return self._state == FINISHED and self._exception is None

    def failed(self):
        """True when the run failed (or polling it failed)."""
        with self._condition:
            return self._state == FINISHED and self._exception is not None

    # -- results ------------------------------------------------------------
    def result(self, timeout=None):
        """The final run; see the class notes for what is raised instead."""
        self._wait_settled(timeout)
        error = self._reported_error()
        if error is not None:
            raise error
        return self._result

    def exception(self, timeout=None):
        """The exception :meth:`result` would raise, or None.

        Raises
        ------
        concurrent.futures.CancelledError
            When the run was cancelled.
        CivisRunTimeoutError
            When the run is not done after ``timeout`` seconds.
        """
        self._wait_settled(timeout)
        return self._reported_error()

    def outputs(self):
        """Wait for the run, then return its outputs (a list of Response).

        Raises
        ------
        NotImplementedError
            When this kind of run has no outputs endpoint.
        """
        self.result()
        endpoints = self._endpoints
        method = endpoints.bound(self.client, "outputs") if endpoints else None
        if method is None:
            jobs = _jobs_runs(self.client.meta.spec) if self.client is not None else None
            not_a_job = endpoints is not None and endpoints.collection != "runs"
            if jobs is None or self.run_id is None or not_a_job:
                raise NotImplementedError(f"{self!r}: this kind of run has no outputs endpoint")
            method = jobs.bound(self.client, "outputs")
        operation = method.__func__.operation if hasattr(method, "__func__") else None
        if operation is not None and operation.paginated:
            return list(method(self.job_id, self.run_id, iterator=True))
        return _as_items(method(self.job_id, self.run_id))

    def _wait_settled(self, timeout):
        if self._settled.is_set() or self._callback_thread == threading.get_ident():
            return
        if in_poller_thread():
            raise RuntimeError(f"{self!r}: waiting for a run from a callback in a poller thread "
                               f"would stall the poller; wait from another thread")
        if not self._settled.wait(timeout):
            raise CivisRunTimeoutError(
                f"job {self.job_id} run {self.run_id} not done after {timeout} s "
                f"(last known state: {self.state!r})", response=self._last_run,
                job_id=self.job_id, run_id=self.run_id, timeout=timeout)

    def _reported_error(self):
        with self._condition:
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                raise concurrent.futures.CancelledError(
                    f"job {self.job_id} run {self.run_id} was cancelled")
            if self._exception is not None:
                return self._exception
            # Callbacks reading the result see the run, not each other's errors.
            if self._callback_errors and self._settled.is_set():
                return self._callback_errors[0]
            return None

    # -- cancelling ---------------------------------------------------------
    def cancel(self):
        """Cancel the run on the server, then mark this future cancelled.

        Returns
        -------
        bool
            True when the future is (now) cancelled; False when the run was
            already done, when this kind of run cannot be cancelled, or when
            the API refused (the error is logged).
        """
        with self._condition:
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return True
            if self._state == FINISHED:
                return False
        endpoints = self._endpoints
        canceller = endpoints.bound(self.client, "cancel") if endpoints else None
        if canceller is None or self.run_id is None:
            return False
        try:
            canceller(self.job_id, self.run_id)
        except CivisDynError as exc:
            log.warning("could not cancel job %s run %s: %s", self.job_id, self.run_id, exc)
            return False
        return self._mark_cancelled()

    def _mark_cancelled(self):
        with self._condition:
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return True
            if self._state not in (PENDING, RUNNING):
                return False
            self._state = CANCELLED_AND_NOTIFIED
            for waiter in self._waiters:
                waiter.add_cancelled(self)
            self._condition.notify_all()
        self._invoke_callbacks()
        return True

    # -- callbacks ----------------------------------------------------------
    def add_done_callback(self, fn):
        """Call ``fn(future)`` when the run is done (now, if it already is).

        An exception ``fn`` raises is surfaced by :meth:`result` and
        :meth:`exception` (see the module documentation).
        """
        _check_callable(fn, "CivisFuture.add_done_callback()", "fn")
        with self._condition:
            if self._state not in _DONE_STATES:
                self._done_callbacks.append(fn)
                return
        self._call_hook(fn, self, "done-callback")

    def _invoke_callbacks(self):
        self._callback_thread = threading.get_ident()
        try:
            for callback in self._done_callbacks:
                self._call_hook(callback, self, "done-callback")
        finally:
            self._settled.set()

    def _call_hook(self, fn, argument, what):
        try:
            fn(argument)
        except Exception as exc:
            log.warning("%s %r of %r raised %s: %s", what, fn, self, type(exc).__name__, exc,
                        exc_info=True)
            with self._condition:
                if not any(exc is known for known in self._callback_errors):
                    self._callback_errors.append(exc)

    # -- polling (called by the shared poller) ------------------------------
    def poll_once(self):
        """Poll the run once; return the delay until the next poll, or None when done."""
        if self.done():
            return None
        try:
            run = _as_response(self.poller(*self.poller_args))
        except Exception as exc:
            self._finish(exception=exc)
            return None
        self._last_run = run
        state = _state_of(run)
        if state != self._last_state:
            self._last_state = state
            if self._on_state_change is not None:
                self._call_hook(self._on_state_change, run, "on_state_change")
        if self.done():  # cancelled meanwhile
            return None
        outcome = self._outcomes.get(state)
        if outcome is None:
            return self._backoff.next()
        if outcome == SUCCEEDED:
            self._finish(result=run)
        elif outcome == FAILED:
            logs = self._endpoints.bound(self.client, "logs") if self._endpoints else None
            self._finish(exception=_failure(run, state, self.job_id, self.run_id, logs))
        else:
            self._mark_cancelled()
        return None

    def _finish(self, result=None, exception=None):
        try:
            if exception is not None:
                self.set_exception(exception)
            else:
                self.set_result(result)
        except concurrent.futures.InvalidStateError:
            pass  # cancelled while the last poll was in flight


_NEVER = object()


# -- blocking wait, log following --------------------------------------------------
def _wait_for_run(client, endpoints, job_id, run_id, *, timeout, callback, polling_interval,
                  clock=time.monotonic, sleep=time.sleep):
    """Poll a run in the calling thread until it is final; see :func:`run_and_wait`."""
    get = endpoints.bound(client, "get")
    deadline = None if timeout is None else clock() + timeout
    backoff = _Backoff(polling_interval)
    last_state = _NEVER
    while True:
        run = _as_response(get(job_id, run_id))
        state = _state_of(run)
        if state != last_state:
            last_state = state
            if callback is not None:
                callback(run)
        outcome = endpoints.outcomes.get(state)
        if outcome == SUCCEEDED:
            return run
        if outcome == FAILED:
            raise _failure(run, state, job_id, run_id, endpoints.bound(client, "logs"))
        if outcome == CANCELLED_RUN:
            raise concurrent.futures.CancelledError(f"job {job_id} run {run_id} was cancelled")
        delay = backoff.next()
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                raise CivisRunTimeoutError(
                    f"job {job_id} run {run_id} not done after {timeout} s "
                    f"(last known state: {state!r})", response=run, job_id=job_id,
                    run_id=run_id, timeout=timeout)
            delay = min(delay, remaining)
        sleep(delay)


def _follow(client, endpoints, job_id, run_id, polling_interval, sleep=time.sleep):
    get = endpoints.bound(client, "get")
    logs = endpoints.bound(client, "logs")
    backoff = _Backoff(polling_interval)
    last_id = None
    while True:
        final = endpoints.outcomes.get(_state_of(_as_response(get(job_id, run_id)))) is not None
        while True:  # read until the log has nothing newer
            entries = _read_logs(logs, job_id, run_id, last_id)
            for entry in entries:
                last_id = _field(entry, "id")
                yield entry
            if len(entries) < LOG_PAGE_SIZE:
                break
        if final:
            return
        if entries:
            backoff.reset()
        sleep(backoff.next())


def follow_logs(job_id, run_id, client=None, *, polling_interval=None):
    """Yield a run's log entries as they appear, each once and in order.

    Reads ``GET /jobs/{job_id}/runs/{run_id}/logs`` with ``last_id`` and stops
    after the run reaches a final state and its last lines were read.

    Parameters
    ----------
    job_id, run_id : int
    client : APIClient, optional
        Default: ``civis_dyn.APIClient()``.
    polling_interval : float, optional
        Seconds between reads; default 1 s growing by 1.2x up to 15 s (back
        to 1 s whenever new lines came).

    Returns
    -------
    iterator of Response
        Log entries with ``id``, ``created_at``, ``message`` and ``level``.
    """
    label = "follow_logs()"
    job_id = _check_id(job_id, label, "job_id")
    run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    client = _default_client(client)
    endpoints = _jobs_runs(client.meta.spec)
    if endpoints is None or endpoints.logs is None:
        raise NotImplementedError(f"{label}: the API schema has no jobs runs logs endpoint")
    return _follow(client, endpoints, job_id, run_id, polling_interval)


def _default_client(client):
    if client is not None:
        return client
    from ._client import APIClient

    return APIClient()


def run_job(job_id, client=None, polling_interval=None):
    """Start a run of job ``job_id`` and return its :class:`CivisFuture`.

    Parameters
    ----------
    job_id : int
    client : APIClient, optional
        Default: ``civis_dyn.APIClient()``.
    polling_interval : float, optional
        Seconds between polls; default 1 s growing by 1.2x up to 15 s.

    Returns
    -------
    CivisFuture
    """
    label = "run_job()"
    job_id = _check_id(job_id, label, "job_id")
    polling_interval = _check_interval(polling_interval, label)
    client = _default_client(client)
    return run(client.jobs, job_id, polling_interval=polling_interval)


# -- methods offered on resources (registered in civis_dyn/__init__.py) ----------
def _label(resource, name):
    return f"{name_of(resource)}.{name}()"


def _start(resource, endpoints, job_id, start_arguments):
    run_ = _as_response(endpoints.bound(client_of(resource), "start")(job_id, **start_arguments))
    return run_, _run_id_from(run_, endpoints)


def run(resource, id, *, kind=None, polling_interval=None, on_state_change=None,
        **start_arguments):
    """Start a run and return its :class:`CivisFuture` (``client.<resource>.run``).

    Parameters
    ----------
    id : int
        The job, script, workflow or service to run.
    kind : str, optional
        Which kind of run, for resources with several (``"python3"`` for
        ``client.scripts``); see the module documentation.
    polling_interval : float, optional
        Seconds between polls; default 1 s growing by 1.2x up to 15 s.
    on_state_change : callable, optional
        ``on_state_change(run)`` on every change of state (in a poller thread).
    **start_arguments
        Passed to the start method (e.g. ``target_task=`` of a workflow).

    Returns
    -------
    CivisFuture
    """
    label = _label(resource, "run")
    id = _check_id(id, label, "id")
    polling_interval = _check_interval(polling_interval, label)
    _check_callable(on_state_change, label, "on_state_change")
    endpoints = _select_endpoints(resource, kind, label, need="start")
    _, run_id = _start(resource, endpoints, id, start_arguments)
    return CivisFuture(endpoints.bound(client_of(resource), "get"), (id, run_id), polling_interval,
                       client_of(resource), on_state_change=on_state_change)


def watch_run(resource, id, run_id, *, kind=None, polling_interval=None,
              on_state_change=None):
    """A :class:`CivisFuture` for a run already started (``client.<resource>.watch_run``).

    Parameters
    ----------
    id, run_id : int
        The job (workflow, service…) and its run (execution, deployment).
    kind, polling_interval, on_state_change
        As for :func:`run`.

    Returns
    -------
    CivisFuture
    """
    label = _label(resource, "watch_run")
    id = _check_id(id, label, "id")
    run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    _check_callable(on_state_change, label, "on_state_change")
    endpoints = _select_endpoints(resource, kind, label)
    return CivisFuture(endpoints.bound(client_of(resource), "get"), (id, run_id), polling_interval,
                       client_of(resource), on_state_change=on_state_change)


def run_and_wait(resource, id, *, kind=None, timeout=None, callback=None,
                 polling_interval=None, **start_arguments):
    """Start a run and block until it is final (``client.<resource>.run_and_wait``).

    Polls in the calling thread.

    Parameters
    ----------
    id : int
        The job, script, workflow or service to run.
    kind : str, optional
        Which kind of run, for resources with several; see :func:`run`.
    timeout : float, optional
        Seconds to wait at most (default: no limit).
    callback : callable, optional
        ``callback(run)`` on every change of state, in the calling thread;
        what it raises propagates.
    polling_interval : float, optional
        Seconds between polls; default 1 s growing by 1.2x up to 15 s.
    **start_arguments
        Passed to the start method.

    Returns
    -------
    Response
        The final state of the run.

    Raises
    ------
    CivisJobFailure
        The run failed (error message, ids and last log lines attached).
    concurrent.futures.CancelledError
        The run was cancelled.
    CivisRunTimeoutError
        Not final after ``timeout`` seconds; ``.response`` is its last known
        state. The run goes on.
    """
    label = _label(resource, "run_and_wait")
    id = _check_id(id, label, "id")
    timeout = _check_timeout(timeout, label)
    _check_callable(callback, label, "callback")
    polling_interval = _check_interval(polling_interval, label)
    endpoints = _select_endpoints(resource, kind, label, need="start")
    _, run_id = _start(resource, endpoints, id, start_arguments)
    return _wait_for_run(client_of(resource), endpoints, id, run_id, timeout=timeout,
                         callback=callback, polling_interval=polling_interval)


def follow_resource_logs(resource, id, run_id, *, kind=None,
                         polling_interval=None):
    """Yield a run's new log entries until it is final (``client.<resource>.follow_logs``).

    Parameters
    ----------
    id, run_id : int
    kind, polling_interval
        As for :func:`run`.

    Returns
    -------
    iterator of Response
        Log entries (``id``, ``created_at``, ``message``, ``level``), each
        once, oldest first.
    """
    label = _label(resource, "follow_logs")
    id = _check_id(id, label, "id")
    run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    endpoints = _select_endpoints(resource, kind, label, need="logs")
    return _follow(client_of(resource), endpoints, id, run_id, polling_interval)

