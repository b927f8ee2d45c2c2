"""Runs: start them, wait for them, follow their logs, cancel them.

What can be run is the schema's run model (:mod:`civis_dyn.spec._runs`): every
resource with a run collection (``POST …/{id}/runs``, ``…/executions``,
``…/deployments``; ``GET …/{id}/builds/{build_id}`` can be watched only),
each kind with its start, get, cancel, logs and outputs methods and what its
states mean. Polling is one shared step (:mod:`civis_dyn._polling`).

Module functions (as civis-python's ``civis.futures`` and ``civis.utils``)
-------------------------------------------------------------------------
:class:`CivisFuture`
    A :class:`concurrent.futures.Future` of one run.
:class:`ContainerFuture`
    civis-python's deprecated future of a container script run.
:func:`run_job`\\ ``(job_id, client=None, polling_interval=None)``
    Start a job (``client.jobs.post_runs``) and return its :class:`CivisFuture`.
:func:`run_template`\\ ``(id, arguments, JSONValue=…, client=None, return_as="files", **kwargs)``
    Run a custom script from a template; its output files, JSON value or future.
:func:`job_logs`\\ ``(job_id, run_id=None, finished_timeout=None, client=None)``
    A generator of a run's log entries (dicts); the latest run by default.
:func:`follow_logs`\\ ``(job_id, run_id=None, client=None, *, polling_interval=None)``
    The same as :class:`~civis_dyn.Response` objects.

Methods on resources
--------------------
Offered on every resource that has runs (``dir(client.jobs)`` lists them).
Resources with several kinds of runs (``scripts``: ``sql``, ``python3``,
``containers``…) take ``kind=``, the part of the API method name between
``post_`` and ``_runs``::

    client.jobs.run(id, *, kind=None, polling_interval=None, on_state_change=None,
                    **start_arguments)                           -> CivisFuture
    client.jobs.run_and_wait(id, *, kind=None, timeout=None, callback=None,
                             polling_interval=None, progress=None,
                             **start_arguments)                  -> Response
    client.jobs.watch_run(id, run_id, *, kind=None, polling_interval=None,
                          on_state_change=None)                  -> CivisFuture
    client.jobs.follow_logs(id, run_id=None, *, kind=None, polling_interval=None)
                                                                 -> iterator of Response

``run_and_wait`` polls in the calling thread: it calls ``callback(run)`` on
every change of state, returns the final run on success, raises
:class:`~civis_dyn.CivisJobFailure` on failure,
:class:`concurrent.futures.CancelledError` when the run was cancelled and
:class:`~civis_dyn.CivisRunTimeoutError` (a :class:`TimeoutError` carrying the
last known state in ``.response``) after ``timeout`` seconds; the run goes on.

States
------
Runs and workflow executions end ``succeeded`` (or ``success``), ``failed``
(or ``error``) or ``cancelled``. A deployment is done when it is ``running``
or ``sleeping`` (it is up), failed when ``failed``, cancelled when
``terminated``. Any other state means "keep polling".

Polling
-------
A future polls once when it is made, in the calling thread (unless
``poll_on_creation=False``, as :func:`run_job` does), then after 1 s, 1.2 s,
1.44 s … up to 15 s, or every ``polling_interval`` seconds. All futures share
one background poller (:mod:`civis_dyn._poller`): one scheduling thread and at
most 8 HTTP worker threads (env ``CIVIS_DYN_POLL_WORKERS``). A poll that gets
a transient fault (a truncated body, a dropped connection, a 5xx) polls again,
up to 3 faults in a row. With ``max_retries=n`` a failed run (or a poll that
failed for good) is started again, up to ``n`` more runs.

Cancelling
----------
:meth:`CivisFuture.cancel` asks the server and reports what it did: True when
the run is cancelled; False when the server answered 404 (the run most likely
ended), when the run had already ended (the future then gives that outcome),
or when the request failed (a :class:`UserWarning` says why).

Callbacks
---------
Done-callbacks and ``on_state_change`` hooks run in a poller thread (or in
the calling thread for the first poll and when the future is already done).
An exception raised by one is logged, kept in
:attr:`CivisFuture.callback_errors`, and surfaced: when the run succeeded,
:meth:`~CivisFuture.result` raises the first one. ``result()`` returns only
after every done-callback has run.
"""

import concurrent.futures
import logging
import re
import threading
import time
import types
import warnings
from urllib.parse import urlsplit

