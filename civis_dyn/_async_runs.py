"""Runs on the async client: ``run``, ``watch_run``, ``run_and_wait``, ``follow_logs``.

No polling loop lives here. Starting, polling (:func:`civis_dyn._polling.until_final`),
reading a failure's logs, following logs and cancelling are the steps of
:mod:`civis_dyn.futures` (generators of :mod:`civis_dyn._effects`), which the
blocking client runs in its thread and this module awaits: the same schedule,
the same state changes, the same transient faults survived, the same errors.
What is async-only is the handle: :class:`AsyncRunFuture`, an awaitable polled
by a task of the event loop.

Registered as extensions of :class:`~civis_dyn._async_client.AsyncResource`,
offered on the resources whose blocking twin offers them; so are the
conveniences of :mod:`civis_dyn.conveniences` (``find_by_name``,
``export_definition``, ``cancel_runs``…), which are coroutines on the async
client.
"""

import asyncio
import concurrent.futures
import logging

from ._effects import iterate_async, retrieve, run_async
from ._polling import state_of
from ._resources import Extension, client_of
from .futures import CivisFuture, cancel_refused
from ._run_steps import (
    cancel_steps,
    check_callable,
    check_id,
    check_interval,
    check_timeout,
    failure_steps,
    follow_steps,
    method_label,
    outputs_endpoint,
    list_steps,
    run_watch,
    select_kind,
    start_steps,
    wait_steps,
)
from .spec._runs import CANCELLED, FAILED, SUCCEEDED

__all__ = ["AsyncRunFuture", "follow_logs", "run", "run_and_wait", "start_run", "watch_run"]

log = logging.getLogger("civis_dyn.futures")


