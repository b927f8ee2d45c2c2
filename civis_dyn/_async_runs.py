"""Runs for the async client: ``await client.<resource>.run_and_wait(...)`` and ``follow_logs``.

The same run model (:mod:`civis_dyn.spec._runs`: which methods start, read,
list, cancel and log a run, and what its states mean) and the same polling
step (:class:`civis_dyn._polling.RunWatch`: state changes, the backoff, the
transient faults survived) as the blocking :mod:`civis_dyn.futures`; only the
waiting is ``await asyncio.sleep`` and each read is awaited.

Registered as extensions of :class:`~civis_dyn._async_client.AsyncResource`,
offered on the resources whose blocking twin offers them.
"""

import asyncio
import concurrent.futures
import logging
import time

from ._errors import CivisDynError, CivisJobFailure
from ._polling import RunWatch, as_response, delay_before_next, field_of
from ._resources import Extension, client_of
from .futures import (
    FAILURE_LOG_LINES,
    LOG_PAGE_SIZE,
    _check_callable,
    _check_id,
    _check_interval,
    _check_timeout,
    _error_message,
    _label,
    _run_id_from,
    _select_kind,
)
from .spec._runs import FAILED, SUCCEEDED, offers_runs

__all__ = ["follow_logs", "run_and_wait"]

log = logging.getLogger("civis_dyn.futures")


async def _call(client, endpoint, /, *args, **kwargs):
    return as_response(await client.meta.call(endpoint.resource, endpoint.method, *args, **kwargs))


async def _read_logs(client, endpoint, job_id, run_id, last_id=None):
    """Log entries newer than ``last_id``, oldest first (as the blocking ``_read_logs``)."""
    kwargs = {} if last_id is None else {"last_id": last_id}
    answer = await _call(client, endpoint, job_id, run_id, **kwargs)
    entries = [as_response(e) for e in answer or ()]
    entries = sorted((e for e in entries if field_of(e, "id") is not None),
                     key=lambda e: field_of(e, "id"))
    return entries if last_id is None else [e for e in entries if field_of(e, "id") > last_id]


async def _failure(client, kind, run, state, job_id, run_id):
    lines = []
    if kind.logs is not None:
        try:
            entries = await _read_logs(client, kind.logs, job_id, run_id)
            lines = [str(field_of(e, "message") or "") for e in entries[-FAILURE_LOG_LINES:]]
        except Exception as exc:  # the failure matters more than its logs
            log.debug("could not read the logs of job %s run %s: %s", job_id, run_id, exc)
    return CivisJobFailure(_error_message(run, state), response=run, job_id=job_id,
                           run_id=run_id, log_lines=lines)


async def _poll(watch, on_change=None):
    """One :meth:`RunWatch.step`, with ``get()`` awaited."""
    try:
        run = await watch.get()
    except Exception as exc:
        return watch.failed(exc)
    return watch.read(run, on_change)


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
        (default False: the run goes on).

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
    label = _label(resource, "run_and_wait")
    id = _check_id(id, label, "id")  # noqa: A001
    timeout = _check_timeout(timeout, label)
    _check_callable(callback, label, "callback")
    polling_interval = _check_interval(polling_interval, label)
    run_kind = _select_kind(resource, kind, label, need=("start", "get"))
    client = client_of(resource)
    run_id = _run_id_from(await _call(client, run_kind.start, id, **start_arguments), run_kind)
    get = run_kind.bound(client, "get")
    watch = RunWatch(lambda: get(id, run_id), run_kind.states, polling_interval)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            step = await _poll(watch, callback)
            if step.outcome is not None:
                break
            await asyncio.sleep(delay_before_next(step, deadline, job_id=id, run_id=run_id,
                                                  timeout=timeout))
    except asyncio.CancelledError:
        if cancel_on_cancel and run_kind.cancel is not None:
            # the task is being cancelled: send the cancel from a task of its own
            await asyncio.shield(_call(client, run_kind.cancel, id, run_id))
        raise
    if step.outcome == SUCCEEDED:
        return step.run
    if step.outcome == FAILED:
        raise await _failure(client, run_kind, step.run, step.state, id, run_id)
    raise concurrent.futures.CancelledError(f"job {id} run {run_id} was cancelled")


async def follow_logs(resource, id, run_id=None, *, kind=None,  # noqa: A002
                      polling_interval=None):
    """Yield a run's new log entries until it is final: ``async for entry in ...follow_logs(id)``.

    The async twin of :func:`civis_dyn.futures.follow_resource_logs` (each
    entry once, oldest first; ``run_id`` default: the latest run).
    """
    label = _label(resource, "follow_logs")
    id = _check_id(id, label, "id")  # noqa: A001
    if run_id is not None:
        run_id = _check_id(run_id, label, "run_id")
    polling_interval = _check_interval(polling_interval, label)
    run_kind = _select_kind(resource, kind, label, need=("get", "logs"))
    client = client_of(resource)
    if run_id is None:
        run_id = await _latest_run_id(client, run_kind, id, label)
    get = run_kind.bound(client, "get")
    watch = RunWatch(lambda: get(id, run_id), run_kind.states, polling_interval)
    last_id = None
    while True:
        step = await _poll(watch)
        while True:  # read until the log has nothing newer
            entries = await _read_logs(client, run_kind.logs, id, run_id, last_id)
            for entry in entries:
                last_id = field_of(entry, "id")
                yield entry
            if len(entries) < LOG_PAGE_SIZE:
                break
        if step.outcome is not None:
            return
        if entries:
            watch.backoff.reset()
        await asyncio.sleep(step.delay if step.delay is not None else watch.backoff.next())


async def _latest_run_id(client, kind, job_id, label):
    lister = kind.list
    if lister is None:
        raise CivisDynError(f"{label}: {kind.label} cannot be listed; pass run_id=")
    known = {p.name for p in client.meta.spec.operation(*lister).parameters}
    order = {k: v for k, v in {"limit": 1, "order": "id", "order_dir": "desc"}.items()
             if k in known}
    runs = [as_response(r) for r in (await _call(client, lister, job_id, **order)) or ()]
    if not runs:
        raise CivisDynError(f"{label}: job {job_id} has no runs yet")
    return field_of(max(runs, key=lambda r: field_of(r, "id") or 0), "id")


def register(extensions):
    """Offer ``run_and_wait`` and ``follow_logs`` in ``extensions`` (the async resources')."""
    for name, target, requires in (
            ("run_and_wait", "civis_dyn._async_runs:run_and_wait", offers_runs("start", "get")),
            ("follow_logs", "civis_dyn._async_runs:follow_logs", offers_runs("get", "logs"))):
        extensions[name] = Extension(name, target, requires)