from ._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisRunTimeoutError,
    UsageError,
)
from ._poller import in_poller_thread, shared_poller
from ._progress import progress_bar, progress_enabled
from ._effects import (Call, is_async_client, iterate_async, iterate_blocking, run_async,
                       run_blocking)
from ._polling import RunWatch, field_of, state_of
from ._resources import Resource, client_of
from ._response import Response
from ._run_steps import (  # the steps both run futures share (AsyncRunFuture too)
    call_endpoint as _call,
    cancel_steps as _cancel_steps,
    check_callable as _check_callable,
    check_id as _check_id,
    check_interval as _check_interval,
    check_timeout as _check_timeout,
    FAILURE_LOG_LINES,  # noqa: F401  (this module's documented constants, kept)
    failure_steps as _failure_steps,
    follow_steps as _follow_steps,
    method_label as _label,
    outputs_endpoint,
    latest_run_id_steps as _latest_run_id_steps,
    list_steps as _list_steps,
    LOG_PAGE_SIZE,  # noqa: F401
    read_logs_steps as _read_logs_steps,
    run_id_from as _run_id_from,
    run_watch as _run_watch,
    select_kind as _select_kind,
    spec_of as _spec_of,
    start_steps as _start_steps,
    wait_steps as _wait_steps,
)
from .spec._runs import (
    CANCELLED,
    FAILED,
    RUN_COLLECTIONS,
    SUCCEEDED,
    Endpoint,
    RunKind,
    jobs_run_kind,
    run_kinds,
)

__all__ = [
    "CivisFuture",
    "ContainerFuture",
    "follow_logs",
    "follow_resource_logs",
    "job_logs",
    "latest_run_id",
    "run",
    "run_and_wait",
    "run_job",
    "run_template",
    "watch_run",
]

log = logging.getLogger("civis_dyn.futures")

#: Where civis-python points a run's page when the API is Civis's own.
CIVIS_PLATFORM = "https://platform.civisanalytics.com"


# -- the client, through its public seams ----------------------------------------


def _list(client, endpoint, *args, **kwargs):
    """Every item ``endpoint`` lists (all pages of a paginated one)."""
    return run_blocking(_list_steps(client, endpoint, *args, **kwargs))


def _default_client(client):
    if client is not None:
        return client
    from ._client import APIClient

    return APIClient()


def _kind_of_poller(poller):
    """``(RunKind or None, client or None)`` of a bound API method (``client.jobs.get_runs``)."""
    operation = getattr(getattr(poller, "__func__", None), "operation", None)
    resource = getattr(poller, "__self__", None)
    client = client_of(resource) if isinstance(resource, Resource) else None
    if operation is None or client is None or not isinstance(poller, types.MethodType):
        return None, client
    wanted = (operation.resource, operation.alias_of or operation.name)
    for kind in run_kinds(operation.spec, operation.resource).values():
        if kind.get == wanted:
            return kind, client
    return None, client


# -- argument checks ------------------------------------------------------------------


def _check_retries(value, poller_args, label):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{label} argument 'max_retries' must be an int, "
                                f"not {type(value).__name__}")
    if value < 0:
        raise ArgumentValueError(f"{label} argument 'max_retries' must not be negative; "
                                 f"got {value}")
    if value and len(poller_args) < 2:
        raise ArgumentValueError(f"{label} argument 'max_retries' needs a poller of one run: "
                                 f"'poller_args' must hold the job id and the run id")
    return value


# -- runs: ids, failures, logs, pages ------------------------------------------------


def _read_logs(client, endpoint, job_id, run_id, last_id=None):
    """Log entries newer than ``last_id``, oldest first."""
    return run_blocking(_read_logs_steps(client, endpoint, job_id, run_id, last_id))


def _failure(client, kind, run, state, job_id, run_id):
    return run_blocking(_failure_steps(client, kind, run, state, job_id, run_id))


def _platform_url(client, path):
    """The Civis Platform page of API ``path``: ``api.X`` -> ``platform.X``, else the API's host."""
    config = getattr(getattr(client, "meta", None), "config", None)
    base = getattr(config, "base_url", None) if client is not None else None
    if not isinstance(base, str):
        return f"{CIVIS_PLATFORM}/spa/#{path}"
    parts = urlsplit(base)
    host = parts.hostname or ""
    if host.startswith("api."):
        return f"https://platform.{host[len('api.'):]}/spa/#{path}"
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/spa/#{path}"