class AsyncRunFuture:
    """An awaitable of one run, polled by a task of the running event loop.

    The asyncio twin of :class:`~civis_dyn.CivisFuture` (made by
    ``await async_client.<resource>.run(...)`` and ``watch_run(...)``):
    ``await future`` gives the final run or raises what
    :meth:`CivisFuture.result <civis_dyn.CivisFuture.result>` raises
    (:class:`~civis_dyn.CivisJobFailure`, :class:`concurrent.futures.CancelledError`
    when the run was cancelled, the API error when polling failed for good).
    It can be awaited by several tasks; ``asyncio.wait_for(future, t)`` bounds
    one wait without stopping the polling.

    Parameters
    ----------
    client : AsyncAPIClient
    kind : civis_dyn.spec._runs.RunKind
    job_id, run_id : int
    polling_interval : float, optional
        Seconds between polls; default 1 s growing by 1.2x up to 15 s.
    on_state_change : callable, optional
        ``on_state_change(run)`` on every change of state (in the loop's thread).
    cancel_on_cancel : bool, optional
        When a task awaiting this future is cancelled, cancel the run on the
        server too (default False: the run goes on).
    timeout : float, optional
        Give up (:class:`~civis_dyn.CivisRunTimeoutError`) after this many seconds.
    """

    def __init__(self, client, kind, job_id, run_id, *, polling_interval=None,
                 on_state_change=None, cancel_on_cancel=False, timeout=None):
        self.client = client
        self.job_id = job_id
        self.run_id = run_id
        self.cancel_on_cancel = bool(cancel_on_cancel)
        self._run_kind = kind
        self._watch = run_watch(client, kind, job_id, run_id, polling_interval)
        self._outcome = asyncio.get_running_loop().create_future()
        self._outcome.add_done_callback(retrieve)  # an outcome nobody awaits is not "lost"
        self._poll = asyncio.ensure_future(run_async(wait_steps(
            client, kind, self._watch, job_id, run_id, timeout=timeout,
            on_change=on_state_change)))
        self._poll.add_done_callback(self._polled)

    # -- what is known (the same properties as CivisFuture's) ---------------------
    job_url = CivisFuture.job_url
    job_run_url = CivisFuture.job_run_url
    state = CivisFuture.state
    last_response = CivisFuture.last_response

    def done(self):
        """True when the run's outcome is known."""
        return self._outcome.done()

    def result(self):
        """The final run; raises as ``await`` does (:class:`asyncio.InvalidStateError`: not yet)."""
        return self._outcome.result()

    def exception(self):
        """What ``await`` raises, or None (:class:`asyncio.InvalidStateError`: not done yet)."""
        return self._outcome.exception()

    def add_done_callback(self, fn):
        """Call ``fn(future)`` (in the loop's thread) once the outcome is known."""
        check_callable(fn, "AsyncRunFuture.add_done_callback()", "fn")
        self._outcome.add_done_callback(lambda _: fn(self))

    def __repr__(self):
        status = "finished" if self.done() else "pending"
        return (f"<AsyncRunFuture {status} job_id={self.job_id} run_id={self.run_id} "
                f"state={self.state!r}>")

    # -- waiting ---------------------------------------------------------------
    def _polled(self, task):
        if self._outcome.done() or task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._outcome.set_result(task.result())
        else:
            self._outcome.set_exception(error)

    def __await__(self):
        return self._wait().__await__()

    async def _wait(self, owned=False):
        try:
            return await asyncio.shield(self._outcome)
        except asyncio.CancelledError:
            if not self._outcome.done():
                if self.cancel_on_cancel:
                    # this task is being cancelled: the cancel goes out from a task of its own
                    await asyncio.shield(asyncio.ensure_future(self.cancel()))
                elif owned:
                    self._poll.cancel()  # nobody else waits: stop polling; the run goes on
            raise

    async def outputs(self):
        """Wait for the run, then return its outputs (a list of Response).

        Raises
        ------
        NotImplementedError
            When this kind of run has no outputs endpoint.
        """
        await self
        endpoint = outputs_endpoint(self._run_kind, self.client, self.run_id, repr(self))
        return await run_async(list_steps(self.client, endpoint, self.job_id, self.run_id))

    # -- cancelling ------------------------------------------------------------
    async def cancel(self):
        """Cancel the run on the server; report what the server did (as ``CivisFuture.cancel``).

        Returns
        -------
        bool
            True when the run is (now) cancelled; False when it had already
            ended (the future then gives that outcome), when the server answered
            404, when this kind of run cannot be cancelled, or when the request
            failed (a :class:`UserWarning` says why).
        """
        if self.done():
            return isinstance(self._outcome.exception(), concurrent.futures.CancelledError)
        kind = self._run_kind
        if kind.cancel is None:
            return False
        verdict, run = await run_async(cancel_steps(
            lambda: self.client.meta.call(kind.cancel.resource, kind.cancel.method,
                                          self.job_id, self.run_id),
            self._watch.get, self._watch.states, self))
        if cancel_refused(verdict, self.job_id, self.run_id):
            return False
        if self.done():  # the poll found the outcome meanwhile (perhaps this cancel's)
            return isinstance(self._outcome.exception(), concurrent.futures.CancelledError)
        self._poll.cancel()
        if verdict == SUCCEEDED:
            self._outcome.set_result(run)
        elif verdict == FAILED:
            self._outcome.set_exception(await run_async(failure_steps(
                self.client, kind, run, state_of(run),
                self.job_id, self.run_id)))
        else:
            self._outcome.set_exception(concurrent.futures.CancelledError(
                f"job {self.job_id} run {self.run_id} was cancelled"))
        return verdict == CANCELLED


def _checked(resource, name, id, run_id=None, polling_interval=None, callback=None,  # noqa: A002
             callback_name="on_state_change", timeout=None):
    label = method_label(resource, name)
    id = check_id(id, label, "id")  # noqa: A001
    if run_id is not None:
        run_id = check_id(run_id, label, "run_id")
    return (label, id, run_id, check_interval(polling_interval, label),
            check_callable(callback, label, callback_name), check_timeout(timeout, label))


async def run(resource, id, *, kind=None, polling_interval=None, on_state_change=None,  # noqa: A002
              cancel_on_cancel=False, **start_arguments):
    """Start a run; return its :class:`AsyncRunFuture` (``await async_client.<resource>.run``).

    The async twin of :func:`civis_dyn.futures.run`; ``cancel_on_cancel``:
    see :class:`AsyncRunFuture`.
    """
    label, id, _, polling_interval, on_state_change, _ = _checked(  # noqa: A001
        resource, "run", id, polling_interval=polling_interval, callback=on_state_change)
    run_kind = select_kind(resource, kind, label, need=("start", "get"))
    return await start_run(client_of(resource), run_kind, id, start_arguments,
                           polling_interval=polling_interval, on_state_change=on_state_change,
                           cancel_on_cancel=cancel_on_cancel)