def latest_run_id(job_id, client=None, *, kind=None, label="latest_run_id()"):
    """The id of a job's most recent run.

    Parameters
    ----------
    job_id : int
    client : APIClient, optional
        Default: ``civis_dyn.APIClient()``.
    kind : civis_dyn.spec._runs.RunKind, optional
        Whose runs (default: the plain ``jobs`` runs).

    Raises
    ------
    CivisDynError
        When the job has no runs yet.
    """
    client = _default_client(client)
    steps = _latest_run_id_steps(client, kind, job_id, label)
    return run_async(steps) if is_async_client(client) else run_blocking(steps)


def _as_dict(entry):
    """A log entry as a plain dict with snake_case keys."""
    return entry.json() if isinstance(entry, Response) else dict(entry)


def cancel_refused(verdict, job_id, run_id):
    """True when the cancel steps' ``verdict`` means ``cancel()`` answers False.

    A verdict that is an exception (the request failed) is reported in a
    :class:`UserWarning` pointing at the caller of ``cancel()``.
    """
    if isinstance(verdict, Exception):
        warnings.warn(f"Unexpected error when attempting to cancel job {job_id} "
                      f"run {run_id}: {verdict}", UserWarning, stacklevel=3)
        return True
    return verdict is None


# -- the future -----------------------------------------------------------------
_PROGRESS_STEP = 0.5  # seconds between updates of a result() progress bar


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
        Poll once now, in the calling thread (default, as civis-python), or
        only after the first interval.
    max_retries : int, optional
        When the run fails (or polling it fails for good), start a new run of
        the job, up to this many times (default 0). Only for idempotent jobs.
    on_state_change : callable, optional
        Called as ``on_state_change(run)`` whenever the run's state changes
        (the first state seen included).

    Notes
    -----
    ``result()`` gives the final run (a :class:`~civis_dyn.Response`) when it
    succeeded, raises :class:`~civis_dyn.CivisJobFailure` (with the error
    message, ``job_id``, ``run_id`` and the last log lines) when it failed,
    :class:`concurrent.futures.CancelledError` when it was cancelled, and the
    API error when polling itself failed. A timeout raises
    :class:`~civis_dyn.CivisRunTimeoutError`, a :class:`TimeoutError` carrying
    the last known state. See the module documentation for polling,
    cancelling and callbacks.

    When ``poller`` is an API method of a run kind the schema describes
    (``client.scripts.get_python3_runs``…), :meth:`cancel`, :meth:`outputs`,
    the failure's log lines and retries use that kind's endpoints; otherwise
    the plain ``jobs`` runs, as civis-python does.
    """

    def __init__(self, poller, poller_args, polling_interval=None, client=None,
                 poll_on_creation=True, max_retries=None, *, on_state_change=None):
        super().__init__()
        label = f"{type(self).__name__}()"
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
        self.max_retries = _check_retries(max_retries, self.poller_args, label)
        self._retries_left = self.max_retries
        self._on_state_change = _check_callable(on_state_change, label, "on_state_change")
        kind, poller_client = _kind_of_poller(poller)
        self.client = client if client is not None else poller_client
        self._run_kind = kind
        self._watch = RunWatch(self._read_run, kind.states if kind else RUN_COLLECTIONS["runs"],
                               self.polling_interval)
        self._settled = threading.Event()
        self._completing_thread = None
        self._callback_errors = []
        self._errors_lock = threading.Lock()
        delay = self.poll_once() if self.poll_on_creation else self._watch.backoff.next()
        if delay is not None:
            shared_poller().schedule(self, delay)

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
        """The job's page on Civis Platform.

        The Platform is found from the client's base URL: ``api.X`` ->
        ``platform.X``; any other host (a local API) gets pages on itself;
        with no client, civis-python's ``platform.civisanalytics.com``. Runs
        of jobs and scripts link to ``/spa/#/jobs/{job_id}``, as civis-python
        does; workflows, services and the like to the page mirroring their
        API path (``/spa/#/workflows/{id}``).
        """
        if self.job_id is None:
            return None
        kind = self._run_kind
        if kind is None or kind.collection == "runs":
            path = f"/jobs/{self.job_id}"
        else:
            path = re.sub(r"\{[^}]+\}", str(self.job_id), kind.owner_path, count=1)
        return _platform_url(self.client, path)

    @property
    def job_run_url(self):
        """The run's page (``…/jobs/{job_id}?runId={run_id}``), or None.

        None without a run id, and for workflow executions and deployments,
        which have no page of their own.
        """
        if self.job_id is None or self.run_id is None:
            return None
        if self._run_kind is not None and self._run_kind.collection != "runs":
            return None
        return f"{self.job_url}?runId={self.run_id}"

    @property
    def last_response(self):
        """The run as last polled (a :class:`~civis_dyn.Response`), or None."""
        return self._watch.last_run

    @property
    def state(self):
        """The run's last known state (``"running"``…), or None before the first poll."""
        return self._watch.state

    @property
    def callback_errors(self):
        """Exceptions raised by done-callbacks and ``on_state_change`` (a list copy)."""
        with self._errors_lock:
            return list(self._callback_errors)

    def __repr__(self):
        status = ("cancelled" if self.cancelled() else "finished" if self.done() else "pending")
        return (f"<{type(self).__name__} at {id(self):#x} {status} job_id={self.job_id} "
                f"run_id={self.run_id} state={self.state!r}>")

    # -- status -------------------------------------------------------------
    def running(self):
        """True while the run's last known state is ``running`` (and it is not done)."""
        return not self.done() and self.state == "running"

    def succeeded(self):
        """True when the run finished successfully."""
        return self._outcome() == SUCCEEDED

    def failed(self):
        """True when the run failed (or polling it failed)."""
        return self._outcome() == FAILED

    def _outcome(self):
        if not self.done():
            return None
        if self.cancelled():
            return CANCELLED
        failed = concurrent.futures.Future.exception(self, 0) is not None
        return FAILED if failed else SUCCEEDED

    # -- results ------------------------------------------------------------
    def result(self, timeout=None, progress=None):
        """The final run; see the class notes for what is raised instead.

        ``progress``: a progress bar with the run's state while waiting (by default
        in a terminal or notebook with tqdm installed; False turns it off, as does
        ``CIVIS_DYN_PROGRESS=0``).
        """
        self._wait_settled(timeout, progress)
        error = self._reported_error()
        if error is not None:
            raise error
        return concurrent.futures.Future.result(self, 0)

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
        return _list(self.client, self._outputs_endpoint(), self.job_id, self.run_id)

    def _outputs_endpoint(self):
        """The run kind's outputs endpoint (a plain run's: the ``jobs`` one)."""
        return outputs_endpoint(self._run_kind, self.client, self.run_id, repr(self))

    def _wait_settled(self, timeout, progress=False):
        if self._settled.is_set() or self._completing_thread == threading.get_ident():
            return
        if in_poller_thread():
            raise UsageError(f"{self!r}: waiting for a run from a callback in a poller thread "
                             f"would stall the poller; wait from another thread")
        if progress_enabled(progress):
            settled = self._wait_with_progress(timeout, progress)
        else:
            settled = self._settled.wait(timeout)
        if not settled:
            raise CivisRunTimeoutError(
                f"job {self.job_id} run {self.run_id} not done after {timeout} s "
                f"(last known state: {self.state!r})", response=self.last_response,
                job_id=self.job_id, run_id=self.run_id, timeout=timeout)

    def _wait_with_progress(self, timeout, progress):
        """Wait like ``_settled.wait(timeout)``, showing the run's state and the time waited."""
        started = time.monotonic()
        with progress_bar(desc=f"run {self.run_id}", unit="s", progress=progress) as bar:
            while True:
                waited = time.monotonic() - started
                step = _PROGRESS_STEP if timeout is None else min(_PROGRESS_STEP, timeout - waited)
                settled = step > 0 and self._settled.wait(step)
                bar.set_description_str(f"run {self.run_id}: {self.state or 'starting'}")
                bar.update(max(0.0, round(time.monotonic() - started - bar.n, 1)))
                if settled or step <= 0:
                    return settled

    def _reported_error(self):
        if self.cancelled():
            raise concurrent.futures.CancelledError(
                f"job {self.job_id} run {self.run_id} was cancelled")
        error = concurrent.futures.Future.exception(self, 0)
        if error is not None:
            return error
        with self._errors_lock:  # callbacks reading the result see the run, not each other
            if self._callback_errors and self._settled.is_set():
                return self._callback_errors[0]
        return None

    # -- cancelling ---------------------------------------------------------
    def cancel(self):
        """Cancel the run on the server; report what the server did.

        Returns
        -------
        bool
            True when the run is (now) cancelled. False when it had already
            ended (the future then gives its outcome), when the server
            answered 404 (as civis-python: the run most likely ended), when
            this kind of run cannot be cancelled, or when the request failed
            (a :class:`UserWarning` says why).
        """
        if self.cancelled():
            return True
        if self.done() or self.run_id is None or self.client is None:
            return False
        verdict, run = run_blocking(_cancel_steps(self._send_cancel, self._read_run,
                                                  self._watch.states, self))
        if cancel_refused(verdict, self.job_id, self.run_id):
            return False
        if verdict == SUCCEEDED:  # it ended before the cancel reached it
            self._finish(result=run)
            return False
        if verdict == FAILED:  # (and no retry: the caller wants it to stop)
            self._finish(exception=_failure(self.client, self._run_kind, run, state_of(run),
                                            self.job_id, self.run_id))
            return False
        return self._mark_cancelled()

    def _send_cancel(self):
        """Ask the server to cancel the run; return its answer."""
        kind = self._run_kind or jobs_run_kind(_spec_of(self.client))
        if kind.cancel is None:
            raise NotImplementedError
        return _call(self.client, kind.cancel, self.job_id, self.run_id)

    def _mark_cancelled(self):
        self._completing_thread = threading.get_ident()
        if not concurrent.futures.Future.cancel(self):
            return self.cancelled()  # finished meanwhile
        self.set_running_or_notify_cancel()  # wakes wait() and as_completed()
        self._settled.set()
        return True

    # -- callbacks ----------------------------------------------------------
    def add_done_callback(self, fn):
        """Call ``fn(future)`` when the run is done (now, if it already is).

        An exception ``fn`` raises is surfaced by :meth:`result` and
        :meth:`exception` (see the module documentation).
        """
        _check_callable(fn, "CivisFuture.add_done_callback()", "fn")
        super().add_done_callback(lambda future: self._call_hook(fn, future, "done-callback"))

    def _call_hook(self, fn, argument, what):
        try:
            fn(argument)
        except Exception as exc:
            log.warning("%s %r of %r raised %s: %s", what, fn, self, type(exc).__name__, exc,
                        exc_info=True)
            with self._errors_lock:
                if not any(exc is known for known in self._callback_errors):
                    self._callback_errors.append(exc)

    def _state_changed(self, run):
        if self._on_state_change is not None:
            self._call_hook(self._on_state_change, run, "on_state_change")

    # -- polling (called by the shared poller) ------------------------------
    def _read_run(self):
        return self.poller(*self.poller_args)

    def poll_once(self):
        """Poll the run once; return the delay until the next poll, or None when done."""
        if self.done():
            return None
        try:
            step = self._watch.step(self._state_changed)
        except Exception as exc:
            return self._retry_or_finish(exception=exc)
        if self.done():  # cancelled meanwhile
            return None
        if step.outcome is None:
            return step.delay
        return self._settle(step.run, step.outcome)

    def _settle(self, run, outcome):
        """End the future with a final run's outcome (or start a retry); the next delay or None."""
        if outcome == SUCCEEDED:
            self._finish(result=run)
        elif outcome == FAILED:
            return self._retry_or_finish(run=run)
        else:
            self._mark_cancelled()
        return None

    def _retry_or_finish(self, run=None, exception=None):
        if self._retries_left > 0 and self._start_again():
            return self._watch.backoff.next()
        if exception is None:
            exception = _failure(self.client, self._run_kind, run, state_of(run), self.job_id,
                                 self.run_id)
        self._finish(exception=exception)
        return None

    def _start_again(self):
        """Start a new run of the job for ``max_retries``; True when one started."""
        kind = self._run_kind
        if kind is None or kind.start is None:
            kind = jobs_run_kind(_spec_of(self.client))
        try:
            new_id = _run_id_from(_call(self.client, kind.start, self.job_id), kind)
        except Exception as exc:
            log.warning("could not start job %s again: %s", self.job_id, exc)
            return False
        self._retries_left -= 1
        log.info("job %s run %s failed; retrying with run %s (%d retries left)", self.job_id,
                 self.run_id, new_id, self._retries_left)
        self.poller_args = (self.job_id, new_id, *self.poller_args[2:])
        self._watch.restart(self._read_run)
        return True

    def _finish(self, result=None, exception=None):
        self._completing_thread = threading.get_ident()
        try:
            if exception is not None:
                self.set_exception(exception)
            else:
                self.set_result(result)
        except concurrent.futures.InvalidStateError:
            return  # cancelled while the last poll was in flight
        self._settled.set()


class ContainerFuture(CivisFuture):
    """civis-python's future of a container script run (deprecated there since 2.10).

    Parameters
    ----------
    job_id, run_id : int
        The container script and its run.
    max_n_retries : int, optional
        Start the script again when a run fails, up to this many times.
    polling_interval, client, poll_on_creation
        As for :class:`CivisFuture`.

    Notes
    -----
    :meth:`cancel` cancels the script's run with ``client.scripts.post_cancel``.
    """

    def __init__(self, job_id, run_id, max_n_retries=0, polling_interval=None, client=None,
                 poll_on_creation=True):
        warnings.warn("ContainerFuture is deprecated (as in civis-python 2.10); use "
                      "CivisFuture(client.scripts.get_containers_runs, (job_id, run_id), "
                      "max_retries=...) instead", FutureWarning, stacklevel=2)
        client = _default_client(client)
        super().__init__(client.scripts.get_containers_runs, (int(job_id), int(run_id)),
                         polling_interval, client, poll_on_creation,
                         max_retries=max_n_retries or None)

    def _send_cancel(self):
        return _call(self.client, Endpoint("scripts", "post_cancel"), self.job_id)


# -- blocking wait, log following --------------------------------------------------


def _wait_for_run(client, kind, job_id, run_id, *, timeout, callback, polling_interval,
                  clock=time.monotonic, sleep=time.sleep, progress=False):
    """Poll a run in the calling thread until it is final; see :func:`run_and_wait`."""
    watch = _run_watch(client, kind, job_id, run_id, polling_interval)
    with progress_bar(desc=f"run {run_id}", unit="poll", progress=progress) as bar:
        def on_change(run):
            bar.set_description_str(f"run {run_id}: {field_of(run, 'state')}")
            if callback is not None:
                callback(run)

        def counted_sleep(seconds):
            bar.update(1)
            sleep(seconds)

        return run_blocking(_wait_steps(client, kind, watch, job_id, run_id, timeout=timeout,
                                        on_change=on_change, clock=clock), sleep=counted_sleep)


def _follow(client, kind, job_id, run_id, polling_interval, linger=0.0, sleep=time.sleep,
            clock=time.monotonic):
    return iterate_blocking(_follow_steps(client, kind, job_id, run_id, polling_interval,
                                          linger, clock), sleep=sleep)


def follow_logs(job_id, run_id=None, client=None, *, polling_interval=None):
    """Yield a run's log entries as they appear, each once and in order.

    Reads ``GET /jobs/{job_id}/runs/{run_id}/logs`` with ``last_id`` and stops
    after the run reaches a final state and its last lines were read.

    Parameters
    ----------
    job_id : int
    run_id : int, optional
        Default: the job's latest run.
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
    if run_id is not None:
        run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    client = _default_client(client)
    kind = jobs_run_kind(_spec_of(client))
    if is_async_client(client):  # ``async for``; the latest run is looked up on the first step
        return iterate_async(_follow_steps(client, kind, job_id, run_id, polling_interval,
                                           label=label))
    if run_id is None:
        run_id = latest_run_id(job_id, client, kind=kind, label=label)
    return _follow(client, kind, job_id, run_id, polling_interval)


def job_logs(job_id, run_id=None, finished_timeout=None, client=None):
    """Yield a run's log entries as dicts (civis-python's ``civis.utils.job_logs``).

    With an :class:`~civis_dyn.AsyncAPIClient`, an async iterator (``async for``).

    Parameters
    ----------
    job_id : int
    run_id : int, optional
        Default: the job's latest run.
    finished_timeout : float, optional
        Seconds to keep reading after the run ended, for lines that arrive
        late (default: stop as soon as the ended run's log was read).
    client : APIClient, optional
        Default: ``civis_dyn.APIClient()``.

    Returns
    -------
    iterator of dict
        Each entry once, oldest first, with snake_case keys (``id``,
        ``created_at``, ``message``, ``level``).
    """
    if is_async_client(client):
        return _job_logs_async(job_id, run_id, finished_timeout, client)
    return _job_logs(job_id, run_id, finished_timeout, client)


def _job_logs_checked(job_id, run_id, finished_timeout, client):
    label = "job_logs()"
    job_id = _check_id(job_id, label, "job_id")
    if run_id is not None:
        run_id = _check_id(run_id, label, "run_id")
    linger = _check_timeout(finished_timeout, label, "finished_timeout") or 0.0
    client = _default_client(client)
    return _follow_steps(client, jobs_run_kind(_spec_of(client)), job_id, run_id, None,
                         linger=linger, label=label)


def _job_logs(job_id, run_id, finished_timeout, client):
    for entry in iterate_blocking(_job_logs_checked(job_id, run_id, finished_timeout, client)):
        yield _as_dict(entry)


async def _job_logs_async(job_id, run_id, finished_timeout, client):
    steps = iterate_async(_job_logs_checked(job_id, run_id, finished_timeout, client))
    async for entry in steps:
        yield _as_dict(entry)


def run_job(job_id, client=None, polling_interval=None):
    """Start a run of job ``job_id`` and return its :class:`CivisFuture`.

    As civis-python's, the future first polls after one interval
    (``poll_on_creation=False``).

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
    kind = jobs_run_kind(_spec_of(client))
    if is_async_client(client):  # a coroutine giving an AsyncRunFuture
        from ._async_runs import start_run

        return start_run(client, kind, job_id, {}, polling_interval=polling_interval)
    run_id = _run_id_from(_call(client, kind.start, job_id), kind)
    return CivisFuture(kind.bound(client, "get"), (job_id, run_id), polling_interval, client,
                       poll_on_creation=False)


_NOT_GIVEN = object()
_RETURN_AS = ("files", "JSONValue", "future")


def run_template(id, arguments, JSONValue=_NOT_GIVEN, client=None, return_as="files",  # noqa: A002
                 **kwargs):
    """Run a template script: make a custom script from it, run it, return what it made.

    civis-python's ``civis.utils.run_template``.

    Parameters
    ----------
    id : int
        The template's id.
    arguments : dict
        The script's arguments.
    JSONValue : bool, optional
        Deprecated (as in civis-python 2.8): use ``return_as``. True means
        ``return_as="JSONValue"``; a value that contradicts ``return_as`` is
        refused.
    client : APIClient, optional
        Default: ``civis_dyn.APIClient()``.
    return_as : {"files", "JSONValue", "future"}, optional
        ``"files"`` (default): ``{output name: file id}`` of the run's
        outputs; ``"JSONValue"``: the value of its JSON output (None when it
        has none; the first when it has several); ``"future"``: the run's
        :class:`CivisFuture`, without waiting.
    **kwargs
        More arguments of ``client.scripts.post_custom``.
    """
    label = "run_template()"
    if return_as not in _RETURN_AS:
        raise ArgumentValueError(f"{label} argument 'return_as' must be one of "
                                 f"{', '.join(map(repr, _RETURN_AS))}; got {return_as!r}")
    if JSONValue is not _NOT_GIVEN:
        if bool(JSONValue) != (return_as == "JSONValue"):
            raise ArgumentValueError(f"{label}: JSONValue={bool(JSONValue)} contradicts "
                                     f"return_as={return_as!r}; drop JSONValue (deprecated) and "
                                     f"pass only return_as")
        warnings.warn(f"{label} argument 'JSONValue' is deprecated (as in civis-python 2.8); "
                      f"pass return_as={return_as!r} instead", FutureWarning, stacklevel=2)
    client = _default_client(client)
    if is_async_client(client):  # a coroutine; "future" gives an AsyncRunFuture
        from ._async_runs import AsyncRunFuture

        return run_async(_template_steps(client, id, arguments, return_as, kwargs,
                                         AsyncRunFuture))
    return run_blocking(_template_steps(
        client, id, arguments, return_as, kwargs,
        lambda client, kind, job_id, run_id: CivisFuture(kind.bound(client, "get"),
                                                         (job_id, run_id), client=client)))


def _template_steps(client, id, arguments, return_as, kwargs, make_future):  # noqa: A002
    kind = _custom_scripts(client)
    script = yield Call(_call, client, Endpoint("scripts", "post_custom"), id,
                        arguments=arguments, **kwargs)
    run_id = yield from _start_steps(client, kind, field_of(script, "id"), {})
    future = make_future(client, kind, field_of(script, "id"), run_id)
    if return_as == "future":
        return future
    yield Call(_settled, future)
    outputs = yield from _list_steps(client, kind.outputs, field_of(script, "id"), run_id)
    if return_as == "files":
        return {field_of(o, "name"): field_of(o, "object_id") for o in outputs}
    values = [field_of(o, "value") for o in outputs if field_of(o, "object_type") == "JSONValue"]
    if not values:
        log.warning("template %s: its run has no JSON output", id)
        return None
    if len(values) > 1:
        log.warning("template %s: its run has %d JSON outputs; returning the first",
                    id, len(values))
    return values[0]


def _settled(future):
    """A future's final run: ``result()`` of a CivisFuture; an AsyncRunFuture, to be awaited."""
    return future.result() if isinstance(future, CivisFuture) else future


def _custom_scripts(client):
    """The runs of custom scripts (scripts made from templates)."""
    spec = _spec_of(client)
    kind = run_kinds(spec, "scripts").get("custom") if spec is not None else None
    if kind is not None and kind.has("start", "get", "outputs"):
        return kind
    return RunKind("scripts", "custom", "runs", "/scripts/custom/{id}",
                   start=("scripts", "post_custom_runs"), get=("scripts", "get_custom_runs"),
                   outputs=("scripts", "list_custom_runs_outputs"))


# -- methods offered on resources (registered in civis_dyn/__init__.py) ----------


def _start(resource, kind, job_id, start_arguments):
    return run_blocking(_start_steps(client_of(resource), kind, job_id, start_arguments))


def run(resource, id, *, kind=None, polling_interval=None, on_state_change=None,  # noqa: A002
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
        ``on_state_change(run)`` on every change of state.
    **start_arguments
        Passed to the start method (e.g. ``target_task=`` of a workflow).

    Returns
    -------
    CivisFuture
    """
    label = _label(resource, "run")
    id = _check_id(id, label, "id")  # noqa: A001
    polling_interval = _check_interval(polling_interval, label)
    _check_callable(on_state_change, label, "on_state_change")
    run_kind = _select_kind(resource, kind, label, need=("start", "get"))
    run_id = _start(resource, run_kind, id, start_arguments)
    client = client_of(resource)
    return CivisFuture(run_kind.bound(client, "get"), (id, run_id), polling_interval, client,
                       on_state_change=on_state_change)


def watch_run(resource, id, run_id, *, kind=None, polling_interval=None,  # noqa: A002
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
    id = _check_id(id, label, "id")  # noqa: A001
    run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    _check_callable(on_state_change, label, "on_state_change")
    run_kind = _select_kind(resource, kind, label, need=("get",))
    client = client_of(resource)
    return CivisFuture(run_kind.bound(client, "get"), (id, run_id), polling_interval, client,
                       on_state_change=on_state_change)


def run_and_wait(resource, id, *, kind=None, timeout=None, callback=None,  # noqa: A002
                 polling_interval=None, progress=None, **start_arguments):
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
    progress : bool, optional
        A progress bar (the run's state, polls so far, time waited): by default in a
        terminal or notebook with tqdm installed; False turns it off (see
        ``CIVIS_DYN_PROGRESS``).
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
    id = _check_id(id, label, "id")  # noqa: A001
    timeout = _check_timeout(timeout, label)
    _check_callable(callback, label, "callback")
    polling_interval = _check_interval(polling_interval, label)
    run_kind = _select_kind(resource, kind, label, need=("start", "get"))
    run_id = _start(resource, run_kind, id, start_arguments)
    return _wait_for_run(client_of(resource), run_kind, id, run_id, timeout=timeout,
                         callback=callback, polling_interval=polling_interval, progress=progress)


def follow_resource_logs(resource, id, run_id=None, *, kind=None,  # noqa: A002
                         polling_interval=None):
    """Yield a run's new log entries until it is final (``client.<resource>.follow_logs``).

    Parameters
    ----------
    id : int
    run_id : int, optional
        Default: the latest run.
    kind, polling_interval
        As for :func:`run`.

    Returns
    -------
    iterator of Response
        Log entries (``id``, ``created_at``, ``message``, ``level``), each
        once, oldest first.
    """
    label = _label(resource, "follow_logs")
    id = _check_id(id, label, "id")  # noqa: A001
    if run_id is not None:
        run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    run_kind = _select_kind(resource, kind, label, need=("get", "logs"))
    client = client_of(resource)
    if run_id is None:
        run_id = latest_run_id(id, client, kind=run_kind, label=label)
    return _follow(client, run_kind, id, run_id, polling_interval)