async def watch_run(resource, id, run_id, *, kind=None, polling_interval=None,  # noqa: A002
                    on_state_change=None, cancel_on_cancel=False):
    """An :class:`AsyncRunFuture` for a run already started (``async_client.<resource>.watch_run``).

    The async twin of :func:`civis_dyn.futures.watch_run` (a coroutine, so
    the future is made inside the running loop).
    """
    label, id, run_id, polling_interval, on_state_change, _ = _checked(  # noqa: A001
        resource, "watch_run", id, run_id, polling_interval, on_state_change)
    if run_id is None:
        check_id(run_id, label, "run_id")
    run_kind = select_kind(resource, kind, label, need=("get",))
    return AsyncRunFuture(client_of(resource), run_kind, id, run_id,
                          polling_interval=polling_interval, on_state_change=on_state_change,
                          cancel_on_cancel=cancel_on_cancel)


async def run_and_wait(resource, id, *, kind=None, timeout=None, callback=None,  # noqa: A002
                       polling_interval=None, cancel_on_cancel=False, **start_arguments):
    """Start a run and wait for it to be final, without blocking the event loop.

    The coroutine twin of :func:`civis_dyn.futures.run_and_wait`
    (``await async_client.<resource>.run_and_wait(...)``).

    Parameters
    ----------
    id : int
        The job, script, workflow or service to run.
    kind, timeout, callback, polling_interval, **start_arguments
        As for the blocking ``run_and_wait``.
    cancel_on_cancel : bool, optional
        When the awaiting task is cancelled, cancel the run on the server too
        (default False: the run goes on, unwatched).

    Returns
    -------
    Response
        The final state of the run.

    Raises
    ------
    CivisJobFailure
        The run failed (error message, ids and last log lines attached).
    concurrent.futures.CancelledError
        The run was cancelled (on the server).
    CivisRunTimeoutError
        Not final after ``timeout`` seconds. The run goes on.
    """
    label, id, _, polling_interval, callback, timeout = _checked(  # noqa: A001
        resource, "run_and_wait", id, polling_interval=polling_interval, callback=callback,
        callback_name="callback", timeout=timeout)
    run_kind = select_kind(resource, kind, label, need=("start", "get"))
    future = await start_run(client_of(resource), run_kind, id, start_arguments,
                             polling_interval=polling_interval, on_state_change=callback,
                             cancel_on_cancel=cancel_on_cancel, timeout=timeout)
    return await future._wait(owned=True)


async def start_run(client, kind, job_id, start_arguments, **options):
    """Start a run of ``kind``; its :class:`AsyncRunFuture` (``options``: the future's)."""
    run_id = await run_async(start_steps(client, kind, job_id, start_arguments))
    return AsyncRunFuture(client, kind, job_id, run_id, **options)


def follow_logs(resource, id, run_id=None, *, kind=None, polling_interval=None):  # noqa: A002
    """Yield a run's new log entries until it is final: ``async for entry in ...follow_logs(id)``.

    The async twin of :func:`civis_dyn.futures.follow_resource_logs` (each
    entry once, oldest first; ``run_id`` default: the latest run).
    """
    label, id, run_id, polling_interval, _, _ = _checked(  # noqa: A001
        resource, "follow_logs", id, run_id, polling_interval)
    run_kind = select_kind(resource, kind, label, need=("get", "logs"))
    return iterate_async(follow_steps(client_of(resource), run_kind, id, run_id,
                                       polling_interval, label=label))


#: The conveniences of civis_dyn.conveniences offered on async resources too (coroutines there).
_SHARED = ("archive_stale", "cancel_runs", "count_runs_by_state", "create_or_update",
           "export_definition", "find_by_name", "get_id", "import_definition")
_RUNS = ("follow_logs", "run", "run_and_wait", "watch_run")


def register(extensions):
    """Offer the run methods and conveniences in ``extensions`` (the async resources').

    Each applies where its blocking twin does (the same ``requires``).
    """
    from ._resources import registered_extension

    for name in _SHARED + _RUNS:
        twin = registered_extension(name)
        target = f"civis_dyn._async_runs:{name}" if name in _RUNS else twin.target
        extensions[name] = Extension(name, target, twin.requires)
